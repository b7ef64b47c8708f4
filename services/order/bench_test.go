package order_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/contrail-events/contrail/services/flowkit"
	"github.com/contrail-events/contrail/services/order"
)

// BenchmarkOrderLifecycle is one order's work in the order service's store
// as production runs it, without HTTP or Kafka: Place (one transaction with
// the order, its history row and the outbox row), then InventoryReserved,
// PaymentConfirmed and OrderShipped, each in its own transaction as the
// runtime's inbox middleware opens it, emitting OrderReady into a table
// like the runtime's outbox. ns/op and allocs/op are per order.
func BenchmarkOrderLifecycle(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "order.db")
	db, err := flowkit.OpenDB(ctx, path, `CREATE TABLE IF NOT EXISTS bench_outbox(id INTEGER PRIMARY KEY, order_id TEXT, value BLOB);`)
	if err != nil {
		b.Fatal(err)
	}
	db.Close()
	s, err := order.OpenStore(ctx, path, flowkit.EmitterFunc(func(ctx context.Context, tx *sql.Tx, ev any) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO bench_outbox(order_id, value) VALUES(?, ?)`, "x", make([]byte, 300))
		return err
	}))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p := placement()
	inTx := func(fn func(*order.Tx) error) {
		tx, err := s.DB().BeginTx(ctx, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := fn(s.In(tx)); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o, _, err := s.Place(ctx, p, "k"+strconv.Itoa(i), "h", "")
		if err != nil {
			b.Fatal(err)
		}
		n := strconv.Itoa(i)
		inTx(func(t *order.Tx) error {
			return t.InventoryReserved(ctx, flowkit.Record{EventID: "r" + n, Type: order.TypeInventoryReserved, Topic: "inventory"}, o.ID, "res")
		})
		inTx(func(t *order.Tx) error {
			return t.PaymentConfirmed(ctx, flowkit.Record{EventID: "p" + n, Type: order.TypePaymentConfirmed, Topic: "payments"}, o.ID, "pay")
		})
		inTx(func(t *order.Tx) error {
			return t.OrderShipped(ctx, flowkit.Record{EventID: "s" + n, Type: order.TypeOrderShipped, Topic: "shipments"}, o.ID, "CX1")
		})
	}
}
