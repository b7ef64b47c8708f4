package console

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// SensitiveProp is the schema property that marks a field as sensitive:
// {"name": "cardToken", "type": "string", "contrail.sensitive": true}. The
// console masks such a field's value wherever it shows one, as if its path
// had been given to MaskFields. A field the writer schema's data contract
// tags PII (metadata.tags, or the field's inline "confluent:tags"; see
// rules.FieldTags) is masked the same way.
const SensitiveProp = "contrail.sensitive"

// maskedValue replaces a masked field's value.
const maskedValue = "••• masked •••"

// genericAPI decodes into generic values (maps), untouched by the named
// types that generated code registers in avro.DefaultConfig.
var genericAPI = avro.Config{}.Freeze()

// masker says which field paths to mask. md is the data contract of the
// schema being shown (set per value by withContract); its PII fields are
// masked too.
type masker struct {
	paths map[string]bool
	md    *wire.Metadata
}

// withContract returns m masking md's PII fields as well.
func (m *masker) withContract(md *wire.Metadata) *masker {
	if md == nil {
		return m
	}
	return &masker{paths: m.paths, md: md}
}

func newMasker(paths []string) *masker {
	m := &masker{paths: map[string]bool{}}
	for _, p := range paths {
		m.paths[p] = true
	}
	return m
}

