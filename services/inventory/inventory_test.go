package inventory_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/eventing/storetest"
	"github.com/contrail-events/contrail/services/inventory"
)

type recorder struct{ evs []any }

func (r *recorder) Emit(_ context.Context, _ *sql.Tx, ev any) error {
	r.evs = append(r.evs, ev)
	return nil
}

// open opens a store on a new database of kind d, seeded with seed.
func open(t *testing.T, d storetest.Database, seed map[string]int) (*inventory.Store, *recorder) {
	t.Helper()
	rec := &recorder{}
	ctx := context.Background()
	s, err := inventory.NewStore(ctx, d.Open(t), rec)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Seed(ctx, seed); err != nil {
		t.Fatal(err)
	}
	return s, rec
}

// eachDB runs fn on SQLite and on PostgreSQL (which skips without a
// server).
func eachDB(t *testing.T, fn func(t *testing.T, d storetest.Database)) {
	for _, d := range storetest.Databases() {
		t.Run(d.Name, func(t *testing.T) { fn(t, d) })
	}
}

func TestOpenStoreOnAFile(t *testing.T) {
	s, err := inventory.OpenStore(context.Background(), filepath.Join(t.TempDir(), "inv.db"), map[string]int{"A": 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if k := stockOf(t, s, "A"); k.Available != 3 {
		t.Fatalf("seeded %+v", k)
	}
}

func ev(id string) statedb.Record { return statedb.Record{EventID: id} }

func stockOf(t *testing.T, s *inventory.Store, sku string) inventory.SKU {
	t.Helper()
	rep, err := s.Stock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Conserved {
		t.Fatalf("stock not conserved: %v", rep.Violations)
	}
	for _, k := range rep.SKUs {
		if k.SKU == sku {
			return k
		}
	}
	t.Fatalf("no sku %s", sku)
	return inventory.SKU{}
}

func TestReserveRejectRelease(t *testing.T) { eachDB(t, testReserveRejectRelease) }

func testReserveRejectRelease(t *testing.T, d storetest.Database) {
	tests := []struct {
		name      string
		lines     []inventory.Line
		then      string // "", "cancel", "ready"
		wantEv    string
		wantA     map[string]int64 // available per SKU after
		wantShort int
	}{
		{name: "reserve all lines", lines: []inventory.Line{{"A", 3}, {"B", 2}}, wantEv: "reserved", wantA: map[string]int64{"A": 7, "B": 3}},
		{name: "same sku twice sums", lines: []inventory.Line{{"A", 6}, {"A", 6}}, wantEv: "rejected", wantShort: 1, wantA: map[string]int64{"A": 10}},
		{name: "one short line rejects all", lines: []inventory.Line{{"A", 3}, {"B", 6}}, wantEv: "rejected", wantShort: 1, wantA: map[string]int64{"A": 10, "B": 5}},
		{name: "unknown sku is short", lines: []inventory.Line{{"A", 1}, {"Z", 1}}, wantEv: "rejected", wantShort: 1, wantA: map[string]int64{"A": 10}},
		{name: "cancel releases", lines: []inventory.Line{{"A", 4}}, then: "cancel", wantEv: "released", wantA: map[string]int64{"A": 10}},
		{name: "ready ships", lines: []inventory.Line{{"A", 4}}, then: "ready", wantEv: "reserved", wantA: map[string]int64{"A": 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, rec := open(t, d, map[string]int{"A": 10, "B": 5})
			err := s.Batch(ctx, func(tx *inventory.Tx) error {
				if err := tx.OrderPlaced(ctx, ev("e1"), "o1", tt.lines); err != nil {
					return err
				}
				// A redelivery under a new event id must not reserve twice.
				return tx.OrderPlaced(ctx, ev("e1-dup"), "o1", tt.lines)
			})
			if err != nil {
				t.Fatal(err)
			}
			switch tt.then {
			case "cancel":
				err = s.Batch(ctx, func(tx *inventory.Tx) error { return tx.OrderCancelled(ctx, ev("e2"), "o1") })
			case "ready":
				err = s.Batch(ctx, func(tx *inventory.Tx) error { return tx.OrderReady(ctx, ev("e2"), "o1") })
			}
			if err != nil {
				t.Fatal(err)
			}
			last := rec.evs[len(rec.evs)-1]
			var got string
			switch e := last.(type) {
			case inventory.Reserved:
				got = "reserved"
			case inventory.Rejected:
				got = "rejected"
				if len(e.Short) != tt.wantShort {
					t.Errorf("short lines %+v, want %d", e.Short, tt.wantShort)
				}
			case inventory.Released:
				got = "released"
			}
			if got != tt.wantEv {
				t.Errorf("last event %T, want %s", last, tt.wantEv)
			}
			if n := len(rec.evs); n != map[string]int{"": 1, "cancel": 2, "ready": 1}[tt.then] {
				t.Errorf("emitted %d events: %+v", n, rec.evs)
			}
			for sku, a := range tt.wantA {
				if k := stockOf(t, s, sku); k.Available != a {
					t.Errorf("%s available %d, want %d (%+v)", sku, k.Available, a, k)
				}
			}
			if tt.then == "ready" {
				if k := stockOf(t, s, "A"); k.Shipped != 4 || k.Reserved != 0 {
					t.Errorf("after ready %+v", k)
				}
			}
		})
	}
}

// TestRandomFlowConservesStock runs many orders against scarce stock in a
// random mix of cancel/ready/duplicates and checks the invariant and
// non-negativity after every batch.
func TestRandomFlowConservesStock(t *testing.T) { eachDB(t, testRandomFlowConservesStock) }

func testRandomFlowConservesStock(t *testing.T, d storetest.Database) {
	ctx := context.Background()
	s, _ := open(t, d, map[string]int{"A": 50, "B": 20, "C": 0})
	r := rand.New(rand.NewPCG(1, 2))
	skus := []string{"A", "B", "C"}
	for i := 0; i < 300; i++ {
		oid := fmt.Sprintf("o%d", i)
		var lines []inventory.Line
		for j := 0; j <= r.IntN(3); j++ {
			lines = append(lines, inventory.Line{SKU: skus[r.IntN(2)+r.IntN(2)*r.IntN(2)], Quantity: 1 + r.IntN(4)})
		}
		err := s.Batch(ctx, func(tx *inventory.Tx) error {
			if err := tx.OrderPlaced(ctx, ev(oid+"p"), oid, lines); err != nil {
				return err
			}
			switch r.IntN(3) {
			case 0:
				if err := tx.OrderCancelled(ctx, ev(oid+"c"), oid); err != nil {
					return err
				}
				return tx.OrderCancelled(ctx, ev(oid+"c"), oid)
			case 1:
				return tx.OrderReady(ctx, ev(oid+"r"), oid)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, sku := range skus {
			stockOf(t, s, sku)
		}
	}
	rep, _ := s.Stock(ctx)
	if rep.Totals.Shipped == 0 || rep.Reservations[inventory.StatusRejected] == 0 || rep.Totals.Initial != 70 {
		t.Fatalf("mix did not exercise all paths: %+v", rep.Totals)
	}
}

// TestReplicasNeverOversell runs two replicas of the inventory on one
// PostgreSQL database, each with several transactions at once, against
// scarce stock: concurrent reservations of one SKU never take more than
// there is, an order is decided once even when both replicas get its
// OrderPlaced (under different event ids, at the same moment), and stock
// is conserved.
func TestReplicasNeverOversell(t *testing.T) {
	ctx := context.Background()
	db, url := storetest.OpenPostgres(t)
	a, err := inventory.NewStore(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Seed(ctx, map[string]int{"A": 40, "B": 25, "C": 1000}); err != nil {
		t.Fatal(err)
	}
	db2, err := eventing.OpenPostgres(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	b, err := inventory.NewStore(ctx, db2, nil)
	if err != nil {
		t.Fatal(err)
	}
	replicas := []*inventory.Store{a, b}
	const orders, workers = 120, 4
	type job struct {
		id    string
		lines []inventory.Line
	}
	jobs := make(chan job)
	errs := make(chan error, 2*workers)
	var wg sync.WaitGroup
	for _, r := range replicas {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range jobs {
					// Both replicas get every order, under different event
					// ids (a redelivery by another producer), and the
					// workers race for it.
					err := r.Batch(ctx, func(tx *inventory.Tx) error {
						return tx.OrderPlaced(ctx, ev(fmt.Sprintf("%s-%p-%d", j.id, r, w)), j.id, j.lines)
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
	}
	rnd := rand.New(rand.NewPCG(3, 4))
	want := map[string]int{}
	for i := range orders {
		// Lines in random order: the store locks SKUs sorted, so no two
		// transactions wait on each other in a cycle.
		lines := []inventory.Line{{SKU: "C", Quantity: 1 + rnd.IntN(3)}, {SKU: []string{"A", "B"}[rnd.IntN(2)], Quantity: 1 + rnd.IntN(3)}}
		rnd.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
		id := fmt.Sprintf("o%d", i)
		want[id] = 0
		// Each order twice, so two workers (often on both replicas) race.
		jobs <- job{id, lines}
		jobs <- job{id, lines}
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep, err := a.Stock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Conserved {
		t.Fatalf("stock not conserved: %v", rep.Violations)
	}
	var decided int
	for _, n := range rep.Reservations {
		decided += n
	}
	if decided != orders {
		t.Fatalf("%d reservation decisions for %d orders: %v", decided, orders, rep.Reservations)
	}
	var reserved int64
	for _, k := range rep.SKUs {
		if k.Available < 0 || k.Reserved < 0 {
			t.Fatalf("%+v went negative", k)
		}
		if k.SKU != "C" {
			reserved += k.Reserved
		}
	}
	// A and B hold 65 units for 120 orders of 1-3 units each: some are
	// rejected, and what was reserved fits the stock.
	if rep.Reservations[inventory.StatusRejected] == 0 || reserved > 65 {
		t.Fatalf("reservations %v, %d units of A and B reserved", rep.Reservations, reserved)
	}
	// The reserved stock is exactly what the RESERVED reservations hold:
	// no order reserved twice.
	rows, err := db.Query(`SELECT lines FROM reservations WHERE status = 'RESERVED'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var held int64
	for rows.Next() {
		var js string
		var lines []inventory.Line
		if err := rows.Scan(&js); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), &lines); err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			held += int64(l.Quantity)
		}
	}
	if held != rep.Totals.Reserved {
		t.Fatalf("reservations hold %d units, stock has %d reserved: an order was reserved twice", held, rep.Totals.Reserved)
	}
	t.Logf("reservations %v, A+B reserved %d of 65, C reserved %d", rep.Reservations, reserved, rep.Totals.Reserved-reserved)
}
