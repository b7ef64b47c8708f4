package tracing

import (
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
)

// Carrier is a propagation.TextMapCarrier over franz-go record headers. Get
// and Set match keys case-insensitively (propagators use lower-case keys;
// some legacy producers do not). Kafka allows repeated header keys: Get
// returns the last one, as the Java clients' lastHeader does, and Set
// replaces every header of that key with a single one at the first one's
// position, so re-publishing a consumed record never carries two trace
// contexts. The zero Carrier is empty and ignores Set.
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
func (c Carrier) Set(key, value string) {
	if c.h == nil {
		return
	}
	hs := *c.h
	first := -1
	n := 0
	for i := range hs {
		if keyEqual(hs[i].Key, key) {
			if first >= 0 {
				continue // drop duplicates
			}
			first = n
		}
		hs[n] = hs[i]
		n++
	}
	if first < 0 {
		*c.h = append(hs, kgo.RecordHeader{Key: key, Value: []byte(value)})
		return
	}
	clear(hs[n:])
	hs = hs[:n]
	hs[first] = kgo.RecordHeader{Key: key, Value: []byte(value)}
	*c.h = hs
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

// Delete removes every header whose key matches one of keys.
func (c Carrier) Delete(keys ...string) {
	if c.h == nil {
		return
	}
	hs := *c.h
	n := 0
	for i := range hs {
		drop := false
		for _, k := range keys {
			if keyEqual(hs[i].Key, k) {
				drop = true
				break
			}
		}
		if !drop {
			hs[n] = hs[i]
			n++
		}
	}
	clear(hs[n:])
	*c.h = hs[:n]
}

func keyEqual(a, b string) bool { return len(a) == len(b) && (a == b || strings.EqualFold(a, b)) }
