package tracing

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
)

// The record fast path. When a Messaging uses Contrail's own propagator it
// writes and reads the trace headers directly as bytes instead of going
// through the TextMapCarrier's strings: no string building, no carrier
// interface, the header slice allocated once at its final size, and the
// header values carved out of a shared slab (see headerBytes), so a publish
// costs about one allocation. The wire format is exactly NewPropagator's
// (the tests compare both on fuzzed input); only Jaeger's debug flag is not
// written.

// Lengths of the values injectRecord writes.
const (
	traceParentLen = 55 // 00-<32 hex>-<16 hex>-<2 hex>
	uberTraceIDLen = 53 // <32 hex>:<16 hex>:0:<1 digit>
)

// isTraceHeader reports whether key is one of traceHeaders, ignoring case.
func isTraceHeader(key string) bool {
	switch len(key) {
	case len(HeaderTraceParent):
		return keyEqual(key, HeaderTraceParent)
	case len(HeaderTraceState):
		return keyEqual(key, HeaderTraceState)
	case len(HeaderBaggage):
		return keyEqual(key, HeaderBaggage)
	case len(HeaderUberTraceID):
		return keyEqual(key, HeaderUberTraceID)
	}
	return false
}

// injectRecord replaces r's trace headers with sc and ctx's baggage.
// withUber false leaves uber-trace-id out when sc is not sampled
// (UnsampledW3C). Like Carrier.Delete it never writes into a backing array
// another record may share: it appends in place only when no header has to
// go and the capacity is already there.
func injectRecord(ctx context.Context, sc trace.SpanContext, r *kgo.Record, withUber bool) {
	bg := baggage.FromContext(ctx)
	if !sc.IsValid() {
		RecordCarrier(r).Delete(traceHeaders...)
		if bg.Len() > 0 {
			bag.Inject(ctx, RecordCarrier(r))
		}
		return
	}
	uberToo := withUber || sc.IsSampled()
	ts := sc.TraceState()
	add, size := 1, traceParentLen
	if uberToo {
		add, size = add+1, size+uberTraceIDLen
	}
	if ts.Len() > 0 {
		add++
	}
	if bg.Len() > 0 {
		add++ // room for the baggage header bag.Inject appends
	}
	hs := r.Headers
	kept := len(hs)
	for i := range hs {
		if isTraceHeader(hs[i].Key) {
			kept--
		}
	}
	if kept < len(hs) || cap(hs)-len(hs) < add {
		out := make([]kgo.RecordHeader, 0, kept+add)
		for _, h := range hs {
			if !isTraceHeader(h.Key) {
				out = append(out, h)
			}
		}
		hs = out
	}
	buf := headerBytes(size)
	tid, sid := sc.TraceID(), sc.SpanID()
	tp := buf[:traceParentLen:traceParentLen]
	tp[0], tp[1], tp[2] = '0', '0', '-'
	hexTo(tp[3:35], tid[:])
	tp[35] = '-'
	hexTo(tp[36:52], sid[:])
	tp[52] = '-'
	flags := byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))
	tp[53], tp[54] = hexDigits[flags>>4], hexDigits[flags&0x0f]
	hs = append(hs, kgo.RecordHeader{Key: HeaderTraceParent, Value: tp})
	if ts.Len() > 0 {
		hs = append(hs, kgo.RecordHeader{Key: HeaderTraceState, Value: []byte(ts.String())})
	}
	if uberToo {
		u := buf[traceParentLen:size:size]
		copy(u[0:32], tp[3:35])
		u[32] = ':'
		copy(u[33:49], tp[36:52])
		u[49], u[50], u[51], u[52] = ':', '0', ':', '0'
		if sc.IsSampled() {
			u[52] = '1'
		}
		hs = append(hs, kgo.RecordHeader{Key: HeaderUberTraceID, Value: u})
	}
	r.Headers = hs
	if bg.Len() > 0 {
		bag.Inject(ctx, RecordCarrier(r))
	}
}

const hexDigits = "0123456789abcdef"

// hexTo writes src as lower-case hex into dst, which is 2*len(src) long.
func hexTo(dst, src []byte) {
	for i, b := range src {
		dst[2*i] = hexDigits[b>>4]
		dst[2*i+1] = hexDigits[b&0x0f]
	}
}

// slabSize is the size of the blocks header values are carved from: about
// 37 publishes per allocation.
const slabSize = 4096

type slab struct{ b []byte }

