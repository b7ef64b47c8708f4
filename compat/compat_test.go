package compat_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
)

// load parses one .avsc file into a compat.Schema with a text locator.
func load(t testing.TB, path, label string) compat.Schema {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := avro.ParseWithCache(string(text), "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	loc, err := compat.TextLocator(filepath.Base(path), text)
	if err != nil {
		t.Fatal(err)
	}
	return compat.Schema{Schema: s, Label: label, Source: loc}
}

func parse(t testing.TB, text string) compat.Schema {
	t.Helper()
	s, err := avro.ParseWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("parse %s: %v", text, err)
	}
	return compat.Schema{Schema: s, Label: "x"}
}

// TestRuleFixtures checks every fixture pair under testdata/<RULE>/: current
// breaks previous under BACKWARD with exactly that rule, at the expected line
// of current.avsc; the passing twin does not; hamba agrees on both unless the
// rule is one of ours that is stricter than the spec as Java implements it.
func TestRuleFixtures(t *testing.T) {
	tests := []struct {
		name       string
		readerLine int // line of the reader location in current.avsc
		writerLine int // line of the writer location in previous.avsc
		mention    string
	}{
		{name: "READER_FIELD_MISSING_DEFAULT", readerLine: 7, writerLine: 5, mention: `field "channel"`},
		{name: "TYPE_CHANGED", readerLine: 7, writerLine: 7, mention: `field "quantity"`},
		{name: "UNION_BRANCH_MISSING", readerLine: 7, writerLine: 7, mention: `field "detail"`},
		{name: "ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT", readerLine: 6, writerLine: 6, mention: `"MOBILE"`},
		{name: "FIXED_SIZE_CHANGED", readerLine: 6, writerLine: 6, mention: `field "trackingId"`},
		{name: "NAME_MISMATCH", readerLine: 6, writerLine: 6, mention: `field "channel"`},
		{name: "DECIMAL_SCALE_CHANGED", readerLine: 6, writerLine: 6, mention: `field "amount"`},
		{name: "DECIMAL_PRECISION_NARROWED", readerLine: 6, writerLine: 6, mention: `field "amount"`},
		{name: "LOGICAL_TYPE_CHANGED", readerLine: 6, writerLine: 6, mention: `field "occurredAt"`},
	}
	dirs, _ := filepath.Glob("testdata/*/previous.avsc")
	if len(dirs) != len(tests) {
		t.Fatalf("%d fixture dirs, %d table entries: keep them in step", len(dirs), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, ok := compat.RuleByID(compat.RuleID(tt.name))
			if !ok {
				t.Fatalf("no rule %s", tt.name)
			}
			dir := filepath.Join("testdata", tt.name)
			prev := load(t, filepath.Join(dir, "previous.avsc"), "previous")
			cur := load(t, filepath.Join(dir, "current.avsc"), "current")
			pass := load(t, filepath.Join(dir, "passing.avsc"), "passing")

			got, err := compat.CheckLevel(compat.Backward, cur, []compat.Schema{prev})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].Rule != rule.ID {
				t.Fatalf("current vs previous: want one %s, got %+v", rule.ID, got)
			}
			f := got[0]
			if f.Direction != (compat.Direction{Reader: "current", Writer: "previous"}) {
				t.Errorf("direction %+v", f.Direction)
			}
			if f.Reader.File != "current.avsc" || f.Reader.Line != tt.readerLine || f.Reader.Col < 1 {
				t.Errorf("reader location %+v, want current.avsc line %d", f.Reader, tt.readerLine)
			}
			if f.Writer.File != "previous.avsc" || f.Writer.Line != tt.writerLine {
				t.Errorf("writer location %+v, want previous.avsc line %d", f.Writer, tt.writerLine)
			}
			if !strings.Contains(f.Message, tt.mention) || !strings.Contains(f.Message, ";") {
				t.Errorf("message %q should mention %s and say how to fix it", f.Message, tt.mention)
			}
			if got := compat.Compatible(cur.Schema, prev.Schema); got {
				t.Errorf("Compatible says true where Check found %s", rule.ID)
			}
			hamba := avro.NewSchemaCompatibility().Compatible(cur.Schema, prev.Schema) == nil
			if hamba == rule.Spec {
				t.Errorf("hamba compatible=%v, but rule.Spec=%v: the exception list is wrong", hamba, rule.Spec)
			}

			if got, _ := compat.CheckLevel(compat.Backward, pass, []compat.Schema{prev}); len(got) != 0 {
				t.Fatalf("passing twin: want no findings, got %+v", got)
			}
			if err := avro.NewSchemaCompatibility().Compatible(pass.Schema, prev.Schema); err != nil {
				t.Errorf("hamba rejects the passing twin: %v", err)
			}
		})
	}
}