// Masked lists the configured paths, sorted, for the pages to show.
func (m *masker) Masked() []string {
	out := make([]string, 0, len(m.paths))
	for p := range m.paths {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// masks reports whether field f of record (a full name), at path, is masked.
func (m *masker) masks(path, record string, f *avro.Field) bool {
	if m.paths[path] {
		return true
	}
	if v, ok := f.Prop(SensitiveProp).(bool); ok && v {
		return true
	}
	return rules.IsPII(m.md, record, f)
}

// object is a JSON object that keeps its fields in schema order.
type object []member

type member struct {
	Key   string
	Value any
}

// MarshalJSON writes the members in order.
func (o object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(m.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(m.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// jsonValue turns a value hamba/avro decoded with genericAPI into a JSON
// friendly one, following schema s: records keep their field order,
// decimals become exact strings, times RFC 3339, fixed and bytes hex, a
// union branch other than null is {"<branch>": value} as in Avro's JSON
// encoding (a ["null", T] union shows the value alone). Fields the masker
// masks become maskedValue. path is the field path so far.
func (m *masker) jsonValue(s avro.Schema, v any, path string) any {
	if v == nil {
		return nil
	}
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	switch t := s.(type) {
	case *avro.RecordSchema:
		in, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprint(v)
		}
		out := make(object, 0, len(t.Fields()))
		for _, f := range t.Fields() {
			p := f.Name()
			if path != "" {
				p = path + "." + f.Name()
			}
			if m.masks(p, t.FullName(), f) {
				out = append(out, member{f.Name(), maskedValue})
				continue
			}
			out = append(out, member{f.Name(), m.jsonValue(f.Type(), in[f.Name()], p)})
		}
		return out
	case *avro.UnionSchema:
		if in, ok := v.(map[string]any); ok && len(in) == 1 {
			for k, bv := range in {
				for _, b := range t.Types() {
					if branchName(b) == k {
						return object{{k, m.jsonValue(b, bv, path)}}
					}
				}
			}
		}
		// A ["null", T] union decodes to the value itself.
		for _, b := range t.Types() {
			if b.Type() != avro.Null {
				return m.jsonValue(b, v, path)
			}
		}
		return v
	case *avro.ArraySchema:
		in, ok := v.([]any)
		if !ok {
			return fmt.Sprint(v)
		}
		out := make([]any, len(in))
		for i, e := range in {
			out[i] = m.jsonValue(t.Items(), e, path)
		}
		return out
	case *avro.MapSchema:
		in, ok := v.(map[string]any)
		if !ok {
			return fmt.Sprint(v)
		}
		keys := make([]string, 0, len(in))
		for k := range in {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		out := make(object, 0, len(in))
		for _, k := range keys {
			out = append(out, member{k, m.jsonValue(t.Values(), in[k], path)})
		}
		return out
	}
	if r, ok := v.(*big.Rat); ok {
		if scale, ok := decimalScale(s); ok {
			return r.FloatString(scale)
		}
	}
	return scalar(v)
}

// decimalScale returns the scale of a decimal type.
func decimalScale(s avro.Schema) (int, bool) {
	var l avro.LogicalSchema
	switch t := s.(type) {
	case *avro.PrimitiveSchema:
		l = t.Logical()
	case *avro.FixedSchema:
		l = t.Logical()
	}
	if d, ok := l.(*avro.DecimalLogicalSchema); ok {
		return d.Scale(), true
	}
	return 0, false
}

// branchName is the key hamba/avro gives a union branch: a named type's
// full name, else the type name.
func branchName(s avro.Schema) string {
	if r, ok := s.(*avro.RefSchema); ok {
		s = r.Schema()
	}
	if n, ok := s.(avro.NamedSchema); ok {
		return n.FullName()
	}
	return string(s.Type())
}

func scalar(v any) any {
	switch x := v.(type) {
	case *big.Rat:
		return ratString(x)
	case big.Rat:
		return ratString(&x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case time.Duration:
		return x.String()
	case []byte:
		return hex.EncodeToString(x)
	}
	// Fixed values arrive as byte arrays of any size.
	if b, ok := fixedBytes(v); ok {
		return hex.EncodeToString(b)
	}
	return v
}

// ratString prints an exact decimal: as many fractional digits as needed.
func ratString(r *big.Rat) string {
	for prec := 0; prec <= 32; prec++ {
		s := r.FloatString(prec)
		if back, ok := new(big.Rat).SetString(s); ok && back.Cmp(r) == 0 {
			return s
		}
	}
	return r.FloatString(32)
}

func fixedBytes(v any) ([]byte, bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Array || rv.Type().Elem().Kind() != reflect.Uint8 {
		return nil, false
	}
	b := make([]byte, rv.Len())
	reflect.Copy(reflect.ValueOf(b), rv)
	return b, true
}

// decoded is a record value as the pages show it.
type decoded struct {
	SchemaID  int
	Subjects  []sr.SubjectVersion // where the registry has the id
	EventType string              // the schema's full name
	JSON      string              // indented; "" when undecodable
	KeyPII    bool                // the event's key field is tagged PII: mask the record key
	Err       string              // why the value is not shown decoded
	Raw       string              // a printable excerpt of the raw bytes
}

// decodeValue decodes a framed Avro value through the registry. It never
// fails: an empty, unframed, unknown or undecodable value says so in Err.
func (c *Console) decodeValue(ctx context.Context, value []byte) decoded {
	var d decoded
	if len(value) == 0 {
		d.Err = "empty value (a tombstone)"
		return d
	}
	id, err := wire.SchemaID(value)
	if err != nil {
		d.Err = "not a schema-registry framed value: " + err.Error()
		d.Raw = printable(value, 256)
		return d
	}
	d.SchemaID = id
	d.Subjects = c.subjectsOf(ctx, id)
	s, err := c.serde.WriterSchema(ctx, id)
	if err != nil {
		d.Err = fmt.Sprintf("schema id %d: %v", id, err)
		d.Raw = printable(value[wire.FrameSize:], 256)
		return d
	}
	if n, ok := s.(avro.NamedSchema); ok {
		d.EventType = n.FullName()
	}
	v, err := decodeBody(s, value[wire.FrameSize:])
	if err != nil {
		d.Err = fmt.Sprintf("does not decode with schema id %d: %v", id, err)
		d.Raw = printable(value[wire.FrameSize:], 256)
		return d
	}
	md, _, err := c.serde.WriterContract(ctx, id)
	if err != nil { // WriterSchema just answered: a cached id cannot fail
		d.Err = fmt.Sprintf("schema id %d: %v", id, err)
		return d
	}
	d.KeyPII = c.keyIsPII(s, md)
	b, err := json.MarshalIndent(c.mask.withContract(md).jsonValue(s, v, ""), "", "  ")
	if err != nil {
		d.Err = "cannot show as JSON: " + err.Error()
		return d
	}
	d.JSON = string(b)
	return d
}

// keyIsPII reports whether the manifest's key field of the event whose
// writer schema is s is tagged PII in md.
func (c *Console) keyIsPII(s avro.Schema, md *wire.Metadata) bool {
	rec, ok := s.(*avro.RecordSchema)
	if !ok || md == nil {
		return false
	}
	ev := c.set.Event(rec.FullName())
	if ev == nil {
		return false
	}
	for _, f := range rec.Fields() {
		if f.Name() == ev.Key {
			return rules.IsPII(md, rec.FullName(), f)
		}
	}
	return false
}

// decodeBody decodes an Avro body with s into generic values. Unlike
// avro.Unmarshal, which reports a body that ends early as no error, it
// fails on a short body and on bytes left over after the value.
func decodeBody(s avro.Schema, body []byte) (any, error) {
	r := avro.NewReader(nil, 0, avro.WithReaderConfig(genericAPI)).Reset(body)
	var v any
	r.ReadVal(s, &v)
	if r.Error != nil {
		return nil, r.Error
	}
	if r.Peek(); r.Error == nil {
		return nil, errors.New("bytes are left over after the value")
	}
	return v, nil
}

// subjectsOf returns the subject versions the registry has schema id
// under, cached: an id's registrations only ever grow, and a page shows
// what it knew when first asked. Errors leave it empty (and uncached).
func (c *Console) subjectsOf(ctx context.Context, id int) []sr.SubjectVersion {
	c.idMu.Lock()
	svs, ok := c.idSubjects[id]
	c.idMu.Unlock()
	if ok {
		return svs
	}
	svs, err := c.reg.SchemaVersionsByID(ctx, id)
	if err != nil {
		return nil
	}
	c.idMu.Lock()
	if c.idSubjects == nil {
		c.idSubjects = map[int][]sr.SubjectVersion{}
	}
	c.idSubjects[id] = svs
	c.idMu.Unlock()
	return svs
}

// idCache is embedded in Console.
type idCache struct {
	idMu       sync.Mutex
	idSubjects map[int][]sr.SubjectVersion
}

// printable shows b as text when it is valid UTF-8 without control
// characters, else as hex; at most max bytes.
func printable(b []byte, max int) string {
	cut := ""
	if len(b) > max {
		b, cut = b[:max], "…"
	}
	if utf8.Valid(b) && !bytes.ContainsFunc(b, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' }) {
		return string(b) + cut
	}
	return "0x" + hex.EncodeToString(b) + cut
}

// header is a record header as shown.
type header struct{ Key, Value string }

// traceIDOf returns the trace id of a W3C traceparent header
// ("00-<32 hex>-<16 hex>-<2 hex>"), or "".
func traceIDOf(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key != wire.HeaderTraceParent {
			continue
		}
		parts := strings.Split(string(h.Value), "-")
		if len(parts) != 4 || len(parts[1]) != 32 {
			return ""
		}
		if _, err := hex.DecodeString(parts[1]); err != nil || parts[1] == strings.Repeat("0", 32) {
			return ""
		}
		return strings.ToLower(parts[1])
	}
	return ""
}
