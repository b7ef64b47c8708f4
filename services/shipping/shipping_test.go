package shipping_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/eventing/storetest"
	"github.com/contrail-events/contrail/services/shipping"
)

type recorder struct{ evs []shipping.ShippedEvent }

func (r *recorder) Emit(_ context.Context, _ *sql.Tx, ev any) error {
	r.evs = append(r.evs, ev.(shipping.ShippedEvent))
	return nil
}

func TestOpenStoreOnAFile(t *testing.T) {
	s, err := shipping.OpenStore(context.Background(), filepath.Join(t.TempDir(), "s.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, err := s.Count(context.Background()); err != nil || n != 0 {
		t.Fatalf("Count = %d, %v", n, err)
	}
}

func TestShipOnce(t *testing.T) {
	for _, d := range storetest.Databases() {
		t.Run(d.Name, func(t *testing.T) { testShipOnce(t, d) })
	}
}

func testShipOnce(t *testing.T, d storetest.Database) {
	ctx := context.Background()
	rec := &recorder{}
	s, err := shipping.NewStore(ctx, d.Open(t), rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"e1", "e1", "e2"} {
		if err := s.Batch(ctx, func(tx *shipping.Tx) error { return tx.OrderReady(ctx, statedb.Record{EventID: id}, "o1") }); err != nil {
			t.Fatal(err)
		}
	}
	sh, ok, err := s.Get(ctx, "o1")
	if err != nil || !ok {
		t.Fatal(err, ok)
	}
	if len(rec.evs) != 1 || rec.evs[0].TrackingNumber != sh.TrackingNumber || !strings.HasPrefix(sh.TrackingNumber, "CX") || len(sh.TrackingNumber) != 14 {
		t.Fatalf("events %+v shipment %+v", rec.evs, sh)
	}
	if rec.evs[0].Meta.CausationID != "e1" || rec.evs[0].Meta.CorrelationID != "o1" {
		t.Fatalf("meta %+v", rec.evs[0].Meta)
	}
	if n, _ := s.Count(ctx); n != 1 {
		t.Fatalf("count %d", n)
	}
	if shipping.TrackingNumber("o1") == shipping.TrackingNumber("o2") {
		t.Fatal("tracking numbers collide")
	}
}

// counter counts emitted shipments; safe for concurrent use.
type counter struct{ n atomic.Int32 }

func (c *counter) Emit(context.Context, *sql.Tx, any) error { c.n.Add(1); return nil }

// TestReplicasShipOnce: two replicas on one PostgreSQL database both get
// every OrderReady, under different event ids, at the same moment; each
// order ships once.
func TestReplicasShipOnce(t *testing.T) {
	ctx := context.Background()
	db, url := storetest.OpenPostgres(t)
	var emitted counter
	a, err := shipping.NewStore(ctx, db, &emitted)
	if err != nil {
		t.Fatal(err)
	}
	db2, err := eventing.OpenPostgres(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	b, err := shipping.NewStore(ctx, db2, &emitted)
	if err != nil {
		t.Fatal(err)
	}
	const orders = 100
	var wg sync.WaitGroup
	errs := make(chan error, orders*2)
	for i := range orders {
		for r, s := range []*shipping.Store{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := fmt.Sprintf("o%d", i)
				errs <- s.Batch(ctx, func(tx *shipping.Tx) error {
					return tx.OrderReady(ctx, statedb.Record{EventID: fmt.Sprintf("%s-%d", id, r)}, id)
				})
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := a.Count(ctx); n != orders || emitted.n.Load() != orders {
		t.Fatalf("%d shipments and %d OrderShipped for %d orders", n, emitted.n.Load(), orders)
	}
}
