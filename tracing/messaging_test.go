package tracing_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
)

func newRecorder(sampler sdktrace.Sampler) (*tracetest.SpanRecorder, *sdktrace.TracerProvider, *tracing.Messaging) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(sampler))
	return rec, tp, tracing.NewMessaging(tracing.WithTracerProvider(tp), tracing.WithPropagators(tracing.NewPropagator()))
}

func attrMap(kvs []attribute.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.Emit()
	}
	return m
}

// wantAttrs reports every attribute of want that kvs lacks or holds with
// another value.
func wantAttrs(t *testing.T, kvs []attribute.KeyValue, want map[string]string) {
	t.Helper()
	got := attrMap(kvs)
	for k, v := range want {
		if got[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, got[k], v)
		}
	}
}

func headerCount(r *kgo.Record, key string) int {
	n := 0
	for _, h := range r.Headers {
		if h.Key == key {
			n++
		}
	}
	return n
}

func ended(t *testing.T, rec *tracetest.SpanRecorder, name string) sdktrace.ReadOnlySpan {
	t.Helper()
	for _, s := range rec.Ended() {
		if s.Name() == name {
			return s
		}
	}
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	t.Fatalf("no ended span %q; have %v", name, names)
	return nil
}

func TestStartSendSpanAndHeaders(t *testing.T) {
	rec, tp, m := newRecorder(sdktrace.AlwaysSample())
	ctx, parent := tp.Tracer("test").Start(context.Background(), "POST /orders")
	r := &kgo.Record{Topic: "orders", Key: []byte("order-1"), Headers: []kgo.RecordHeader{
		{Key: "contrail-event-id", Value: []byte("ev-1")},
		{Key: "traceparent", Value: []byte("00-11111111111111111111111111111111-2222222222222222-01")},
		{Key: "tracestate", Value: []byte("stale=1")},
		{Key: "x-app", Value: []byte("keep")},
	}}
	sctx, finish := m.StartSend(ctx, r)
	r.Partition, r.Offset = 3, 42 // what the client fills in on success
	finish(nil)
	parent.End()

	s := ended(t, rec, "send orders")
	if s.SpanKind() != trace.SpanKindProducer {
		t.Errorf("kind %v, want producer", s.SpanKind())
	}
	if s.Parent().SpanID() != parent.SpanContext().SpanID() {
		t.Errorf("parent %v, want the HTTP span %v", s.Parent().SpanID(), parent.SpanContext().SpanID())
	}
	if got := trace.SpanContextFromContext(sctx).SpanID(); got != s.SpanContext().SpanID() {
		t.Errorf("returned context holds span %v, want the send span", got)
	}
	want := map[string]string{
		"messaging.system":                   "kafka",
		"messaging.operation.name":           "send",
		"messaging.operation.type":           "send",
		"messaging.destination.name":         "orders",
		"messaging.kafka.message.key":        "order-1",
		"messaging.message.id":               "ev-1",
		"messaging.destination.partition.id": "3",
		"messaging.kafka.offset":             "42",
	}
	wantAttrs(t, s.Attributes(), want)
	for _, k := range []string{"traceparent", "uber-trace-id", "x-app", "contrail-event-id"} {
		if n := headerCount(r, k); n != 1 {
			t.Errorf("header %s appears %d times, want 1", k, n)
		}
	}
	if n := headerCount(r, "tracestate"); n != 0 {
		t.Errorf("stale tracestate kept (%d)", n)
	}
	c := tracing.RecordCarrier(r)
	sc := s.SpanContext()
	if want := fmt.Sprintf("00-%s-%s-01", sc.TraceID(), sc.SpanID()); c.Get("traceparent") != want {
		t.Errorf("traceparent %q, want %q", c.Get("traceparent"), want)
	}
	if want := fmt.Sprintf("%s:%s:0:1", sc.TraceID(), sc.SpanID()); c.Get("uber-trace-id") != want {
		t.Errorf("uber-trace-id %q, want %q", c.Get("uber-trace-id"), want)
	}
	if c.Get("x-app") != "keep" {
		t.Errorf("application header lost")
	}
}