var slabs = sync.Pool{New: func() any { return new(slab) }}

// headerBytes returns n bytes for header values, carved from a per-P slab
// with the capacity cut at n, so nothing appended to one value can reach
// another. A slab lives as long as any value carved from it; records are
// short-lived, so that is at most a few KiB per record in flight.
func headerBytes(n int) []byte {
	s := slabs.Get().(*slab)
	if cap(s.b)-len(s.b) < n {
		s.b = make([]byte, 0, slabSize)
	}
	start := len(s.b)
	s.b = s.b[:start+n]
	out := s.b[start : start+n : start+n]
	slabs.Put(s)
	return out
}

// extractRecord is NewPropagator().Extract over r's headers; it also
// returns the extracted span context, invalid when r carries none (ctx's
// own span, if any, is then left in place).
func extractRecord(ctx context.Context, r *kgo.Record) (context.Context, trace.SpanContext) {
	var tp, ts []byte
	var hasTP, hasTS, hasUber, hasBag bool
	for i := len(r.Headers) - 1; i >= 0; i-- {
		h := &r.Headers[i]
		switch {
		case !hasTP && keyEqual(h.Key, HeaderTraceParent):
			tp, hasTP = h.Value, true
		case !hasTS && keyEqual(h.Key, HeaderTraceState):
			ts, hasTS = h.Value, true
		case !hasUber && keyEqual(h.Key, HeaderUberTraceID):
			hasUber = true
		case !hasBag && keyEqual(h.Key, HeaderBaggage):
			hasBag = true
		}
	}
	if hasBag {
		ctx = bag.Extract(ctx, RecordCarrier(r))
	}
	if sc, ok := parseTraceParent(tp); ok {
		if len(ts) > 0 {
			// As in TraceContext, a bad tracestate is dropped, not fatal.
			if state, err := trace.ParseTraceState(string(ts)); err == nil {
				sc = sc.WithTraceState(state)
			}
		}
		return contextWithSpanContext(ctx, sc), sc // sc is remote already
	}
	return extractUber(ctx, r, hasUber)
}

func extractUber(ctx context.Context, r *kgo.Record, has bool) (context.Context, trace.SpanContext) {
	if !has {
		return ctx, trace.SpanContext{}
	}
	// Jaeger returns ctx itself when uber-trace-id is missing or invalid.
	out := uber.Extract(ctx, RecordCarrier(r))
	if out == ctx {
		return ctx, trace.SpanContext{}
	}
	return out, trace.SpanContextFromContext(out)
}

// parseTraceParent parses a W3C traceparent exactly as OpenTelemetry's
// TraceContext does (FuzzFastPathMatchesPropagator holds it to that):
// fixed-width lowercase-hex parts, version ff invalid, version 00 without
// extra fields or reserved flag bits, ids not all zero.
func parseTraceParent(v []byte) (trace.SpanContext, bool) {
	if len(v) < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return trace.SpanContext{}, false
	}
	if len(v) > 55 && v[55] != '-' {
		return trace.SpanContext{}, false
	}
	var ver, flags [1]byte
	if !lowerHex(ver[:], v[0:2]) || ver[0] == 0xff {
		return trace.SpanContext{}, false
	}
	var cfg trace.SpanContextConfig
	if !lowerHex(cfg.TraceID[:], v[3:35]) || !lowerHex(cfg.SpanID[:], v[36:52]) || !lowerHex(flags[:], v[53:55]) {
		return trace.SpanContext{}, false
	}
	if ver[0] == 0 && (len(v) > 56 || flags[0] > 3) {
		return trace.SpanContext{}, false
	}
	cfg.TraceFlags = trace.TraceFlags(flags[0]) & (trace.FlagsSampled | trace.FlagsRandom)
	cfg.Remote = true
	sc := trace.NewSpanContext(cfg)
	return sc, sc.IsValid()
}

// lowerHex decodes lower-case hex src into dst (len(src) == 2*len(dst)).
func lowerHex(dst, src []byte) bool {
	src = src[:2*len(dst)]
	var bad byte
	for i := range dst {
		hi, lo := hexVal[src[2*i]], hexVal[src[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0xf0 == 0
}

// hexVal maps '0'-'9' and 'a'-'f' to their value and every other byte to
// 0xff, so one OR over a whole id tells whether any digit was bad.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range []byte(hexDigits) {
		t[c] = byte(i)
	}
	return t
}()
