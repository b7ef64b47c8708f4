package compat

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// Majors and data contracts in CheckTree: a subject grouped by
// major_version holds one lineage per major, a new major passes only with a
// Go migration rule, and changes to the metadata and rules registered with a
// schema are findings of their own.

// majorName names one major of an entry in messages:
// "contrail.orders.OrderPlaced v2".
func majorName(e *Entry) string { return fmt.Sprintf("%s v%d", e.FullName, e.major()) }

// sidecarOf is the contract file of a tree entry, existing or to create.
func sidecarOf(e *Entry) string {
	if e.Contract != "" {
		return e.Contract
	}
	if e.File != "" {
		return strings.TrimSuffix(e.File, ".avsc") + schemas.SidecarSuffix
	}
	return "the schema's contract"
}

// fileLoc is the first line of file, or no location for a registry entry.
func fileLoc(file string) Location {
	if file == "" {
		return Location{}
	}
	return Location{File: file, Line: 1, Col: 1}
}

// contractLoc locates ptr in e's contract: its position in the sidecar,
// else the sidecar's (or schema file's) first line, else the bare pointer
// (a registry version).
func contractLoc(e *Entry, ptr string) Location {
	if e.ContractSource != nil {
		if l, ok := e.ContractSource.Locate("", ptr); ok {
			return l
		}
		if l, ok := e.ContractSource.Locate("", ""); ok {
			l.Path = ptr
			return l
		}
	}
	if e.File != "" {
		return Location{Path: ptr, File: e.File, Line: 1, Col: 1}
	}
	return Location{Path: ptr}
}

// newMajor judges a major of a grouped subject that history does not have:
// MAJOR_ADDED when its contract declares a Go migration rule (saying how
// much it breaks the major before), MAJOR_WITHOUT_MIGRATION otherwise.
func newMajor(cur *Entry, history []Snapshot, level Level, baseLabel, nextLabel string) (Finding, error) {
	n := cur.major()
	f := Finding{Subject: cur.Subject, Direction: Direction{Reader: nextLabel, Writer: baseLabel}}
	prev := versions(history, cur.Subject, "", n-1)
	if len(prev) > 0 {
		f.Writer = fileLoc(prev[len(prev)-1].File)
		if f.Writer.File == "" {
			f.Writer = Location{Path: "/subjects/" + cur.Subject + "/versions/latest"}
		}
	}
	migs := schemas.GoMigrations(cur.RuleSet)
	if len(migs) == 0 {
		f.Rule = MajorWithoutMigration.ID
		f.Reader = fileLoc(cur.File)
		f.Message = fmt.Sprintf("%s (%s) is a new major but declares no migration rule, so consumers of v%d cannot read the data it writes nor consumers of v%d the data v%d wrote: add a rule to %s, e.g. `ruleSet: {migrationRules: [{name: %s, kind: TRANSFORM, mode: UPDOWN, type: CONTRAIL_GO}]}`, then run `contrail gen` and fill in the migration functions it writes; or make the change compatible within v%d",
			majorName(cur), cur.File, n-1, n, n-1, sidecarOf(cur), migrationRuleName(cur.FullName, n), n-1)
		return f, nil
	}
	rule := migs[0]
	idx := slices.IndexFunc(cur.RuleSet.MigrationRules, func(r wire.Rule) bool { return r.Name == rule.Name })
	f.Rule = MajorAdded.ID
	f.Reader = contractLoc(cur, "/ruleSet/migrationRules/"+strconv.Itoa(idx))
	var names []string
	for _, m := range migs {
		names = append(names, fmt.Sprintf("%s (%s %s)", m.Name, m.Type, m.Mode))
	}
	if len(prev) == 0 {
		f.Message = fmt.Sprintf("%s: new major, allowed by migration rule %s; the baseline has no v%d to compare it with, and from now on v%d is checked only against itself",
			majorName(cur), strings.Join(names, ", "), n-1, n)
		return f, nil
	}
	breaks, err := CheckLevel(level, cur.Schema, []Schema{prev[len(prev)-1].Schema})
	if err != nil {
		return Finding{}, err
	}
	if len(breaks) == 0 {
		f.Message = fmt.Sprintf("%s: new major, compatible with v%d (%s); migration rule %s declares the Go migration between them, and from now on v%d is checked only against itself",
			majorName(cur), n-1, level, strings.Join(names, ", "), n)
		return f, nil
	}
	var ids []string
	for _, b := range breaks {
		if !slices.Contains(ids, string(b.Rule)) {
			ids = append(ids, string(b.Rule))
		}
	}
	what := fmt.Sprintf("%d incompatibilities", len(breaks))
	if len(breaks) == 1 {
		what = "1 incompatibility"
	}
	f.Message = fmt.Sprintf("%s: new major, breaking change allowed by migration rule %s: %s with v%d under %s (%s) pass because readers of either major read the other's data through the Go migration; fill in the migration functions `contrail gen` wrote before you ship, and from now on v%d is checked only against itself",
		majorName(cur), strings.Join(names, ", "), what, n-1, level, strings.Join(ids, ", "), n)
	return f, nil
}

