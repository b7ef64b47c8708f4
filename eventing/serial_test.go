package eventing_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/storetest"
)

// TestSerialTransactionsRunOneAtATime runs two routers of one consumer
// group (two replicas) on one PostgreSQL store, on three partitions each
// handled in parallel. With SerialTransactions no two handlers of the
// group ever run at once, whichever partition or replica; without it they
// do.
func TestSerialTransactionsRunOneAtATime(t *testing.T) {
	for _, serial := range []bool{true, false} {
		t.Run(map[bool]string{true: "serial", false: "parallel"}[serial], func(t *testing.T) {
			e := newEnv(t, 3, "things")
			tb := thingBinding("things")
			ctx := context.Background()
			url := storetest.PostgresURL(t)
			const n = 60
			e.publish(tb, things(n, 12, ""))
			var running, most, handled atomic.Int32
			for range 2 {
				st, err := eventing.OpenPostgresStore(ctx, url, "")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				opts := []eventing.RouterOpt{eventing.WithInbox(st), eventing.BatchTransactions(5), eventing.Concurrency(3)}
				if serial {
					opts = append(opts, eventing.SerialTransactions())
				}
				r := e.router("serial", opts...)
				eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
					now := running.Add(1)
					defer running.Add(-1)
					for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
					}
					time.Sleep(5 * time.Millisecond)
					handled.Add(1)
					return nil
				})
				run(t, r)
			}
			waitFor(t, "every record", func() bool { return handled.Load() >= n })
			switch {
			case serial && most.Load() != 1:
				t.Fatalf("%d handlers ran at once with SerialTransactions, want 1", most.Load())
			case !serial && most.Load() < 2:
				t.Fatalf("handlers never ran at once without SerialTransactions (most %d): the test shows nothing", most.Load())
			}
		})
	}
}