func TestStartProcessIsChildAndLinksProducer(t *testing.T) {
	rec, _, m := newRecorder(sdktrace.AlwaysSample())
	r := &kgo.Record{Topic: "orders", Key: []byte("order-7"), Partition: 1, Offset: 9,
		Headers: []kgo.RecordHeader{{Key: "contrail-event-id", Value: []byte("ev-7")}}}
	_, finishSend := m.StartSend(context.Background(), r)
	finishSend(nil)
	producer := ended(t, rec, "send orders").SpanContext()

	// A span already in the consumer's context must not become the parent.
	unrelated := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{9}, SpanID: trace.SpanID{9}, TraceFlags: trace.FlagsSampled}))
	ctx, finish := m.StartProcess(unrelated, r, "inventory")
	if got := trace.SpanContextFromContext(ctx).TraceID(); got != producer.TraceID() {
		t.Errorf("handler context trace %v, want %v", got, producer.TraceID())
	}
	finish(nil)

	s := ended(t, rec, "process orders")
	if s.SpanKind() != trace.SpanKindConsumer {
		t.Errorf("kind %v, want consumer", s.SpanKind())
	}
	if s.Parent().SpanID() != producer.SpanID() || s.SpanContext().TraceID() != producer.TraceID() || !s.Parent().IsRemote() {
		t.Errorf("parent %v (trace %v), want remote producer %v (trace %v)", s.Parent().SpanID(), s.SpanContext().TraceID(), producer.SpanID(), producer.TraceID())
	}
	if len(s.Links()) != 1 || s.Links()[0].SpanContext.SpanID() != producer.SpanID() {
		t.Errorf("links %+v, want one to the producer span", s.Links())
	}
	want := map[string]string{
		"messaging.system":                   "kafka",
		"messaging.operation.name":           "process",
		"messaging.operation.type":           "process",
		"messaging.destination.name":         "orders",
		"messaging.consumer.group.name":      "inventory",
		"messaging.destination.partition.id": "1",
		"messaging.kafka.offset":             "9",
		"messaging.kafka.message.key":        "order-7",
		"messaging.message.id":               "ev-7",
	}
	wantAttrs(t, s.Attributes(), want)
	if s.Status().Code != codes.Unset {
		t.Errorf("status %v, want unset", s.Status())
	}
}

func TestExtraction(t *testing.T) {
	const (
		w3cTrace  = "0af7651916cd43dd8448eb211c80319c"
		w3cSpan   = "b7ad6b7169203331"
		uberTrace = "00000000000000003f1a2b3c4d5e6f70"
		uberSpan  = "5e6f708192a3b4c5"
	)
	tp := "00-" + w3cTrace + "-" + w3cSpan + "-01"
	uber := "3f1a2b3c4d5e6f70:" + uberSpan + ":0:1"
	tests := []struct {
		name              string
		headers           map[string]string
		wantTrace, parent string // "" = new root
	}{
		{name: "only uber-trace-id", headers: map[string]string{"uber-trace-id": uber}, wantTrace: uberTrace, parent: uberSpan},
		{name: "only traceparent", headers: map[string]string{"traceparent": tp}, wantTrace: w3cTrace, parent: w3cSpan},
		{name: "both, W3C wins", headers: map[string]string{"traceparent": tp, "uber-trace-id": uber}, wantTrace: w3cTrace, parent: w3cSpan},
		{name: "malformed traceparent, valid uber", headers: map[string]string{"traceparent": "00-zz-yy-01", "uber-trace-id": uber}, wantTrace: uberTrace, parent: uberSpan},
		{name: "malformed traceparent", headers: map[string]string{"traceparent": "garbage"}},
		{name: "malformed uber-trace-id", headers: map[string]string{"uber-trace-id": "1:2"}},
		{name: "all-zero ids", headers: map[string]string{"traceparent": "00-00000000000000000000000000000000-0000000000000000-01", "uber-trace-id": "0:0:0:1"}},
		{name: "huge values", headers: map[string]string{"traceparent": strings.Repeat("f", 1<<16), "uber-trace-id": strings.Repeat(":", 1<<16)}},
		{name: "no headers", headers: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, _, m := newRecorder(sdktrace.AlwaysSample())
			r := &kgo.Record{Topic: "t"}
			for k, v := range tc.headers {
				r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
			}
			_, finish := m.StartProcess(context.Background(), r, "g")
			finish(nil)
			s := ended(t, rec, "process t")
			if tc.wantTrace == "" {
				if s.Parent().IsValid() || len(s.Links()) != 0 {
					t.Fatalf("want a new root without links, got parent %v links %d", s.Parent(), len(s.Links()))
				}
				if !s.SpanContext().IsValid() {
					t.Fatalf("new root has an invalid context")
				}
				return
			}
			if got := s.SpanContext().TraceID().String(); got != tc.wantTrace {
				t.Errorf("trace %s, want %s", got, tc.wantTrace)
			}
			if got := s.Parent().SpanID().String(); got != tc.parent {
				t.Errorf("parent %s, want %s", got, tc.parent)
			}
		})
	}
}