// migrationRuleName suggests a rule name: orderPlacedV1ToV2.
func migrationRuleName(fullName string, n int) string {
	name := fullName[strings.LastIndexByte(fullName, '.')+1:]
	if name != "" {
		name = strings.ToLower(name[:1]) + name[1:]
	}
	return fmt.Sprintf("%sV%dToV%d", name, n-1, n)
}

// retired is the finding for a baseline major the tree no longer has while
// its subject lives on in curs.
func retired(old Entry, curs []*Entry, baseLabel, nextLabel string) Finding {
	var live []string
	for _, c := range curs {
		live = append(live, "v"+strconv.Itoa(c.major()))
	}
	f := Finding{
		Rule: MajorRetired.ID, Subject: old.Subject,
		Direction: Direction{Reader: nextLabel, Writer: baseLabel},
		Reader:    fileLoc(curs[0].File), Writer: fileLoc(old.File),
		Message: fmt.Sprintf("%s was deleted, so major %d is retired and %s lives on in %s: nothing can decode v%d data any more (its Go type and migration are gone), so retire it only once no producer writes v%d, its data has left the topics and every consumer reads a later major; else restore %s",
			majorName(&old), old.major(), old.Subject, strings.Join(live, ", "), old.major(), old.major(), old.File),
	}
	if old.File == "" {
		f.Writer = Location{Path: "/subjects/" + old.Subject + "/versions/latest"}
		f.Message = fmt.Sprintf("%s (latest in %s) is not in the tree any more, so major %d is retired and %s lives on in %s: retire a major only once no producer writes it, its data has left the topics and every consumer reads a later major",
			majorName(&old), baseLabel, old.major(), old.Subject, strings.Join(live, ", "))
	}
	return f
}

