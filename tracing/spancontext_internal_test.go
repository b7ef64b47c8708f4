package tracing

import (
	"context"
	"testing"
	"unsafe"

	"go.opentelemetry.io/otel/baggage"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

type testKey struct{}

// TestContextWithSpanContext: the one-allocation context behaves like
// trace.ContextWithSpanContext for everything that reads it.
func TestContextWithSpanContext(t *testing.T) {
	if !spanKeyOK {
		t.Fatal("the trace package's span key was not found: the sampled-out path lost its one-allocation context")
	}
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{8}, Remote: true})
	m, _ := baggage.NewMember("k", "v")
	b, _ := baggage.New(m)
	parent, cancel := context.WithCancel(baggage.ContextWithBaggage(context.WithValue(context.Background(), testKey{}, "x"), b))
	ctx := contextWithSpanContext(parent, sc)

	if got := trace.SpanContextFromContext(ctx); !got.Equal(sc) {
		t.Fatalf("span context %v, want %v", got, sc)
	}
	span := trace.SpanFromContext(ctx)
	span.SetAttributes() // must be a no-op, never a panic
	span.End()
	if span.IsRecording() {
		t.Fatal("span is recording")
	}
	if ctx.Value(testKey{}) != "x" || baggage.FromContext(ctx).Member("k").Value() != "v" {
		t.Fatal("values of the parent context are lost")
	}
	if n := testing.AllocsPerRun(100, func() { _ = contextWithSpanContext(parent, sc) }); n > 1 {
		t.Fatalf("%v allocations, want 1", n)
	}

	// A child started from it belongs to the trace, and a newer span wins.
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sdktrace.AlwaysSample()))
	cctx, child := tp.Tracer("t").Start(ctx, "child")
	child.End()
	if len(rec.Ended()) != 1 || !rec.Ended()[0].Parent().Equal(sc) {
		t.Fatalf("ended %d spans, want one child of %v", len(rec.Ended()), sc)
	}
	if !trace.SpanContextFromContext(cctx).Equal(child.SpanContext()) {
		t.Fatal("a span set on top does not win")
	}

	// Cancellation flows through it.
	done := context.AfterFunc(ctx, func() {})
	defer done()
	cancel()
	<-ctx.Done()
	if ctx.Err() != context.Canceled {
		t.Fatalf("Err = %v, want Canceled", ctx.Err())
	}
}

// TestContextWithSpanContextParts: every part of the span context comes
// back (trace state, flags, remote or not), in one allocation even with a
// trace state or unusual flags, and the context stays in the 48-byte size
// class.
func TestContextWithSpanContextParts(t *testing.T) {
	if n := unsafe.Sizeof(spanContextCtx{}); n > 48 {
		t.Fatalf("spanContextCtx is %d bytes, want at most 48", n)
	}
	ts, err := trace.ParseTraceState("congo=t61rcWkgMzE,rojo=00f067aa0ba902b7")
	if err != nil {
		t.Fatal(err)
	}
	base := trace.SpanContextConfig{TraceID: trace.TraceID{0xff, 1}, SpanID: trace.SpanID{2, 0xee}}
	tests := []struct {
		name   string
		modify func(*trace.SpanContextConfig)
	}{
		{name: "plain", modify: func(*trace.SpanContextConfig) {}},
		{name: "remote", modify: func(c *trace.SpanContextConfig) { c.Remote = true }},
		{name: "sampled", modify: func(c *trace.SpanContextConfig) { c.TraceFlags = trace.FlagsSampled }},
		{name: "random flag", modify: func(c *trace.SpanContextConfig) { c.TraceFlags = trace.FlagsRandom | trace.FlagsSampled }},
		{name: "trace state", modify: func(c *trace.SpanContextConfig) { c.TraceState = ts; c.Remote = true }},
		{name: "trace state, not remote", modify: func(c *trace.SpanContextConfig) { c.TraceState = ts }},
		{name: "unknown flags", modify: func(c *trace.SpanContextConfig) { c.TraceFlags = 0xfd; c.Remote = true }},
		{name: "flag 4", modify: func(c *trace.SpanContextConfig) { c.TraceFlags = 4 }},
		{name: "invalid", modify: func(c *trace.SpanContextConfig) { *c = trace.SpanContextConfig{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.modify(&cfg)
			sc := trace.NewSpanContext(cfg)
			ctx := contextWithSpanContext(context.Background(), sc)
			got := trace.SpanContextFromContext(ctx)
			if !got.Equal(sc) || got.IsRemote() != sc.IsRemote() || got.TraceFlags() != sc.TraceFlags() || got.TraceState().String() != sc.TraceState().String() {
				t.Fatalf("span context %v, want %v", got, sc)
			}
			if n := testing.AllocsPerRun(100, func() { _ = contextWithSpanContext(context.Background(), sc) }); n != 1 {
				t.Fatalf("%v allocations, want 1", n)
			}
		})
	}
}
