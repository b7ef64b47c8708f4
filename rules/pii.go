package rules

import (
	"fmt"
	"log/slog"
	"math/big"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// Personal data.
//
// A contract tags fields in metadata.tags, keyed by a field path: the full
// name of the record that declares the field, a dot and the field's name
// ("contrail.orders.OrderPlaced.customerId", "contrail.common.Address.line1"),
// where, as in Confluent's clients, '?' matches one character other than
// '.', '*' any run of characters without a '.', and '**' any run at all
// ("**.customerId" tags customerId in every record; "**.*" means "**"). A
// field may also carry tags inline, in its "confluent:tags" property. A
// field tagged wire.TagPII is personal data: the console shows it masked,
// and Redacted logs it as Redacted.

// RedactedValue replaces a PII field's value wherever Contrail prints one.
const RedactedValue = "[REDACTED]"

// inlineTagsProp is the field property Confluent reads inline tags from.
const inlineTagsProp = "confluent:tags"

// MatchPath reports whether name (a field's full name) matches pattern, a
// metadata tag path with Confluent's wildcards. Matching is exact and
// case-sensitive; a '\' makes the next character literal.
func MatchPath(name, pattern string) bool {
	// Tokenise: '**' and '**.*' are "any"; '*' is "any but a dot".
	type tok struct {
		kind byte // 'c' literal char, '?', '*', 'A' (**)
		c    byte
	}
	toks := make([]tok, 0, len(pattern))
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				i++
				if i+2 < len(pattern) && pattern[i+1] == '.' && pattern[i+2] == '*' {
					i += 2 // "**.*" is "**"
				}
				toks = append(toks, tok{kind: 'A'})
			} else {
				toks = append(toks, tok{kind: '*'})
			}
		case '?':
			toks = append(toks, tok{kind: '?'})
		case '\\':
			if i+1 < len(pattern) {
				i++
			}
			toks = append(toks, tok{kind: 'c', c: pattern[i]})
		default:
			toks = append(toks, tok{kind: 'c', c: c})
		}
	}
	// ok[j] reports whether name[:i] matches toks[:j], row by row: O(len*len).
	ok := make([]bool, len(toks)+1)
	next := make([]bool, len(toks)+1)
	ok[0] = true
	for j, t := range toks { // stars match the empty string
		ok[j+1] = ok[j] && (t.kind == '*' || t.kind == 'A')
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		next[0] = false
		for j, t := range toks {
			switch t.kind {
			case 'c':
				next[j+1] = ok[j] && c == t.c
			case '?':
				next[j+1] = ok[j] && c != '.'
			case '*':
				next[j+1] = next[j] || ok[j+1] && c != '.'
			case 'A':
				next[j+1] = next[j] || ok[j+1]
			}
		}
		ok, next = next, ok
	}
	return ok[len(toks)]
}

