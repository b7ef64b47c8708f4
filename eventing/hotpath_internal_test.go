package eventing

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
)

// stubCodec costs nothing, so the benchmarks below measure only the
// runtime's own work per record: header parsing, dispatch, middleware,
// metrics and contexts on the consumer side; ids, metadata and headers on
// the producer side.
type stubCodec struct{}

func (stubCodec) Encode(context.Context, events.Type, any) ([]byte, error) {
	return []byte{0, 0, 0, 0, 1, 2}, nil
}

func (stubCodec) Decode(context.Context, []byte, events.Type, any) error { return nil }

func benchRouter(b testing.TB) (*Router, *kgo.Record) {
	r, err := NewRouter(Brokers("127.0.0.1:1"), WithCodec(stubCodec{}), Group("bench"))
	if err != nil {
		b.Fatal(err)
	}
	handled := 0
	Handle(r, orders.OrderPlacedBinding, func(context.Context, *orders.OrderPlaced) error { handled++; return nil })
	r.build()
	rec, err := buildRecord(context.Background(), stubCodec{}, orders.OrderPlacedBinding, &orders.OrderPlaced{OrderID: "order-1"})
	if err != nil {
		b.Fatal(err)
	}
	rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: "traceparent", Value: []byte("00-0123456789abcdef0123456789abcdef-0123456789abcdef-01")})
	return r, rec
}

// BenchmarkHandleRecord is the consumer side's per-record overhead.
func BenchmarkHandleRecord(b *testing.B) {
	r, rec := benchRouter(b)
	ctx := context.Background()
	em := &emitter{}
	b.ReportAllocs()
	for b.Loop() {
		if !r.handleRecord(ctx, rec, em) {
			b.Fatal("not handled")
		}
	}
}

// BenchmarkBuildRecord is the producer side's per-record overhead.
func BenchmarkBuildRecord(b *testing.B) {
	ctx := context.Background()
	o := &orders.OrderPlaced{OrderID: "order-1"}
	b.ReportAllocs()
	for b.Loop() {
		o.Metadata.EventID, o.Metadata.CorrelationID = "", ""
		if _, err := buildRecord(ctx, stubCodec{}, orders.OrderPlacedBinding, o); err != nil {
			b.Fatal(err)
		}
	}
}

// TestHotPathAllocations keeps the per-record allocations from creeping
// back. Consumer side: the message with its context, one string for all
// header values, and the decoded event. Producer side (codec aside): the
// event id, the key, the record with its headers, one buffer for every
// header value, and the stub codec's value.
func TestHotPathAllocations(t *testing.T) {
	r, rec := benchRouter(t)
	ctx := context.Background()
	em := &emitter{}
	o := &orders.OrderPlaced{OrderID: "order-1"}
	tests := []struct {
		name string
		max  float64
		fn   func()
	}{
		{name: "handle a record", max: 3, fn: func() { r.handleRecord(ctx, rec, em) }},
		{name: "build a record", max: 5, fn: func() {
			o.Metadata.EventID, o.Metadata.CorrelationID = "", ""
			if _, err := buildRecord(ctx, stubCodec{}, orders.OrderPlacedBinding, o); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := testing.AllocsPerRun(1000, tt.fn); got > tt.max {
				t.Fatalf("%v allocations per record, want at most %v", got, tt.max)
			}
		})
	}
}

// A published record leaves room for the three trace headers a Tracer adds
// (traceparent, tracestate, uber-trace-id), so tracing appends in place
// instead of allocating and copying a second header slice per event.
func TestRecordHasTraceHeaderRoom(t *testing.T) {
	for _, tt := range []struct {
		name string
		ctx  context.Context
		opts []PublishOpt
	}{
		{name: "root event", ctx: context.Background()},
		{name: "caused by another event", ctx: context.Background(), opts: []PublishOpt{CausationID("event-0"), CorrelationID("corr-0")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := buildRecord(tt.ctx, stubCodec{}, orders.OrderPlacedBinding, &orders.OrderPlaced{OrderID: "order-1"}, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			if room := cap(r.Headers) - len(r.Headers); room < 3 {
				t.Fatalf("record has %d headers and room for %d more, want room for 3 trace headers", len(r.Headers), room)
			}
		})
	}
}

// Event ids from the buffered generator are distinct version 4 UUIDs,
// across more than one refill of its buffer.
func TestNewEventID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := newEventID()
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("event id %q: %v, version %v, variant %v; want a version 4 RFC 4122 UUID", id, err, u.Version(), u.Variant())
		}
		if seen[id] {
			t.Fatalf("event id %q repeated", id)
		}
		seen[id] = true
	}
}
