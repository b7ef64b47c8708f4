// Package contract is Contrail's consumer-driven contract testing for Avro
// events.
//
// A Contract is one consumer's expectation of one event: the reader schema
// the consumer was built with (self-contained, every named type written out)
// plus the fields it relies on. Contracts are derived from the generated types
// a service handles (FromType) or from the manifest's consumers lists
// (FromSet), written to files a repository commits (Write, Load: the layout is
// <dir>/<consumer>/<subject>.json) and published to the schema registry under
// a reserved subject prefix (Publish, Fetch) so that producers in other
// repositories can see them.
//
// Verify answers the "can I deploy" question: every contract must be able to
// read the producer's schema under Avro resolution (decided by the compat
// engine, the same one `contrail check` and the registry use), and every
// field a consumer relies on must still be written by the producer. A field
// that resolution would silently fill from the reader's default is a broken
// contract too (rule CONTRACT_FIELD_NOT_WRITTEN): a schema diff alone does
// not show it.
//
// Everything here is pure and safe for concurrent use unless a doc comment
// says otherwise; only Publish and Fetch talk to the network.
package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/schemas"
)

// FormatVersion is the version of the contract file format this package
// writes and reads.
const FormatVersion = 1

// ErrInvalid is wrapped by every error about a malformed contract: a missing
// consumer, subject or event, a reader schema that does not parse, or a
// relied-on field the reader schema does not have.
var ErrInvalid = errors.New("contract: invalid contract")

// Contract is one consumer's expectation of one event. The zero value is not
// valid; build one with FromType or FromSet, or Load it from a file, and call
// Validate after editing it by hand.
type Contract struct {
	// Format is the file format version (FormatVersion).
	Format int `json:"format"`
	// Consumer names the consuming service, e.g. "inventory". Required; it is
	// a path element of the contract's file, so only [A-Za-z0-9._-].
	Consumer string `json:"consumer"`
	// Subject is the registry subject the consumer reads the event under,
	// e.g. "orders-contrail.orders.OrderPlaced". Required.
	Subject string `json:"subject"`
	// Topic is the topic the consumer reads; informational.
	Topic string `json:"topic,omitempty"`
	// Event is the event's fully qualified Avro name. Required.
	Event string `json:"event"`
	// Major is the event's major version the consumer reads (its generated
	// type's, events.Type.Major); 0 means 1. Verify checks the contract
	// against the producer's schema of that major: a consumer of another
	// major reads through the Go migrations, which compat checks instead
	// (MAJOR_ADDED). A consumer has one contract per event, so one major.
	Major int `json:"major,omitempty"`
	// Fields are the paths of the fields the consumer relies on: field names
	// joined by dots, descending through records, and transparently through
	// arrays, maps and union branches ("orderId", "items.sku",
	// "payment.cardToken"). Empty means every top-level field. Sorted.
	Fields []string `json:"fields"`
	// Source says where the contract was derived from, e.g. "go:events/orders"
	// or "manifest"; informational.
	Source string `json:"source,omitempty"`
	// Schema is the reader schema, self-contained: every named type it uses
	// is written out, so it parses on its own. Required.
	Schema json.RawMessage `json:"schema"`

	parsed     avro.Schema
	parsedFrom string // the Schema text parsed was parsed from
}

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Key identifies a contract: one consumer, one subject, one event.
func (c *Contract) Key() string { return c.Consumer + "/" + c.Subject + "/" + c.Event }

// Label names the contract in findings, e.g. "contract inventory (orders-contrail.orders.OrderPlaced)".
func (c *Contract) Label() string {
	return fmt.Sprintf("contract %s (%s)", c.Consumer, c.Subject)
}

// ReaderSchema returns the parsed reader schema. It parses on first use, into
// a schema cache of its own (so contracts of different versions of one type
// never clash), and returns an error wrapping ErrInvalid when the schema does
// not parse. ReaderSchema is not safe for concurrent use before the first
// call has returned; Validate and Load make that call.
func (c *Contract) ReaderSchema() (avro.Schema, error) {
	if c.parsed != nil && c.parsedFrom == string(c.Schema) {
		return c.parsed, nil
	}
	if len(c.Schema) == 0 {
		return nil, fmt.Errorf("%w: consumer %q, subject %q: no reader schema", ErrInvalid, c.Consumer, c.Subject)
	}
	s, err := events.Parse(string(c.Schema), &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("%w: consumer %q, subject %q: reader schema does not parse: %v", ErrInvalid, c.Consumer, c.Subject, err)
	}
	c.parsed, c.parsedFrom = s, string(c.Schema)
	return s, nil
}