// FieldTags returns the tags of field f of record record (a full name):
// the tags of every metadata tag path that matches record + "." + f's name,
// and f's inline "confluent:tags", sorted, without duplicates.
func FieldTags(md *wire.Metadata, record string, f *avro.Field) []string {
	var out []string
	if md != nil && len(md.Tags) > 0 {
		full := record + "." + f.Name()
		for path, tags := range md.Tags {
			if MatchPath(full, path) {
				out = append(out, tags...)
			}
		}
	}
	if inline, ok := f.Prop(inlineTagsProp).([]any); ok {
		for _, t := range inline {
			if s, ok := t.(string); ok {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// IsPII reports whether field f of record record is tagged wire.TagPII.
func IsPII(md *wire.Metadata, record string, f *avro.Field) bool {
	return slices.Contains(FieldTags(md, record, f), wire.TagPII)
}

// Redacted returns v, a value of t's Go type (or a pointer to one), as a
// slog value that logs each field by its Avro name, with every field
// tagged PII in t's metadata (or inline) logged as RedactedValue. Use it
// wherever a handler logs an event:
//
//	log.Info("order placed", "event", rules.Redacted(orders.OrderPlacedBinding, e))
//
// Records are groups; decimals exact strings; unions their branch's value.
// A value that does not fit t's schema is logged as "<wrong type ...>".
func Redacted(t events.Type, v any) slog.LogValuer {
	return redacted{r: redactorOf(t), v: v}
}

type redacted struct {
	r *redactor
	v any
}

func (x redacted) LogValue() slog.Value { return x.r.value(x.r.schema, reflect.ValueOf(x.v)) }

// redactor knows, per record of one schema, which fields to redact.
type redactor struct {
	schema avro.Schema
	md     *wire.Metadata
	mu     sync.Mutex
	pii    map[*avro.Field]bool
}

var redactors sync.Map // events.Type -> *redactor

func redactorOf(t events.Type) *redactor {
	if r, ok := redactors.Load(t); ok {
		return r.(*redactor)
	}
	r, _ := redactors.LoadOrStore(t, &redactor{schema: t.Schema(), md: t.Metadata(), pii: map[*avro.Field]bool{}})
	return r.(*redactor)
}

func (r *redactor) isPII(record string, f *avro.Field) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pii[f]
	if !ok {
		p = IsPII(r.md, record, f)
		r.pii[f] = p
	}
	return p
}

func (r *redactor) value(s avro.Schema, v reflect.Value) slog.Value {
	s = deref(s)
	for v.IsValid() && (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) {
		if v.IsNil() {
			return slog.AnyValue(nil)
		}
		if rat, ok := v.Interface().(*big.Rat); ok {
			return slog.StringValue(decimalString(rat))
		}
		v = v.Elem()
	}
	if !v.IsValid() {
		return slog.AnyValue(nil)
	}
	if v.Kind() == reflect.Struct && accessorsOf(v.Type()).union {
		return r.value(s, v.Field(0))
	}
	switch t := s.(type) {
	case *avro.RecordSchema:
		if v.Kind() != reflect.Struct {
			return wrongType(s, v)
		}
		a := accessorsOf(v.Type())
		attrs := make([]slog.Attr, 0, len(t.Fields()))
		for _, f := range t.Fields() {
			i, ok := a.index[f.Name()]
			switch {
			case !ok:
				continue
			case r.isPII(t.FullName(), f):
				attrs = append(attrs, slog.String(f.Name(), RedactedValue))
			default:
				attrs = append(attrs, slog.Attr{Key: f.Name(), Value: r.value(f.Type(), v.Field(i))})
			}
		}
		return slog.GroupValue(attrs...)
	case *avro.UnionSchema:
		// The Go value tells the branch: try each non-null branch whose
		// shape fits.
		for _, b := range t.Types() {
			if b.Type() == avro.Null {
				continue
			}
			if fits(deref(b), v) {
				return r.value(b, v)
			}
		}
		return wrongType(s, v)
	case *avro.ArraySchema:
		if v.Kind() != reflect.Slice && v.Kind() != reflect.Array {
			return wrongType(s, v)
		}
		out := make([]any, v.Len())
		for i := range out {
			out[i] = r.value(t.Items(), v.Index(i)).Resolve()
		}
		return slog.AnyValue(out)
	case *avro.MapSchema:
		if v.Kind() != reflect.Map {
			return wrongType(s, v)
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int {
			return compareStrings(fmt.Sprint(a.Interface()), fmt.Sprint(b.Interface()))
		})
		attrs := make([]slog.Attr, 0, len(keys))
		for _, k := range keys {
			attrs = append(attrs, slog.Attr{Key: fmt.Sprint(k.Interface()), Value: r.value(t.Values(), v.MapIndex(k))})
		}
		return slog.GroupValue(attrs...)
	}
	switch x := v.Interface().(type) {
	case big.Rat:
		return slog.StringValue(decimalString(&x))
	case time.Time:
		return slog.TimeValue(x)
	case time.Duration:
		return slog.DurationValue(x)
	}
	if v.Kind() == reflect.String {
		return slog.StringValue(v.String())
	}
	return slog.AnyValue(v.Interface())
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fits reports whether Go value v can be a value of branch schema s.
func fits(s avro.Schema, v reflect.Value) bool {
	switch t := s.(type) {
	case *avro.RecordSchema:
		if v.Kind() != reflect.Struct {
			return false
		}
		a := accessorsOf(v.Type())
		set := map[string]bool{}
		for _, f := range t.Fields() {
			set[f.Name()] = true
		}
		return sameFields(set, a.index)
	case *avro.ArraySchema:
		return v.Kind() == reflect.Slice
	case *avro.MapSchema:
		return v.Kind() == reflect.Map
	case *avro.EnumSchema:
		return v.Kind() == reflect.String
	}
	switch s.Type() {
	case avro.String:
		return v.Kind() == reflect.String
	case avro.Int, avro.Long:
		return v.CanInt()
	case avro.Float, avro.Double:
		return v.CanFloat()
	case avro.Boolean:
		return v.Kind() == reflect.Bool
	}
	return true
}

func wrongType(s avro.Schema, v reflect.Value) slog.Value {
	return slog.StringValue(fmt.Sprintf("<wrong type: %s for Avro %s>", v.Type(), s.Type()))
}
