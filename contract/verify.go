package contract

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/schemas"
)

// Contract rules: they add to the compat engine's schema-resolution rules,
// which Verify applies to each (contract, producer schema) pair. They are
// defined in compat's one rule table (compat.Rules, scope
// compat.ScopeContract), so every printer knows their severity; these are
// the same values under the names this package has always exported.
var (
	// FieldNotWritten is compat.ContractFieldNotWritten: a field the consumer
	// relies on is no longer written by the producer. Resolution still
	// succeeds (the reader has a default), so no schema-level check fails,
	// but the consumer silently reads the default instead of the data it
	// depends on.
	FieldNotWritten = compat.ContractFieldNotWritten
	// EventMissing is compat.ContractEventMissing: the producer's schemas no
	// longer define the event a consumer's contract reads.
	EventMissing = compat.ContractEventMissing
	// SubjectMoved is compat.ContractSubjectMoved: the event is produced
	// under another subject than the one the consumer reads (topic or
	// naming strategy changed).
	SubjectMoved = compat.ContractSubjectMoved
)

// Rules lists the contract rules, in documentation order: the rules of
// scope compat.ScopeContract. The slice is a copy.
func Rules() []compat.Rule { return compat.RulesIn(compat.ScopeContract) }

// Writer is one producer schema contracts are verified against.
type Writer struct {
	// Subject is the subject the producer registers the event under.
	Subject string
	// Event is the event's full name.
	Event string
	// Major is the event's major version the schema is (0 means 1).
	Major int
	// Schema is the producer's schema; Schema.Label names it in findings
	// (e.g. "working tree") and Schema.Source locates findings in its files.
	Schema compat.Schema
}

// WritersOf returns one Writer per live major of every manifest event of
// set, labelled label, locating findings in set's files.
func WritersOf(set *schemas.Set, label string) []Writer {
	out := make([]Writer, 0, len(set.Events))
	for _, ev := range set.Events {
		majors := ev.Majors
		if len(majors) == 0 { // a Set built by hand
			majors = []*schemas.Major{{Version: 1, Type: ev.Type}}
		}
		for _, m := range majors {
			out = append(out, Writer{
				Subject: ev.Subject, Event: ev.Type.FullName, Major: m.Version,
				Schema: compat.Schema{Schema: m.Type.Schema, Label: label, Source: compat.TypeLocator(set, m.Type)},
			})
		}
	}
	return out
}

// WriterOf returns the Writer for a generated event type, labelled by its Go
// type (e.g. "producer *orders.OrderPlaced"), without file positions.
func WriterOf(t events.Type) Writer {
	return Writer{
		Subject: t.Subject(), Event: t.FullName(), Major: t.Major(),
		Schema: compat.Schema{Schema: t.Schema(), Label: fmt.Sprintf("producer %T", t.New())},
	}
}

// Result is what Verify found: one checked pair per contract, and the
// findings. Findings carry Subject "<subject> (consumer <name>)" so every
// printer names the consumer.
type Result struct {
	// Checked names each contract verified, as "<subject> (consumer <name>)".
	Checked []string
	// Findings are every problem, sorted by file and position.
	Findings []compat.Finding
}

// Breaking reports whether any finding has Error severity.
func (r *Result) Breaking() bool {
	for _, f := range r.Findings {
		if compat.SeverityOf(f.Rule) == compat.Error {
			return true
		}
	}
	return false
}

// Report converts r for the compat/report printers (text, json,
// github-actions, junit). next labels the producer schemas; baseline
// says where the contracts came from.
func (r *Result) Report(next, baseline, pathPrefix string) *report.Result {
	return &report.Result{Next: next, Baseline: baseline, Subjects: r.Checked, Findings: r.Findings, PathPrefix: pathPrefix}
}

func checkedName(c *Contract) string { return c.Subject + " (consumer " + c.Consumer + ")" }

// Verify checks every contract against the writer for its subject, event
// and major: the contract's reader schema must read the writer's schema
// (compat.Check, the engine `contrail check` uses), and every relied-on
// field must still be written (FieldNotWritten). A contract whose subject
// has no writer gets EventMissing, or SubjectMoved when its event is written
// under another subject; one whose major is retired while others are
// written gets EventMissing naming the live majors. Contracts that fail
// Validate are reported as errors, never skipped: Verify returns an error
// wrapping ErrInvalid for them.
func Verify(writers []Writer, contracts []*Contract) (*Result, error) {
	bySubject := map[string][]Writer{}
	byEvent := map[string][]Writer{}
	for _, w := range writers {
		bySubject[w.Subject] = append(bySubject[w.Subject], w)
		byEvent[w.Event] = append(byEvent[w.Event], w)
	}
	res := &Result{}
	for _, c := range contracts {
		if err := c.Validate(); err != nil {
			return nil, err
		}
		name := checkedName(c)
		res.Checked = append(res.Checked, name)
		var w *Writer
		var others []int // the event's other majors under the subject
		for i, cand := range bySubject[c.Subject] {
			if cand.Event != c.Event {
				continue
			}
			if max(cand.Major, 1) == c.major() {
				w = &bySubject[c.Subject][i]
			} else {
				others = append(others, max(cand.Major, 1))
			}
		}
		if w == nil && len(others) > 0 {
			res.Findings = append(res.Findings, majorRetired(c, name, others))
			continue
		}
		if w == nil {
			res.Findings = append(res.Findings, missing(c, name, byEvent[c.Event]))
			continue
		}
		fs, err := verifyOne(c, name, *w)
		if err != nil {
			return nil, err
		}
		res.Findings = append(res.Findings, fs...)
	}
	compat.Sort(res.Findings)
	return res, nil
}