// Validate checks that c is complete and consistent: consumer, subject and
// event are set, the reader schema parses and is the record Event, and every
// relied-on field exists in it. It sorts and deduplicates Fields. Every
// problem wraps ErrInvalid and says what to fix.
func (c *Contract) Validate() error {
	var problems []string
	if c.Format == 0 {
		c.Format = FormatVersion
	}
	if c.Format != FormatVersion {
		problems = append(problems, fmt.Sprintf("format %d is not supported (this contrail reads format %d): upgrade contrail", c.Format, FormatVersion))
	}
	if !nameRE.MatchString(c.Consumer) {
		problems = append(problems, fmt.Sprintf("consumer %q must be a service name of letters, digits, '.', '_' or '-'", c.Consumer))
	}
	if c.Subject == "" {
		problems = append(problems, "subject is empty: name the registry subject the consumer reads")
	}
	if c.Event == "" {
		problems = append(problems, "event is empty: name the event's fully qualified Avro name")
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	s, err := c.ReaderSchema()
	if err != nil {
		return err
	}
	rec, ok := s.(*avro.RecordSchema)
	if !ok || rec.FullName() != c.Event {
		return fmt.Errorf("%w: consumer %q, subject %q: reader schema is not the record %s", ErrInvalid, c.Consumer, c.Subject, c.Event)
	}
	c.Fields = sortedUnique(c.Fields)
	for _, f := range c.Fields {
		if _, err := lookupField(rec, f); err != nil {
			return fmt.Errorf("%w: consumer %q, subject %q: relied-on field %q: %v (fix the fields list or re-export the contract)", ErrInvalid, c.Consumer, c.Subject, f, err)
		}
	}
	return nil
}

// ReliedFields returns the field paths the consumer relies on: Fields, or
// every top-level field of the reader schema when Fields is empty.
func (c *Contract) ReliedFields() ([]string, error) {
	if len(c.Fields) > 0 {
		return c.Fields, nil
	}
	s, err := c.ReaderSchema()
	if err != nil {
		return nil, err
	}
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("%w: reader schema of %s is not a record", ErrInvalid, c.Label())
	}
	out := make([]string, 0, len(rec.Fields()))
	for _, f := range rec.Fields() {
		out = append(out, f.Name())
	}
	return out, nil
}

// Opt tunes FromType and FromSet.
type Opt interface{ apply(*Contract) }

type optFunc func(*Contract)

func (f optFunc) apply(c *Contract) { f(c) }

// Fields sets the field paths the consumer relies on (see Contract.Fields).
// Default: none listed, which means every top-level field.
func Fields(paths ...string) Opt {
	return optFunc(func(c *Contract) { c.Fields = append(c.Fields, paths...) })
}

// Source sets Contract.Source. Default: "go:<event's Go package>" for FromType,
// "manifest" for FromSet.
func Source(s string) Opt { return optFunc(func(c *Contract) { c.Source = s }) }

