package compat

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/schemas"
)

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
}

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
		snap.Entries = append(snap.Entries, Entry{
			Subject: e.Subject, FullName: e.Type.FullName, File: e.Type.File, Topic: e.Topic,
			Strategy: string(e.Strategy), Level: lvl,
			Manifest: Location{File: schemas.ManifestFile, Line: e.Line, Col: e.Col},
			Schema:   Schema{Schema: e.Type.Schema, Label: label, Source: SetLocator(set, e.Type.FullName)},
			Text:     textWithRefs(set, e.Type),
		})
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
		if isEvent[t.FullName] {
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
func SetLocator(set *schemas.Set, root string) Locator { return setLocator{set, root} }

type setLocator struct {
	set  *schemas.Set
	root string
}

func (l setLocator) Locate(fullName, path string) (Location, bool) {
	if fullName == "" {
		fullName = l.root
	}
	t, ok := l.set.Types[fullName]
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
// duplicates collapsed). Against the baseline it also reports deleted
// subjects and schema files, subjects that moved (topic or strategy) and
// files that were renamed, so none of those passes silently. Findings carry
// their Subject. It returns an error only for an unknown level.
func CheckTree(next Snapshot, history []Snapshot, opts TreeOptions) ([]Finding, error) {
	if len(history) == 0 {
		return nil, nil
	}
	base := history[len(history)-1]
	var out []Finding

	nextBySubject := map[string]*Entry{}
	nextByName := map[string]*Entry{}
	for i := range next.Entries {
		e := &next.Entries[i]
		nextBySubject[e.Subject] = e
		nextByName[e.FullName] = e
	}

	// Subject-level changes against the baseline.
	baseByName := map[string]bool{}
	for _, old := range base.Entries {
		baseByName[old.FullName] = true
	}
	for _, old := range base.Entries {
		if cur, same := nextBySubject[old.Subject]; same {
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
	for _, cur := range next.Entries {
		level := cur.Level
		if opts.Level != "" {
			level = opts.Level
		}
		subject := cur.Subject
		prev := versions(history, subject, "")
		if len(prev) == 0 {
			// A moved subject keeps the history of its old one.
			prev = versions(history, "", cur.FullName)
		}
		if len(prev) == 0 {
			continue // a new subject: nothing to be compatible with
		}
		fs, err := CheckLevel(level, cur.Schema, prev)
		if err != nil {
			return nil, fmt.Errorf("compat: subject %s: %w", subject, err)
		}
		for i := range fs {
			fs[i].Subject = subject
		}
		out = append(out, fs...)
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

// versions collects a subject's schemas across history (by subject, or by
// full name when subject is ""), dropping a version equal to the one before.
func versions(history []Snapshot, subject, fullName string) []Schema {
	var out []Schema
	var last string
	for _, snap := range history {
		for _, e := range snap.Entries {
			if (subject != "" && e.Subject == subject) || (subject == "" && e.FullName == fullName) {
				canon := e.Text
				if canon == "" {
					canon = e.Schema.Schema.String()
				}
				if canon != last {
					out = append(out, e.Schema)
					last = canon
				}
				break
			}
		}
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
