package compat

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// contractLocator locates JSON Pointers into a major's sidecar.
type contractLocator struct{ m *schemas.Major }

func (l contractLocator) Locate(_, path string) (Location, bool) {
	line, col, ok := l.m.ContractPos(path)
	if !ok {
		return Location{}, false
	}
	return Location{Path: path, File: l.m.Contract, Line: line, Col: col}, true
}

// WorkingTree labels the schema tree being checked, as opposed to a
// baseline, in findings and reports of `contrail check` and `contrail
// contract verify`.
const WorkingTree = "working tree"

// Entry is one subject of a schema tree: the schema registered under it and
// where it came from.
type Entry struct {
	// Subject is the registry subject.
	Subject string
	// FullName is the Avro full name of the subject's schema.
	FullName string
	// File is the .avsc file (slash path under the schema root); "" when the
	// schema came from a registry.
	File string
	// Topic is the event's topic; "" for shared types and registry entries.
	Topic string
	// Strategy is the subject naming strategy (TopicName, RecordName,
	// TopicRecordName); "" when unknown.
	Strategy string
	// Level is the subject's compatibility level.
	Level Level
	// Manifest locates the entry's manifest line, when it has one.
	Manifest Location
	// Schema is the schema itself, with its Label and Source.
	Schema Schema
	// Text is the schema's source text; versions with equal text are one.
	Text string
	// Major is the schema's major version (0 means 1): from the file name
	// for a schema tree (<Name>.v<N>.avsc), from the metadata property
	// major_version for a registered version (1 without it).
	Major int
	// Grouped says the subject's compatibility group is major_version (the
	// manifest's compatibility_group): a version is checked only against
	// the versions of its own Major, and a new major against none.
	Grouped bool
	// Metadata and RuleSet are the data contract registered with the
	// schema (a sidecar's, a registered version's); nil when it has none.
	Metadata *wire.Metadata
	RuleSet  *wire.RuleSet
	// Contract is the data contract's sidecar file (slash path under the
	// schema root); "" when it has none or came from a registry.
	Contract string
	// ContractSource locates JSON Pointers into the contract
	// (Locate("", "/ruleSet/domainRules/0")); nil without a sidecar.
	ContractSource Locator
}

// major is e's major version, 1 when unset.
func (e *Entry) major() int { return max(e.Major, 1) }

// Snapshot is a schema tree at one point in its history.
type Snapshot struct {
	// Label names the snapshot in messages, e.g. "git:main" or "working tree".
	Label string
	// Entries are the subjects, in a stable order.
	Entries []Entry
	// Complete is true when the snapshot lists every subject of its tree, so
	// a subject missing from it was really deleted (for a registry: every
	// subject the tree owns there, see baseline.Ownership; false when the
	// registry was only asked about the subjects the working tree has).
	Complete bool
}

// SnapshotOf turns a loaded schema tree into a Snapshot labelled label: one
// entry per manifest event (under its strategy and level) and one per other
// named type (under RecordName at the manifest's types_compatibility). It
// returns an error wrapping ErrUnknownLevel when the manifest names an
// unknown level.
func SnapshotOf(set *schemas.Set, label string) (Snapshot, error) {
	snap := Snapshot{Label: label, Complete: true}
	isEvent := map[string]bool{}
	for _, e := range set.Events {
		isEvent[e.Type.FullName] = true
		lvl, err := ParseLevel(e.Compatibility)
		if err != nil {
			return Snapshot{}, fmt.Errorf("compat: %s event %s: %w", label, e.Type.FullName, err)
		}
		majors := e.Majors
		if len(majors) == 0 { // a Set built by hand
			majors = []*schemas.Major{{Version: 1, Type: e.Type}}
		}
		for _, m := range majors {
			entry := Entry{
				Subject: e.Subject, FullName: e.Type.FullName, File: m.Type.File, Topic: e.Topic,
				Strategy: string(e.Strategy), Level: lvl,
				Manifest: Location{File: schemas.ManifestFile, Line: e.Line, Col: e.Col},
				Schema:   Schema{Schema: m.Type.Schema, Label: label, Source: TypeLocator(set, m.Type)},
				Text:     textWithRefs(set, m.Type),
				Major:    m.Version, Grouped: e.CompatibilityGroup == wire.CompatibilityGroupMajorVersion,
				Metadata: m.Metadata, RuleSet: m.RuleSet, Contract: m.Contract,
			}
			if m.Contract != "" {
				entry.ContractSource = contractLocator{m}
			}
			snap.Entries = append(snap.Entries, entry)
		}
	}
	typesLevel := Level(FullTransitive)
	if set.TypesCompatibility != "" {
		l, err := ParseLevel(set.TypesCompatibility)
		if err != nil {
			return Snapshot{}, fmt.Errorf("compat: %s types_compatibility: %w", label, err)
		}
		typesLevel = l
	}
	for _, t := range set.Order() {
		if isEvent[t.FullName] || t != set.Types[t.FullName] {
			continue
		}
		snap.Entries = append(snap.Entries, Entry{
			Subject: t.FullName, FullName: t.FullName, File: t.File, Strategy: "RecordName", Level: typesLevel,
			Schema: Schema{Schema: t.Schema, Label: label, Source: SetLocator(set, t.FullName)},
			Text:   textWithRefs(set, t),
		})
	}
	return snap, nil
}

