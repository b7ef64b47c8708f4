package eventing_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/tracing"
)

func TestRelayedEventsContinueTheHandlersTrace(t *testing.T) {
	e := newEnv(t, 1, "things", "echoes")
	tb, eb := thingBinding("things"), echoBinding("echoes")
	ctx := context.Background()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	defer tp.Shutdown(ctx)
	m := tracing.NewMessaging(tracing.WithTracerProvider(tp), tracing.WithPropagators(tracing.NewPropagator()))
	pub, err := eventing.NewPublisher(eventing.Brokers(e.addr), eventing.WithCodec(e.codec), eventing.WithTracer(m))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	st := openState(t)
	const n = 3
	if err := eventing.PublishAll(ctx, pub, tb, things(n, 1, "")); err != nil {
		t.Fatal(err)
	}
	r := e.router("trace-outbox", eventing.WithInbox(st), eventing.WithPublisher(pub), eventing.WithTracer(m))
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		return eventing.Emit(ctx, eb, &Echo{OrderID: th.OrderID, Seq: th.Seq})
	})
	stop := run(t, r)
	e.readAll("echoes", n) // waits for them
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	echoes := e.readAll("echoes", n) // all there are: the router stopped
	if len(echoes) != n {
		t.Fatalf("%d echoes, want %d", len(echoes), n)
	}
	process := map[string]sdktrace.ReadOnlySpan{} // by span id
	var sends []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		switch s.Name() {
		case "process things":
			process[s.SpanContext().SpanID().String()] = s
		case "send echoes":
			sends = append(sends, s)
		}
	}
	if len(process) != n || len(sends) != n {
		t.Fatalf("%d process spans and %d relay send spans, want %d of each", len(process), len(sends), n)
	}
	for _, s := range sends {
		p, ok := process[s.Parent().SpanID().String()]
		if !ok || p.SpanContext().TraceID() != s.SpanContext().TraceID() {
			t.Fatalf("relay send span %s (trace %s) is not a child of a handler's process span: it started a new trace", s.SpanContext().SpanID(), s.SpanContext().TraceID())
		}
	}
	for _, rec := range echoes {
		id := eventing.HeaderValue(rec, "traceparent")
		if len(id) != 55 {
			t.Fatalf("echo traceparent %q", id)
		}
		found := false
		for _, s := range sends {
			if id[3:35] == s.SpanContext().TraceID().String() && id[36:52] == s.SpanContext().SpanID().String() {
				found = true
			}
		}
		if !found {
			t.Fatalf("echo traceparent %q is not the relay's send span", id)
		}
	}
}
