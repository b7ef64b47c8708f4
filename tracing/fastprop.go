package tracing

import (
	"context"
	"encoding/binary"
	"sync"

	"github.com/contrail-events/contrail/wire"
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
// Small enough to inline: most keys are told apart by their length alone.
func isTraceHeader(key string) bool {
	switch len(key) {
	case len(wire.HeaderTraceParent), len(wire.HeaderTraceState), len(wire.HeaderBaggage), len(wire.HeaderUberTraceID):
		return isTraceHeaderKey(key)
	}
	return false
}

func isTraceHeaderKey(key string) bool {
	switch len(key) {
	case len(wire.HeaderTraceParent):
		return keyEqual(key, wire.HeaderTraceParent)
	case len(wire.HeaderTraceState):
		return keyEqual(key, wire.HeaderTraceState)
	case len(wire.HeaderBaggage):
		return keyEqual(key, wire.HeaderBaggage)
	case len(wire.HeaderUberTraceID):
		return keyEqual(key, wire.HeaderUberTraceID)
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
	t0, t1, t2, t3, s0, s1 := hexIDs(&tid, &sid)
	tp := (*[traceParentLen]byte)(buf[:traceParentLen])
	tp[0], tp[1], tp[2] = '0', '0', '-'
	putHexIDs(tp[3:35], tp[36:52], t0, t1, t2, t3, s0, s1)
	tp[35], tp[52] = '-', '-'
	flags := byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))
	tp[53], tp[54] = hexDigits[flags>>4], hexDigits[flags&0x0f]
	hs = appendHeader(hs, wire.HeaderTraceParent, tp[:])
	if ts.Len() > 0 {
		hs = appendHeader(hs, wire.HeaderTraceState, []byte(ts.String()))
	}
	if uberToo {
		u := (*[uberTraceIDLen]byte)(buf[traceParentLen:size])
		putHexIDs(u[0:32], u[33:49], t0, t1, t2, t3, s0, s1)
		u[32], u[49], u[50], u[51], u[52] = ':', ':', '0', ':', '0'
		if sc.IsSampled() {
			u[52] = '1'
		}
		hs = appendHeader(hs, wire.HeaderUberTraceID, u[:])
	}
	r.Headers = hs
	if bg.Len() > 0 {
		bag.Inject(ctx, RecordCarrier(r))
	}
}

const hexDigits = "0123456789abcdef"

// SWAR ("SIMD within a register") hex: eight characters or four bytes at a
// time in one uint64, loaded and stored little-endian so that byte i of the
// text is byte i of the word on every machine.
const lsb = 0x0101010101010101 // 0x01 in every byte

// hexEncode4 returns the eight lower-case hex characters of the four bytes
// of u (byte i in bits 8i..8i+7), in the same order.
func hexEncode4(u uint32) uint64 {
	x := uint64(u)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff // byte i alone in 16-bit lane i
	// The high nibble first, then the low one: one nibble a byte.
	return hexEncodeNibbles(x>>4&0x000f000f000f000f | (x&0x000f000f000f000f)<<8)
}

// hexDecode8 decodes eight lower-case hex characters (character i in bits
// 8i..8i+7) into four bytes in the same order. bad is zero if every
// character is one of 0-9 a-f, non-zero otherwise.
func hexDecode8(x uint64) (u uint32, bad uint64) {
	// The value of a valid character is its low nibble, plus 9 for a
	// letter (bit 6 set). An invalid one gets some value up to 24; it is
	// caught by encoding the values back: only valid characters survive
	// the round trip, and values of 16 or more (from 'g' to 'o') are
	// rejected outright. No step carries out of its byte.
	n := x&(0x0f*lsb) + x>>6&lsb*9
	bad = n&(0x10*lsb) | (hexEncodeNibbles(n) ^ x)
	t := (n<<4 | n>>8) & 0x00ff00ff00ff00ff
	t = (t | t>>8) & 0x0000ffff0000ffff
	return uint32(t | t>>16), bad
}

// hexEncodeNibbles turns each byte of n, a value up to 24, into the
// lower-case hex digit of that value (bytes of 16 or more give letters past
// 'f').
func hexEncodeNibbles(n uint64) uint64 {
	// Values 10-24 carry into bit 4 when 6 is added; none leaves its byte.
	letters := (n + 6*lsb) >> 4 & lsb
	return n + '0'*lsb + letters*('a'-'0'-10)
}

// hexIDs returns the lower-case hex of a trace id (t0-t3) and a span id
// (s0, s1), eight characters a word. Words in registers rather than an
// array: storing them twice then costs no trip through memory.
func hexIDs(tid *trace.TraceID, sid *trace.SpanID) (t0, t1, t2, t3, s0, s1 uint64) {
	le := binary.LittleEndian
	return hexEncode4(le.Uint32(tid[0:4])), hexEncode4(le.Uint32(tid[4:8])),
		hexEncode4(le.Uint32(tid[8:12])), hexEncode4(le.Uint32(tid[12:16])),
		hexEncode4(le.Uint32(sid[0:4])), hexEncode4(le.Uint32(sid[4:8]))
}

