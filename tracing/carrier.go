package tracing

import (
	"strings"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
)

// Carrier is a propagation.TextMapCarrier over franz-go record headers. Get
// and Set match keys case-insensitively (propagators use lower-case keys;
// some legacy producers do not): strings.EqualFold between keys of the same
// length in bytes, so "Uber-Trace-Id" matches but a key spelled with ſ or
// the Kelvin sign does not. Kafka allows repeated header keys: Get
// returns the last one, as the Java clients' lastHeader does, and Set
// replaces every header of that key with a single one at the first one's
// position, so re-publishing a consumed record never carries two trace
// contexts. Header values of other keys are never modified or reordered.
// The zero Carrier is empty and ignores Set.
//
// A Carrier is a view, not a copy: it is not safe for concurrent use with
// other writers of the same headers.
type Carrier struct {
	h *[]kgo.RecordHeader
}

var _ propagation.TextMapCarrier = Carrier{}

// RecordCarrier returns a Carrier over r.Headers. r must not be nil.
func RecordCarrier(r *kgo.Record) Carrier { return Carrier{h: &r.Headers} }

// HeadersCarrier returns a Carrier over *h, growing it on Set.
func HeadersCarrier(h *[]kgo.RecordHeader) Carrier { return Carrier{h: h} }

// Get returns the value of the last header named key, or "".
func (c Carrier) Get(key string) string {
	if c.h == nil {
		return ""
	}
	hs := *c.h
	for i := len(hs) - 1; i >= 0; i-- {
		if keyEqual(hs[i].Key, key) {
			return string(hs[i].Value)
		}
	}
	return ""
}

// Set stores value under key, replacing all existing headers named key.
// When it replaces, it builds a new slice rather than writing into the old
// backing array, which a record copied from another may share.
func (c Carrier) Set(key, value string) {
	if c.h == nil {
		return
	}
	hs := *c.h
	first := -1
	for i := range hs {
		if keyEqual(hs[i].Key, key) {
			first = i
			break
		}
	}
	h := kgo.RecordHeader{Key: key, Value: []byte(value)}
	if first < 0 {
		*c.h = append(hs, h)
		return
	}
	out := make([]kgo.RecordHeader, 0, len(hs)+2)
	for i := range hs {
		switch {
		case i == first:
			out = append(out, h)
		case i > first && keyEqual(hs[i].Key, key):
			// drop duplicates
		default:
			out = append(out, hs[i])
		}
	}
	*c.h = out
}

// Keys returns the header keys in order, repeated keys included.
func (c Carrier) Keys() []string {
	if c.h == nil {
		return nil
	}
	out := make([]string, len(*c.h))
	for i, h := range *c.h {
		out[i] = h.Key
	}
	return out
}

// Delete removes every header whose key matches one of keys. Like Set, it
// never writes into the old backing array; it allocates only if a header
// is actually removed.
func (c Carrier) Delete(keys ...string) {
	if c.h == nil {
		return
	}
	hs := *c.h
	match := func(k string) bool {
		for _, d := range keys {
			if keyEqual(k, d) {
				return true
			}
		}
		return false
	}
	first := -1
	for i := range hs {
		if match(hs[i].Key) {
			first = i
			break
		}
	}
	if first < 0 {
		return
	}
	out := make([]kgo.RecordHeader, first, len(hs)+2)
	copy(out, hs[:first])
	for _, h := range hs[first+1:] {
		if !match(h.Key) {
			out = append(out, h)
		}
	}
	*c.h = out
}

func keyEqual(a, b string) bool { return len(a) == len(b) && (a == b || strings.EqualFold(a, b)) }

// CarriesContext reports whether r carries propagated context: a
// traceparent, uber-trace-id or baggage header (any case). It allocates
// nothing, so a caller can skip a propagator's Extract, which reads every
// key through the string-based carrier, on the many records that carry
// none.
func CarriesContext(r *kgo.Record) bool {
	for i := range r.Headers {
		switch k := r.Headers[i].Key; {
		case keyEqual(k, wire.HeaderTraceParent), keyEqual(k, wire.HeaderUberTraceID), keyEqual(k, wire.HeaderBaggage):
			return true
		}
	}
	return false
}
