package inventory_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/services/inventory"
)

type recorder struct{ evs []any }

func (r *recorder) Emit(_ context.Context, _ *sql.Tx, ev any) error {
	r.evs = append(r.evs, ev)
	return nil
}

func open(t *testing.T, seed map[string]int) (*inventory.Store, *recorder) {
	t.Helper()
	rec := &recorder{}
	s, err := inventory.OpenStore(context.Background(), filepath.Join(t.TempDir(), "inv.db"), seed, rec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, rec
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

func TestReserveRejectRelease(t *testing.T) {
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
			s, rec := open(t, map[string]int{"A": 10, "B": 5})
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
func TestRandomFlowConservesStock(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, map[string]int{"A": 50, "B": 20, "C": 0})
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
