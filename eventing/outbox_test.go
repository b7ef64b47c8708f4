package eventing_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/wire"
)

func TestEmitInInboxTransactionGoesThroughTheOutbox(t *testing.T) {
	e := newEnv(t, 2, "things", "echoes")
	tb, eb := thingBinding("things"), echoBinding("echoes")
	ctx := context.Background()
	st := openState(t)
	const n = 10
	in := things(n, 3, "")
	e.publish(tb, in)
	r := e.router("outbox-test", eventing.WithInbox(st))
	var failOnce atomic.Bool
	failOnce.Store(true)
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		if err := eventing.Emit(ctx, eb, &Echo{OrderID: th.OrderID, Seq: th.Seq}); err != nil {
			return err
		}
		if th.Seq == 4 && failOnce.CompareAndSwap(true, false) {
			return errors.New("fail after emitting: the emitted event must be rolled back")
		}
		return nil
	})
	stop := run(t, r)
	e.readAll("echoes", n) // waits for them
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out := e.readAll("echoes", n) // all there are: the router stopped
	if len(out) != n {
		t.Fatalf("%d echoes, want %d (the failed attempt's emit leaked?)", len(out), n)
	}
	byID := map[string]*Thing{}
	for _, th := range in {
		byID[th.Metadata.EventID] = th
	}
	for _, rec := range out {
		cause := eventing.HeaderValue(rec, wire.HeaderCausationID)
		src, ok := byID[cause]
		if !ok {
			t.Fatalf("echo caused by %q, not one of the input events", cause)
		}
		if corr := eventing.HeaderValue(rec, wire.HeaderCorrelationID); corr != src.Metadata.CorrelationID {
			t.Errorf("echo correlation %q, want the input's %q", corr, src.Metadata.CorrelationID)
		}
		var echo Echo
		if err := e.codec.Decode(ctx, rec.Value, eb, &echo); err != nil {
			t.Fatal(err)
		}
		if echo.Metadata.EventID != eventing.HeaderValue(rec, wire.HeaderEventID) || echo.Metadata.CausationID == nil || *echo.Metadata.CausationID != cause {
			t.Errorf("payload metadata %+v disagrees with headers", echo.Metadata)
		}
	}
	if pending, _ := st.Pending(ctx); pending != 0 {
		t.Errorf("%d outbox rows left after the relay", pending)
	}
}

func TestExactlyOnceConsumeTransformProduce(t *testing.T) {
	e := newEnv(t, 2, "things", "echoes")
	tb, eb := thingBinding("things"), echoBinding("echoes")
	ctx := context.Background()
	const n = 30
	e.publish(tb, things(n, 4, ""))
	r := e.router("eos-test", eventing.ExactlyOnce("eos-test-1"))
	var calls atomic.Int32
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		calls.Add(1)
		return eventing.Emit(ctx, eb, &Echo{OrderID: th.OrderID, Seq: th.Seq})
	})
	stop := run(t, r)
	e.readAll("echoes", n) // waits for them
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	out := e.readAll("echoes", n) // all there are: the router stopped
	seen := map[int]bool{}
	for _, rec := range out {
		var echo Echo
		if err := e.codec.Decode(ctx, rec.Value, eb, &echo); err != nil {
			t.Fatal(err)
		}
		if seen[echo.Seq] {
			t.Fatalf("echo %d produced twice", echo.Seq)
		}
		seen[echo.Seq] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct echoes, want %d", len(seen), n)
	}
	e.checkAllCommitted("eos-test", "things")
}
