package order_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/services/order"
)

// BenchmarkOrderLifecycle is one order's work in the order service's store
// as production runs it, without HTTP or Kafka: Place (one transaction with
// the order, its history row and the outbox row), then InventoryReserved,
// PaymentConfirmed and OrderShipped, each in its own transaction as the
// runtime's inbox middleware opens it, emitting OrderReady into a table
// like the runtime's outbox. ns/op and allocs/op are per order. The
// database has the services' default durability (synchronous=NORMAL); see
// BenchmarkOrderLifecycleDurability for the price of FULL.
func BenchmarkOrderLifecycle(b *testing.B) {
	lc := newLifecycle(b, statedb.DurabilityNormal)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		lc.order(b, i)
	}
}

// lifecycle is an order store in a fresh database with an outbox-like
// table, as BenchmarkOrderLifecycle measures it.
type lifecycle struct {
	ctx context.Context
	s   *order.Store
	p   order.Placement
}

func newLifecycle(b *testing.B, d statedb.Durability) *lifecycle {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "order.db")
	// OpenStore creates the store's tables (with the default durability);
	// the benchmark's store reopens them with d.
	s0, err := order.OpenStore(ctx, path, nil)
	if err != nil {
		b.Fatal(err)
	}
	s0.Close()
	db, err := statedb.OpenDB(ctx, path, `CREATE TABLE IF NOT EXISTS bench_outbox(id INTEGER PRIMARY KEY, order_id TEXT, value BLOB);`,
		statedb.WithDurability(d))
	if err != nil {
		b.Fatal(err)
	}
	s, err := order.NewStore(ctx, db, statedb.EmitterFunc(func(ctx context.Context, tx *sql.Tx, ev any) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO bench_outbox(order_id, value) VALUES(?, ?)`, "x", make([]byte, 300))
		return err
	}))
	if err != nil {
		db.Close()
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return &lifecycle{ctx: ctx, s: s, p: placement()}
}

// order runs order i's lifecycle: four transactions.
func (lc *lifecycle) order(b *testing.B, i int) {
	ctx := lc.ctx
	o, _, err := lc.s.Place(ctx, lc.p, "k"+strconv.Itoa(i), "h", "")
	if err != nil {
		b.Fatal(err)
	}
	n := strconv.Itoa(i)
	lc.inTx(b, func(t *order.Tx) error {
		return t.InventoryReserved(ctx, statedb.Record{EventID: "r" + n, Type: order.TypeInventoryReserved, Topic: "inventory"}, o.ID, "res")
	})
	lc.inTx(b, func(t *order.Tx) error {
		return t.PaymentConfirmed(ctx, statedb.Record{EventID: "p" + n, Type: order.TypePaymentConfirmed, Topic: "payments"}, o.ID, "pay")
	})
	lc.inTx(b, func(t *order.Tx) error {
		return t.OrderShipped(ctx, statedb.Record{EventID: "s" + n, Type: order.TypeOrderShipped, Topic: "shipments"}, o.ID, "CX1")
	})
}

func (lc *lifecycle) inTx(b *testing.B, fn func(*order.Tx) error) {
	tx, err := lc.s.DB().BeginTx(lc.ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := fn(lc.s.In(tx)); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