// contractChanges compares cur's data contract with old's, the newest
// earlier version of the same major.
func contractChanges(cur, old *Entry, baseLabel, nextLabel string) []Finding {
	dir := Direction{Reader: nextLabel, Writer: baseLabel}
	var out []Finding
	var notes []string
	add := func(rule Rule, curPtr, oldPtr, format string, args ...any) {
		f := Finding{Rule: rule.ID, Subject: cur.Subject, Direction: dir, Reader: contractLoc(cur, curPtr), Writer: contractLoc(old, oldPtr),
			Message: fmt.Sprintf(format, args...)}
		out = append(out, f)
	}
	oldRS, curRS := old.RuleSet, cur.RuleSet
	if oldRS == nil {
		oldRS = &wire.RuleSet{}
	}
	if curRS == nil {
		curRS = &wire.RuleSet{}
	}
	for _, list := range []struct {
		key              string
		old, cur         []wire.Rule
		removed, changed Rule
		removedWhy       string
	}{
		{"migrationRules", oldRS.MigrationRules, curRS.MigrationRules, MigrationRuleRemoved, MigrationRuleChanged,
			"readers of the other major lose the Go migration to and from this one: restore it"},
		{"domainRules", oldRS.DomainRules, curRS.DomainRules, DomainRuleRemoved, DomainRuleChanged,
			"consumers may rely on every message satisfying it: remove it on purpose, or restore it"},
	} {
		migration := list.key == "migrationRules"
		for i, o := range list.old {
			oldPtr := "/ruleSet/" + list.key + "/" + strconv.Itoa(i)
			j := slices.IndexFunc(list.cur, func(r wire.Rule) bool { return r.Name == o.Name })
			if j < 0 {
				if migration && (o.Type != wire.RuleTypeGoMigration || o.Disabled) {
					notes = append(notes, fmt.Sprintf("migration rule %s (%s) removed", o.Name, o.Type))
					continue
				}
				add(list.removed, "/ruleSet", oldPtr, "%s: %s rule %s (%s) was removed from %s: %s",
					majorName(cur), ruleKind(migration), o.Name, describeRule(o), sidecarOf(cur), list.removedWhy)
				continue
			}
			c := list.cur[j]
			curPtr := "/ruleSet/" + list.key + "/" + strconv.Itoa(j)
			if diffs := ruleDiffs(o, c); len(diffs) > 0 {
				add(list.changed, curPtr, oldPtr, "%s: %s rule %s changed: %s; make sure producers and consumers of %s expect that, or restore the rule",
					majorName(cur), ruleKind(migration), c.Name, strings.Join(diffs, "; "), cur.Subject)
			}
		}
		for j, c := range list.cur {
			if slices.ContainsFunc(list.old, func(r wire.Rule) bool { return r.Name == c.Name }) {
				continue
			}
			if migration {
				notes = append(notes, fmt.Sprintf("migration rule %s (%s %s) added", c.Name, c.Type, c.Mode))
				continue
			}
			add(DomainRuleAdded, "/ruleSet/"+list.key+"/"+strconv.Itoa(j), "/ruleSet",
				"%s: domain rule %s (%s) was added: %s", majorName(cur), c.Name, describeRule(c), addedEffect(c))
		}
	}

	// PII tags: a field that exists in both and lost its tag.
	if old.Schema.Schema != nil && cur.Schema.Schema != nil {
		curFields := schemas.FieldPaths(cur.Schema.Schema)
		curPII := schemas.FieldsTagged(cur.Metadata, cur.Schema.Schema, wire.TagPII)
		var oldTags map[string][]string
		if old.Metadata != nil {
			oldTags = old.Metadata.Tags
		}
		for _, pattern := range slices.Sorted(maps.Keys(oldTags)) {
			if !slices.Contains(oldTags[pattern], wire.TagPII) {
				continue
			}
			var lost []string
			for _, p := range schemas.FieldsTagged(&wire.Metadata{Tags: map[string][]string{pattern: {wire.TagPII}}}, old.Schema.Schema, wire.TagPII) {
				if slices.Contains(curFields, p) && !slices.Contains(curPII, p) {
					lost = append(lost, p)
				}
			}
			if len(lost) > 0 {
				add(PIITagRemoved, "/metadata/tags", "/metadata/tags/"+escapePointer(pattern),
					"%s: %s no longer tagged %s (tag path %q in %s): logs, dead-letter listings and the console will show their values; tag them again in %s, or remove the tag on purpose",
					majorName(cur), strings.Join(lost, ", "), wire.TagPII, pattern, baseLabel, sidecarOf(cur))
			}
		}
	}
	notes = append(notes, metadataDiffs(old.Metadata, cur.Metadata)...)
	if len(notes) > 0 {
		add(DataContractChanged, "", "", "%s: data contract changed: %s", majorName(cur), strings.Join(notes, "; "))
	}
	return out
}

