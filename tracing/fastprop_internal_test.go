package tracing

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"
)

// FuzzFastPathMatchesPropagator holds the byte-level fast path to
// NewPropagator's behavior: same extracted context (ids, flags, remote,
// tracestate, baggage) for arbitrary header values, and injected headers
// that the propagator reads back identically.
func FuzzFastPathMatchesPropagator(f *testing.F) {
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "congo=t61rcWkgMzE", "3f1a2b3c4d5e6f70:5e6f708192a3b4c5:0:1", "k=v")
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-", "", "", "")
	f.Add("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03-what-ever", "bad state!", "x:y:z", "%zz")
	f.Add("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01", "", "0:0:0:1", "")
	f.Add("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "a=1,b=2", "", "")
	f.Add("00-00000000000000000000000000000000-b7ad6b7169203331-01", "", "abc:def:0:3", "")
	prop := NewPropagator()
	f.Fuzz(func(t *testing.T, tp, ts, uberID, bg string) {
		r := &kgo.Record{}
		c := RecordCarrier(r)
		for _, kv := range [][2]string{{HeaderTraceParent, tp}, {HeaderTraceState, ts}, {HeaderUberTraceID, uberID}, {HeaderBaggage, bg}} {
			if kv[1] != "" {
				c.Set(kv[0], kv[1])
			}
		}
		want := prop.Extract(context.Background(), c)
		got, gsc := extractRecord(context.Background(), r)
		ws, gs := trace.SpanContextFromContext(want), trace.SpanContextFromContext(got)
		if !ws.Equal(gs) || !gsc.Equal(gs) {
			t.Fatalf("extract: fast %+v (returned %+v), propagator %+v", gs, gsc, ws)
		}
		if baggage.FromContext(want).String() != baggage.FromContext(got).String() {
			t.Fatalf("baggage: fast %q, propagator %q", baggage.FromContext(got), baggage.FromContext(want))
		}
		if !gs.IsValid() {
			return
		}
		// Inject what was extracted both ways; the propagator must read
		// both results back to the same context.
		ctx := trace.ContextWithSpanContext(got, gs)
		fastRec, slowRec := &kgo.Record{}, &kgo.Record{}
		injectRecord(ctx, gs, fastRec, true)
		prop.Inject(ctx, RecordCarrier(slowRec))
		for _, k := range []string{HeaderTraceParent, HeaderTraceState, HeaderBaggage} {
			if a, b := RecordCarrier(fastRec).Get(k), RecordCarrier(slowRec).Get(k); a != b {
				t.Fatalf("inject %s: fast %q, propagator %q", k, a, b)
			}
		}
		// uber-trace-id may differ only in Jaeger's debug flag, which the
		// fast path does not write; it must carry the same context.
		a := trace.SpanContextFromContext(uber.Extract(context.Background(), RecordCarrier(fastRec)))
		b := trace.SpanContextFromContext(uber.Extract(context.Background(), RecordCarrier(slowRec)))
		if !a.Equal(b) {
			t.Fatalf("inject uber-trace-id: fast %q, propagator %q", RecordCarrier(fastRec).Get(HeaderUberTraceID), RecordCarrier(slowRec).Get(HeaderUberTraceID))
		}
	})
}
