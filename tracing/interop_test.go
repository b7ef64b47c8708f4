package tracing_test

import (
	"context"
	"testing"
	"time"

	"github.com/opentracing/opentracing-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	jaegerclient "github.com/uber/jaeger-client-go"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
)

// startKfake starts an in-process Kafka on a loopback TCP port.
func startKfake(t testing.TB, topics ...string) []string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topics...))
	if err != nil {
		t.Fatalf("kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// roundTrip produces r to the broker and returns the record as a consumer
// fetches it.
func roundTrip(t *testing.T, addrs []string, r *kgo.Record) *kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	prod, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(r.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		if recs := fs.Records(); len(recs) > 0 {
			return recs[len(recs)-1]
		}
	}
}

// headerReader lets jaeger-client-go read record headers.
type headerReader []kgo.RecordHeader

func (h headerReader) ForeachKey(fn func(k, v string) error) error {
	for _, x := range h {
		if err := fn(x.Key, string(x.Value)); err != nil {
			return err
		}
	}
	return nil
}

func newLegacyTracer(t *testing.T, service string) (opentracing.Tracer, *jaegerclient.InMemoryReporter) {
	rep := jaegerclient.NewInMemoryReporter()
	tr, closer := jaegerclient.NewTracer(service, jaegerclient.NewConstSampler(true), rep)
	t.Cleanup(func() { closer.Close() })
	return tr, rep
}

func traceIDParts(id trace.TraceID) (hi, lo uint64) {
	for i := range 8 {
		hi = hi<<8 | uint64(id[i])
		lo = lo<<8 | uint64(id[8+i])
	}
	return hi, lo
}

func spanIDUint(id trace.SpanID) uint64 {
	var v uint64
	for _, b := range id {
		v = v<<8 | uint64(b)
	}
	return v
}

// TestLegacyConsumerContinuesOurTrace: we produce through Kafka, a service
// on jaeger-client-go consumes and continues the trace via uber-trace-id.
func TestLegacyConsumerContinuesOurTrace(t *testing.T) {
	addrs := startKfake(t, "orders")
	rec, _, m := newRecorder(sdktrace.AlwaysSample())
	r := &kgo.Record{Topic: "orders", Key: []byte("o-1"), Value: []byte("{}")}
	_, finish := m.StartSend(context.Background(), r)
	got := roundTrip(t, addrs, r)
	finish(nil)
	send := ended(t, rec, "send orders").SpanContext()

	legacy, rep := newLegacyTracer(t, "legacy-billing")
	sc, err := legacy.Extract(opentracing.TextMap, headerReader(got.Headers))
	if err != nil {
		t.Fatalf("jaeger-client-go cannot read our headers: %v (headers %s)", err, show(got.Headers))
	}
	legacy.StartSpan("bill", opentracing.ChildOf(sc)).Finish()
	spans := rep.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("legacy reported %d spans", len(spans))
	}
	ctx := spans[0].(*jaegerclient.Span).SpanContext()
	hi, lo := traceIDParts(send.TraceID())
	if ctx.TraceID().High != hi || ctx.TraceID().Low != lo {
		t.Errorf("legacy span in trace %v, want ours %v", ctx.TraceID(), send.TraceID())
	}
	if uint64(ctx.ParentID()) != spanIDUint(send.SpanID()) {
		t.Errorf("legacy span's parent %v, want our send span %v", ctx.ParentID(), send.SpanID())
	}
}

// TestWeContinueLegacyProducersTrace: a jaeger-client-go service produces
// with only uber-trace-id; our consumer continues its trace.
func TestWeContinueLegacyProducersTrace(t *testing.T) {
	addrs := startKfake(t, "invoices")
	legacy, _ := newLegacyTracer(t, "legacy-billing")
	lspan := legacy.StartSpan("publish invoice")
	r := &kgo.Record{Topic: "invoices", Value: []byte("{}")}
	if err := legacy.Inject(lspan.Context(), opentracing.TextMap, tracing.RecordCarrier(r)); err != nil {
		t.Fatal(err)
	}
	lspan.Finish()
	if tracing.RecordCarrier(r).Get("traceparent") != "" || tracing.RecordCarrier(r).Get("uber-trace-id") == "" {
		t.Fatalf("legacy headers %s, want only uber-trace-id", show(r.Headers))
	}
	got := roundTrip(t, addrs, r)

	rec, _, m := newRecorder(sdktrace.AlwaysSample())
	_, finish := m.StartProcess(context.Background(), got, "ours")
	finish(nil)
	s := ended(t, rec, "process invoices")
	lctx := lspan.(*jaegerclient.Span).SpanContext()
	hi, lo := traceIDParts(s.SpanContext().TraceID())
	if hi != lctx.TraceID().High || lo != lctx.TraceID().Low {
		t.Errorf("our span in trace %v, want legacy %v", s.SpanContext().TraceID(), lctx.TraceID())
	}
	if spanIDUint(s.Parent().SpanID()) != uint64(lctx.SpanID()) {
		t.Errorf("our parent %v, want legacy span %v", s.Parent().SpanID(), lctx.SpanID())
	}
	if len(s.Links()) != 1 || spanIDUint(s.Links()[0].SpanContext.SpanID()) != uint64(lctx.SpanID()) {
		t.Errorf("links %+v, want one to the legacy span", s.Links())
	}
}
