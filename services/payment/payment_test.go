package payment_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/eventing/storetest"
	"github.com/contrail-events/contrail/services/payment"
)

type recorder struct{ evs []any }

func (r *recorder) Emit(_ context.Context, _ *sql.Tx, ev any) error {
	r.evs = append(r.evs, ev)
	return nil
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name string
		c    payment.Charge
		code string
	}{
		{name: "normal card", c: payment.Charge{Total: 1999, CardToken: "tok_visa"}},
		{name: "exactly the limit", c: payment.Charge{Total: 1_000_000, CardToken: "tok_visa"}},
		{name: "over the limit", c: payment.Charge{Total: 1_000_001, CardToken: "tok_visa"}, code: payment.CodeLimitExceeded},
		{name: "invoice over the limit", c: payment.Charge{Total: 2_000_000}, code: payment.CodeLimitExceeded},
		{name: "decline token", c: payment.Charge{Total: 100, CardToken: "tok_decline"}, code: payment.CodeCardDeclined},
		{name: "invoice", c: payment.Charge{Total: 100}},
		{name: "smallest charge", c: payment.Charge{Total: payment.MinCharge, CardToken: "tok_visa"}},
		// The order API refuses these; another producer's OrderPlaced may not.
		{name: "zero total", c: payment.Charge{Total: 0, CardToken: "tok_visa"}, code: payment.CodeInvalidAmount},
		{name: "negative total", c: payment.Charge{Total: -500, CardToken: "tok_visa"}, code: payment.CodeInvalidAmount},
		{name: "negative invoice", c: payment.Charge{Total: -1}, code: payment.CodeInvalidAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code, msg := payment.Decide(tt.c); code != tt.code || (code != "" && msg == "") {
				t.Fatalf("Decide = %q %q, want %q", code, msg, tt.code)
			}
		})
	}
}

// eachDB runs fn on SQLite and on PostgreSQL (which skips without a
// server).
func eachDB(t *testing.T, fn func(t *testing.T, d storetest.Database)) {
	for _, d := range storetest.Databases() {
		t.Run(d.Name, func(t *testing.T) { fn(t, d) })
	}
}

func TestOpenStoreOnAFile(t *testing.T) {
	s, err := payment.OpenStore(context.Background(), filepath.Join(t.TempDir(), "p.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, ok, err := s.Get(context.Background(), "o1"); err != nil || ok {
		t.Fatalf("Get = %v, %v", ok, err)
	}
}

func TestChargeOnceRefundOnce(t *testing.T) { eachDB(t, testChargeOnceRefundOnce) }

func testChargeOnceRefundOnce(t *testing.T, d storetest.Database) {
	tests := []struct {
		name             string
		token            string
		cancel           bool
		status           string
		charges, refunds int
		events           []string
	}{
		{name: "charged", token: "tok_visa", status: payment.StatusCharged, charges: 1, events: []string{"confirmed"}},
		{name: "declined", token: "tok_decline", status: payment.StatusDeclined, events: []string{"failed"}},
		{name: "charged then cancelled", token: "tok_visa", cancel: true, status: payment.StatusRefunded, charges: 1, refunds: 1, events: []string{"confirmed", "refunded"}},
		{name: "declined then cancelled", token: "tok_decline", cancel: true, status: payment.StatusDeclined, events: []string{"failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rec := &recorder{}
			s, err := payment.NewStore(ctx, d.Open(t), rec)
			if err != nil {
				t.Fatal(err)
			}
			c := payment.Charge{OrderID: "o1", Total: 5000, Currency: "EUR", CardToken: tt.token}
			for _, id := range []string{"e1", "e1", "e1-redelivered-new-id"} {
				if err := s.Batch(ctx, func(tx *payment.Tx) error { return tx.OrderPlaced(ctx, statedb.Record{EventID: id}, c) }); err != nil {
					t.Fatal(err)
				}
			}
			if tt.cancel {
				for _, id := range []string{"c1", "c1", "c2"} {
					if err := s.Batch(ctx, func(tx *payment.Tx) error { return tx.OrderCancelled(ctx, statedb.Record{EventID: id}, "o1") }); err != nil {
						t.Fatal(err)
					}
				}
			}
			a, ok, err := s.Get(ctx, "o1")
			if err != nil || !ok {
				t.Fatal(err, ok)
			}
			if a.Status != tt.status || a.Charges != tt.charges || a.Refunds != tt.refunds {
				t.Errorf("account %+v, want %s charges %d refunds %d", a, tt.status, tt.charges, tt.refunds)
			}
			var evs []string
			for _, e := range rec.evs {
				switch e.(type) {
				case payment.Confirmed:
					evs = append(evs, "confirmed")
				case payment.Failed:
					evs = append(evs, "failed")
				case payment.Refunded:
					evs = append(evs, "refunded")
				}
			}
			if len(evs) != len(tt.events) || (len(evs) > 0 && evs[len(evs)-1] != tt.events[len(tt.events)-1]) {
				t.Errorf("events %v, want %v", evs, tt.events)
			}
		})
	}
}

func TestCancelBeforePlacedVoids(t *testing.T) { eachDB(t, testCancelBeforePlacedVoids) }

func testCancelBeforePlacedVoids(t *testing.T, d storetest.Database) {
	ctx := context.Background()
	rec := &recorder{}
	s, err := payment.NewStore(ctx, d.Open(t), rec)
	if err != nil {
		t.Fatal(err)
	}
	s.Batch(ctx, func(tx *payment.Tx) error { return tx.OrderCancelled(ctx, statedb.Record{EventID: "c"}, "o1") })
	s.Batch(ctx, func(tx *payment.Tx) error {
		return tx.OrderPlaced(ctx, statedb.Record{EventID: "p"}, payment.Charge{OrderID: "o1", Total: 1, CardToken: "tok_visa"})
	})
	a, _, _ := s.Get(ctx, "o1")
	if a.Status != payment.StatusVoid || a.Charges != 0 || len(rec.evs) != 0 {
		t.Fatalf("account %+v, events %v", a, rec.evs)
	}
}

// counter counts emitted events by type; safe for concurrent use.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *counter) Emit(_ context.Context, _ *sql.Tx, ev any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n[fmt.Sprintf("%T", ev)]++
	return nil
}