func ruleKind(migration bool) string {
	if migration {
		return "migration"
	}
	return "domain"
}

// describeRule is a rule in a few words: "CEL CONDITION WRITE `message.total > 0`".
func describeRule(r wire.Rule) string {
	s := fmt.Sprintf("%s %s %s", r.Type, r.Kind, r.Mode)
	if r.Expr != "" {
		s += " `" + r.Expr + "`"
	}
	return s
}

// addedEffect says what a new domain rule does to today's messages.
func addedEffect(r wire.Rule) string {
	var parts []string
	if r.Mode.OnWrite() {
		parts = append(parts, "producers of this major fail (or dead-letter) messages that do not satisfy it")
	}
	if r.Mode.OnRead() {
		parts = append(parts, "consumers dead-letter or fail messages that do not satisfy it, including ones already in the topic")
	}
	if len(parts) == 0 {
		return "check it is intended"
	}
	return strings.Join(parts, ", and ") + "; check that what producers write today satisfies it"
}

// ruleDiffs lists what changed between two definitions of one rule; a doc
// change is not a change.
func ruleDiffs(o, c wire.Rule) []string {
	var out []string
	field := func(name, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %q -> %q", name, a, b))
		}
	}
	field("kind", string(o.Kind), string(c.Kind))
	field("mode", string(o.Mode), string(c.Mode))
	field("type", o.Type, c.Type)
	field("expr", o.Expr, c.Expr)
	field("onSuccess", o.OnSuccess, c.OnSuccess)
	field("onFailure", o.OnFailure, c.OnFailure)
	if !slices.Equal(o.Tags, c.Tags) {
		out = append(out, fmt.Sprintf("tags %v -> %v", o.Tags, c.Tags))
	}
	if !maps.Equal(o.Params, c.Params) {
		out = append(out, fmt.Sprintf("params %v -> %v", o.Params, c.Params))
	}
	switch {
	case !o.Disabled && c.Disabled:
		out = append(out, "disabled")
	case o.Disabled && !c.Disabled:
		out = append(out, "enabled")
	}
	return out
}

// metadataDiffs lists metadata changes other than a removed PII tag, which
// PII_TAG_REMOVED reports.
func metadataDiffs(o, c *wire.Metadata) []string {
	if o == nil {
		o = &wire.Metadata{}
	}
	if c == nil {
		c = &wire.Metadata{}
	}
	var out []string
	for _, k := range sortedUnion(o.Properties, c.Properties) {
		ov, oOK := o.Properties[k]
		cv, cOK := c.Properties[k]
		shown := func(v string) string {
			if slices.Contains(c.Sensitive, k) || slices.Contains(o.Sensitive, k) {
				return "(sensitive)"
			}
			return strconv.Quote(v)
		}
		switch {
		case !oOK:
			out = append(out, fmt.Sprintf("property %s %s added", k, shown(cv)))
		case !cOK:
			out = append(out, fmt.Sprintf("property %s removed", k))
		case ov != cv:
			out = append(out, fmt.Sprintf("property %s %s -> %s", k, shown(ov), shown(cv)))
		}
	}
	for _, k := range sortedUnion(o.Tags, c.Tags) {
		for _, tag := range c.Tags[k] {
			if !slices.Contains(o.Tags[k], tag) {
				out = append(out, fmt.Sprintf("tag %s added on %s", tag, k))
			}
		}
		for _, tag := range o.Tags[k] {
			if tag != wire.TagPII && !slices.Contains(c.Tags[k], tag) {
				out = append(out, fmt.Sprintf("tag %s removed from %s", tag, k))
			}
		}
	}
	if os, cs := slices.Sorted(slices.Values(o.Sensitive)), slices.Sorted(slices.Values(c.Sensitive)); !reflect.DeepEqual(os, cs) {
		out = append(out, fmt.Sprintf("sensitive %v -> %v", os, cs))
	}
	return out
}

func sortedUnion[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
