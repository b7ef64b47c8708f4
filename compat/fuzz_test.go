package compat_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
)

func addFixtureSeeds(f *testing.F, pairs bool) {
	files, _ := filepath.Glob("testdata/*/*.avsc")
	var texts []string
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			texts = append(texts, string(b))
		}
	}
	for i, a := range texts {
		if pairs {
			f.Add(a, texts[(i+1)%len(texts)])
		} else {
			f.Add(a, "")
		}
	}
}

// FuzzAgreement parses two fuzzed schemas; when hamba accepts both, the
// engine must not panic and must agree with hamba (spec rules).
func FuzzAgreement(f *testing.F) {
	addFixtureSeeds(f, true)
	f.Fuzz(func(t *testing.T, a, b string) {
		r, err := avro.ParseWithCache(a, "", &avro.SchemaCache{})
		if err != nil {
			return
		}
		w, err := avro.ParseWithCache(b, "", &avro.SchemaCache{})
		if err != nil {
			return
		}
		spec := compat.CheckSpecOnly(r, w)
		if (len(spec) == 0) != (avro.NewSchemaCompatibility().Compatible(r, w) == nil) {
			t.Fatalf("disagreement: %+v\nreader %s\nwriter %s", spec, r, w)
		}
		full := compat.Check(compat.Schema{Schema: r, Label: "r"}, compat.Schema{Schema: w, Label: "w"})
		if len(full) < len(spec) || (len(full) == 0) != compat.Compatible(r, w) {
			t.Fatalf("Check/Compatible/spec-only disagree")
		}
	})
}

// FuzzTextLocator feeds arbitrary text to the position index: it either
// errors or locates every path it reports for the root.
func FuzzTextLocator(f *testing.F) {
	addFixtureSeeds(f, false)
	f.Add(`{"a":[1,{"b~/c":2}]}`, "")
	f.Fuzz(func(t *testing.T, text, _ string) {
		l, err := compat.TextLocator("x.avsc", []byte(text))
		if err != nil {
			return
		}
		loc, ok := l.Locate("", "")
		if !ok || loc.Line < 1 || loc.Col < 1 {
			t.Fatalf("root of valid JSON not located: %+v %v", loc, ok)
		}
	})
}

// FuzzParseExceptions: any accepted file has only complete entries.
func FuzzParseExceptions(f *testing.F) {
	f.Add("exceptions:\n  - rule: TYPE_CHANGED\n    subject: s\n    reason: r\n    expires: 2026-01-01\n")
	f.Add("exceptions:\n  - rule: NOPE\n")
	f.Add("exceptions: 3")
	f.Fuzz(func(t *testing.T, data string) {
		ex, err := compat.ParseExceptions("x.yaml", []byte(data))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "compat: bad exceptions file") {
				t.Fatalf("error without the package prefix: %v", err)
			}
			return
		}
		for _, e := range ex.Entries {
			if _, ok := compat.RuleByID(e.Rule); !ok || strings.TrimSpace(e.Reason) == "" || (e.Subject == "" && e.Path == "") {
				t.Fatalf("incomplete entry accepted: %+v", e)
			}
		}
		ex.Apply([]compat.Finding{{Rule: "TYPE_CHANGED", Subject: "s"}}, time.Now())
	})
}
