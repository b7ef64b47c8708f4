package registry

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// schemaTypeAvro is the only schema type this registry stores.
const schemaTypeAvro = "AVRO"

// SchemaRequest is the body of register, lookup and compatibility requests.
type SchemaRequest struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"` // "AVRO" or absent; anything else is refused
	References []Reference `json:"references,omitempty"`
	// Metadata and RuleSet are the schema's data contract; nil is absent
	// (a registration then inherits the latest version's), which differs
	// from present and empty. Both are part of the schema's identity.
	Metadata *wire.Metadata `json:"metadata,omitempty"`
	RuleSet  *wire.RuleSet  `json:"ruleSet,omitempty"`
	// ID and Version are honoured only in IMPORT mode.
	ID      int `json:"id,omitempty"`
	Version int `json:"version,omitempty"`
}

// contract is req's metadata and rule set, normalized as they are stored.
func (req *SchemaRequest) contract() contract {
	return contract{md: normMetadata(req.Metadata), rs: normRuleSet(req.RuleSet)}
}

// typeOut is the schemaType a response carries. Confluent 8 names AVRO too
// (its SchemaString and RegisterSchemaResponse dropped the
// SchemaTypeConverter that omitted it), so every body carries the type.
func typeOut(t string) string {
	if t == "" {
		return schemaTypeAvro
	}
	return t
}

// isAvro reports whether a request's schemaType names AVRO: absent does, and
// "AVRO" exactly. Confluent looks the type up case-sensitively among its
// providers, so "avro" is an unknown type there (42201), and here.
func isAvro(schemaType string) bool {
	return schemaType == "" || schemaType == schemaTypeAvro
}

func refsKey(refs []Reference) string {
	var b strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&b, "|%s,%s,%d", r.Name, r.Subject, r.Version)
	}
	return b.String()
}

// compactKey is the identity of a schema text without normalize: its JSON
// value with object keys sorted and whitespace dropped, plus its references.
// Confluent compares the parsed schema's canonical string, so key order and
// whitespace never make a new version there either; array order (fields,
// symbols, union branches), docs and defaults still count.
func compactKey(text string, refs []Reference) (string, bool) {
	t := inspectSchema(text)
	if t.err != nil {
		return "", false
	}
	return t.compact + refsKey(refs), true
}

// normKey is the identity of a parsed schema: hamba's canonical JSON, which
// writes every named type by its full name (a namespace written out on a
// nested type and one inherited from the enclosing type give the same
// text), fixes the key order and writes {"type":"string"} as "string". It is
// the identity Confluent compares (AvroSchema.canonicalString, Avro's
// Schema.toString): docs, defaults and other properties still count.
func normKey(s avro.Schema, refs []Reference) string {
	b, err := json.Marshal(s)
	if err != nil {
		return s.String() + refsKey(refs)
	}
	return string(b) + refsKey(refs)
}

// refStep is one referenced schema that must be parsed, into the same
// cache, before the schema referencing it.
type refStep struct {
	ref  Reference // with the concrete version
	text string
}

// refSteps lists the schemas refs names, each one's own references first;
// unqualified reference subjects live in ctx, the referring schema's
// context. Callers hold at least the read lock; the steps are used without
// it, since a stored schema's text never changes. Soft-deleted versions
// still serve: a schema registered against them must keep parsing.
func (r *Registry) refSteps(refs []Reference, ctx string) ([]refStep, error) {
	var steps []refStep
	err := r.collectRefs(refs, ctx, map[VersionKey]bool{}, 0, &steps)
	return steps, err
}

func (r *Registry) collectRefs(refs []Reference, ctx string, seen map[VersionKey]bool, depth int, out *[]refStep) error {
	if depth > maxRefDepth {
		return fmt.Errorf("references nest deeper than %d levels", maxRefDepth)
	}
	for _, ref := range refs {
		subject := qualifyWithParent(ref.Subject, ctx)
		k := VersionKey{subject, ref.Version}
		if seen[k] {
			continue
		}
		seen[k] = true
		v := r.version(subject, ref.Version, true)
		if v == nil {
			return fmt.Errorf("reference %q: subject %q has no version %d; register it first", ref.Name, ref.Subject, ref.Version)
		}
		e := r.entry(v)
		if err := r.collectRefs(e.rec.References, e.rec.Context, seen, depth+1, out); err != nil {
			return err
		}
		*out = append(*out, refStep{ref: ref, text: e.rec.Text})
	}
	return nil
}

// parseWithRefs parses text after the schemas of steps; it needs no lock.
func parseWithRefs(text string, steps []refStep) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	for _, st := range steps {
		if _, err := events.Parse(st.text, cache); err != nil {
			return nil, fmt.Errorf("reference %q (subject %q version %d) does not parse: %w", st.ref.Name, st.ref.Subject, st.ref.Version, err)
		}
		if cache.Get(st.ref.Name) == nil {
			return nil, fmt.Errorf("reference %q: subject %q version %d does not define a type named %q", st.ref.Name, st.ref.Subject, st.ref.Version, st.ref.Name)
		}
	}
	return events.Parse(text, cache)
}