func TestCheckCases(t *testing.T) {
	tests := []struct {
		name           string
		reader, writer string
		want           []compat.RuleID
		readerPath     string // of the first finding
		writerPath     string
	}{
		{name: "identical record", reader: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, writer: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`},
		{name: "extra writer field skipped", reader: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`, writer: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"}]}`},
		{name: "field alias", reader: `{"type":"record","name":"R","fields":[{"name":"b","aliases":["a"],"type":"long"}]}`, writer: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`},
		{name: "record alias", reader: `{"type":"record","name":"S","namespace":"n","aliases":["m.R"],"fields":[]}`, writer: `{"type":"record","name":"R","namespace":"m","fields":[]}`},
		{name: "unqualified name match", reader: `{"type":"record","name":"R","namespace":"a","fields":[]}`, writer: `{"type":"record","name":"R","namespace":"b","fields":[]}`},
		{name: "every finding reported", reader: `{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"b","type":"int"},{"name":"c","type":"int"}]}`, writer: `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"boolean"}]}`,
			want: []compat.RuleID{"TYPE_CHANGED", "TYPE_CHANGED", "READER_FIELD_MISSING_DEFAULT"}, readerPath: "/fields/0/type", writerPath: "/fields/0/type"},
		{name: "promotions", reader: `["long","double","string"]`, writer: `["int","float","bytes"]`},
		{name: "no demotion", reader: `"int"`, writer: `"long"`, want: []compat.RuleID{"TYPE_CHANGED"}},
		{name: "writer union to non-union", reader: `"string"`, writer: `["null","string"]`, want: []compat.RuleID{"TYPE_CHANGED"}, writerPath: "/0"},
		{name: "non-union to reader union", reader: `["null","long"]`, writer: `"int"`},
		{name: "union branch missing", reader: `["null","string"]`, writer: `["null","string","boolean"]`, want: []compat.RuleID{"UNION_BRANCH_MISSING"}, writerPath: "/2"},
		{name: "record inside union descended", reader: `["null",{"type":"record","name":"R","fields":[{"name":"x","type":"int"}]}]`, writer: `["null",{"type":"record","name":"R","fields":[]}]`,
			want: []compat.RuleID{"READER_FIELD_MISSING_DEFAULT"}, readerPath: "/1/fields/0", writerPath: "/1/fields"},
		{name: "arrays and maps", reader: `{"type":"array","items":{"type":"map","values":"string"}}`, writer: `{"type":"array","items":{"type":"map","values":"int"}}`,
			want: []compat.RuleID{"TYPE_CHANGED"}, readerPath: "/items/values", writerPath: "/items/values"},
		{name: "array vs map", reader: `{"type":"array","items":"int"}`, writer: `{"type":"map","values":"int"}`, want: []compat.RuleID{"TYPE_CHANGED"}},
		{name: "enum with reader default", reader: `{"type":"enum","name":"E","symbols":["A"],"default":"A"}`, writer: `{"type":"enum","name":"E","symbols":["A","B"]}`},
		{name: "enum two symbols missing", reader: `{"type":"enum","name":"E","symbols":["A"]}`, writer: `{"type":"enum","name":"E","symbols":["A","B","C"]}`,
			want: []compat.RuleID{"ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT", "ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT"}, readerPath: "/symbols", writerPath: "/symbols/1"},
		{name: "fixed renamed and resized", reader: `{"type":"fixed","name":"G","size":4}`, writer: `{"type":"fixed","name":"F","size":8}`,
			want: []compat.RuleID{"NAME_MISMATCH", "FIXED_SIZE_CHANGED"}},
		{name: "recursive list compatible", reader: `{"type":"record","name":"L","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","L"]}]}`, writer: `{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]}`},
		{name: "recursive list broken once", reader: `{"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]}`, writer: `{"type":"record","name":"L","fields":[{"name":"v","type":"long"},{"name":"next","type":["null","L"]}]}`,
			want: []compat.RuleID{"TYPE_CHANGED"}}, // the pair L/L is reported once, not again through the union
		{name: "shared type reported once", reader: `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"record","name":"M","fields":[{"name":"x","type":"int"}]}},{"name":"b","type":"M"}]}`, writer: `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"record","name":"M","fields":[{"name":"x","type":"string"}]}},{"name":"b","type":"M"}]}`,
			want: []compat.RuleID{"TYPE_CHANGED"}, readerPath: "/fields/0/type/fields/0/type"},
		{name: "renamed shared enum reported once", reader: `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"F","symbols":["X"]}},{"name":"b","type":"F"}]}`, writer: `{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"enum","name":"E","symbols":["X"]}},{"name":"b","type":"E"}]}`,
			want: []compat.RuleID{"NAME_MISMATCH"}, readerPath: "/fields/0/type"},
		{name: "decimal on fixed scale", reader: `{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":10,"scale":3}`, writer: `{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":10,"scale":2}`,
			want: []compat.RuleID{"DECIMAL_SCALE_CHANGED"}},
		{name: "adding a logical type is fine", reader: `{"type":"string","logicalType":"uuid"}`, writer: `"string"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := compat.Check(parse(t, tt.reader), parse(t, tt.writer))
			var ids []compat.RuleID
			for _, f := range got {
				ids = append(ids, f.Rule)
			}
			if strings.Join(toStrings(ids), ",") != strings.Join(toStrings(tt.want), ",") {
				t.Fatalf("rules %v, want %v\n%+v", ids, tt.want, got)
			}
			if len(got) > 0 && tt.readerPath != "" && got[0].Reader.Path != tt.readerPath {
				t.Errorf("reader path %q, want %q", got[0].Reader.Path, tt.readerPath)
			}
			if len(got) > 0 && tt.writerPath != "" && got[0].Writer.Path != tt.writerPath {
				t.Errorf("writer path %q, want %q", got[0].Writer.Path, tt.writerPath)
			}
			r, w := parse(t, tt.reader).Schema, parse(t, tt.writer).Schema
			if compat.Compatible(r, w) != (len(got) == 0) {
				t.Errorf("Compatible disagrees with Check")
			}
		})
	}
}

func toStrings(ids []compat.RuleID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = string(id)
	}
	return out
}

func TestCheckLevel(t *testing.T) {
	v1 := parse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}`)
	v1.Label = "v1"
	v2 := parse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}`)
	v2.Label = "v2"
	// v3 drops b's default: reads v2 fine, cannot read v1.
	v3 := parse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}`)
	v3.Label = "v3"
	tests := []struct {
		name  string
		level compat.Level
		want  []compat.Direction
	}{
		{name: "none", level: compat.None},
		{name: "backward latest only", level: compat.Backward},
		{name: "backward transitive", level: compat.BackwardTransitive, want: []compat.Direction{{Reader: "v3", Writer: "v1"}}},
		{name: "forward", level: compat.Forward},
		{name: "forward transitive", level: compat.ForwardTransitive},
		{name: "full transitive", level: compat.FullTransitive, want: []compat.Direction{{Reader: "v3", Writer: "v1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := compat.CheckLevel(tt.level, v3, []compat.Schema{v1, v2})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want directions %v", got, tt.want)
			}
			for i := range got {
				if got[i].Direction != tt.want[i] {
					t.Errorf("finding %d direction %+v, want %+v", i, got[i].Direction, tt.want[i])
				}
			}
		})
	}
	// FORWARD: v1 (old reader) reading v3 data: v1 ignores b. Now a v4 that drops a.
	v4 := parse(t, `{"type":"record","name":"R","fields":[{"name":"b","type":"int"}]}`)
	v4.Label = "v4"
	got, _ := compat.CheckLevel(compat.Forward, v4, []compat.Schema{v1, v2, v3})
	if len(got) != 1 || got[0].Direction != (compat.Direction{Reader: "v3", Writer: "v4"}) || got[0].Rule != "READER_FIELD_MISSING_DEFAULT" {
		t.Fatalf("forward: %+v", got)
	}
	got, _ = compat.CheckLevel(compat.Full, v4, []compat.Schema{v1, v2, v3})
	if len(got) != 1 {
		t.Fatalf("full: %+v", got)
	}
	if _, err := compat.CheckLevel("SIDEWAYS", v4, nil); !errors.Is(err, compat.ErrUnknownLevel) {
		t.Fatalf("unknown level: %v", err)
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		name, in string
		want     compat.Level
		wantErr  bool
	}{
		{name: "upper", in: "BACKWARD", want: compat.Backward},
		{name: "lower", in: "full_transitive", want: compat.FullTransitive},
		{name: "none", in: "None", want: compat.None},
		{name: "bad", in: "backwards", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := compat.ParseLevel(tt.in)
			if tt.wantErr {
				if !errors.Is(err, compat.ErrUnknownLevel) || !strings.Contains(err.Error(), "BACKWARD_TRANSITIVE") {
					t.Fatalf("err %v: want ErrUnknownLevel naming the valid levels", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v", got, err)
			}
		})
	}
}

func TestRulesDocumented(t *testing.T) {
	seen := map[compat.RuleID]bool{}
	for _, r := range compat.Rules() {
		if seen[r.ID] || r.ID != compat.RuleID(strings.ToUpper(string(r.ID))) || !strings.HasSuffix(r.Purpose, ".") {
			t.Errorf("rule %+v: IDs are unique UPPER_SNAKE with a one-sentence purpose", r)
		}
		seen[r.ID] = true
	}
	// The rule tables (contract rules included) live on the docs page
	// about checking, not in the README.
	doc, err := os.ReadFile("../docs/checking-compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	for id := range seen {
		if !strings.Contains(string(doc), "`"+string(id)+"`") {
			t.Errorf("docs/checking-compatibility.md does not document rule %s", id)
		}
	}
}
