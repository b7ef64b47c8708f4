package tracing

import (
	"context"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// FuzzFastPathMatchesPropagator holds the byte-level fast path to
// NewPropagator's behavior: same extracted context (ids, flags, remote,
// tracestate, baggage) for arbitrary header values, alone under the
// propagators' keys and after stale headers of the same names spelled in
// other cases (the last header of a name wins, in any case), and injected
// headers that the propagator reads back identically.
func FuzzFastPathMatchesPropagator(f *testing.F) {
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "congo=t61rcWkgMzE", "3f1a2b3c4d5e6f70:5e6f708192a3b4c5:0:1", "k=v")
	f.Add("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-", "", "", "")
	f.Add("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03-what-ever", "bad state!", "x:y:z", "%zz")
	f.Add("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01", "", "0:0:0:1", "")
	f.Add("ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "a=1,b=2", "", "")
	f.Add("00-00000000000000000000000000000000-b7ad6b7169203331-01", "", "abc:def:0:3", "")
	prop := NewPropagator()
	stale := []kgo.RecordHeader{
		{Key: "TraceParent", Value: []byte("00-ffffffffffffffffffffffffffffffff-ffffffffffffffff-01")},
		{Key: "TraceState", Value: []byte("stale=1")},
		{Key: "Uber-Trace-Id", Value: []byte("1:2:0:1")},
		{Key: "Baggage", Value: []byte("stale=1")},
		{Key: "x-app", Value: []byte("1")},
	}
	f.Fuzz(func(t *testing.T, tp, ts, uberID, bg string) {
		for _, layout := range []struct {
			name  string
			base  []kgo.RecordHeader
			upper bool
		}{{name: "alone"}, {name: "after stale headers", base: stale, upper: true}} {
			r := &kgo.Record{Headers: append([]kgo.RecordHeader(nil), layout.base...)}
			for _, kv := range [][2]string{{wire.HeaderTraceParent, tp}, {wire.HeaderTraceState, ts}, {wire.HeaderUberTraceID, uberID}, {wire.HeaderBaggage, bg}} {
				if kv[1] != "" {
					if layout.upper {
						kv[0] = strings.ToUpper(kv[0])
					}
					r.Headers = append(r.Headers, kgo.RecordHeader{Key: kv[0], Value: []byte(kv[1])})
				}
			}
			checkFastPath(t, prop, r, layout.name)
		}
	})
}

// checkFastPath compares extractRecord with prop.Extract on r, then
// injectRecord with prop.Inject on what was extracted.
func checkFastPath(t *testing.T, prop propagation.TextMapPropagator, r *kgo.Record, layout string) {
	t.Helper()
	want := prop.Extract(context.Background(), RecordCarrier(r))
	got, gsc := extractRecord(context.Background(), r)
	ws, gs := trace.SpanContextFromContext(want), trace.SpanContextFromContext(got)
	if !ws.Equal(gs) || !gsc.Equal(gs) {
		t.Fatalf("%s: extract: fast %+v (returned %+v), propagator %+v", layout, gs, gsc, ws)
	}
	if baggage.FromContext(want).String() != baggage.FromContext(got).String() {
		t.Fatalf("%s: baggage: fast %q, propagator %q", layout, baggage.FromContext(got), baggage.FromContext(want))
	}
	if !gs.IsValid() {
		return
	}
	// Inject what was extracted both ways; the propagator must read both
	// results back to the same context.
	ctx := trace.ContextWithSpanContext(got, gs)
	fastRec, slowRec := &kgo.Record{}, &kgo.Record{}
	injectRecord(ctx, gs, fastRec, true)
	prop.Inject(ctx, RecordCarrier(slowRec))
	for _, k := range []string{wire.HeaderTraceParent, wire.HeaderTraceState, wire.HeaderBaggage} {
		if a, b := RecordCarrier(fastRec).Get(k), RecordCarrier(slowRec).Get(k); a != b {
			t.Fatalf("%s: inject %s: fast %q, propagator %q", layout, k, a, b)
		}
	}
	// uber-trace-id may differ only in Jaeger's debug flag, which the fast
	// path does not write; it must carry the same context.
	a := trace.SpanContextFromContext(uber.Extract(context.Background(), RecordCarrier(fastRec)))
	b := trace.SpanContextFromContext(uber.Extract(context.Background(), RecordCarrier(slowRec)))
	if !a.Equal(b) {
		t.Fatalf("%s: inject uber-trace-id: fast %q, propagator %q", layout, RecordCarrier(fastRec).Get(wire.HeaderUberTraceID), RecordCarrier(slowRec).Get(wire.HeaderUberTraceID))
	}
}

// TestInjectRecordValues: the values injectRecord writes are exact and
// capacity-capped (appending to one never reaches another), for sampled and
// unsampled contexts, with and without uber-trace-id.
func TestInjectRecordValues(t *testing.T) {
	tid := trace.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c}
	sid := trace.SpanID{0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31}
	tests := []struct {
		name     string
		flags    trace.TraceFlags
		withUber bool
		tp, uber string // uber "" means no uber-trace-id header
	}{
		{name: "sampled", flags: trace.FlagsSampled, tp: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", uber: "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1"},
		{name: "sampled, random", flags: trace.FlagsSampled | trace.FlagsRandom, tp: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03", uber: "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:1"},
		{name: "unsampled with uber", withUber: true, tp: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00", uber: "0af7651916cd43dd8448eb211c80319c:b7ad6b7169203331:0:0"},
		{name: "unsampled without uber", tp: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: tt.flags})
			r := &kgo.Record{Headers: []kgo.RecordHeader{{Key: "a", Value: []byte("1")}, {Key: "TraceParent", Value: []byte("stale")}}}
			injectRecord(context.Background(), sc, r, tt.withUber)
			want := map[string]string{"a": "1", wire.HeaderTraceParent: tt.tp}
			if tt.uber != "" {
				want[wire.HeaderUberTraceID] = tt.uber
			}
			if len(r.Headers) != len(want) {
				t.Fatalf("headers %v, want %v", r.Headers, want)
			}
			for _, h := range r.Headers {
				if want[h.Key] != string(h.Value) {
					t.Fatalf("header %s = %q, want %q", h.Key, h.Value, want[h.Key])
				}
				if h.Key != "a" && cap(h.Value) != len(h.Value) {
					t.Fatalf("header %s has capacity %d for %d bytes", h.Key, cap(h.Value), len(h.Value))
				}
			}
		})
	}
}
