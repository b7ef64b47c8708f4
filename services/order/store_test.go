package order_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/services/order"
)

// txOutbox records emitted events in a table inside the caller's
// transaction, so a rolled-back change leaves no emitted event behind. It
// also encodes each OrderPlaced as the service's outbox would (Avro, the
// generated type) and records its size: an event the encoder refuses
// fails the placement, as it would in production.
type txOutbox struct {
	db    *sql.DB
	mu    sync.Mutex
	sizes map[string]int // order id -> encoded OrderPlaced bytes
}

func (o *txOutbox) Emit(ctx context.Context, tx *sql.Tx, ev any) error {
	var typ, id string
	switch e := ev.(type) {
	case order.Placed:
		typ, id = "OrderPlaced", e.OrderID
		et, v, err := order.ToEvent(e)
		if err != nil {
			return err
		}
		b, err := avro.Marshal(et.Schema(), v)
		if err != nil {
			return fmt.Errorf("encode OrderPlaced: %w", err)
		}
		o.mu.Lock()
		if o.sizes == nil {
			o.sizes = map[string]int{}
		}
		o.sizes[id] = len(b)
		o.mu.Unlock()
	case order.Ready:
		typ, id = "OrderReady", e.OrderID
	case order.CancelledEvent:
		typ, id = "OrderCancelled:"+e.Reason, e.OrderID
	default:
		return fmt.Errorf("unexpected event %T", ev)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO test_outbox(order_id, type) VALUES(?, ?)`, id, typ)
	return err
}

func (o *txOutbox) emitted(t *testing.T, orderID string) []string {
	t.Helper()
	rows, err := o.db.Query(`SELECT type FROM test_outbox WHERE order_id = ? ORDER BY rowid`, orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		out = append(out, s)
	}
	return out
}

// placedSize returns the encoded size of orderID's OrderPlaced (0 if none
// was emitted).
func (o *txOutbox) placedSize(orderID string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sizes[orderID]
}

func (o *txOutbox) count(t *testing.T) int {
	t.Helper()
	var n int
	if err := o.db.QueryRow(`SELECT count(*) FROM test_outbox`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func newStore(t testing.TB) (*order.Store, *txOutbox) {
	t.Helper()
	return newStoreAt(t, filepath.Join(t.TempDir(), "order.db"))
}

// newStoreAt opens the order store on the database file path; a second
// call on the same path is a second connection, as a restarted service.
func newStoreAt(t testing.TB, path string) (*order.Store, *txOutbox) {
	t.Helper()
	ctx := context.Background()
	db, err := statedb.OpenDB(ctx, path, order.DDL()+`CREATE TABLE IF NOT EXISTS test_outbox(order_id TEXT, type TEXT);`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ob := &txOutbox{db: db}
	s, err := order.NewStore(ctx, db, ob)
	if err != nil {
		t.Fatal(err)
	}
	return s, ob
}

func placement() order.Placement {
	return order.Placement{CustomerID: "c1", Currency: "USD", Channel: "WEB", Total: 1998,
		Items:   []order.Line{{SKU: "SKU-1", Quantity: 2, UnitPrice: 999}},
		Address: order.Address{Name: "A", Line1: "L", City: "C", PostalCode: "1", Country: "DE"},
		Payment: order.Payment{CardToken: "tok_visa", Last4: "4242"}}
}

type step struct {
	typ string // reserved, rejected, paid, failed, shipped
	id  string // event id
}

func applyStep(ctx context.Context, s *order.Store, orderID string, st step, off int64) error {
	return s.Batch(ctx, func(tx *order.Tx) error {
		rec := statedb.Record{EventID: st.id, Partition: 0, Offset: off, SchemaID: 3}
		switch st.typ {
		case "reserved":
			rec.Type, rec.Topic = order.TypeInventoryReserved, "inventory"
			return tx.InventoryReserved(ctx, rec, orderID, "res-1")
		case "rejected":
			rec.Type, rec.Topic = order.TypeInventoryRejected, "inventory"
			return tx.InventoryRejected(ctx, rec, orderID, "SKU-1 short")
		case "paid":
			rec.Type, rec.Topic = order.TypePaymentConfirmed, "payments"
			return tx.PaymentConfirmed(ctx, rec, orderID, "pay-1")
		case "failed":
			rec.Type, rec.Topic = order.TypePaymentFailed, "payments"
			return tx.PaymentFailed(ctx, rec, orderID, "CARD_DECLINED")
		case "shipped":
			rec.Type, rec.Topic = order.TypeOrderShipped, "shipments"
			return tx.OrderShipped(ctx, rec, orderID, "TRK-1")
		}
		return fmt.Errorf("bad step %q", st.typ)
	})
}

func TestStateMachine(t *testing.T) {
	tests := []struct {
		name     string
		steps    []step
		status   order.Status
		reason   string
		emitted  []string
		historyN int
	}{
		{name: "reserved then paid", steps: []step{{"reserved", "e1"}, {"paid", "e2"}}, status: order.Confirmed,
			emitted: []string{"OrderPlaced", "OrderReady"}, historyN: 4},
		{name: "paid then reserved", steps: []step{{"paid", "e1"}, {"reserved", "e2"}}, status: order.Confirmed,
			emitted: []string{"OrderPlaced", "OrderReady"}, historyN: 4},
		{name: "ready then shipped", steps: []step{{"paid", "e1"}, {"reserved", "e2"}, {"shipped", "e3"}}, status: order.Shipped,
			emitted: []string{"OrderPlaced", "OrderReady"}, historyN: 5},
		{name: "redelivered events apply once", steps: []step{{"reserved", "e1"}, {"reserved", "e1"}, {"paid", "e2"}, {"paid", "e2"}, {"shipped", "e3"}, {"shipped", "e3"}},
			status: order.Shipped, emitted: []string{"OrderPlaced", "OrderReady"}, historyN: 5},
		{name: "only reserved stays pending", steps: []step{{"reserved", "e1"}}, status: order.Pending,
			emitted: []string{"OrderPlaced"}, historyN: 2},
		{name: "rejected cancels", steps: []step{{"rejected", "e1"}}, status: order.Cancelled, reason: order.ReasonOutOfStock,
			emitted: []string{"OrderPlaced", "OrderCancelled:OUT_OF_STOCK"}, historyN: 3},
		{name: "payment failed cancels", steps: []step{{"failed", "e1"}}, status: order.Cancelled, reason: order.ReasonPaymentFailed,
			emitted: []string{"OrderPlaced", "OrderCancelled:PAYMENT_FAILED"}, historyN: 3},
		{name: "paid then rejected cancels once", steps: []step{{"paid", "e1"}, {"rejected", "e2"}}, status: order.Cancelled, reason: order.ReasonOutOfStock,
			emitted: []string{"OrderPlaced", "OrderCancelled:OUT_OF_STOCK"}, historyN: 4},
		{name: "both failures cancel exactly once", steps: []step{{"failed", "e1"}, {"rejected", "e2"}, {"failed", "e1"}}, status: order.Cancelled, reason: order.ReasonPaymentFailed,
			emitted: []string{"OrderPlaced", "OrderCancelled:PAYMENT_FAILED"}, historyN: 4},
		{name: "reserved after rejection stays cancelled", steps: []step{{"failed", "e1"}, {"reserved", "e2"}}, status: order.Cancelled, reason: order.ReasonPaymentFailed,
			emitted: []string{"OrderPlaced", "OrderCancelled:PAYMENT_FAILED"}, historyN: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, ob := newStore(t)
			o, created, err := s.Place(ctx, placement(), "", "", "")
			if err != nil || !created || o.Status != order.Pending {
				t.Fatalf("place: %v %v %+v", err, created, o)
			}
			for i, st := range tt.steps {
				if err := applyStep(ctx, s, o.ID, st, int64(i)); err != nil {
					t.Fatalf("step %d %s: %v", i, st.typ, err)
				}
			}
			got, err := s.Get(ctx, o.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.status || got.Reason != tt.reason {
				t.Errorf("status %s reason %q, want %s %q", got.Status, got.Reason, tt.status, tt.reason)
			}
			if e := ob.emitted(t, o.ID); !reflect.DeepEqual(e, tt.emitted) {
				t.Errorf("emitted %v, want %v", e, tt.emitted)
			}
			if len(got.History) != tt.historyN {
				t.Errorf("history has %d entries, want %d: %+v", len(got.History), tt.historyN, got.History)
			}
			if h := got.History[0]; h.Type != order.TypeOrderPlaced || h.Direction != "out" || h.Topic != "orders" {
				t.Errorf("first history entry %+v", h)
			}
			if len(got.History) > 1 {
				if h := got.History[1]; h.Direction != "in" || h.SchemaID != 3 || h.Offset != 0 || h.Topic == "" {
					t.Errorf("second history entry %+v", h)
				}
			}
		})
	}
}

func TestUnknownOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	err := applyStep(ctx, s, "nope", step{"paid", "e1"}, 0)
	if err == nil || !errorsIs(err, order.ErrUnknownOrder) {
		t.Fatalf("err = %v, want ErrUnknownOrder", err)
	}
}

func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	s, ob := newStore(t)
	a, created, err := s.Place(ctx, placement(), "k1", "h1", "")
	if err != nil || !created {
		t.Fatal(err, created)
	}
	b, created, err := s.Place(ctx, placement(), "k1", "h1", "")
	if err != nil || created || b.ID != a.ID {
		t.Fatalf("replay: %v created=%v id %s vs %s", err, created, b.ID, a.ID)
	}
	if _, _, err := s.Place(ctx, placement(), "k1", "h2", ""); !errorsIs(err, order.ErrIdempotencyConflict) {
		t.Fatalf("conflict: %v", err)
	}
	if e := ob.emitted(t, a.ID); len(e) != 1 {
		t.Fatalf("emitted %v, want one OrderPlaced", e)
	}
}

func TestListPages(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	for i := 0; i < 5; i++ {
		if _, _, err := s.Place(ctx, placement(), "", "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var all []string
	var after int64
	for pages := 0; ; pages++ {
		list, next, err := s.List(ctx, order.ListFilter{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range list {
			all = append(all, o.ID)
		}
		if next == 0 {
			if pages != 2 {
				t.Errorf("pages = %d, want 3", pages+1)
			}
			break
		}
		after = next
	}
	if len(all) != 5 {
		t.Fatalf("listed %d orders, want 5", len(all))
	}
	if l, _, err := s.List(ctx, order.ListFilter{Limit: 10, Since: time.Now().Add(time.Hour)}); err != nil || len(l) != 0 {
		t.Fatalf("since the future: %d orders, %v", len(l), err)
	}
	if l, _, err := s.List(ctx, order.ListFilter{Limit: 10, Since: time.Now().Add(-time.Hour)}); err != nil || len(l) != 5 {
		t.Fatalf("since an hour ago: %d orders, %v", len(l), err)
	}
	// Ship the first order: it leaves the open list.
	first := all[0]
	for i, st := range []step{{"reserved", "x1"}, {"paid", "x2"}, {"shipped", "x3"}} {
		if err := applyStep(ctx, s, first, st, int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	open, _, err := s.List(ctx, order.ListFilter{Limit: 10, Open: true})
	if err != nil || len(open) != 4 {
		t.Fatalf("open orders: %d, %v", len(open), err)
	}
	for _, o := range open {
		if o.ID == first {
			t.Fatal("a shipped order is listed as open")
		}
	}
	counts := []struct {
		name string
		f    order.ListFilter
		want int
	}{
		{name: "all", f: order.ListFilter{}, want: 5},
		{name: "open", f: order.ListFilter{Open: true}, want: 4},
		{name: "open since an hour ago", f: order.ListFilter{Open: true, Since: time.Now().Add(-time.Hour)}, want: 4},
		{name: "since the future", f: order.ListFilter{Since: time.Now().Add(time.Hour)}, want: 0},
	}
	for _, tt := range counts {
		t.Run("count "+tt.name, func(t *testing.T) {
			if n, err := s.Count(ctx, tt.f); err != nil || n != tt.want {
				t.Fatalf("Count = %d, %v; want %d", n, err, tt.want)
			}
		})
	}
}

func TestMarkPublished(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	o, _, err := s.Place(ctx, placement(), "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, o.ID, true)
	if err != nil || len(got.History) != 1 || got.History[0].Offset != -1 {
		t.Fatalf("before: %+v, %v", got.History, err)
	}
	ev := got.History[0].EventID
	tests := []struct {
		name      string
		p         order.Published
		partition int32
		offset    int64
	}{
		{name: "another order's event id changes nothing", p: order.Published{OrderID: "other", EventID: ev, Partition: 9, Offset: 99, SchemaID: 9}, partition: -1, offset: -1},
		{name: "its own event is located", p: order.Published{OrderID: o.ID, EventID: ev, Partition: 2, Offset: 41, SchemaID: 7}, partition: 2, offset: 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.MarkPublished(ctx, []order.Published{tt.p}); err != nil {
				t.Fatal(err)
			}
			got, err := s.Get(ctx, o.ID, true)
			if err != nil {
				t.Fatal(err)
			}
			if h := got.History[0]; h.Partition != tt.partition || h.Offset != tt.offset {
				t.Fatalf("history %+v, want partition %d offset %d", h, tt.partition, tt.offset)
			}
		})
	}
}

// TestPlaceConcurrent places many orders at once, so they share group
// commits: per idempotency key exactly one order is created and emitted
// however many requests carry it, every request with the winning body gets
// that order, one with another body is refused without disturbing the
// others, and a request whose client is gone stores nothing.
func TestPlaceConcurrent(t *testing.T) {
	ctx := context.Background()
	s, ob := newStore(t)
	const keys, perKey = 40, 4
	type result struct {
		key, hash, id string
		created       bool
		err           error
	}
	results := make(chan result, keys*perKey)
	var wg sync.WaitGroup
	for k := 0; k < keys; k++ {
		for j := 0; j < perKey; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				key, hash := fmt.Sprintf("key-%d", k), []string{"a", "b"}[j%2]
				o, created, err := s.Place(ctx, placement(), key, hash, "")
				results <- result{key, hash, o.ID, created, err}
			}()
		}
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := s.Place(gone, placement(), "gone", "h", ""); err == nil {
		t.Fatal("a cancelled placement succeeded")
	}
	wg.Wait()
	close(results)
	byKey := map[string][]result{}
	for r := range results {
		byKey[r.key] = append(byKey[r.key], r)
	}
	for key, rs := range byKey {
		var winner result
		created := 0
		for _, r := range rs {
			if r.created {
				winner = r
				created++
			}
		}
		if created != 1 {
			t.Fatalf("%s: created %d times", key, created)
		}
		for _, r := range rs {
			switch {
			case r.hash == winner.hash && (r.err != nil || r.id != winner.id):
				t.Errorf("%s: same body got %q, %v; want %q", key, r.id, r.err, winner.id)
			case r.hash != winner.hash && !errorsIs(r.err, order.ErrIdempotencyConflict):
				t.Errorf("%s: other body got %q, %v; want ErrIdempotencyConflict", key, r.id, r.err)
			}
		}
	}
	if n := ob.count(t); n != keys {
		t.Errorf("%d OrderPlaced emitted, want %d", n, keys)
	}
	list, _, err := s.List(ctx, order.ListFilter{Limit: 1000})
	if err != nil || len(list) != keys {
		t.Fatalf("%d orders stored (%v), want %d", len(list), err, keys)
	}
}

// TestPlaceFailureIsUndoneAlone makes the outbox fail for some orders
// placed concurrently (after it wrote its row): each of those is undone
// completely (order, history, outbox row), the others in the same group
// commit are kept.
func TestPlaceFailureIsUndoneAlone(t *testing.T) {
	ctx := context.Background()
	db, err := statedb.OpenDB(ctx, filepath.Join(t.TempDir(), "order.db"), order.DDL()+`CREATE TABLE test_outbox(order_id TEXT, type TEXT);`)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ob := &txOutbox{db: db}
	failing := statedb.EmitterFunc(func(ctx context.Context, tx *sql.Tx, ev any) error {
		if err := ob.Emit(ctx, tx, ev); err != nil {
			return err
		}
		if p, ok := ev.(order.Placed); ok && p.CustomerID == "fail" {
			return errors.New("outbox refused")
		}
		return nil
	})
	s, err := order.NewStore(ctx, db, failing)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ok, failed int
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := placement()
			if i%3 == 0 {
				p.CustomerID = "fail"
			}
			_, _, err := s.Place(ctx, p, "", "", "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil && i%3 != 0:
				ok++
			case err != nil && i%3 == 0:
				failed++
			default:
				t.Errorf("order %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	var orders, history int
	db.QueryRow(`SELECT count(*) FROM orders`).Scan(&orders)
	db.QueryRow(`SELECT count(*) FROM history`).Scan(&history)
	if ok != 20 || failed != 10 || orders != 20 || history != 20 || ob.count(t) != 20 {
		t.Fatalf("ok %d failed %d; stored %d orders, %d history rows, %d outbox rows; want 20 of each", ok, failed, orders, history, ob.count(t))
	}
}
