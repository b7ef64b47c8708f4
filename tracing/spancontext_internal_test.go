package tracing

import (
	"context"
	"testing"

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
