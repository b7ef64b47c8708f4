package schemas_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/schemas"
)

const lintManifest = `version: 1
topics: [{name: orders}]
events: []
lint:
  tier: STANDARD
  field_case: camelCase
  use: [FIELD_DOC_MISSING]
  except:
    - NAMED_TYPE_UNUSED
  ignore:
    - rule: UNION_RECORDS_AMBIGUOUS
      file: shop/orders/Placed.avsc
      reason: payments are tagged by the producer
    - {file: shop/legacy}
`

func TestParseLintConfig(t *testing.T) {
	got, err := schemas.ParseLintConfig([]byte(lintManifest))
	if err != nil {
		t.Fatal(err)
	}
	v := func(s string, line, col int) schemas.ManifestValue {
		return schemas.ManifestValue{Value: s, Line: line, Col: col}
	}
	want := schemas.LintConfig{
		Line: 4, Col: 1,
		Tier:      v("STANDARD", 5, 9),
		FieldCase: v("camelCase", 6, 15),
		Use:       []schemas.ManifestValue{v("FIELD_DOC_MISSING", 7, 9)},
		Except:    []schemas.ManifestValue{v("NAMED_TYPE_UNUSED", 9, 7)},
		Ignore: []schemas.LintIgnore{
			{Rule: v("UNION_RECORDS_AMBIGUOUS", 11, 13), File: v("shop/orders/Placed.avsc", 12, 13), Reason: v("payments are tagged by the producer", 13, 15), Line: 11, Col: 7},
			{File: v("shop/legacy", 14, 14), Line: 14, Col: 7}, // no reason: lint rejects it, the loader does not
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	if got, err := schemas.ParseLintConfig([]byte("version: 1\ntopics: []\nevents: []\n")); err != nil || !reflect.DeepEqual(got, schemas.LintConfig{}) {
		t.Errorf("no lint section: %+v, %v", got, err)
	}
	// The loader accepts a lint section: it is part of the manifest.
	if _, err := schemas.LoadFS(baseFS(t, map[string]string{"manifest.yaml": lintManifest})); err != nil {
		t.Errorf("Load with a lint section: %v", err)
	}
}

// TestLintConfigShape: the loader and ParseLintConfig report a lint
// section of the wrong shape at the same place.
func TestLintConfigShape(t *testing.T) {
	const head = "version: 1\ntopics: [{name: orders}]\nevents: []\n"
	tests := []struct{ name, lint, want string }{
		{"misspelt key", "lint:\n  tiers: BASIC\n", `5:3: unknown key "tiers" (did you mean "tier"?): remove it or use one of tier, field_case, use, except, ignore`},
		{"use as a bare name", "lint:\n  use: FIELD_DOC_MISSING\n", `5:8: use: want a list, e.g. [FIELD_DOC_MISSING], got "FIELD_DOC_MISSING"`},
		{"ignore entry as a bare name", "lint:\n  ignore: [FIELD_DOC_MISSING]\n", `5:12: ignore entry: want a mapping with keys rule, file, reason, got "FIELD_DOC_MISSING"`},
		{"unknown ignore key", "lint:\n  ignore:\n    - {rule: X, reason: y, until: 2030}\n", `6:28: unknown key "until"`},
		{"lint as a word", "lint: strict\n", `4:7: lint: want a mapping with keys tier, field_case, use, except, ignore, got "strict"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, loadErr := schemas.LoadFS(baseFS(t, map[string]string{"manifest.yaml": head + tt.lint}))
			_, parseErr := schemas.ParseLintConfig([]byte(head + tt.lint))
			for name, err := range map[string]error{"LoadFS": loadErr, "ParseLintConfig": parseErr} {
				var list schemas.ErrorList
				if !errors.As(err, &list) || len(list) != 1 || !strings.HasPrefix(list[0].Location()+": "+list[0].Msg, "manifest.yaml:"+tt.want) {
					t.Errorf("%s: %v\nwant manifest.yaml:%s", name, err, tt.want)
				}
			}
		})
	}
}

// FuzzParseLintConfig: any manifest text gives a config or an ErrorList of
// positioned problems, never a panic; values always come with a position.
func FuzzParseLintConfig(f *testing.F) {
	f.Add(lintManifest)
	f.Add("lint:\n  ignore:\n    - &e {rule: A, reason: b}\n    - *e\n  use: [~, 1, x]\n")
	f.Add("lint: ~\n")
	f.Add("lint: [a]\n")
	f.Add("- lint\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := schemas.ParseLintConfig([]byte(text))
		if err != nil {
			var list schemas.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error is not an ErrorList: %v", err)
			}
			return
		}
		vals := append(append([]schemas.ManifestValue{cfg.Tier, cfg.FieldCase}, cfg.Use...), cfg.Except...)
		for _, ig := range cfg.Ignore {
			vals = append(vals, ig.Rule, ig.File, ig.Reason)
			if ig.Line <= 0 {
				t.Fatalf("ignore entry without a position: %+v", ig)
			}
		}
		for _, v := range vals {
			if v.Value != "" && v.Line <= 0 {
				t.Fatalf("value without a position: %+v", v)
			}
		}
	})
}
