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
