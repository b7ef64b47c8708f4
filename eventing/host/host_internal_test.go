package host

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/contrail-events/contrail/tracing"
)

// TestHookTracerContinuesOutboxTrace checks the workaround for the relay:
// a record written to the outbox under a span, then sent from an unrelated
// context (as eventing.Relay does), gets a send span in the original trace,
// and onPublished fires only for acknowledged records.
func TestHookTracerContinuesOutboxTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prop := tracing.NewPropagator()
	var published []*kgo.Record
	ht := hookTracer{inner: tracing.NewMessaging(tracing.WithTracerProvider(tp), tracing.WithPropagators(prop)), prop: prop,
		onPublished: func(r *kgo.Record) { published = append(published, r) }}

	tests := []struct {
		name      string
		outboxCtx bool  // the record carries the handler's trace context
		sendErr   error // the produce result
	}{
		{name: "outbox row continues the trace", outboxCtx: true},
		{name: "failed send is not published", outboxCtx: true, sendErr: errors.New("broker down")},
		{name: "record without context starts a trace", outboxCtx: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			published = nil
			handlerCtx, handlerSpan := tp.Tracer("test").Start(context.Background(), "POST /orders")
			r := &kgo.Record{Topic: "orders", Key: []byte("o1")}
			if tt.outboxCtx {
				prop.Inject(handlerCtx, tracing.RecordCarrier(r)) // what Host.Outbox stores
			}
			handlerSpan.End()
			_, finish := ht.StartSend(context.Background(), r) // the relay's own context
			finish(tt.sendErr)
			spans := rec.Ended()
			send := spans[len(spans)-1]
			if send.Name() != "send orders" {
				t.Fatalf("last span %q", send.Name())
			}
			sameTrace := send.SpanContext().TraceID() == handlerSpan.SpanContext().TraceID()
			if sameTrace != tt.outboxCtx {
				t.Errorf("send span in the handler's trace = %v, want %v", sameTrace, tt.outboxCtx)
			}
			if tt.outboxCtx && send.Parent().SpanID() != handlerSpan.SpanContext().SpanID() {
				t.Errorf("send span's parent %s, want the handler span %s", send.Parent().SpanID(), handlerSpan.SpanContext().SpanID())
			}
			if got := len(published) == 1; got != (tt.sendErr == nil) {
				t.Errorf("onPublished called %d times for send error %v", len(published), tt.sendErr)
			}
		})
	}

	// With tracing off, the hook still reports publishes and costs no span.
	off := hookTracer{onPublished: func(r *kgo.Record) { published = append(published, r) }}
	published = nil
	_, finish := off.StartSend(context.Background(), &kgo.Record{Topic: "orders"})
	finish(nil)
	if len(published) != 1 {
		t.Fatalf("tracing off: onPublished called %d times", len(published))
	}
}