// putHexIDs stores hexIDs' words: the trace id's 32 characters in t, the
// span id's 16 in s.
func putHexIDs(t, s []byte, t0, t1, t2, t3, s0, s1 uint64) {
	le := binary.LittleEndian
	t, s = t[:32], s[:16]
	le.PutUint64(t[0:8], t0)
	le.PutUint64(t[8:16], t1)
	le.PutUint64(t[16:24], t2)
	le.PutUint64(t[24:32], t3)
	le.PutUint64(s[0:8], s0)
	le.PutUint64(s[8:16], s1)
}

// appendHeader appends the header key: value, writing its fields in place
// (appending a composite literal builds it on the stack first and copies
// it, which stalls on the fresh stores).
func appendHeader(hs []kgo.RecordHeader, key string, value []byte) []kgo.RecordHeader {
	hs = append(hs, kgo.RecordHeader{})
	h := &hs[len(hs)-1]
	h.Key, h.Value = key, value
	return hs
}

// decodeIDs decodes the trace id (32 lower-case hex characters at t) and
// span id (16 at s) into tid and sid, and reports whether every character
// was one of 0-9 a-f.
func decodeIDs(tid *trace.TraceID, sid *trace.SpanID, t, s []byte) bool {
	le := binary.LittleEndian
	t, s = t[:32], s[:16]
	u0, b0 := hexDecode8(le.Uint64(t[0:8]))
	u1, b1 := hexDecode8(le.Uint64(t[8:16]))
	u2, b2 := hexDecode8(le.Uint64(t[16:24]))
	u3, b3 := hexDecode8(le.Uint64(t[24:32]))
	u4, b4 := hexDecode8(le.Uint64(s[0:8]))
	u5, b5 := hexDecode8(le.Uint64(s[8:16]))
	le.PutUint32(tid[0:4], u0)
	le.PutUint32(tid[4:8], u1)
	le.PutUint32(tid[8:12], u2)
	le.PutUint32(tid[12:16], u3)
	le.PutUint32(sid[0:4], u4)
	le.PutUint32(sid[4:8], u5)
	return b0|b1|b2|b3|b4|b5 == 0
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
		switch len(h.Key) { // the last header of each name wins
		case len(wire.HeaderTraceParent):
			if !hasTP && keyEqual(h.Key, wire.HeaderTraceParent) {
				tp, hasTP = h.Value, true
			}
		case len(wire.HeaderTraceState):
			if !hasTS && keyEqual(h.Key, wire.HeaderTraceState) {
				ts, hasTS = h.Value, true
			}
		case len(wire.HeaderUberTraceID):
			hasUber = hasUber || keyEqual(h.Key, wire.HeaderUberTraceID)
		case len(wire.HeaderBaggage):
			hasBag = hasBag || keyEqual(h.Key, wire.HeaderBaggage)
		}
	}
	if hasBag {
		ctx = bag.Extract(ctx, RecordCarrier(r))
	}
	var cfg trace.SpanContextConfig
	if parseTraceParent(tp, &cfg) {
		if len(ts) > 0 {
			// As in TraceContext, a bad tracestate is dropped, not fatal.
			if state, err := trace.ParseTraceState(string(ts)); err == nil {
				cfg.TraceState = state
			}
		}
		return contextWithConfig(ctx, &cfg), trace.NewSpanContext(cfg)
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

// parseTraceParent parses a W3C traceparent into cfg (ids, flags and
// Remote) and reports whether it is valid, exactly as OpenTelemetry's
// TraceContext decides (FuzzFastPathMatchesPropagator holds it to that):
// fixed-width lowercase-hex parts, version ff invalid, version 00 without
// extra fields or reserved flag bits, ids not all zero.
func parseTraceParent(v []byte, cfg *trace.SpanContextConfig) bool {
	if len(v) < traceParentLen || v[2] != '-' || v[35] != '-' || v[52] != '-' {
		return false
	}
	if len(v) > traceParentLen && v[traceParentLen] != '-' {
		return false
	}
	ver, okVer := hexByte(v[0], v[1])
	flags, okFlags := hexByte(v[53], v[54])
	if !okVer || !okFlags || ver == 0xff || ver == 0 && (len(v) > traceParentLen+1 || flags > 3) {
		return false
	}
	cfg.TraceFlags = trace.TraceFlags(flags) & (trace.FlagsSampled | trace.FlagsRandom)
	cfg.Remote = true
	return decodeIDs(&cfg.TraceID, &cfg.SpanID, v[3:35], v[36:52]) && cfg.TraceID.IsValid() && cfg.SpanID.IsValid()
}

// hexByte decodes the two lower-case hex characters hi and lo.
func hexByte(hi, lo byte) (byte, bool) {
	h, l := hexVal[hi], hexVal[lo]
	return h<<4 | l&0x0f, (h|l)&0xf0 == 0
}

// hexVal maps '0'-'9' and 'a'-'f' to their value and every other byte to
// 0xff, so one OR over several digits tells whether any was bad.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range []byte(hexDigits) {
		t[c] = byte(i)
	}
	return t
}()