func missing(c *Contract, name string, others []Writer) compat.Finding {
	f := compat.Finding{
		Rule: EventMissing.ID, Subject: name,
		Direction: compat.Direction{Reader: c.Label(), Writer: "producer schemas"},
		Message: fmt.Sprintf("consumer %s reads %s under subject %q, but the producer schemas no longer define it there: keep producing the event, or retire the consumer's contract first (%s)",
			c.Consumer, c.Event, c.Subject, FileName(c)),
	}
	if len(others) > 0 {
		var subs []string
		for _, o := range others {
			subs = append(subs, o.Subject)
		}
		f.Rule = SubjectMoved.ID
		f.Direction.Writer = others[0].Schema.Label
		if others[0].Schema.Source != nil {
			if loc, ok := others[0].Schema.Source.Locate(c.Event, ""); ok {
				f.Writer = loc
			}
		}
		f.Message = fmt.Sprintf("consumer %s reads %s under subject %q, but it is now produced under %s: the consumer would read nothing; keep the subject (topic and naming strategy) or move the consumer first",
			c.Consumer, c.Event, c.Subject, strings.Join(quoteAll(subs), ", "))
	}
	return f
}

// majorRetired is the finding for a contract of a major the producer no
// longer has, while it writes others.
func majorRetired(c *Contract, name string, live []int) compat.Finding {
	var vs []string
	for _, n := range live {
		vs = append(vs, fmt.Sprintf("v%d", n))
	}
	return compat.Finding{
		Rule: EventMissing.ID, Subject: name,
		Direction: compat.Direction{Reader: c.Label(), Writer: "producer schemas"},
		Message: fmt.Sprintf("consumer %s reads major %d of %s under subject %q, but the producer schemas have only %s there: move the consumer to a live major (its generated type) and derive its contract again (%s), or keep major %d until it has",
			c.Consumer, c.major(), c.Event, c.Subject, strings.Join(vs, ", "), FileName(c), c.major()),
	}
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func verifyOne(c *Contract, name string, w Writer) ([]compat.Finding, error) {
	rs, err := c.ReaderSchema()
	if err != nil {
		return nil, err
	}
	reader := compat.Schema{Schema: rs, Label: c.Label()}
	var out []compat.Finding
	for _, f := range compat.Check(reader, w.Schema) {
		f.Subject = name
		f.Message = fmt.Sprintf("consumer %s cannot read %s as %s writes it: %s", c.Consumer, c.Event, w.Schema.Label, f.Message)
		if f.Rule == compat.ReaderFieldMissingDefault.ID {
			f.Message += fmt.Sprintf("; as the producer, keep writing the field until %s reads with a default or drops it (%s)", c.Consumer, FileName(c))
		}
		out = append(out, f)
	}
	rrec, _ := rs.(*avro.RecordSchema)
	wrec, _ := w.Schema.Schema.(*avro.RecordSchema)
	if rrec == nil || wrec == nil {
		return out, nil
	}
	fields, err := c.ReliedFields()
	if err != nil {
		return nil, err
	}
	reported := map[string]bool{}
	for _, p := range fields {
		ok, miss, hasDefault := written(rrec, wrec, p)
		if ok || !hasDefault || reported[miss] {
			continue // without a default, compat.Check reported it already
		}
		reported[miss] = true
		f := compat.Finding{
			Rule: FieldNotWritten.ID, Subject: name,
			Direction: compat.Direction{Reader: c.Label(), Writer: w.Schema.Label},
			Reader:    compat.Location{Path: fieldPointer(rrec, miss)},
			Message: fmt.Sprintf("consumer %s relies on field `%s` of %s, but %s no longer writes it: the consumer would silently read its default instead; keep writing `%s`, or have %s drop it from its contract (%s) first",
				c.Consumer, miss, c.Event, w.Schema.Label, miss, c.Consumer, FileName(c)),
		}
		if w.Schema.Source != nil {
			if loc, ok := w.Schema.Source.Locate(wrec.FullName(), "/fields"); ok {
				f.Writer = loc
			} else if loc, ok := w.Schema.Source.Locate(wrec.FullName(), ""); ok {
				f.Writer = loc
			}
		}
		out = append(out, f)
	}
	return out, nil
}

// fieldPointer returns a JSON pointer for the first segment of path in rec
// (enough to point a reader at the field's record).
func fieldPointer(rec *avro.RecordSchema, path string) string {
	first, _, _ := strings.Cut(path, ".")
	for i, f := range rec.Fields() {
		if f.Name() == first {
			return fmt.Sprintf("/fields/%d", i)
		}
	}
	return ""
}

// Consumers returns the distinct consumer names of cs, sorted.
func Consumers(cs []*Contract) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cs {
		if !seen[c.Consumer] {
			seen[c.Consumer] = true
			out = append(out, c.Consumer)
		}
	}
	sort.Strings(out)
	return out
}