// SetLocator locates paths in the files of set; root is the full name of
// the schema's own type, which paths from the root ("" full name) start at.
// For a later major of an event use TypeLocator, which knows its file.
func SetLocator(set *schemas.Set, root string) Locator { return setLocator{set: set, name: root} }

// TypeLocator locates paths in the files of set, the paths of root's own
// full name (and those from the root) in root's file: the locator of one
// major of an event, whose full name the other majors share.
func TypeLocator(set *schemas.Set, root *schemas.Type) Locator {
	return setLocator{set: set, name: root.FullName, root: root}
}

type setLocator struct {
	set  *schemas.Set
	name string
	root *schemas.Type // the type name means; nil: set.Types[name]
}

func (l setLocator) Locate(fullName, path string) (Location, bool) {
	if fullName == "" {
		fullName = l.name
	}
	t, ok := l.set.Types[fullName]
	if fullName == l.name && l.root != nil {
		t, ok = l.root, true
	}
	if !ok {
		return Location{}, false
	}
	line, col, ok := t.Pos(path)
	if !ok {
		return Location{}, false
	}
	return Location{Path: path, File: t.File, Line: line, Col: col}, true
}

// TreeOptions tunes CheckTree. The zero value uses each subject's own level.
type TreeOptions struct {
	// Level, when set, overrides every subject's level.
	Level Level
}

