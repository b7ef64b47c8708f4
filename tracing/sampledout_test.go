package tracing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
)

var (
	unsampledSC = trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35}, SpanID: trace.SpanID{0x00, 0xf0, 0x67}})
	sampledSC = unsampledSC.WithTraceFlags(trace.FlagsSampled)
)

// appHeaders are headers an application set, with no spare capacity.
func appHeaders() []kgo.RecordHeader {
	return []kgo.RecordHeader{{Key: "contrail-event-id", Value: []byte("e-1")}, {Key: "content-type", Value: []byte("x")}}
}

// TestUnsampledHeaders: UnsampledAll (default) writes uber-trace-id on
// unsampled records too, UnsampledW3C leaves it out there but not on
// sampled ones; both on the byte-level fast path and through a foreign
// propagator, and neither touches the application's headers.
func TestUnsampledHeaders(t *testing.T) {
	slowProp := propagation.NewCompositeTextMapPropagator(tracing.NewPropagator())
	tests := []struct {
		name     string
		opts     []tracing.Opt
		parent   trace.SpanContext
		wantUber bool
	}{
		{name: "default, unsampled", parent: unsampledSC, wantUber: true},
		{name: "all, unsampled", opts: []tracing.Opt{tracing.WithUnsampledHeaders(tracing.UnsampledAll)}, parent: unsampledSC, wantUber: true},
		{name: "w3c, unsampled", opts: []tracing.Opt{tracing.WithUnsampledHeaders(tracing.UnsampledW3C)}, parent: unsampledSC},
		{name: "w3c, sampled", opts: []tracing.Opt{tracing.WithUnsampledHeaders(tracing.UnsampledW3C)}, parent: sampledSC, wantUber: true},
		{name: "w3c, unsampled, foreign propagator", opts: []tracing.Opt{tracing.WithUnsampledHeaders(tracing.UnsampledW3C), tracing.WithPropagators(slowProp)}, parent: unsampledSC},
		{name: "all, unsampled, foreign propagator", opts: []tracing.Opt{tracing.WithPropagators(slowProp)}, parent: unsampledSC, wantUber: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))
			m := tracing.NewMessaging(append([]tracing.Opt{tracing.WithTracerProvider(tp), tracing.WithPropagators(tracing.NewPropagator())}, tc.opts...)...)
			// A stale context from an earlier hop must go in every case.
			r := &kgo.Record{Topic: "orders", Headers: append(appHeaders(), kgo.RecordHeader{Key: "Uber-Trace-Id", Value: []byte("1:2:0:1")})}
			_, finish := m.StartSend(trace.ContextWithSpanContext(context.Background(), tc.parent), r)
			finish(nil)
			if got := tracing.RecordCarrier(r).Get("contrail-event-id"); got != "e-1" || headerCount(r, "content-type") != 1 {
				t.Fatalf("application headers changed: %v", r.Headers)
			}
			tpv := tracing.RecordCarrier(r).Get("traceparent")
			if !strings.Contains(tpv, tc.parent.TraceID().String()) || headerCount(r, "traceparent") != 1 {
				t.Fatalf("traceparent %q, want one carrying trace %s", tpv, tc.parent.TraceID())
			}
			uber := tracing.RecordCarrier(r).Get("uber-trace-id")
			if tc.wantUber != (uber != "") || strings.Contains(uber, "1:2:0:1") {
				t.Fatalf("uber-trace-id %q, want present=%v and not the stale one", uber, tc.wantUber)
			}
			// The consumer keeps the decision either way.
			ctx, finish := m.StartProcess(context.Background(), r, "g")
			finish(nil)
			sc := trace.SpanContextFromContext(ctx)
			if sc.TraceID() != tc.parent.TraceID() || sc.IsSampled() != tc.parent.IsSampled() {
				t.Fatalf("consumer context %v, want trace %s sampled=%v", sc, tc.parent.TraceID(), tc.parent.IsSampled())
			}
			if n := len(rec.Ended()); tc.parent.IsSampled() != (n == 2) {
				t.Fatalf("%d spans recorded for a parent with sampled=%v", n, tc.parent.IsSampled())
			}
		})
	}
}