func TestErrorsRetriesAndDeadLetters(t *testing.T) {
	rec, _, m := newRecorder(sdktrace.AlwaysSample())
	r := &kgo.Record{Topic: "payments"}
	ctx, finish := m.StartProcess(context.Background(), r, "g")
	m.Retry(ctx, 1, errors.New("flaky"))
	m.Retry(ctx, 2, fmt.Errorf("call bank: %w", context.DeadlineExceeded))
	m.DeadLetter(ctx, "payments.dlq", typedErr{"poison"})
	finish(nil) // the record was dealt with; the dead letter keeps the span failed
	s := ended(t, rec, "process payments")
	if s.Status().Code != codes.Error || s.Status().Description != "bad bytes" {
		t.Errorf("status %+v, want Error %q", s.Status(), "bad bytes")
	}
	if got := attrMap(s.Attributes())["error.type"]; got != "poison" {
		t.Errorf("error.type %q, want poison", got)
	}
	evs := s.Events()
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3: %+v", len(evs), evs)
	}
	wantEv := []struct{ name, key, val, et string }{
		{"retry", "contrail.retry.attempt", "1", "_OTHER"},
		{"retry", "contrail.retry.attempt", "2", "context.DeadlineExceeded"},
		{"dead_letter", "contrail.dead_letter.topic", "payments.dlq", "poison"},
	}
	for i, w := range wantEv {
		a := attrMap(evs[i].Attributes)
		if evs[i].Name != w.name || a[w.key] != w.val || a["error.type"] != w.et || a["exception.message"] == "" {
			t.Errorf("event %d = %s %v, want %s %s=%s error.type=%s", i, evs[i].Name, a, w.name, w.key, w.val, w.et)
		}
	}

	// A failed send is recorded the same way.
	_, finishSend := m.StartSend(context.Background(), &kgo.Record{Topic: "payments"})
	finishSend(fmt.Errorf("produce: %w", kgo.ErrRecordTimeout))
	s = ended(t, rec, "send payments")
	if s.Status().Code != codes.Error || attrMap(s.Attributes())["error.type"] == "" {
		t.Errorf("failed send: status %+v attrs %v", s.Status(), attrMap(s.Attributes()))
	}
	if _, ok := attrMap(s.Attributes())["messaging.kafka.offset"]; ok {
		t.Errorf("failed send carries an offset")
	}
}

type typedErr struct{ typ string }

func (e typedErr) Error() string     { return "bad bytes" }
func (e typedErr) ErrorType() string { return e.typ }

type structErr struct{}

func (*structErr) Error() string { return "x" }

func TestErrorType(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "nil", err: nil, want: ""},
		{name: "plain", err: errors.New("boom"), want: "_OTHER"},
		{name: "wrapped plain", err: fmt.Errorf("a: %w", errors.New("boom")), want: "_OTHER"},
		{name: "typer deep", err: fmt.Errorf("a: %w", typedErr{"poison"}), want: "poison"},
		{name: "canceled", err: fmt.Errorf("a: %w", context.Canceled), want: "context.Canceled"},
		{name: "typed", err: fmt.Errorf("a: %w", &structErr{}), want: "*tracing_test.structErr"},
		{name: "joined", err: errors.Join(&structErr{}), want: "*tracing_test.structErr"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tracing.ErrorType(tc.err); got != tc.want {
				t.Errorf("ErrorType = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSampledOutStillPropagates(t *testing.T) {
	rec, _, m := newRecorder(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(0)))
	r := &kgo.Record{Topic: "orders"}
	_, finish := m.StartSend(context.Background(), r)
	finish(nil)
	if len(rec.Ended()) != 0 {
		t.Fatalf("sampled-out send recorded %d spans", len(rec.Ended()))
	}
	tp := tracing.RecordCarrier(r).Get("traceparent")
	if !strings.HasSuffix(tp, "-00") || len(tp) != 55 {
		t.Fatalf("traceparent %q, want a valid unsampled one", tp)
	}
	if !strings.HasSuffix(tracing.RecordCarrier(r).Get("uber-trace-id"), ":0") {
		t.Fatalf("uber-trace-id %q, want flags 0", tracing.RecordCarrier(r).Get("uber-trace-id"))
	}
	ctx, finish2 := m.StartProcess(context.Background(), r, "g")
	finish2(nil)
	if len(rec.Ended()) != 0 || trace.SpanContextFromContext(ctx).IsSampled() {
		t.Fatalf("consumer of an unsampled record sampled it")
	}
}

func TestBaggageCrossesKafka(t *testing.T) {
	_, _, m := newRecorder(sdktrace.AlwaysSample())
	mem, _ := baggage.NewMemberRaw("order.id", "o-42")
	b, _ := baggage.New(mem)
	r := &kgo.Record{Topic: "orders"}
	_, finish := m.StartSend(baggage.ContextWithBaggage(context.Background(), b), r)
	finish(nil)
	ctx, finish2 := m.StartProcess(context.Background(), r, "g")
	defer finish2(nil)
	if got := baggage.FromContext(ctx).Member("order.id").Value(); got != "o-42" {
		t.Fatalf("baggage order.id = %q, want o-42 (header %q)", got, tracing.RecordCarrier(r).Get("baggage"))
	}
}

func TestNilMessagingIsFreeNoop(t *testing.T) {
	var m *tracing.Messaging
	r := &kgo.Record{Topic: "orders"}
	ctx := context.Background()
	allocs := testing.AllocsPerRun(1000, func() {
		c, f := m.StartSend(ctx, r)
		f(nil)
		c, f = m.StartProcess(c, r, "g")
		m.Retry(c, 1, nil)
		m.DeadLetter(c, "dlq", nil)
		f(nil)
	})
	if allocs != 0 || len(r.Headers) != 0 {
		t.Fatalf("nil Messaging: %v allocs, %d headers; want 0 and 0", allocs, len(r.Headers))
	}
}