// TestReplicasChargeAndRefundOnce: two replicas on one PostgreSQL database
// both get every OrderPlaced and every OrderCancelled, under different
// event ids, at the same moment. Each order is charged once and refunded
// once, by the ledger.
func TestReplicasChargeAndRefundOnce(t *testing.T) {
	ctx := context.Background()
	db, url := storetest.OpenPostgres(t)
	emitted := &counter{n: map[string]int{}}
	a, err := payment.NewStore(ctx, db, emitted)
	if err != nil {
		t.Fatal(err)
	}
	db2, err := eventing.OpenPostgres(ctx, url, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	b, err := payment.NewStore(ctx, db2, emitted)
	if err != nil {
		t.Fatal(err)
	}
	const orders = 60
	run := func(fn func(s *payment.Store, replica int, id string) error) {
		var wg sync.WaitGroup
		errs := make(chan error, orders*2)
		for i := range orders {
			for r, s := range []*payment.Store{a, b} {
				wg.Add(1)
				go func() { defer wg.Done(); errs <- fn(s, r, fmt.Sprintf("o%d", i)) }()
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	run(func(s *payment.Store, r int, id string) error {
		return s.Batch(ctx, func(tx *payment.Tx) error {
			return tx.OrderPlaced(ctx, statedb.Record{EventID: fmt.Sprintf("p-%s-%d", id, r)}, payment.Charge{OrderID: id, Total: 500, Currency: "EUR", CardToken: "tok_visa"})
		})
	})
	run(func(s *payment.Store, r int, id string) error {
		return s.Batch(ctx, func(tx *payment.Tx) error {
			return tx.OrderCancelled(ctx, statedb.Record{EventID: fmt.Sprintf("c-%s-%d", id, r)}, id)
		})
	})
	list, err := a.Accounts(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != orders {
		t.Fatalf("%d accounts, want %d", len(list), orders)
	}
	for _, acc := range list {
		if acc.Charges != 1 || acc.Refunds != 1 || acc.Status != payment.StatusRefunded {
			t.Errorf("account %+v: want charged once, refunded once", acc)
		}
	}
	if emitted.n["payment.Confirmed"] != orders || emitted.n["payment.Refunded"] != orders {
		t.Errorf("emitted %v, want %d confirmed and %d refunded", emitted.n, orders, orders)
	}
}
