// Package report prints one set of findings in the formats `contrail check`
// and `contrail lint` offer: text for people, json for tools, github-actions
// workflow commands (annotations on the pull request's .avsc lines) and
// JUnit XML for CI test tabs.
//
// The findings are compat.Finding values whatever produced them; a Result
// says which command that was (Kind) and how severe each rule is
// (Severity), so one set of printers serves compatibility findings and lint
// findings alike without either rule table knowing the other.
package report

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/contrail-events/contrail/compat"
)

// ErrUnknownFormat is returned (wrapped) by Write for a format it lacks.
var ErrUnknownFormat = errors.New("report: unknown format")

// Formats lists the formats Write accepts.
var Formats = []string{"text", "json", "github-actions", "junit"}

// Kind says which command produced a Result; the printers word their
// summaries, and group JUnit test cases, by it.
type Kind string

// The kinds.
const (
	// KindCheck is a compatibility check (`contrail check`, `contrail
	// contract verify`): Subjects are registry subjects, and findings are
	// grouped by subject. The zero Kind means KindCheck.
	KindCheck Kind = "check"
	// KindLint is a lint run (`contrail lint`): Subjects are the schema
	// files linted (slash paths under the schema root), Next describes the
	// rules that ran (e.g. "tier STANDARD"), Baseline is unused, Silenced
	// holds the findings that ignores accepted, and findings are grouped by
	// file.
	KindLint Kind = "lint"
)

// Result is what one check or lint run found.
type Result struct {
	// Kind is the command that produced the result. Default KindCheck.
	Kind Kind
	// Next and Baseline label what was checked against what.
	Next, Baseline string
	// Subjects are the subjects checked (for KindLint, the files linted),
	// in order.
	Subjects []string
	// Findings are reported; Silenced were matched by an exception (for
	// KindLint, by an ignore).
	Findings, Silenced []compat.Finding
	// PathPrefix is prepended to file names of the Next version in
	// annotations and text (the schema root relative to the repository,
	// e.g. "schemas/"), except for files that already carry it.
	PathPrefix string
	// BaselinePrefix does the same for locations in baseline versions
	// (equal to PathPrefix for a git baseline, the directory for a
	// directory baseline).
	BaselinePrefix string
	// Severity returns the severity of a rule ID. Default nil:
	// compat.SeverityOf, which knows every compatibility and contract rule.
	// lint.Run sets lint.SeverityOf, since lint's rules live in their own
	// table (their IDs never collide with compat's; lint's tests check it).
	// It must be safe for concurrent use if the Result is printed
	// concurrently.
	Severity func(compat.RuleID) compat.Severity
}

// SeverityOf returns the severity of the rule id under r.Severity.
func (r *Result) SeverityOf(id compat.RuleID) compat.Severity {
	if r.Severity != nil {
		return r.Severity(id)
	}
	return compat.SeverityOf(id)
}

func (r *Result) kind() Kind {
	if r.Kind == "" {
		return KindCheck
	}
	return r.Kind
}

// Breaking reports whether any reported finding has Error severity: for
// `contrail check` a breaking change, for `contrail lint` a failed lint.
func (r *Result) Breaking() bool {
	for _, f := range r.Findings {
		if r.SeverityOf(f.Rule) == compat.Error {
			return true
		}
	}
	return false
}

// Primary is where a finding should be shown: in the version being checked
// (Next) when it has a file position there, else wherever one is known.
func (r *Result) Primary(f compat.Finding) compat.Location {
	if f.Direction.Writer == r.Next && f.Writer.File != "" {
		return r.loc(f.Direction.Writer, f.Writer)
	}
	if f.Reader.File != "" || f.Writer.File == "" {
		return r.loc(f.Direction.Reader, f.Reader)
	}
	return r.loc(f.Direction.Writer, f.Writer)
}

