package lint

import (
	"cmp"
	"fmt"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/schemas"
)

// IgnoreAttribute is the schema attribute that accepts findings where they
// occur. Its value is a list of {"rule": ID, "reason": why} objects, on a
// record, enum or fixed (the whole file), a field (the field and its type)
// or a type object (that type): each accepts the rule's findings inside
// the object it sits on. Avro keeps unknown attributes out of a schema's
// canonical form, so adding or removing one is compatible.
const IgnoreAttribute = "contrail.lint.ignore"

// Error is one problem with lint's own input: the manifest's lint section
// or a contrail.lint.ignore attribute, at File:Line:Col (File is the slash
// path under the schema root, joined with the directory by Run).
type Error struct {
	File      string
	Line, Col int
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats e as "lint: file:line:col: msg".
func (e *Error) Error() string {
	return fmt.Sprintf("lint: %s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// Errors is every problem found in lint's input, in file order. Run returns
// it marked as invalid input (compat.ErrInvalidInput), so `contrail lint`
// exits 2.
type Errors []*Error

// Error lists the problems one per line.
func (l Errors) Error() string {
	if len(l) == 1 {
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "lint: %d problems in the lint configuration:", len(l))
	for _, e := range l {
		fmt.Fprintf(&b, "\n  %s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return b.String()
}

// Unwrap returns the individual errors.
func (l Errors) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

func (l *Errors) add(file string, line, col int, format string, args ...any) {
	*l = append(*l, &Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (l Errors) sorted() Errors {
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return l
}

// config is the lint section resolved: which rules run, the field case,
// and every ignore (the manifest's and, once the tree is read, the
// schemas' own).
type config struct {
	tier        Tier
	use, except []compat.RuleID
	enabled     []*Rule // in table order
	fieldCase   string  // "" infers it from the tree
	ignores     []*ignore
}

// on reports whether rule id runs.
func (c *config) on(id compat.RuleID) bool {
	return slices.ContainsFunc(c.enabled, func(r *Rule) bool { return r.ID == id })
}

// label describes the rules that ran, e.g. "tier STANDARD +FIELD_DOC_MISSING".
func (c *config) label() string {
	s := "tier " + c.tier.String()
	for _, id := range c.use {
		s += " +" + string(id)
	}
	for _, id := range c.except {
		s += " -" + string(id)
	}
	return s
}

// ignore accepts findings: of rule (any when empty) in file (a file or
// folder; any when empty) for a manifest entry, or of rule inside the
// object at ptr of file for an attribute.
type ignore struct {
	rule   compat.RuleID
	file   string
	ptr    string
	inline bool // a contrail.lint.ignore attribute
	reason string
	at     compat.Location // where the ignore is written
	used   bool
}

// matches reports whether ig accepts f.
func (ig *ignore) matches(f compat.Finding) bool {
	if ig.rule != "" && ig.rule != f.Rule {
		return false
	}
	file := f.Reader.File
	if ig.inline {
		return file == ig.file && (f.Reader.Path == ig.ptr || strings.HasPrefix(f.Reader.Path, ig.ptr+"/"))
	}
	return ig.file == "" || file == ig.file || strings.HasPrefix(file, ig.file+"/")
}

// describe names the ignore in messages.
func (ig *ignore) describe() string {
	rule := "every rule"
	if ig.rule != "" {
		rule = string(ig.rule)
	}
	if ig.inline {
		return fmt.Sprintf("the %s entry for %s", IgnoreAttribute, rule)
	}
	if ig.file != "" {
		return fmt.Sprintf("the ignore entry for %s in %s", rule, ig.file)
	}
	return "the ignore entry for " + rule
}

// resolveConfig validates the manifest's lint section and resolves it;
// tier, when not zero, overrides the section's tier.
func resolveConfig(lc schemas.LintConfig, tier Tier) (*config, Errors) {
	var errs Errors
	const mf = schemas.ManifestFile
	c := &config{tier: Standard}
	if lc.Tier.Value != "" {
		t, err := ParseTier(lc.Tier.Value)
		if err != nil {
			errs.add(mf, lc.Tier.Line, lc.Tier.Col, "unknown lint tier %q: use MINIMAL, BASIC, STANDARD or DOCS", lc.Tier.Value)
		}
		c.tier = t
	}
	if tier != 0 {
		c.tier = tier
	}
	switch v := lc.FieldCase; v.Value {
	case "", camelCase, snakeCase:
		c.fieldCase = v.Value
	default:
		errs.add(mf, v.Line, v.Col, "unknown field_case %q: use camelCase or snake_case (or leave it out to follow the convention most fields already use)", v.Value)
	}
	ruleID := func(v schemas.ManifestValue, what string) (compat.RuleID, bool) {
		id := compat.RuleID(v.Value)
		if _, ok := RuleByID(id); ok {
			return id, true
		}
		if v.Value == "" {
			errs.add(mf, v.Line, v.Col, "%s needs a rule ID (see contrail lint --list-rules)", what)
		} else {
			errs.add(mf, v.Line, v.Col, "unknown lint rule %q in %s%s: see contrail lint --list-rules", v.Value, what, suggestRule(v.Value))
		}
		return "", false
	}
	for _, v := range lc.Use {
		if id, ok := ruleID(v, "use"); ok {
			c.use = append(c.use, id)
		}
	}
	for _, v := range lc.Except {
		if id, ok := ruleID(v, "except"); ok {
			if slices.Contains(c.use, id) {
				errs.add(mf, v.Line, v.Col, "rule %s is in both use and except: keep one", id)
				continue
			}
			c.except = append(c.except, id)
		}
	}
	for i, e := range lc.Ignore {
		ig := &ignore{at: compat.Location{Path: "/lint/ignore/" + strconv.Itoa(i), File: mf, Line: e.Line, Col: e.Col}}
		ok := true
		if e.Rule.Value != "" {
			id, known := ruleID(e.Rule, "ignore")
			ok = known
			if id == IgnoreUnused {
				errs.add(mf, e.Rule.Line, e.Rule.Col, "%s cannot be ignored: list it under except to turn it off", id)
				ok = false
			}
			ig.rule = id
		}
		if f := e.File.Value; f != "" {
			clean := path.Clean(f)
			if strings.HasPrefix(f, "/") || strings.Contains(f, `\`) || clean == ".." || strings.HasPrefix(clean, "../") {
				errs.add(mf, e.File.Line, e.File.Col, "ignore file %q must be a slash path under the schema root, like contrail/orders/OrderPlaced.avsc or contrail/orders", f)
				ok = false
			}
			ig.file = strings.TrimSuffix(clean, "/")
			if ig.file == "." {
				ig.file = ""
			}
		}
		if e.Rule.Value == "" && e.File.Value == "" {
			errs.add(mf, e.Line, e.Col, "ignore entry names neither a rule nor a file: add rule:, file: or both (an entry for everything would turn lint off; use tier or except for that)")
			ok = false
		}
		ig.reason = strings.TrimSpace(e.Reason.Value)
		if ig.reason == "" {
			at := e.Reason
			if at.Line == 0 {
				at = schemas.ManifestValue{Line: e.Line, Col: e.Col}
			}
			errs.add(mf, at.Line, at.Col, "ignore entry has no reason: add reason: saying why these findings are accepted (every ignore needs one)")
			ok = false
		}
		if ok {
			c.ignores = append(c.ignores, ig)
		}
	}
	for i := range rules {
		r := &rules[i]
		if (r.Tier <= c.tier || slices.Contains(c.use, r.ID)) && !slices.Contains(c.except, r.ID) {
			c.enabled = append(c.enabled, r)
		}
	}
	return c, errs
}

func suggestRule(s string) string {
	best, bestD := "", 5
	for _, r := range rules {
		if d := schemas.EditDistance(strings.ToUpper(s), string(r.ID)); d < bestD {
			best, bestD = string(r.ID), d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// posFunc returns the position of the JSON value at a pointer.
type posFunc func(ptr string) (line, col int, ok bool)

// parseIgnoreAttr reads the value v of a contrail.lint.ignore attribute
// found on the object at ptr of file. Every entry needs a known rule and a
// reason; problems name their position through pos.
func parseIgnoreAttr(file, ptr string, v any, pos posFunc) ([]*ignore, Errors) {
	var errs Errors
	attr := ptr + "/" + IgnoreAttribute
	at := func(p string) (int, int) {
		for {
			if line, col, ok := pos(p); ok {
				return line, col
			}
			if p == "" {
				return 0, 0
			}
			p = p[:strings.LastIndexByte(p, '/')]
		}
	}
	list, ok := v.([]any)
	if !ok {
		line, col := at(attr)
		errs.add(file, line, col, `%s must be a list of {"rule": "RULE_ID", "reason": "why"} objects, not %s`, IgnoreAttribute, describe(v))
		return nil, errs
	}
	var out []*ignore
	for i, it := range list {
		entry := attr + "/" + strconv.Itoa(i)
		line, col := at(entry)
		obj, ok := it.(map[string]any)
		if !ok {
			errs.add(file, line, col, `a %s entry must be an object {"rule": "RULE_ID", "reason": "why"}, not %s`, IgnoreAttribute, describe(it))
			continue
		}
		good := true
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if k != "rule" && k != "reason" {
				l, c := at(entry + "/" + k)
				errs.add(file, l, c, "unknown key %q in a %s entry: use rule and reason", k, IgnoreAttribute)
				good = false
			}
		}
		rule, _ := obj["rule"].(string)
		switch _, known := RuleByID(compat.RuleID(rule)); {
		case rule == "":
			errs.add(file, line, col, `%s entry has no "rule": name the rule ID it accepts (see contrail lint --list-rules)`, IgnoreAttribute)
			good = false
		case compat.RuleID(rule) == IgnoreUnused:
			l, c := at(entry + "/rule")
			errs.add(file, l, c, "%s cannot be ignored: list it under except in manifest.yaml's lint section to turn it off", rule)
			good = false
		case !known:
			l, c := at(entry + "/rule")
			errs.add(file, l, c, "unknown lint rule %q in %s%s: see contrail lint --list-rules", rule, IgnoreAttribute, suggestRule(rule))
			good = false
		}
		reason, _ := obj["reason"].(string)
		if strings.TrimSpace(reason) == "" {
			errs.add(file, line, col, `%s entry for %s has no "reason": say why the finding is accepted (every ignore needs one)`, IgnoreAttribute, cmp.Or(rule, "its rule"))
			good = false
		}
		if good {
			out = append(out, &ignore{
				rule: compat.RuleID(rule), file: file, ptr: ptr, inline: true, reason: strings.TrimSpace(reason),
				at: compat.Location{Path: entry, File: file, Line: line, Col: col},
			})
		}
	}
	return out, errs
}
