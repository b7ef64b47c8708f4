package report_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/report"
)

func TestWrite(t *testing.T) {
	res := &report.Result{
		Next: "working tree", Baseline: "git:main", Subjects: []string{"s1", "s2"}, PathPrefix: "schemas/", BaselinePrefix: "old/",
		Findings: []compat.Finding{
			{Rule: "TYPE_CHANGED", Subject: "s1", Direction: compat.Direction{Reader: "git:main", Writer: "working tree"},
				Reader: compat.Location{File: "a.avsc", Line: 3, Col: 4}, Writer: compat.Location{File: "a.avsc", Line: 5, Col: 6},
				Message: "100% wrong,\nreally: yes"},
			{Rule: "EXCEPTION_UNUSED", Reader: compat.Location{File: "x.yaml", Line: 2, Col: 1}, Message: "unused"},
		},
	}
	tests := []struct {
		name, format string
		want         []string
	}{
		{name: "github forward finding lands on the new file", format: "github-actions", want: []string{
			"::error file=schemas/a.avsc,line=5,col=6,title=TYPE_CHANGED::[s1] 100%25 wrong,%0Areally: yes\n",
			"::warning file=schemas/x.yaml,line=2,col=1,title=EXCEPTION_UNUSED::unused\n",
		}},
		{name: "text", format: "text", want: []string{"schemas/a.avsc:5:6: error TYPE_CHANGED [s1]", "reader git:main at old/a.avsc:3:4", "BREAKING: 2 subjects checked against git:main: 1 errors, 1 warnings"}},
		{name: "json", format: "json", want: []string{`"breaking": true`, `"severity": "warning"`, `"file": "schemas/a.avsc"`}},
		{name: "junit", format: "junit", want: []string{`<testcase name="s1" classname="compat" file="schemas/a.avsc" line="5">`, `type="TYPE_CHANGED"`, `<testcase name="s2" classname="compat"></testcase>`, `failures="1"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, tt.format, res); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
	if err := report.Write(&bytes.Buffer{}, "yaml", res); !errors.Is(err, report.ErrUnknownFormat) {
		t.Fatalf("unknown format: %v", err)
	}
	if (&report.Result{Findings: res.Findings[1:]}).Breaking() {
		t.Fatal("a warning alone must not be breaking")
	}
}

// TestLocations: a file beside the schema root (an exceptions file given as
// "../ci/x.yaml") is named from the repository top, and a side without any
// location prints "-" rather than a dangling separator.
func TestLocations(t *testing.T) {
	res := &report.Result{
		Next: "working tree", Baseline: "git:main", Subjects: []string{"s1"}, PathPrefix: "schemas/", BaselinePrefix: "schemas/",
		Findings: []compat.Finding{
			{Rule: "SCHEMA_FILE_DELETED", Subject: "s1", Direction: compat.Direction{Reader: "working tree", Writer: "git:main"},
				Writer: compat.Location{File: "b.avsc", Line: 1, Col: 1}, Message: "gone"},
			{Rule: "EXCEPTION_EXPIRED", Reader: compat.Location{File: "../ci/x.yaml", Line: 4, Col: 1}, Message: "expired"},
		},
	}
	tests := []struct {
		name, format string
		want         []string
	}{
		{name: "github", format: "github-actions", want: []string{
			"::error file=schemas/b.avsc,line=1,col=1,title=SCHEMA_FILE_DELETED::[s1] gone\n",
			"::error file=ci/x.yaml,line=4,col=1,title=EXCEPTION_EXPIRED::expired\n",
		}},
		{name: "text", format: "text", want: []string{
			"reader working tree at -, writer git:main at schemas/b.avsc:1:1\n",
			"ci/x.yaml:4:1: error EXCEPTION_EXPIRED",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, tt.format, res); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

// TestWriteLint: a lint result prints through the same printers, with the
// severities of its own rule table (report.Result.Severity), files in place
// of subjects, and one JUnit test case per file.
func TestWriteLint(t *testing.T) {
	severity := func(id compat.RuleID) compat.Severity {
		if id == "LINT_IGNORE_UNUSED" {
			return compat.Warning
		}
		return compat.Error
	}
	res := &report.Result{
		Kind: report.KindLint, Next: "tier STANDARD", PathPrefix: "schemas/", Severity: severity,
		Subjects: []string{"shop/A.avsc", "shop/B.avsc"},
		Findings: []compat.Finding{
			{Rule: "FIELD_NAME_CASE", Reader: compat.Location{Path: "/fields/1/name", File: "shop/B.avsc", Line: 7, Col: 14}, Message: "field order_id is not camelCase"},
			{Rule: "LINT_IGNORE_UNUSED", Reader: compat.Location{Path: "/lint/ignore/0", File: "manifest.yaml", Line: 9, Col: 7}, Message: "accepted no finding"},
		},
		Silenced: []compat.Finding{{Rule: "TYPE_DOC_MISSING", Reader: compat.Location{File: "shop/A.avsc", Line: 3, Col: 11}}},
	}
	tests := []struct {
		name, format string
		want         []string
	}{
		{name: "text", format: "text", want: []string{
			"schemas/shop/B.avsc:7:14: error FIELD_NAME_CASE\n    field order_id is not camelCase\n",
			"schemas/manifest.yaml:9:7: warning LINT_IGNORE_UNUSED\n",
			"FAILED: 2 files linted at tier STANDARD: 1 errors, 1 warnings, 1 ignored\n",
		}},
		{name: "github", format: "github-actions", want: []string{
			"::error file=schemas/shop/B.avsc,line=7,col=14,title=FIELD_NAME_CASE::field order_id is not camelCase\n",
			"::warning file=schemas/manifest.yaml,line=9,col=7,title=LINT_IGNORE_UNUSED::accepted no finding\n",
			"contrail lint: 2 files at tier STANDARD: 1 errors, 1 warnings, 1 ignored\n",
		}},
		{name: "json", format: "json", want: []string{`"kind": "lint"`, `"breaking": true`, `"severity": "warning"`, `"path": "/fields/1/name"`}},
		{name: "junit", format: "junit", want: []string{
			`<testsuites name="contrail lint" tests="2" failures="1">`,
			`<testcase name="schemas/shop/A.avsc" classname="lint"></testcase>`,
			`<testcase name="schemas/shop/B.avsc" classname="lint" file="schemas/shop/B.avsc" line="7">`,
			`type="FIELD_NAME_CASE"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := report.Write(&b, tt.format, res); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
	// Warnings alone pass; without a Severity, compat's table decides.
	warn := &report.Result{Kind: report.KindLint, Severity: severity, Findings: res.Findings[1:]}
	if warn.Breaking() {
		t.Error("a lint warning alone must not fail")
	}
	if (&report.Result{Findings: []compat.Finding{{Rule: "EXCEPTION_UNUSED"}}}).SeverityOf("EXCEPTION_UNUSED") != compat.Warning {
		t.Error("a nil Severity must fall back to compat.SeverityOf")
	}
}

// TestInfoFindings: an Info finding (a new major allowed by its migration
// rule) is printed as a note, a GitHub notice and no JUnit failure, and the
// result stays compatible.
func TestInfoFindings(t *testing.T) {
	res := &report.Result{
		Next: "working tree", Baseline: "git:main", Subjects: []string{"orders-value"}, PathPrefix: "schemas/",
		Findings: []compat.Finding{{
			Rule: compat.MajorAdded.ID, Subject: "orders-value", Direction: compat.Direction{Reader: "working tree", Writer: "git:main"},
			Reader:  compat.Location{File: "shop/OrderPlaced.v2.contract.yaml", Line: 3, Col: 7, Path: "/ruleSet/migrationRules/0"},
			Message: "shop.OrderPlaced v2: new major, breaking change allowed by migration rule orderPlacedV1ToV2",
		}},
	}
	if res.Breaking() {
		t.Fatal("an Info finding must not be breaking")
	}
	for format, want := range map[string][]string{
		"text":           {"schemas/shop/OrderPlaced.v2.contract.yaml:3:7: info MAJOR_ADDED [orders-value]", "compatible: 1 subjects checked against git:main: 0 errors, 0 warnings, 1 notes, 0 silenced"},
		"github-actions": {"::notice file=schemas/shop/OrderPlaced.v2.contract.yaml,line=3,col=7,title=MAJOR_ADDED::[orders-value] shop.OrderPlaced v2: new major", "0 errors, 0 warnings, 1 notes, 0 silenced"},
		"json":           {`"severity": "info"`, `"breaking": false`},
		"junit":          {`failures="0"`},
	} {
		var b bytes.Buffer
		if err := report.Write(&b, format, res); err != nil {
			t.Fatal(err)
		}
		for _, w := range want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s output lacks %q:\n%s", format, w, b.String())
			}
		}
	}
}