// loc prefixes l's file by the prefix of the version labelled label.
// Locations without a direction (exceptions file findings) belong to Next.
func (r *Result) loc(label string, l compat.Location) compat.Location {
	prefix := r.PathPrefix
	if label != "" && label != r.Next {
		prefix = r.BaselinePrefix
	}
	if l.File != "" && prefix != "" && !strings.HasPrefix(l.File, prefix) {
		l.File = path.Clean(prefix + l.File) // "schemas/../ci/x.yaml" is "ci/x.yaml"
	}
	return l
}

// Write prints r in format. It returns an error wrapping ErrUnknownFormat
// for a format not in Formats, or the writer's error.
func Write(w io.Writer, format string, r *Result) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "json":
		return writeJSON(w, r)
	case "github-actions":
		return writeGitHub(w, r)
	case "junit":
		return writeJUnit(w, r)
	}
	return fmt.Errorf("%w %q: use one of %s", ErrUnknownFormat, format, strings.Join(Formats, ", "))
}

func pos(l compat.Location) string {
	switch {
	case l.File == "":
		return "-"
	case l.Line == 0:
		return l.File
	}
	return fmt.Sprintf("%s:%d:%d", l.File, l.Line, l.Col)
}

func writeText(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		sev := r.SeverityOf(f.Rule)
		fmt.Fprintf(&b, "%s: %s %s", pos(r.Primary(f)), sev, f.Rule)
		if f.Subject != "" {
			fmt.Fprintf(&b, " [%s]", f.Subject)
		}
		fmt.Fprintf(&b, "\n    %s\n", f.Message)
		if f.Direction.Reader != "" {
			fmt.Fprintf(&b, "    reader %s at %s, writer %s at %s\n",
				f.Direction.Reader, locText(r.loc(f.Direction.Reader, f.Reader)), f.Direction.Writer, locText(r.loc(f.Direction.Writer, f.Writer)))
		}
	}
	errs, warns, notes := r.count(r.Findings)
	if r.kind() == KindLint {
		verdict := "clean"
		if r.Breaking() {
			verdict = "FAILED"
		}
		fmt.Fprintf(&b, "%s: %d files linted at %s: %d errors, %d warnings, %d ignored\n",
			verdict, len(r.Subjects), r.Next, errs, warns, len(r.Silenced))
		_, err := io.WriteString(w, b.String())
		return err
	}
	verdict := "compatible"
	if r.Breaking() {
		verdict = "BREAKING"
	}
	fmt.Fprintf(&b, "%s: %d subjects checked against %s: %d errors, %d warnings, %s%d silenced by exceptions\n",
		verdict, len(r.Subjects), r.Baseline, errs, warns, notesText(notes), len(r.Silenced))
	_, err := io.WriteString(w, b.String())
	return err
}

func locText(l compat.Location) string {
	switch {
	case l.File == "" && l.Path == "":
		return "-" // e.g. the reader side of a deleted file
	case l.File == "":
		return l.Path
	case l.Path == "":
		return pos(l)
	}
	return pos(l) + " " + l.Path
}

// count counts findings by severity; notes are the Info ones.
func (r *Result) count(fs []compat.Finding) (errs, warns, notes int) {
	for _, f := range fs {
		switch r.SeverityOf(f.Rule) {
		case compat.Error:
			errs++
		case compat.Info:
			notes++
		default:
			warns++
		}
	}
	return errs, warns, notes
}

// notesText is "N notes, " for summaries, "" without notes (so summaries
// of trees without data-contract findings read as they always have).
func notesText(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d notes, ", n)
}

type jsonFinding struct {
	compat.Finding
	Severity compat.Severity `json:"severity"`
	Location compat.Location `json:"location"`
}

