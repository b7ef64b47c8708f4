package payment_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/eventing/statedb"
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

func TestChargeOnceRefundOnce(t *testing.T) {
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
			s, err := payment.OpenStore(ctx, filepath.Join(t.TempDir(), "p.db"), rec)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
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

func TestCancelBeforePlacedVoids(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	s, err := payment.OpenStore(ctx, filepath.Join(t.TempDir(), "p.db"), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Batch(ctx, func(tx *payment.Tx) error { return tx.OrderCancelled(ctx, statedb.Record{EventID: "c"}, "o1") })
	s.Batch(ctx, func(tx *payment.Tx) error {
		return tx.OrderPlaced(ctx, statedb.Record{EventID: "p"}, payment.Charge{OrderID: "o1", Total: 1, CardToken: "tok_visa"})
	})
	a, _, _ := s.Get(ctx, "o1")
	if a.Status != payment.StatusVoid || a.Charges != 0 || len(rec.evs) != 0 {
		t.Fatalf("account %+v, events %v", a, rec.evs)
	}
}
