package registry

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/contrail-events/contrail/wire"
)

// Data contracts: a schema's metadata and rule set (wire.Metadata,
// wire.RuleSet), handled the way Confluent's registry handles them
// (io.confluent.kafka.schemaregistry.client.rest.entities Metadata, Rule,
// RuleSet and AbstractSchemaRegistry.maybeSetMetadataRuleSet):
//
//   - they are part of a schema's identity: the same text and references
//     with other metadata or another rule set is another schema, with its
//     own ID (Confluent hashes schema, references, metadata and rule set);
//   - they are stored as Confluent stores them: tag lists, sensitive names
//     and rule tags sorted without duplicates, a rule without kind a
//     TRANSFORM, without mode WRITEREAD;
//   - a registration that sends none inherits the latest live version's,
//     then the subject's config merges defaultMetadata/defaultRuleSet under
//     and overrideMetadata/overrideRuleSet over them.

// contract is a schema's metadata and rule set; nil means absent, which
// differs from present and empty, as on Confluent.
type contract struct {
	md *wire.Metadata
	rs *wire.RuleSet
}

// key is the contract's part of a schema's identity: "" when it has
// neither, else its normalized JSON.
func (c contract) key() string {
	if c.md == nil && c.rs == nil {
		return ""
	}
	var b strings.Builder
	if c.md != nil {
		j, _ := json.Marshal(normMetadata(c.md))
		b.WriteString("m")
		b.Write(j)
	}
	b.WriteByte(0)
	if c.rs != nil {
		j, _ := json.Marshal((*ruleSetOut)(normRuleSet(c.rs)))
		b.WriteString("r")
		b.Write(j)
	}
	return b.String()
}

// contractConfig is what a subject's config in scope says about contracts
// (Confluent's Config compatibilityGroup, default/override metadata and
// rule set), each field from the first config in scope that sets it.
type contractConfig struct {
	group              string
	defaultMD, overMD  *wire.Metadata
	defaultRS, overRS  *wire.RuleSet
	hasDefaultOverride bool
}

// contractConfigOf resolves subject's contractConfig. Callers hold a lock.
func (r *Registry) contractConfigOf(subject string) contractConfig {
	var cc contractConfig
	for _, s := range scope(subject) {
		c, ok := r.configs[s]
		if !ok {
			continue
		}
		if cc.group == "" {
			cc.group = c.CompatibilityGroup
		}
		if cc.defaultMD == nil {
			cc.defaultMD = c.DefaultMetadata
		}
		if cc.overMD == nil {
			cc.overMD = c.OverrideMetadata
		}
		if cc.defaultRS == nil {
			cc.defaultRS = c.DefaultRuleSet
		}
		if cc.overRS == nil {
			cc.overRS = c.OverrideRuleSet
		}
	}
	cc.hasDefaultOverride = cc.defaultMD != nil || cc.overMD != nil || cc.defaultRS != nil || cc.overRS != nil
	return cc
}

// effective is the contract a registration of req stores, as Confluent's
// maybeSetMetadataRuleSet computes it: the request's metadata, else prev's
// (the subject's latest live version, nil for none), under the config's
// default and under its override; the rule set likewise, each on its own.
func (cc contractConfig) effective(req contract, prev *contract) contract {
	md, rs := req.md, req.rs
	if md == nil && prev != nil {
		md = prev.md
	}
	if rs == nil && prev != nil {
		rs = prev.rs
	}
	return contract{
		md: mergeMetadata(mergeMetadata(cc.defaultMD, md), cc.overMD),
		rs: mergeRuleSets(mergeRuleSets(cc.defaultRS, rs), cc.overRS),
	}
}

// groupValue is md's value for the compatibility group property group and
// whether md has one; schemas are compared only within one value (absent
// being a value of its own), as Confluent's isCompatibleWithPrevious does.
func groupValue(md *wire.Metadata, group string) (string, bool) {
	if md == nil {
		return "", false
	}
	v, ok := md.Properties[group]
	return v, ok
}

// inGroup keeps the versions of vs whose compatibility group value is the
// candidate's; with no group configured it keeps them all.
func inGroup(vs []pendingVersion, group string, md *wire.Metadata) []pendingVersion {
	if group == "" {
		return vs
	}
	want, has := groupValue(md, group)
	var out []pendingVersion
	for _, v := range vs {
		if got, ok := groupValue(v.e.rec.Metadata, group); ok == has && got == want {
			out = append(out, v)
		}
	}
	return out
}