// pendingEntry is a stored schema with what parsing it needs, gathered
// under the read lock so that the parse itself can run without a lock.
type pendingEntry struct {
	e        *schemaEntry
	steps    []refStep
	stepsErr error
}

// pending gathers what parsing e needs. Callers hold at least the read
// lock.
func (r *Registry) pending(e *schemaEntry) pendingEntry {
	p := pendingEntry{e: e}
	if len(e.rec.References) > 0 {
		p.steps, p.stepsErr = r.refSteps(e.rec.References, e.rec.Context)
	}
	return p
}

// parse returns the entry's parsed schema (parsed once, lazily, since most
// stored schemas are only compared by exact key) and sets its normalized
// key. It needs no lock.
func (p pendingEntry) parse() (avro.Schema, error) {
	e := p.e
	e.parseOnce.Do(func() {
		if p.stepsErr != nil {
			e.parseErr = p.stepsErr
			return
		}
		e.parsed, e.parseErr = parseWithRefs(e.rec.Text, p.steps)
		if e.parseErr == nil {
			e.normKey = normKey(e.parsed, e.rec.References)
		}
	})
	return e.parsed, e.parseErr
}

// candidate is a schema request ready for comparison with stored schemas.
// It is built under the read lock (newCandidate) and parsed without one
// (parse).
type candidate struct {
	ctx       string // the context the schema is registered, looked up or checked in
	text      schemaText
	schema    string
	refs      []Reference
	steps     []refStep
	exactKey  string // compact text + references
	normKey   string // canonical form + references
	parsed    avro.Schema
	normalize bool
	ct        contract // the metadata and rule set it stands with
	ctKey     string   // ct.key()
}

// newCandidate validates req (decoded as t) for subject's context and keys
// it for comparison by exact text, with contract ct; it does not parse.
// The error is a 42201 or 42209 *Error. Callers hold at least the read
// lock.
func (r *Registry) newCandidate(req *SchemaRequest, t schemaText, normalize bool, subject string, ct contract) (*candidate, error) {
	ctx := contextOf(subject)
	refs, err := r.checkRequest(req, ctx)
	if err != nil {
		return nil, err
	}
	if t.err != nil {
		return nil, t.err
	}
	steps, err := r.refSteps(refs, ctx)
	if err != nil {
		return nil, errInvalidSchema("Invalid schema: %v", err)
	}
	return &candidate{ctx: ctx, text: t, schema: req.Schema, refs: refs, steps: steps, exactKey: t.compact + refsKey(refs),
		normalize: normalize, ct: ct, ctKey: ct.key()}, nil
}

// checkRequest validates a schema request's text, type and references
// (resolving version -1 to the latest, unqualified subjects in ctx) and
// returns the references to store. The error is a 42201 *Error. Callers
// hold at least the read lock.
func (r *Registry) checkRequest(req *SchemaRequest, ctx string) ([]Reference, error) {
	if strings.TrimSpace(req.Schema) == "" {
		return nil, errInvalidSchema("Empty schema: send {\"schema\": \"<Avro schema JSON as a string>\"}.")
	}
	if err := checkText("the schema", req.Schema); err != nil {
		return nil, err
	}
	if !isAvro(req.SchemaType) {
		return nil, errInvalidSchema("Schema type %q is not supported: this registry stores AVRO schemas only.", req.SchemaType)
	}
	if what, v := contractText(req.Metadata, req.RuleSet); what != "" {
		return nil, checkText("a "+what, v)
	}
	for i, ref := range req.References {
		if err := checkText(fmt.Sprintf("the name of reference %d", i+1), ref.Name); err != nil {
			return nil, err
		}
		if err := checkText(fmt.Sprintf("the subject of reference %d", i+1), ref.Subject); err != nil {
			return nil, err
		}
	}
	return r.resolveRefs(req.References, ctx)
}

// parse checks c against the schema limits and parses it once; it needs no
// lock. The error is a 42209 *Error for a limit, else a 42201 *Error whose
// message explains a bad default when it can.
func (c *candidate) parse() error {
	if c.parsed != nil {
		return nil
	}
	if err := c.text.checkLimits(); err != nil {
		return err
	}
	s, err := parseWithRefs(c.schema, c.steps)
	if err != nil {
		if msg := explainDefault(c.schema, err); msg != "" {
			return errInvalidSchema("Invalid schema: %s", msg)
		}
		return errInvalidSchema("Invalid schema: %v", err)
	}
	c.parsed = s
	c.normKey = normKey(s, c.refs)
	return nil
}

// matches reports whether stored schema p.e is c: the same metadata and
// rule set, and the same compact text or else (parsing p once; c must be
// parsed) the same canonical form. It needs no lock.
func (c *candidate) matches(p pendingEntry) bool { return c.matchesWith(p, c.ctKey) }

// matchesWith is matches with the contract whose key is ctKey in place of
// c's own.
func (c *candidate) matchesWith(p pendingEntry, ctKey string) bool {
	if p.e.contract != ctKey {
		return false
	}
	if p.e.exactKey == c.exactKey {
		return true
	}
	if c.parsed == nil {
		return false
	}
	if _, err := p.parse(); err != nil {
		return false
	}
	return p.e.normKey == c.normKey
}
