package tracing

import (
	"context"
	"encoding/hex"
	"slices"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
)

// The record fast path. When a Messaging uses Contrail's own propagator it
// writes and reads the trace headers directly as bytes instead of going
// through the TextMapCarrier's strings: one allocation for traceparent and
// uber-trace-id together instead of about eight, and no string copies when
// extracting. The wire format is exactly NewPropagator's (the tests compare
// both on fuzzed input); only Jaeger's debug flag is not written.

// injectRecord replaces r's trace headers with sc and ctx's baggage.
func injectRecord(ctx context.Context, sc trace.SpanContext, r *kgo.Record) {
	c := RecordCarrier(r)
	c.Delete(traceHeaders...)
	if sc.IsValid() {
		tid, sid := sc.TraceID(), sc.SpanID()
		buf := make([]byte, 0, 55+53)
		buf = append(buf, "00-"...)
		buf = hex.AppendEncode(buf, tid[:])
		buf = append(buf, '-')
		buf = hex.AppendEncode(buf, sid[:])
		sampled := sc.IsSampled()
		buf = append(buf, '-')
		buf = hex.AppendEncode(buf, []byte{byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))})
		tp := buf[:len(buf):len(buf)]
		start := len(buf)
		buf = hex.AppendEncode(buf, tid[:])
		buf = append(buf, ':')
		buf = hex.AppendEncode(buf, sid[:])
		if sampled {
			buf = append(buf, ":0:1"...)
		} else {
			buf = append(buf, ":0:0"...)
		}
		r.Headers = slices.Grow(r.Headers, 2)
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderTraceParent, Value: tp})
		if ts := sc.TraceState(); ts.Len() > 0 {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderTraceState, Value: []byte(ts.String())})
		}
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderUberTraceID, Value: buf[start:]})
	}
	if baggage.FromContext(ctx).Len() > 0 {
		bag.Inject(ctx, c)
	}
}

// extractRecord is NewPropagator().Extract over r's headers.
func extractRecord(ctx context.Context, r *kgo.Record) context.Context {
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
		return trace.ContextWithRemoteSpanContext(ctx, sc)
	}
	return extractUber(ctx, r, hasUber)
}

func extractUber(ctx context.Context, r *kgo.Record, has bool) context.Context {
	if !has {
		return ctx
	}
	return uber.Extract(ctx, RecordCarrier(r))
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

func lowerHex(dst, src []byte) bool {
	for i := range dst {
		hi, ok1 := nibble(src[2*i])
		lo, ok2 := nibble(src[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

func nibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