// TestSampledOutWithoutParent: with a sampler that drops every root
// (ratio 0), a publish without a parent starts no span but still
// propagates a fresh unsampled context, so consumers keep the decision, and
// a record without any context gets one for its handler's logs.
func TestSampledOutWithoutParent(t *testing.T) {
	exp := keepExporter{tracetest.NewInMemoryExporter()}
	for _, cfg := range []tracing.Config{
		{Exporter: exp, Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0"},
		{Exporter: exp, Sampler: tracing.SamplerParentBasedAlwaysOff, UnsampledHeaders: "w3c"},
		{Exporter: exp, Sampler: tracing.SamplerTraceIDRatio, SamplerArg: "0"},
	} {
		t.Run(cfg.Sampler, func(t *testing.T) {
			p, err := tracing.Setup(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			m := p.Messaging()
			r1, r2 := &kgo.Record{Topic: "orders"}, &kgo.Record{Topic: "orders"}
			for _, r := range []*kgo.Record{r1, r2} {
				ctx, finish := m.StartSend(context.Background(), r)
				finish(nil)
				if trace.SpanContextFromContext(ctx).IsValid() {
					t.Fatalf("StartSend put a span in the context of a dropped root")
				}
			}
			tp1, tp2 := tracing.RecordCarrier(r1).Get("traceparent"), tracing.RecordCarrier(r2).Get("traceparent")
			if len(tp1) != 55 || !strings.HasSuffix(tp1, "-00") || tp1[3:35] == tp2[3:35] {
				t.Fatalf("traceparents %q, %q: want unsampled ones with distinct trace ids", tp1, tp2)
			}
			if uber := tracing.RecordCarrier(r1).Get("uber-trace-id"); (cfg.UnsampledHeaders == "") != strings.HasSuffix(uber, ":0") {
				t.Fatalf("uber-trace-id %q with UnsampledHeaders %q", uber, cfg.UnsampledHeaders)
			}
			ctx, finish := m.StartProcess(context.Background(), r1, "g")
			finish(nil)
			if sc := trace.SpanContextFromContext(ctx); sc.TraceID().String() != tp1[3:35] || sc.IsSampled() {
				t.Fatalf("consumer context %v, want the producer's unsampled trace (%s)", sc, tp1)
			}
			ctx, finish = m.StartProcess(context.Background(), &kgo.Record{Topic: "orders"}, "g")
			finish(nil)
			if sc := trace.SpanContextFromContext(ctx); !sc.IsValid() || sc.IsSampled() || trace.SpanFromContext(ctx).IsRecording() {
				t.Fatalf("record without context: handler context %v, want a fresh unsampled one", sc)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(exp.GetSpans()); n != 0 {
				t.Fatalf("exported %d spans, want none", n)
			}
		})
	}
}

// TestHookAllocations holds the per-record allocation budget of the hooks
// (send + process): none with tracing disabled (the runtime installs no
// hooks; a nil *Messaging is checked too), and at most two when sampled
// out: the grown header slice and the handler's context (with "none" only
// the handler's context), and one when the record has room for the trace
// headers, as the runtime's published records do.
func TestHookAllocations(t *testing.T) {
	ratio0 := tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0"}
	parent := trace.ContextWithSpanContext(context.Background(), unsampledSC)
	tests := []struct {
		name string
		cfg  tracing.Config
		ctx  context.Context
		max  float64
		room bool // the record's header slice has room for the trace headers
	}{
		{name: "disabled", cfg: tracing.Config{Disabled: true}, ctx: context.Background(), max: 0},
		{name: "sampled out, unsampled parent", cfg: ratio0, ctx: parent, max: 2},
		{name: "sampled out, no parent", cfg: ratio0, ctx: context.Background(), max: 2},
		{name: "sampled out, unsampled parent, header room", cfg: ratio0, ctx: parent, max: 1, room: true},
		{name: "sampled out, w3c", cfg: tracing.Config{Sampler: ratio0.Sampler, SamplerArg: "0", UnsampledHeaders: "w3c"}, ctx: parent, max: 2},
		{name: "sampled out, none", cfg: tracing.Config{Sampler: ratio0.Sampler, SamplerArg: "0", UnsampledHeaders: "none"}, ctx: parent, max: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Exporter = &discard{}
			p, err := tracing.Setup(context.Background(), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Shutdown(context.Background())
			m := p.Messaging()
			if tc.cfg.Disabled != (m == nil) {
				t.Fatalf("Messaging() = %v with Disabled=%v", m, tc.cfg.Disabled)
			}
			base := appHeaders()
			if tc.room {
				base = append(make([]kgo.RecordHeader, 0, len(base)+3), base...)
			}
			r := &kgo.Record{Topic: "orders"}
			allocs := testing.AllocsPerRun(2000, func() {
				r.Headers = base[:len(base):cap(base)]
				c, f := m.StartSend(tc.ctx, r)
				f(nil)
				_, f = m.StartProcess(c, r, "g")
				f(nil)
			})
			if allocs > tc.max {
				t.Fatalf("%v allocations per record, want at most %v", allocs, tc.max)
			}
			if !tc.cfg.Disabled && tc.cfg.UnsampledHeaders != "none" && tracing.RecordCarrier(r).Get("traceparent") == "" {
				t.Fatalf("no traceparent written")
			}
		})
	}
}

// TestStartProcessIgnoresSpanInContext: a record without a usable context
// starts a new root even when the consumer's ctx already holds a span, on
// the fast path and through a foreign propagator alike.
func TestStartProcessIgnoresSpanInContext(t *testing.T) {
	unrelated := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{9}, SpanID: trace.SpanID{9}, TraceFlags: trace.FlagsSampled}))
	tests := []struct {
		name    string
		prop    propagation.TextMapPropagator
		headers []kgo.RecordHeader
	}{
		{name: "fast, no headers", prop: tracing.NewPropagator()},
		{name: "fast, malformed", prop: tracing.NewPropagator(), headers: []kgo.RecordHeader{
			{Key: "traceparent", Value: []byte("00-zz")}, {Key: "uber-trace-id", Value: []byte("1:2")}}},
		{name: "foreign, malformed", prop: propagation.NewCompositeTextMapPropagator(tracing.NewPropagator()), headers: []kgo.RecordHeader{
			{Key: "uber-trace-id", Value: []byte("x:y:z:1")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			m := tracing.NewMessaging(tracing.WithTracerProvider(tp), tracing.WithPropagators(tc.prop))
			ctx, finish := m.StartProcess(unrelated, &kgo.Record{Topic: "orders", Headers: tc.headers}, "g")
			finish(nil)
			s := ended(t, rec, "process orders")
			if s.Parent().IsValid() || len(s.Links()) != 0 || s.SpanContext().TraceID() == (trace.TraceID{9}) {
				t.Fatalf("parent %v, %d links, trace %v: want a new root", s.Parent(), len(s.Links()), s.SpanContext().TraceID())
			}
			if !trace.SpanContextFromContext(ctx).Equal(s.SpanContext()) {
				t.Fatalf("handler context does not hold the process span")
			}
		})
	}
}

// TestConcurrentSendsKeepTheirOwnHeaders: header values carved from the
// shared slab never overlap, whatever goroutine writes them (run with
// -race too).
func TestConcurrentSendsKeepTheirOwnHeaders(t *testing.T) {
	p, err := tracing.Setup(context.Background(), tracing.Config{Exporter: &discard{}, Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	m := p.Messaging()
	const workers, each = 8, 500
	errs := make(chan string, workers)
	for w := range workers {
		go func() {
			var msg string
			defer func() { errs <- msg }()
			rs := make([]*kgo.Record, each)
			for i := range rs {
				sc := unsampledSC.WithTraceID(trace.TraceID{byte(w), byte(i >> 8), byte(i), 1})
				rs[i] = &kgo.Record{Topic: "orders", Headers: appHeaders()}
				m.StartSend(trace.ContextWithSpanContext(context.Background(), sc), rs[i])
			}
			for i, r := range rs {
				want := trace.TraceID{byte(w), byte(i >> 8), byte(i), 1}.String()
				tp, uber := tracing.RecordCarrier(r).Get("traceparent"), tracing.RecordCarrier(r).Get("uber-trace-id")
				if tp[3:35] != want || uber[:32] != want {
					msg = "record " + want + " carries " + tp + " / " + uber
					return
				}
			}
		}()
	}
	for range workers {
		if msg := <-errs; msg != "" {
			t.Fatal(msg)
		}
	}
}
