package eventing_test

// Integration tests of dead-lettering: what goes to "<topic>.dlq", with
// which headers, and replaying it.

import (
	"context"
	"errors"
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

func TestPoisonRecordsGoToTheDLQAndThePartitionContinues(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	id, err := e.codec.ID(ctx, tb)
	if err != nil {
		t.Fatal(err)
	}
	// A schema the reader type cannot resolve: no field in common.
	src, err := sr.NewClient(sr.URLs(e.registryURL))
	if err != nil {
		t.Fatal(err)
	}
	other, err := src.CreateSchema(ctx, "elsewhere-value", sr.Schema{Schema: `{"type":"record","name":"Thing","namespace":"contrail.test","fields":[{"name":"other","type":"int"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	raw := func(value []byte, eventID string) *kgo.Record {
		return &kgo.Record{Topic: "things", Key: []byte("order-1"), Value: value, Headers: []kgo.RecordHeader{
			{Key: wire.HeaderEventType, Value: []byte(tb.FullName())}, {Key: wire.HeaderEventID, Value: []byte(eventID)},
		}}
	}
	good := func(note string, eventID string) *kgo.Record {
		r, err := e.pub.Record(ctx, tb, &Thing{OrderID: "order-1", Note: note}, eventing.EventID(eventID))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct {
		name  string
		rec   *kgo.Record
		class eventing.ErrorClass
		msg   string // part of the dlq error header
	}{
		{name: "bad magic byte", rec: raw([]byte{0x01, 0, 0, 0, 1, 2}, "bad-magic"), class: eventing.ClassPoison, msg: "magic"},
		{name: "unknown schema id", rec: raw(wire.AppendFrame(nil, 424242), "unknown-id"), class: eventing.ClassPoison, msg: "unknown schema id"},
		{name: "undecodable bytes", rec: raw(append(wire.AppendFrame(nil, id), 0x9f, 0xff), "undecodable"), class: eventing.ClassPoison, msg: "cannot decode"},
		{name: "incompatible writer schema", rec: raw(append(wire.AppendFrame(nil, other.ID), 0x02), "incompatible"), class: eventing.ClassPoison, msg: "cannot be read as contrail.test.Thing"},
		{name: "permanent error", rec: good("permanent", "permanent"), class: eventing.ClassPermanent, msg: "order is invalid"},
		{name: "panic", rec: good("panic", "panic"), class: eventing.ClassPanic, msg: "panicked"},
		{name: "transient until retries run out", rec: good("always", "always"), class: eventing.ClassTransient, msg: "still down"},
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, c := range cases {
		if err := cl.ProduceSync(ctx, c.rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.ProduceSync(ctx, good("fine", "fine")).FirstErr(); err != nil {
		t.Fatal(err)
	}

	r := e.router("poison-test")
	var mu sync.Mutex
	var handled []string
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		switch th.Note {
		case "permanent":
			return eventing.Permanent(errors.New("order is invalid"))
		case "panic":
			var m map[string]int
			m["x"]++
		case "always":
			return errors.New("still down")
		}
		mu.Lock()
		handled = append(handled, eventing.MessageFrom(ctx).EventID)
		mu.Unlock()
		return nil
	})
	stop := run(t, r)
	waitFor(t, "the good record after the poison ones", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) > 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(handled, []string{"fine"}) {
		t.Fatalf("handled %v, want only the good record", handled)
	}
	dls := e.readAll("things.dlq", len(cases))
	if len(dls) != len(cases) {
		t.Fatalf("%d dead letters, want %d", len(dls), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dl := dls[i]
			if got := eventing.HeaderValue(dl, wire.HeaderEventID); got != eventing.HeaderValue(c.rec, wire.HeaderEventID) {
				t.Fatalf("dead letter %d is event %q, want %q", i, got, eventing.HeaderValue(c.rec, wire.HeaderEventID))
			}
			checks := map[string]string{
				wire.HeaderDLQTopic: "things", wire.HeaderDLQPartition: "0",
				wire.HeaderDLQOffset: fmt.Sprint(i), wire.HeaderDLQErrorClass: string(c.class),
			}
			for k, v := range checks {
				if got := eventing.HeaderValue(dl, k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if msg := eventing.HeaderValue(dl, wire.HeaderDLQError); !strings.Contains(msg, c.msg) {
				t.Errorf("error header %q lacks %q", msg, c.msg)
			}
			if ts, err := time.Parse(time.RFC3339Nano, eventing.HeaderValue(dl, wire.HeaderDLQTime)); err != nil || time.Since(ts) > time.Minute {
				t.Errorf("time header %q: %v", eventing.HeaderValue(dl, wire.HeaderDLQTime), err)
			}
			if string(dl.Value) != string(c.rec.Value) || string(dl.Key) != "order-1" {
				t.Errorf("dead letter changed the key or value")
			}
		})
	}
	e.checkAllCommitted("poison-test", "things")
}

func TestDeadLettersReplayedAfterAFixAreHandled(t *testing.T) {
	e := newEnv(t, 2, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	e.publish(tb, things(6, 3, ""))
	var fixed atomic.Bool
	var mu sync.Mutex
	handled := map[int]string{}
	handler := func(ctx context.Context, th *Thing) error {
		if th.Seq%2 == 1 && !fixed.Load() {
			return eventing.Permanent(errors.New("bug: odd sequence numbers rejected"))
		}
		mu.Lock()
		defer mu.Unlock()
		handled[th.Seq] = eventing.MessageFrom(ctx).EventID
		return nil
	}
	r := e.router("replay-test")
	eventing.Handle(r, tb, handler)
	stop := run(t, r)
	e.readAll("things.dlq", 3) // waits for them
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	dls := e.readAll("things.dlq", 3) // all there are: the router stopped
	if len(dls) != 3 || len(handled) != 3 {
		t.Fatalf("%d dead letters, %d handled; want 3 and 3", len(dls), len(handled))
	}

	fixed.Store(true) // the bug is fixed and redeployed
	res, err := eventing.ReplayDLQ(ctx, eventing.ReplayConfig{Topic: "things.dlq", Brokers: []string{e.addr}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed["things"] != 3 || len(res.Skipped) != 0 {
		t.Fatalf("replay result %+v, want 3 to things", res)
	}
	r2 := e.router("replay-test")
	eventing.Handle(r2, tb, handler)
	stop2 := run(t, r2)
	waitFor(t, "the replayed events", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 6 })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	for _, dl := range dls {
		id := eventing.HeaderValue(dl, wire.HeaderEventID)
		found := false
		for _, h := range handled {
			found = found || h == id
		}
		if !found {
			t.Errorf("dead letter %s was not handled after the replay (handled %v)", id, handled)
		}
	}
}