// FromType derives the contract of consumer for a generated event type (what
// a service registers a handler for): its subject, topic and full name, and
// its schema with every reference resolved as the reader schema. It returns
// an error wrapping ErrInvalid when the result does not validate (an unknown
// relied-on field, for example).
func FromType(consumer string, t events.Type, opts ...Opt) (*Contract, error) {
	text, err := SelfContained(t.Schema())
	if err != nil {
		return nil, err
	}
	c := &Contract{
		Format: FormatVersion, Consumer: consumer, Subject: t.Subject(), Topic: t.Topic(),
		Event: t.FullName(), Major: majorField(t.Major()), Source: "go:" + goPackageOf(t), Schema: text,
	}
	for _, o := range opts {
		o.apply(c)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Handlers is what FromRouter reads: the event types a consumer has
// handlers for, sorted by full name. *eventing.Router (package eventing)
// satisfies it; contract does not import the runtime, which sits a layer
// above it.
type Handlers interface {
	Types() []events.Type
}

// FromRouter derives consumer's contracts from the router its handlers are
// registered on: one FromType contract per type h handles, so a new handler
// gets a contract without anyone listing it. A router does not know which
// fields its handlers read, so fields maps each handled type's full name to
// the field paths its handler relies on (an empty list means every top-level
// field). It returns an error wrapping ErrInvalid when a handled type has no
// entry in fields (say what the new handler reads), when fields names a type
// h does not handle (a stale entry), or when a contract does not validate.
// Contracts come in h's order.
func FromRouter(consumer string, h Handlers, fields map[string][]string) ([]*Contract, error) {
	types := h.Types()
	var problems []string
	handled := map[string]bool{}
	var out []*Contract
	for _, t := range types {
		handled[t.FullName()] = true
		fs, ok := fields[t.FullName()]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s handles %s but the fields list has no entry for it: add the fields its handler reads", consumer, t.FullName()))
			continue
		}
		c, err := FromType(consumer, t, Fields(fs...))
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	var stale []string
	for name := range fields {
		if !handled[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	for _, name := range stale {
		problems = append(problems, fmt.Sprintf("the fields list names %s, but %s has no handler for it: remove the entry", name, consumer))
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(problems, "; "))
	}
	return out, nil
}

func goPackageOf(t events.Type) string {
	s := fmt.Sprintf("%T", t.New()) // "*orders.OrderPlaced"
	s = strings.TrimPrefix(s, "*")
	if i := strings.LastIndexByte(s, '.'); i >= 0 {
		s = s[:i]
	}
	return s
}

// FromSet derives one contract per (consumer, event) pair of the manifest's
// consumers lists, with the tree's current schema as the reader schema. When
// prev holds a contract with the same key, its Fields and Source are kept, so
// a hand-narrowed fields list survives re-export. Contracts come sorted by
// consumer, then subject.
func FromSet(set *schemas.Set, prev []*Contract) ([]*Contract, error) {
	old := map[string]*Contract{}
	for _, c := range prev {
		old[c.Key()] = c
	}
	var out []*Contract
	for _, ev := range set.Events {
		if len(ev.Consumers) == 0 {
			continue
		}
		for _, consumer := range ev.Consumers {
			// A consumer keeps the major its contract reads while that major
			// is live; a new contract reads the lowest live major.
			t := ev.Type
			key := (&Contract{Consumer: consumer, Subject: ev.Subject, Event: ev.Type.FullName}).Key()
			if p := old[key]; p != nil {
				if m := ev.Major(p.major()); m != nil {
					t = m.Type
				}
			}
			text, err := SelfContained(t.Schema)
			if err != nil {
				return nil, err
			}
			c := &Contract{
				Format: FormatVersion, Consumer: consumer, Subject: ev.Subject, Topic: ev.Topic,
				Event: t.FullName, Major: majorField(t.Major), Source: "manifest", Schema: text,
			}
			if p := old[c.Key()]; p != nil {
				c.Fields = append([]string(nil), p.Fields...)
				c.Source = p.Source
			}
			if err := c.Validate(); err != nil {
				return nil, fmt.Errorf("%w (derived from %s)", err, t.File)
			}
			out = append(out, c)
		}
	}
	SortContracts(out)
	return out, nil
}

// majorField is Contract.Major for major n: 0 (left out of the file) for 1.
func majorField(n int) int {
	if n <= 1 {
		return 0
	}
	return n
}

// major is the major c reads, 1 or more.
func (c *Contract) major() int { return max(c.Major, 1) }

// SortContracts orders contracts by consumer, subject and event.
func SortContracts(cs []*Contract) {
	sort.Slice(cs, func(i, j int) bool { return cs[i].Key() < cs[j].Key() })
}

// SelfContained returns s as JSON with every named type written out where it
// is first used (docs, defaults, aliases and logical types kept), so the text
// parses on its own without references.
func SelfContained(s avro.Schema) (json.RawMessage, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("contract: write schema %s as JSON: %w", fullNameOf(s), err)
	}
	return b, nil
}

func fullNameOf(s avro.Schema) string {
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	return string(s.Type())
}

// sortedUnique returns in sorted, without duplicates and empty paths.
func sortedUnique(in []string) []string {
	if len(in) == 0 {
		return nil
	}
	out := slices.Compact(slices.Sorted(slices.Values(in)))
	if out[0] == "" { // "" sorts first; Compact left at most one
		out = out[1:]
	}
	return out
}
