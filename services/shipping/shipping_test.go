package shipping_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/services/shipping"
)

type recorder struct{ evs []shipping.ShippedEvent }

func (r *recorder) Emit(_ context.Context, _ *sql.Tx, ev any) error {
	r.evs = append(r.evs, ev.(shipping.ShippedEvent))
	return nil
}

func TestShipOnce(t *testing.T) {
	ctx := context.Background()
	rec := &recorder{}
	s, err := shipping.OpenStore(ctx, filepath.Join(t.TempDir(), "s.db"), rec)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