// CheckTree checks the schema tree next against its history (oldest
// first; the last snapshot is the baseline). Each subject of next is checked
// at its level against the versions the history holds for it (consecutive
// duplicates collapsed); an entry of a Grouped subject only against the
// versions of its own major, and a major the history lacks must declare a
// Go migration rule (MAJOR_ADDED, MAJOR_WITHOUT_MIGRATION). Changes to an
// entry's data contract since the newest earlier version of its major are
// reported too (DOMAIN_RULE_*, MIGRATION_RULE_*, PII_TAG_REMOVED,
// DATA_CONTRACT_CHANGED). Against the baseline it also reports deleted
// subjects, schema files and majors, subjects that moved (topic or
// strategy) and files that were renamed, so none of those passes silently.
// Findings carry their Subject. It returns an error only for an unknown
// level.
func CheckTree(next Snapshot, history []Snapshot, opts TreeOptions) ([]Finding, error) {
	if len(history) == 0 {
		return nil, nil
	}
	base := history[len(history)-1]
	var out []Finding

	nextBySubject := map[string][]*Entry{}
	nextByName := map[string]*Entry{}
	for i := range next.Entries {
		e := &next.Entries[i]
		nextBySubject[e.Subject] = append(nextBySubject[e.Subject], e)
		if nextByName[e.FullName] == nil {
			nextByName[e.FullName] = e
		}
	}

	// Subject-level changes against the baseline.
	baseByName := map[string]bool{}
	for _, old := range base.Entries {
		baseByName[old.FullName] = true
	}
	for _, old := range base.Entries {
		if curs := nextBySubject[old.Subject]; len(curs) > 0 {
			cur := curs[0]
			if i := slices.IndexFunc(curs, func(e *Entry) bool { return e.major() == old.major() }); i >= 0 {
				cur = curs[i]
			} else if old.FullName == cur.FullName {
				// The subject lives on in other majors: this one retired.
				out = append(out, retired(old, curs, base.Label, next.Label))
				continue
			}
			if old.File != "" && cur.File != "" && old.FullName != cur.FullName {
				// Same subject (TopicName), new type: the history carries over,
				// but the file, full name and generated Go type do not.
				out = append(out, Finding{
					Rule: SchemaFileRenamed.ID, Subject: old.Subject,
					Direction: Direction{Reader: next.Label, Writer: base.Label},
					Reader:    Location{File: cur.File, Line: 1, Col: 1}, Writer: Location{File: old.File, Line: 1, Col: 1},
					Message: fmt.Sprintf("%s (%s) was renamed to %s (%s); subject %s keeps its history, but the generated Go type is renamed and readers of the old name need \"aliases\": [%q] to match it; keep the old name, or record the rename in the exceptions file with a reason",
						old.File, old.FullName, cur.File, cur.FullName, old.Subject, old.FullName),
				})
			}
			continue
		}
		if cur := nextByName[old.FullName]; cur != nil {
			if old.Topic != "" && cur.Topic == "" {
				// The event left the manifest; its type stays as a shared type.
				out = append(out, deleted(Entry{Subject: old.Subject, FullName: old.FullName, Manifest: old.Manifest, Schema: old.Schema}, base.Label, next.Label))
				continue
			}
			out = append(out, movedFinding(old, *cur, base.Label, next.Label))
			continue
		}
		if !base.Complete {
			continue
		}
		if ren := renamedTo(old, next.Entries, baseByName); ren != nil && old.File != "" {
			out = append(out, Finding{
				Rule: SchemaFileRenamed.ID, Subject: old.Subject,
				Direction: Direction{Reader: next.Label, Writer: base.Label},
				Reader:    Location{File: ren.File, Line: 1, Col: 1}, Writer: Location{File: old.File, Line: 1, Col: 1},
				Message: fmt.Sprintf("%s (%s) was renamed to %s (%s), so subject %s becomes %s with no history and readers of the old name need \"aliases\": [%q]; keep the old name, or record the rename in the exceptions file with a reason",
					old.File, old.FullName, ren.File, ren.FullName, old.Subject, ren.Subject, old.FullName),
			})
			continue
		}
		out = append(out, deleted(old, base.Label, next.Label))
	}

	// Schema compatibility per subject of next.
	for i := range next.Entries {
		cur := &next.Entries[i]
		level := cur.Level
		if opts.Level != "" {
			level = opts.Level
		}
		subject := cur.Subject
		group := 0 // every major
		if cur.Grouped {
			group = cur.major()
		}
		prev := versions(history, subject, "", group)
		if len(prev) == 0 {
			// A moved subject keeps the history of its old one.
			prev = versions(history, "", cur.FullName, group)
		}
		if len(prev) == 0 {
			if cur.Grouped && cur.major() > 1 {
				f, err := newMajor(cur, history, level, base.Label, next.Label)
				if err != nil {
					return nil, fmt.Errorf("compat: subject %s: %w", subject, err)
				}
				out = append(out, f)
			}
			continue // a new subject (or major): nothing to be compatible with
		}
		fs, err := CheckLevel(level, cur.Schema, schemasOf(prev))
		if err != nil {
			return nil, fmt.Errorf("compat: subject %s: %w", subject, err)
		}
		for i := range fs {
			fs[i].Subject = subject
		}
		out = append(out, fs...)
		if old := newest(history, subject, cur.FullName, group); old != nil {
			out = append(out, contractChanges(cur, old, base.Label, next.Label)...)
		}
	}
	return out, nil
}

// renamedTo finds the entry of next that old was renamed to: a type new to
// next that aliases old's full name or keeps its short name.
func renamedTo(old Entry, next []Entry, inBase map[string]bool) *Entry {
	short := old.FullName[strings.LastIndexByte(old.FullName, '.')+1:]
	for i := range next {
		e := &next[i]
		if inBase[e.FullName] || e.File == "" {
			continue
		}
		if n, ok := e.Schema.Schema.(avro.NamedSchema); ok && (slices.Contains(n.Aliases(), old.FullName) || n.Name() == short) {
			return e
		}
	}
	return nil
}

// versions collects a subject's versions across history (by subject, or by
// full name when subject is ""), of major only unless major is 0, dropping
// a version equal to the one before.
func versions(history []Snapshot, subject, fullName string, major int) []*Entry {
	var out []*Entry
	var last string
	for _, snap := range history {
		for i := range snap.Entries {
			e := &snap.Entries[i]
			if !matches(e, subject, fullName, major) {
				continue
			}
			canon := e.Text
			if canon == "" {
				canon = e.Schema.Schema.String()
			}
			if canon != last {
				out = append(out, e)
				last = canon
			}
			break
		}
	}
	return out
}

// newest is the newest version in history of a subject (by subject, else
// by full name) and major (any for 0), nil when it has none.
func newest(history []Snapshot, subject, fullName string, major int) *Entry {
	for k := len(history) - 1; k >= 0; k-- {
		for i := range history[k].Entries {
			if e := &history[k].Entries[i]; matches(e, subject, "", major) {
				return e
			}
		}
	}
	for k := len(history) - 1; k >= 0; k-- {
		for i := range history[k].Entries {
			if e := &history[k].Entries[i]; matches(e, "", fullName, major) {
				return e
			}
		}
	}
	return nil
}

