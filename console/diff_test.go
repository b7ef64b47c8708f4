package console_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/console"
)

func parse(t *testing.T, text string) avro.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, text)
	}
	return s
}

func readSchema(t *testing.T, path string) avro.Schema {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, string(b))
}

// TestSemanticDiffRuleFixtures runs the diff on compat's own fixture pair
// of every schema-resolution rule (BACKWARD): the change that breaks is
// labelled breaking with that rule's ID, every finding is placed on a
// change, and the passing twin has no breaking change.
func TestSemanticDiffRuleFixtures(t *testing.T) {
	dirs, _ := filepath.Glob("../compat/testdata/*/previous.avsc")
	if len(dirs) < 9 {
		t.Fatalf("found %d rule fixtures under compat/testdata, want the 9 resolution rules", len(dirs))
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		rule := compat.RuleID(filepath.Base(dir))
		t.Run(string(rule), func(t *testing.T) {
			prev := readSchema(t, filepath.Join(dir, "previous.avsc"))
			cur := readSchema(t, filepath.Join(dir, "current.avsc"))
			changes, other := console.SemanticDiff(prev, cur, "previous", "current", compat.Backward)
			for _, f := range other {
				if f.Breaking {
					t.Errorf("breaking finding on no change: %s %s", f.Rule, f.Message)
				}
			}
			var breaking []console.Change
			for _, c := range changes {
				if c.Breaking() {
					breaking = append(breaking, c)
				}
			}
			if len(breaking) == 0 {
				t.Fatalf("no breaking change; changes %+v, other %+v", changes, other)
			}
			found := false
			for _, c := range breaking {
				for _, f := range c.Findings {
					found = found || (f.Rule == rule && f.Breaking && f.Backward)
				}
			}
			if !found {
				t.Fatalf("no change carries a breaking %s: %+v", rule, breaking)
			}
			pass := readSchema(t, filepath.Join(dir, "passing.avsc"))
			changes, other = console.SemanticDiff(prev, pass, "previous", "passing", compat.Backward)
			for _, c := range changes {
				if c.Breaking() {
					t.Errorf("passing twin: breaking change %+v", c)
				}
			}
			if len(changes) == 0 {
				t.Errorf("passing twin: no change found, but the fixture changes something")
			}
			for _, f := range other {
				if f.Breaking {
					t.Errorf("passing twin: breaking finding %s", f.Rule)
				}
			}
		})
	}
}

func TestSemanticDiffChanges(t *testing.T) {
	base := `{"type":"record","name":"R","namespace":"n","doc":"d","fields":[
  {"name":"id","type":"string"},
  {"name":"kind","type":{"type":"enum","name":"K","symbols":["A","B"]}},
  {"name":"tags","type":{"type":"array","items":"string"},"default":[]},
  {"name":"old","type":"int"}]}`
	tests := []struct {
		name  string
		next  string
		level compat.Level
		want  []string // "what/breaking" of each change, in order
		rules []compat.RuleID
	}{
		{name: "same", next: base, level: compat.Full},
		{name: "optional field added", level: compat.Full,
			next: strings.Replace(base, `{"name":"old","type":"int"}`, `{"name":"old","type":"int"},{"name":"note","type":["null","string"],"default":null}`, 1),
			want: []string{"field added/false"}},
		{name: "required field added", level: compat.Backward,
			next:  strings.Replace(base, `{"name":"old","type":"int"}`, `{"name":"old","type":"int"},{"name":"note","type":"string"}`, 1),
			want:  []string{"field added/true"},
			rules: []compat.RuleID{"READER_FIELD_MISSING_DEFAULT"}},
		{name: "field removed, forward", level: compat.Forward,
			next: strings.Replace(base, `,
  {"name":"old","type":"int"}`, ``, 1),
			want:  []string{"field removed/true"},
			rules: []compat.RuleID{"READER_FIELD_MISSING_DEFAULT"}},
		{name: "field removed, backward", level: compat.Backward,
			next: strings.Replace(base, `,
  {"name":"old","type":"int"}`, ``, 1),
			want:  []string{"field removed/false"},
			rules: []compat.RuleID{"READER_FIELD_MISSING_DEFAULT"}},
		{name: "promotion", level: compat.Backward,
			next:  strings.Replace(base, `{"name":"old","type":"int"}`, `{"name":"old","type":"long"}`, 1),
			want:  []string{"type changed/false"},
			rules: []compat.RuleID{"TYPE_CHANGED"}}, // forward only: allowed at BACKWARD
		{name: "symbol added, forward", level: compat.Forward,
			next:  strings.Replace(base, `["A","B"]`, `["A","B","C"]`, 1),
			want:  []string{"symbol added/true"},
			rules: []compat.RuleID{"ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT"}},
		{name: "doc and default", level: compat.Full,
			next: strings.Replace(strings.Replace(base, `"doc":"d"`, `"doc":"e"`, 1), `"default":[]`, `"default":["x"]`, 1),
			want: []string{"doc changed/false", "default changed/false"}},
		{name: "renamed with alias", level: compat.Full,
			next:  strings.Replace(base, `{"name":"old","type":"int"}`, `{"name":"older","aliases":["old"],"type":"int"}`, 1),
			want:  []string{"field renamed (alias)/true"},
			rules: []compat.RuleID{"READER_FIELD_MISSING_DEFAULT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, other := console.SemanticDiff(parse(t, base), parse(t, tt.next), "v1", "v2", tt.level)
			var got []string
			var rules []compat.RuleID
			for _, c := range changes {
				got = append(got, c.What+"/"+map[bool]string{true: "true", false: "false"}[c.Breaking()])
				for _, f := range c.Findings {
					rules = append(rules, f.Rule)
				}
			}
			if len(other) > 0 {
				t.Errorf("findings on no change: %+v", other)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("changes %q, want %q (%+v)", got, tt.want, changes)
			}
			if !slices.Equal(rules, tt.rules) {
				t.Errorf("rules %v, want %v", rules, tt.rules)
			}
		})
	}
}

func TestTextDiff(t *testing.T) {
	lines := console.TextDiff(`{"a":1,"b":2}`, `{"a":1,"b":3,"c":4}`)
	var kinds []string
	for _, l := range lines {
		kinds = append(kinds, l.Kind)
	}
	want := []string{"same", "same", "change", "add", "same"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kinds %v, want %v: %+v", kinds, want, lines)
	}
	if c := lines[2]; c.OldNo != 3 || c.NewNo != 3 || !strings.Contains(c.Old, "2") || !strings.Contains(c.New, "3,") {
		t.Fatalf("change row %+v", c)
	}
	if got := console.TextDiff("not json", "not json"); len(got) != 1 || got[0].Kind != "same" {
		t.Fatalf("plain text: %+v", got)
	}
}
