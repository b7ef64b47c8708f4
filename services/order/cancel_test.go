package order_test

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"modernc.org/sqlite"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/eventing/statedb/statedbtest"
	"github.com/contrail-events/contrail/services/order"
)

// orderPause is what the SQL function order_test_pause(x) calls before it
// returns x; only TestCancelledHandlerKeepsBatch sets it.
var orderPause atomic.Pointer[func()]

func init() {
	sqlite.MustRegisterScalarFunction("order_test_pause", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		if f := orderPause.Load(); f != nil {
			(*f)()
		}
		return args[0], nil
	})
}

// TestCancelledHandlerKeepsBatch runs two consumed events through the
// store's normal handler path (Store.In on one transaction, as the runtime
// does with batch transactions) and cancels the second handler's context
// while its history INSERT runs inside SQLite (a trigger pauses it there,
// then loops over thousands of rows, so an interrupt would be noticed).
// After the commit both events' effects are there: the cancelled context
// neither interrupted the statement nor rolled back the first event.
func TestCancelledHandlerKeepsBatch(t *testing.T) {
	ctx := context.Background()
	schema := order.DDL() + `CREATE TABLE test_outbox(seq INTEGER PRIMARY KEY, order_id TEXT, type TEXT);
CREATE TABLE slow(x INTEGER);
CREATE TRIGGER history_slow AFTER INSERT ON history WHEN NEW.direction = 'in' BEGIN
	INSERT INTO slow(x) SELECT order_test_pause(x) FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) SELECT x FROM c);
END;`
	db, err := statedb.OpenDB(ctx, filepath.Join(t.TempDir(), "order.db"), schema)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := order.NewStore(ctx, db, &txOutbox{db: db})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o1, _, err := s.Place(ctx, placement(), "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	o2, _, err := s.Place(ctx, placement(), "", "", "")
	if err != nil {
		t.Fatal(err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := statedb.Record{EventID: "ev-1", Type: order.TypeInventoryReserved, Topic: "inventory"}
	if err := s.In(tx).InventoryReserved(ctx, first, o1.ID, "res-1"); err != nil {
		t.Fatal(err)
	}

	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	pause := func() { once.Do(func() { close(started); <-release }) }
	orderPause.Store(&pause)
	defer orderPause.Store(nil)
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	second := statedb.Record{EventID: "ev-2", Type: order.TypePaymentConfirmed, Topic: "payments"}
	errc := make(chan error, 1)
	go func() { errc <- s.In(tx).PaymentConfirmed(cctx, second, o2.ID, "pay-2") }()
	select {
	case <-started:
	case err := <-errc:
		t.Fatalf("the handler ended before its history insert paused: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the handler's history insert never paused")
	}
	// A statement run with a cancellable context has a watcher goroutine
	// in the driver that interrupts it when the context ends. Cancel, and
	// let every watcher of the paused statement act before it goes on
	// (eventing/statedb's TestCancelledContextKeepsTransaction shows, in its
	// control case, that a watcher is found and its interrupt is seen).
	watchers := statedbtest.InterruptWatchers()
	cancel()
	statedbtest.WaitWatchersDone(t, watchers)
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("cancelled handler: %v; want its statements to finish", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit: %v (the transaction was rolled back behind database/sql's back?)", err)
	}

	for _, c := range []struct{ id, typ, field, want string }{
		{o1.ID, order.TypeInventoryReserved, "reservation", "res-1"},
		{o2.ID, order.TypePaymentConfirmed, "payment", "pay-2"},
	} {
		o, err := s.Get(ctx, c.id, true)
		if err != nil {
			t.Fatal(err)
		}
		got := o.ReservationID
		if c.field == "payment" {
			got = o.PaymentID
		}
		var seen bool
		for _, h := range o.History {
			seen = seen || (h.Type == c.typ && h.Direction == "in")
		}
		if got != c.want || !seen {
			t.Fatalf("order %s after commit: %s id %q, %s in history %v; want %q and true", c.id, c.field, got, c.typ, seen, c.want)
		}
	}
}