func writeJSON(w io.Writer, r *Result) error {
	conv := func(fs []compat.Finding) []jsonFinding {
		out := make([]jsonFinding, 0, len(fs))
		for _, f := range fs {
			out = append(out, jsonFinding{Finding: f, Severity: r.SeverityOf(f.Rule), Location: r.Primary(f)})
		}
		return out
	}
	doc := struct {
		Kind     Kind          `json:"kind"`
		Breaking bool          `json:"breaking"`
		Next     string        `json:"next"`
		Baseline string        `json:"baseline"`
		Subjects []string      `json:"subjects"`
		Findings []jsonFinding `json:"findings"`
		Silenced []jsonFinding `json:"silenced"`
	}{r.kind(), r.Breaking(), r.Next, r.Baseline, r.Subjects, conv(r.Findings), conv(r.Silenced)}
	if doc.Subjects == nil {
		doc.Subjects = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}

// GitHub workflow commands: data escapes %, CR, LF; properties also : and ,.
var (
	ghData = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A")
	ghProp = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C")
)

func writeGitHub(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		cmd := "error"
		switch r.SeverityOf(f.Rule) {
		case compat.Warning:
			cmd = "warning"
		case compat.Info:
			cmd = "notice"
		}
		var props []string
		l := r.Primary(f)
		if l.File != "" {
			props = append(props, "file="+ghProp.Replace(l.File))
			if l.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", l.Line), fmt.Sprintf("col=%d", l.Col))
			}
		}
		props = append(props, "title="+ghProp.Replace(string(f.Rule)))
		msg := f.Message
		if f.Subject != "" {
			msg = "[" + f.Subject + "] " + msg
		}
		fmt.Fprintf(&b, "::%s %s::%s\n", cmd, strings.Join(props, ","), ghData.Replace(msg))
	}
	errs, warns, notes := r.count(r.Findings)
	if r.kind() == KindLint {
		fmt.Fprintf(&b, "contrail lint: %d files at %s: %d errors, %d warnings, %d ignored\n", len(r.Subjects), r.Next, errs, warns, len(r.Silenced))
	} else {
		fmt.Fprintf(&b, "contrail check: %d subjects against %s: %d errors, %d warnings, %s%d silenced\n", len(r.Subjects), r.Baseline, errs, warns, notesText(notes), len(r.Silenced))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string         `xml:"name,attr"`
	Classname string         `xml:"classname,attr"`
	File      string         `xml:"file,attr,omitempty"`
	Line      int            `xml:"line,attr,omitempty"`
	Failures  []junitFailure `xml:"failure"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one test case per subject (for KindLint, per file),
// failing with one failure per error finding, plus one per finding that has
// no subject (no file).
func writeJUnit(w io.Writer, r *Result) error {
	lint := r.kind() == KindLint
	name, class := "contrail check", "compat"
	suite := junitSuite{Name: "contrail check against " + r.Baseline}
	if lint {
		name, class = "contrail lint", "lint"
		suite.Name = "contrail lint at " + r.Next
	}
	// group is the test case a finding belongs to; caseName its name.
	group := func(f compat.Finding) string { return f.Subject }
	caseName := func(g string) string { return g }
	if lint {
		group = func(f compat.Finding) string {
			if f.Reader.File != "" {
				return f.Reader.File
			}
			return f.Writer.File
		}
		caseName = func(g string) string { return r.loc("", compat.Location{File: g}).File }
	}
	index := map[string]int{}
	for _, s := range r.Subjects {
		index[s] = len(suite.Cases)
		suite.Cases = append(suite.Cases, junitCase{Name: caseName(s), Classname: class})
	}
	for _, f := range r.Findings {
		if r.SeverityOf(f.Rule) != compat.Error {
			continue
		}
		g := group(f)
		i, ok := index[g]
		if !ok || g == "" {
			i = len(suite.Cases)
			index[g] = i
			name := caseName(g)
			if name == "" {
				name = string(f.Rule)
			}
			suite.Cases = append(suite.Cases, junitCase{Name: name, Classname: class})
		}
		l := r.Primary(f)
		c := &suite.Cases[i]
		if c.File == "" && l.File != "" {
			c.File, c.Line = l.File, l.Line
		}
		c.Failures = append(c.Failures, junitFailure{Message: f.Message, Type: string(f.Rule), Text: pos(l) + ": " + f.Message})
	}
	for _, c := range suite.Cases {
		if len(c.Failures) > 0 {
			suite.Failures++
		}
	}
	suite.Tests = len(suite.Cases)
	doc := junitSuites{Name: name, Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