// sortedSet returns the distinct strings of in, sorted, never nil (an
// empty tag list stays an empty list, as Confluent's sorted sets do).
func sortedSet(in []string) []string {
	out := slices.Clone(in)
	if out == nil {
		out = []string{}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// normMetadata returns a copy of m as Confluent stores it: tag lists and
// sensitive names sorted without duplicates, empty parts dropped. nil
// stays nil; an empty m stays empty, not nil.
func normMetadata(m *wire.Metadata) *wire.Metadata {
	if m == nil {
		return nil
	}
	out := &wire.Metadata{}
	if len(m.Tags) > 0 {
		out.Tags = make(map[string][]string, len(m.Tags))
		for k, v := range m.Tags {
			out.Tags[k] = sortedSet(v)
		}
	}
	if len(m.Properties) > 0 {
		out.Properties = maps.Clone(m.Properties)
	}
	if len(m.Sensitive) > 0 {
		out.Sensitive = sortedSet(m.Sensitive)
	}
	return out
}

// normRuleSet returns a copy of rs as Confluent stores it: every rule with
// a kind (default TRANSFORM) and a mode (default WRITEREAD), its tags
// sorted without duplicates, empty parts dropped.
func normRuleSet(rs *wire.RuleSet) *wire.RuleSet {
	if rs == nil {
		return nil
	}
	return &wire.RuleSet{MigrationRules: normRules(rs.MigrationRules), DomainRules: normRules(rs.DomainRules)}
}

func normRules(in []wire.Rule) []wire.Rule {
	if len(in) == 0 {
		return nil
	}
	out := make([]wire.Rule, len(in))
	for i, r := range in {
		if r.Kind == "" {
			r.Kind = wire.RuleKindTransform
		}
		if r.Mode == "" {
			r.Mode = wire.RuleModeWriteRead
		}
		r.Tags = nil
		if len(in[i].Tags) > 0 {
			r.Tags = sortedSet(in[i].Tags)
		}
		r.Params = nil
		if len(in[i].Params) > 0 {
			r.Params = maps.Clone(in[i].Params)
		}
		out[i] = r
	}
	return out
}

// mergeMetadata is Confluent's Metadata.mergeMetadata: nil yields to the
// other; else tags and properties of next replace those of base key by key
// and sensitive names are the union. The result is a fresh normalized copy.
func mergeMetadata(base, next *wire.Metadata) *wire.Metadata {
	switch {
	case base == nil:
		return normMetadata(next)
	case next == nil:
		return normMetadata(base)
	}
	out := normMetadata(base)
	n := normMetadata(next)
	if len(n.Tags) > 0 {
		if out.Tags == nil {
			out.Tags = map[string][]string{}
		}
		maps.Copy(out.Tags, n.Tags)
	}
	if len(n.Properties) > 0 {
		if out.Properties == nil {
			out.Properties = map[string]string{}
		}
		maps.Copy(out.Properties, n.Properties)
	}
	if len(n.Sensitive) > 0 {
		out.Sensitive = sortedSet(append(out.Sensitive, n.Sensitive...))
	}
	return out
}

// mergeRuleSets is Confluent's RuleSet.mergeRuleSets: nil yields to the
// other; else, list by list, base's rules not named in next, then next's.
// The result is a fresh normalized copy.
func mergeRuleSets(base, next *wire.RuleSet) *wire.RuleSet {
	switch {
	case base == nil:
		return normRuleSet(next)
	case next == nil:
		return normRuleSet(base)
	}
	b, n := normRuleSet(base), normRuleSet(next)
	return &wire.RuleSet{
		MigrationRules: mergeRules(b.MigrationRules, n.MigrationRules),
		DomainRules:    mergeRules(b.DomainRules, n.DomainRules),
	}
}

func mergeRules(base, next []wire.Rule) []wire.Rule {
	switch {
	case len(base) == 0:
		return next
	case len(next) == 0:
		return base
	}
	names := map[string]bool{}
	for _, r := range next {
		names[r.Name] = true
	}
	var out []wire.Rule
	for _, r := range base {
		if !names[r.Name] {
			out = append(out, r)
		}
	}
	return append(out, next...)
}

// ruleNameMaxLength is Confluent's Rule.NAME_MAX_LENGTH, in UTF-16 units.
const ruleNameMaxLength = 64

// errRuleSet is a 42210 (Confluent's INVALID_RULESET_ERROR_CODE) naming
// where the bad rule set was sent.
func errRuleSet(where, format string, args ...any) *Error {
	return errf(http.StatusUnprocessableEntity, CodeInvalidRuleSet, "Invalid %s: %s", where, fmt.Sprintf(format, args...))
}

// checkRuleKinds refuses (42210) a rule whose kind or mode is none of
// Confluent's RuleKind and RuleMode values, which Confluent cannot even
// decode. An empty kind or mode takes its default. where names the field
// ("ruleSet", "defaultRuleSet").
func checkRuleKinds(where string, rs *wire.RuleSet) error {
	if rs == nil {
		return nil
	}
	for _, list := range []struct {
		name  string
		rules []wire.Rule
	}{{"migration rule", rs.MigrationRules}, {"domain rule", rs.DomainRules}} {
		for _, r := range list.rules {
			switch r.Kind {
			case "", wire.RuleKindCondition, wire.RuleKindTransform:
			default:
				return errRuleSet(where, "%s %q has kind %q; a rule's kind is CONDITION or TRANSFORM (absent means TRANSFORM).", list.name, r.Name, r.Kind)
			}
			switch r.Mode {
			case "", wire.RuleModeWrite, wire.RuleModeRead, wire.RuleModeWriteRead,
				wire.RuleModeUpgrade, wire.RuleModeDowngrade, wire.RuleModeUpDown:
			default:
				return errRuleSet(where, "%s %q has mode %q; a migration rule's mode is UPGRADE, DOWNGRADE or UPDOWN, a domain rule's WRITE, READ or WRITEREAD.", list.name, r.Name, r.Mode)
			}
		}
	}
	return nil
}

// checkRuleSet refuses (42210) what Confluent's RuleSet.validate refuses
// on registration and config updates: a bad kind or mode, a name that is
// missing, longer than 64 characters, not starting with a letter or '_' or
// holding anything but letters, digits, '_' and '-', two rules of one name,
// a rule without type, a migration rule not UPGRADE/DOWNGRADE/UPDOWN, a
// domain rule not WRITE/READ/WRITEREAD, and a pair of actions
// ("ERROR,NONE") on a rule that is not WRITEREAD or UPDOWN.
func checkRuleSet(where string, rs *wire.RuleSet) error {
	if err := checkRuleKinds(where, rs); err != nil {
		return err
	}
	if rs == nil {
		return nil
	}
	n := normRuleSet(rs)
	names := map[string]bool{}
	for _, list := range []struct {
		name      string
		rules     []wire.Rule
		sent      []wire.Rule
		migration bool
	}{{"migration rule", n.MigrationRules, rs.MigrationRules, true}, {"domain rule", n.DomainRules, rs.DomainRules, false}} {
		for i, r := range list.rules {
			mode := string(r.Mode)
			if list.sent[i].Mode == "" {
				mode = "WRITEREAD (no mode means WRITEREAD)"
			}
			if err := checkRuleName(r.Name); err != nil {
				return errRuleSet(where, "%s %q: %s", list.name, r.Name, err)
			}
			if names[r.Name] {
				return errRuleSet(where, "found two rules named %q; rule names are unique across migrationRules and domainRules.", r.Name)
			}
			names[r.Name] = true
			if r.Type == "" {
				return errRuleSet(where, "%s %q has no type; name the executor, e.g. \"CEL\", \"JSONATA\" or %q.", list.name, r.Name, wire.RuleTypeGoMigration)
			}
			for _, action := range []string{r.OnSuccess, r.OnFailure} {
				if strings.Contains(action, ",") && r.Mode != wire.RuleModeWriteRead && r.Mode != wire.RuleModeUpDown {
					return errRuleSet(where, "%s %q has the action pair %q, but a pair of actions is only valid with mode WRITEREAD or UPDOWN (its mode is %s).", list.name, r.Name, action, mode)
				}
			}
			migrationMode := r.Mode == wire.RuleModeUpgrade || r.Mode == wire.RuleModeDowngrade || r.Mode == wire.RuleModeUpDown
			switch {
			case list.migration && !migrationMode:
				return errRuleSet(where, "migration rule %q has mode %s; migration rules can only be UPGRADE, DOWNGRADE, UPDOWN.", r.Name, mode)
			case !list.migration && migrationMode:
				return errRuleSet(where, "domain rule %q has mode %s; domain rules can only be WRITE, READ, WRITEREAD.", r.Name, mode)
			}
		}
	}
	return nil
}

// checkRuleName is Confluent's Rule.validateName.
func checkRuleName(name string) error {
	switch n := len(utf16.Encode([]rune(name))); {
	case n == 0:
		return fmt.Errorf("the rule has no name; give every rule a name")
	case n > ruleNameMaxLength:
		return fmt.Errorf("the name is %d characters long, more than the limit of %d", n, ruleNameMaxLength)
	}
	for i, c := range name {
		switch {
		case i == 0 && !unicode.IsLetter(c) && c != '_':
			return fmt.Errorf("the name must start with a letter or '_', not %q", c)
		case !unicode.IsLetter(c) && !unicode.IsDigit(c) && c != '_' && c != '-':
			return fmt.Errorf("the name may hold letters, digits, '_' and '-' only, not %q", c)
		}
	}
	return nil
}

// ruleSetOut is a rule set as Confluent's answers write it: each rule with
// "disabled" even when false, empty parts left out.
type ruleSetOut wire.RuleSet

// MarshalJSON implements json.Marshaler.
func (s *ruleSetOut) MarshalJSON() ([]byte, error) {
	type rule struct {
		Name      string            `json:"name,omitempty"`
		Doc       string            `json:"doc,omitempty"`
		Kind      wire.RuleKind     `json:"kind,omitempty"`
		Mode      wire.RuleMode     `json:"mode,omitempty"`
		Type      string            `json:"type,omitempty"`
		Tags      []string          `json:"tags,omitempty"`
		Params    map[string]string `json:"params,omitempty"`
		Expr      string            `json:"expr,omitempty"`
		OnSuccess string            `json:"onSuccess,omitempty"`
		OnFailure string            `json:"onFailure,omitempty"`
		Disabled  bool              `json:"disabled"`
	}
	conv := func(in []wire.Rule) []rule {
		out := make([]rule, len(in))
		for i, r := range in {
			out[i] = rule(r)
		}
		return out
	}
	return marshal(struct {
		MigrationRules []rule `json:"migrationRules,omitempty"`
		DomainRules    []rule `json:"domainRules,omitempty"`
	}{conv(s.MigrationRules), conv(s.DomainRules)})
}

// outRules converts rs for an answer; nil stays nil.
func outRules(rs *wire.RuleSet) *ruleSetOut { return (*ruleSetOut)(rs) }

// contractText finds a string in c that is not valid UTF-8, which stores
// keeping JSON records could not keep as written.
func contractText(md *wire.Metadata, rs *wire.RuleSet) (what, s string) {
	check := func(w, v string) bool {
		if invalidUTF8At(v) >= 0 {
			what, s = w, v
			return true
		}
		return false
	}
	if md != nil {
		for k, tags := range md.Tags {
			if check("metadata tag path", k) {
				return
			}
			for _, t := range tags {
				if check("metadata tag", t) {
					return
				}
			}
		}
		for k, v := range md.Properties {
			if check("metadata property", k) || check("metadata property value", v) {
				return
			}
		}
		for _, v := range md.Sensitive {
			if check("metadata sensitive name", v) {
				return
			}
		}
	}
	if rs != nil {
		for _, r := range slices.Concat(rs.MigrationRules, rs.DomainRules) {
			for _, v := range []string{r.Name, r.Doc, string(r.Kind), string(r.Mode), r.Type, r.Expr, r.OnSuccess, r.OnFailure} {
				if check("rule field", v) {
					return
				}
			}
			for _, v := range r.Tags {
				if check("rule tag", v) {
					return
				}
			}
			for k, v := range r.Params {
				if check("rule param", k) || check("rule param value", v) {
					return
				}
			}
		}
	}
	return "", ""
}