func matches(e *Entry, subject, fullName string, major int) bool {
	if major != 0 && e.major() != major {
		return false
	}
	return (subject != "" && e.Subject == subject) || (subject == "" && e.FullName == fullName)
}

func schemasOf(es []*Entry) []Schema {
	out := make([]Schema, len(es))
	for i, e := range es {
		out[i] = e.Schema
	}
	return out
}

func deleted(old Entry, baseLabel, nextLabel string) Finding {
	f := Finding{
		Subject:   old.Subject,
		Direction: Direction{Reader: nextLabel, Writer: baseLabel},
		Writer:    Location{File: old.File, Line: 1, Col: 1},
	}
	if old.File == "" {
		f.Writer = old.Manifest
	}
	switch {
	case old.File == "" && old.Manifest.File == "":
		// From a registry: no file or manifest line to point at, so the
		// reader side is the manifest, where the event would be restored,
		// and the writer side the subject's REST path (which also keeps
		// Dedupe from merging two deleted subjects).
		f.Rule = SubjectDeleted.ID
		f.Reader = Location{File: schemas.ManifestFile}
		f.Writer = Location{Path: "/subjects/" + old.Subject + "/versions/latest"}
		f.Message = fmt.Sprintf("subject %s (%s) is still registered (latest: %s) but no event or type in the working tree has it any more, and its producers and consumers may still use it; restore the event in the manifest, or delete the subject in the registry deliberately once they have moved off it, or record the removal in the exceptions file with a reason",
			old.Subject, old.FullName, old.Schema.Label)
	case old.File != "":
		f.Rule = SchemaFileDeleted.ID
		f.Message = fmt.Sprintf("%s (%s) was deleted, but subject %s still has consumers of its data; restore the file, or deprecate the type first and record the removal in the exceptions file with a reason",
			old.File, old.FullName, old.Subject)
	default:
		f.Rule = SubjectDeleted.ID
		f.Message = fmt.Sprintf("subject %s (%s) is gone from the manifest; restore its entry, or record the removal in the exceptions file with a reason",
			old.Subject, old.FullName)
	}
	return f
}

func movedFinding(old, cur Entry, baseLabel, nextLabel string) Finding {
	f := Finding{
		Subject:   cur.Subject,
		Direction: Direction{Reader: nextLabel, Writer: baseLabel},
		Reader:    cur.Manifest,
		Writer:    old.Manifest,
	}
	if old.Strategy != "" && cur.Strategy != "" && old.Strategy != cur.Strategy && old.Topic == cur.Topic {
		f.Rule = StrategyChanged.ID
		f.Message = fmt.Sprintf("event %s: subject naming strategy changed from %s to %s, so its subject changes from %s to %s and serializers configured for the old strategy stop finding it; keep strategy %s",
			cur.FullName, old.Strategy, cur.Strategy, old.Subject, cur.Subject, old.Strategy)
		return f
	}
	f.Rule = SubjectMoved.ID
	if old.Topic != cur.Topic && old.Topic != "" {
		f.Message = fmt.Sprintf("event %s moved from topic %s to %s, so its subject changes from %s to %s and consumers of %s stop receiving it; keep topic %s, or publish to both during a migration",
			cur.FullName, old.Topic, cur.Topic, old.Subject, cur.Subject, old.Topic, old.Topic)
	} else {
		f.Message = fmt.Sprintf("event %s: subject changed from %s to %s, which starts an empty history in the registry; keep subject %s",
			cur.FullName, old.Subject, cur.Subject, old.Subject)
	}
	return f
}

// Dedupe drops findings that repeat an earlier one at the same reader
// location and writer path: a shared type's change shows up under its own
// subject and under every event that uses it, and a transitive check finds
// the same break against several old versions. It keeps the first; order is
// otherwise preserved.
func Dedupe(fs []Finding) []Finding {
	type key struct {
		rule                   RuleID
		reader                 Location
		writerFile, writerPath string
	}
	seen := map[key]bool{}
	out := fs[:0:0]
	for _, f := range fs {
		k := key{f.Rule, f.Reader, f.Writer.File, f.Writer.Path}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	return out
}

// Sort orders findings by file, line, column and rule, for stable output.
func Sort(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i].Reader, fs[j].Reader
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Col != b.Col {
			return a.Col < b.Col
		}
		return fs[i].Rule < fs[j].Rule
	})
}

// textWithRefs is a type's text plus the texts of the types it uses: a
// version changes when any of them does.
func textWithRefs(set *schemas.Set, t *schemas.Type) string {
	s := t.Text
	for _, r := range t.References {
		if rt, ok := set.Types[r]; ok {
			s += "\n" + rt.Text
		}
	}
	return s
}
