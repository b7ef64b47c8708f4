package eventing_test

// Integration tests of dispatch by event type and of the schema registry:
// unknown types, records without headers resolved by schema id, and
// registry outages, which block rather than dead-letter.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/wire"
)

func TestUnknownEventTypesAreSkippedWithAMetric(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb, eb := thingBinding("things"), echoBinding("things") // Echo shares the topic
	ctx := context.Background()
	if err := e.pub.Publish(ctx, eb, &Echo{OrderID: "o"}); err != nil {
		t.Fatal(err)
	}
	if err := e.pub.Publish(ctx, tb, &Thing{OrderID: "o", Seq: 7}); err != nil {
		t.Fatal(err)
	}
	r := e.router("unknown-test")
	got := make(chan int, 2)
	eventing.Handle(r, tb, func(_ context.Context, th *Thing) error { got <- th.Seq; return nil })
	stop := run(t, r)
	select {
	case seq := <-got:
		if seq != 7 {
			t.Fatalf("handled seq %d", seq)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Thing after an unknown Echo never handled")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if m := scrape(t, r.Metrics()); !strings.Contains(m, `contrail_consumer_unknown_total{event_type="contrail.test.Echo",group="unknown-test",topic="things"} 1`) {
		t.Fatalf("unknown metric missing:\n%s", m)
	}
	e.checkAllCommitted("unknown-test", "things")
}

// A record from a non-Contrail producer (kcat, a Java Confluent serializer)
// has the wire-format value but none of the runtime's headers: the router
// resolves its type from the schema id through the registry.
func TestRecordsWithoutHeadersAreDispatchedBySchemaID(t *testing.T) {
	e := newEnv(t, 1, "mixed")
	tb, eb := thingBinding("mixed"), echoBinding("mixed") // two types: no single-handler fallback
	ctx := context.Background()
	src, err := sr.NewClient(sr.URLs(e.registryURL))
	if err != nil {
		t.Fatal(err)
	}
	other, err := src.CreateSchema(ctx, "mixed-contrail.test.Other", sr.Schema{Schema: `{"type":"record","name":"Other","namespace":"contrail.test","fields":[{"name":"x","type":"int"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	values := []struct {
		name  string
		value []byte
	}{
		{"echo", encode(e.codec.Encode(ctx, eb, &Echo{OrderID: "o", Seq: 1}))},
		{"thing", encode(e.codec.Encode(ctx, tb, &Thing{OrderID: "o", Seq: 2, Note: "first"}))},
		{"bad magic", []byte("{\"orderId\":\"o\"}")},
		{"unknown schema id", append(wire.AppendFrame(nil, 424242), 0x02)},
		{"type without handler", append(wire.AppendFrame(nil, other.ID), 0x02)},
		{"thing after the rest", encode(e.codec.Encode(ctx, tb, &Thing{OrderID: "o", Seq: 3, Note: "last"}))},
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr)) // plain franz-go: no headers at all
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mixed", Key: []byte("o"), Value: v.value}).FirstErr(); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
	}

	r := e.router("no-headers")
	var mu sync.Mutex
	var got []string
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("Thing %d %s as %s", th.Seq, th.Note, eventing.MessageFrom(ctx).EventType))
		return nil
	})
	eventing.Handle(r, eb, func(ctx context.Context, ec *Echo) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("Echo %d as %s", ec.Seq, eventing.MessageFrom(ctx).EventType))
		return nil
	})
	stop := run(t, r)
	waitFor(t, "the last Thing", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{"Echo 1 as contrail.test.Echo", "Thing 2 first as contrail.test.Thing", "Thing 3 last as contrail.test.Thing"}
	if !slices.Equal(got, want) {
		t.Fatalf("handled %q, want %q", got, want)
	}
	dls := e.readAll("mixed.dlq", 2)
	if len(dls) != 2 {
		t.Fatalf("%d dead letters, want 2 (bad magic, unknown schema id)", len(dls))
	}
	for i, want := range []struct {
		offset, msg string
	}{{"2", "bad magic"}, {"3", "unknown schema id"}} {
		dl := dls[i]
		if o := eventing.HeaderValue(dl, wire.HeaderDLQOffset); o != want.offset {
			t.Errorf("dead letter %d is offset %s, want %s", i, o, want.offset)
		}
		if c := eventing.HeaderValue(dl, wire.HeaderDLQErrorClass); c != string(eventing.ClassPoison) {
			t.Errorf("dead letter %d class %q, want poison", i, c)
		}
		if msg := eventing.HeaderValue(dl, wire.HeaderDLQError); !strings.Contains(msg, want.msg) || !strings.Contains(msg, "cannot be resolved") {
			t.Errorf("dead letter %d error %q lacks %q", i, msg, want.msg)
		}
	}
	m := scrape(t, r.Metrics())
	for _, line := range []string{
		`contrail_consumer_unknown_total{event_type="contrail.test.Other",group="no-headers",topic="mixed"} 1`,
		`contrail_handler_dead_lettered_total{class="poison",group="no-headers",handler="(unresolved)"} 2`,
	} {
		if !strings.Contains(m, line) {
			t.Errorf("metrics lack %s:\n%s", line, m)
		}
	}
	e.checkAllCommitted("no-headers", "mixed")
}

func TestRegistryOutageBlocksInsteadOfDeadLettering(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	e.publish(tb, things(3, 1, ""))
	// The consumer reaches the registry through a switchable proxy and has
	// never seen the writer schema, so it must ask the registry.
	codec, down, _ := e.switchedRegistry()
	r := e.router("outage-test", eventing.WithCodec(codec))
	var handled atomic.Int32
	eventing.Handle(r, tb, func(context.Context, *Thing) error { handled.Add(1); return nil })
	stop := run(t, r)
	// One attempt more than the retry policy allows: the first record's
	// retries ran out and the router went on, so the dead-letter middleware
	// has already decided (and a dead letter would be written: it is sent
	// synchronously) before the check below.
	failed := `contrail_handler_failed_total{class="transient",group="outage-test",handler="contrail.test.Thing"}`
	waitFor(t, "failed attempts beyond the retry policy during the outage", func() bool {
		return metricValue(t, r.Metrics(), failed) > float64(fastRetry.MaxAttempts)
	})
	if handled.Load() != 0 {
		t.Fatal("handled while the registry was down")
	}
	if _, ends := e.committed("outage-test", "things.dlq"); len(ends) != 0 {
		t.Fatalf("dead letters written during a registry outage: %v", ends)
	}
	down.Store(false)
	waitFor(t, "all events once the registry is back", func() bool { return handled.Load() == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.checkAllCommitted("outage-test", "things")
}

// A record without a type header needs the registry to name its type; while
// the registry is down the router waits rather than dead-lettering it.
func TestRegistryOutageWhileResolvingWaits(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	value, err := e.codec.Encode(ctx, tb, &Thing{OrderID: "o", Seq: 5})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "things", Key: []byte("o"), Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	codec, down, refused := e.switchedRegistry()
	r := e.router("resolve-outage", eventing.WithCodec(codec))
	got := make(chan int, 1)
	eventing.Handle(r, tb, func(_ context.Context, th *Thing) error { got <- th.Seq; return nil })
	eventing.Handle(r, echoBinding("things"), func(context.Context, *Echo) error { return nil }) // no single-handler fallback
	stop := run(t, r)
	waitFor(t, "several resolution attempts during the outage", func() bool { return refused.Load() >= 3 })
	select {
	case <-got:
		t.Fatal("handled while the registry was down")
	default:
	}
	if _, ends := e.committed("resolve-outage", "things.dlq"); len(ends) != 0 {
		t.Fatalf("dead letters written during a registry outage: %v", ends)
	}
	down.Store(false)
	select {
	case seq := <-got:
		if seq != 5 {
			t.Fatalf("handled seq %d, want 5", seq)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("not handled after the registry came back")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.checkAllCommitted("resolve-outage", "things")
}
