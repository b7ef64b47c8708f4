package registry

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hamba/avro/v2"
)

// schemaTypeAvro is the only schema type this registry stores.
const schemaTypeAvro = "AVRO"

// SchemaRequest is the body of register, lookup and compatibility requests.
type SchemaRequest struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	// ID and Version are honoured only in IMPORT mode.
	ID      int `json:"id,omitempty"`
	Version int `json:"version,omitempty"`
}

// typeOut is the schemaType a response carries: omitted for AVRO, as
// Confluent does.
func typeOut(t string) string {
	if t == "" || strings.EqualFold(t, schemaTypeAvro) {
		return ""
	}
	return t
}

// isAvro reports whether a request's schemaType names AVRO (empty does).
func isAvro(schemaType string) bool {
	return schemaType == "" || strings.EqualFold(schemaType, schemaTypeAvro)
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
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber() // 1.0 and 1 stay as written
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return "", false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return "", false
	}
	return strings.TrimSuffix(buf.String(), "\n") + refsKey(refs), true
}

// normKey is the identity of a parsed schema with normalize: hamba's
// canonical JSON, so equivalent spellings of a type compare equal.
func normKey(s avro.Schema, refs []Reference) string {
	b, err := json.Marshal(s)
	if err != nil {
		return s.String() + refsKey(refs)
	}
	return string(b) + refsKey(refs)
}

// parse returns e's parsed schema (references resolved) and sets its
// normalized key. Parsing is lazy because most stored schemas are only
// compared by exact key. Callers hold at least the read lock.
func (r *Registry) parse(e *schemaEntry) (avro.Schema, error) {
	e.parseOnce.Do(func() {
		e.parsed, e.parseErr = r.parseText(e.rec.Text, e.rec.References)
		if e.parseErr == nil {
			e.normKey = normKey(e.parsed, e.rec.References)
		}
	})
	return e.parsed, e.parseErr
}

// parseText parses text with its references resolved from registered
// versions. Callers hold at least the read lock.
func (r *Registry) parseText(text string, refs []Reference) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	if err := r.loadRefs(refs, cache, map[VersionKey]bool{}, 0); err != nil {
		return nil, err
	}
	return avro.ParseWithCache(text, "", cache)
}

// candidate is a parsed request ready for comparison with stored schemas.
type candidate struct {
	text      string
	refs      []Reference
	exactKey  string
	normKey   string
	parsed    avro.Schema
	normalize bool
}

// newCandidate validates req and keys it for comparison; it parses the
// schema only when normalize or mustParse needs it, since a lookup by exact
// text does not. The error is a 42201 *Error.
func (r *Registry) newCandidate(req *SchemaRequest, normalize, mustParse bool) (*candidate, error) {
	refs, err := r.checkRequest(req)
	if err != nil {
		return nil, err
	}
	c := &candidate{text: req.Schema, refs: refs, normalize: normalize}
	key, ok := compactKey(req.Schema, refs)
	if !ok {
		return nil, errInvalidSchema("Invalid schema: the schema is not valid JSON; send the Avro schema as a JSON string in \"schema\".")
	}
	c.exactKey = key
	if normalize || mustParse {
		if err := c.parse(r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkRequest validates a schema request's type and references (resolving
// version -1 to the latest) and returns the references to store. The error
// is a 42201 *Error.
func (r *Registry) checkRequest(req *SchemaRequest) ([]Reference, error) {
	if strings.TrimSpace(req.Schema) == "" {
		return nil, errInvalidSchema("Empty schema: send {\"schema\": \"<Avro schema JSON as a string>\"}.")
	}
	if !isAvro(req.SchemaType) {
		return nil, errInvalidSchema("Schema type %q is not supported: this registry stores AVRO schemas only.", req.SchemaType)
	}
	return r.resolveRefs(req.References)
}

// parse parses c once; the error is a 42201 *Error whose message explains
// a bad default when it can.
func (c *candidate) parse(r *Registry) error {
	if c.parsed != nil {
		return nil
	}
	s, err := r.parseText(c.text, c.refs)
	if err != nil {
		if msg := explainDefault(c.text, err); msg != "" {
			return errInvalidSchema("Invalid schema: %s", msg)
		}
		return errInvalidSchema("Invalid schema: %v", err)
	}
	c.parsed = s
	c.normKey = normKey(s, c.refs)
	return nil
}
