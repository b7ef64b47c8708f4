package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events/money"
	"github.com/google/uuid"
)

// Full Avro names of the events the order service emits and consumes.
const (
	TypeOrderPlaced       = "contrail.orders.OrderPlaced"
	TypeOrderReady        = "contrail.orders.OrderReady"
	TypeOrderCancelled    = "contrail.orders.OrderCancelled"
	TypeInventoryReserved = "contrail.inventory.InventoryReserved"
	TypeInventoryRejected = "contrail.inventory.InventoryRejected"
	TypeInventoryReleased = "contrail.inventory.InventoryReleased"
	TypePaymentConfirmed  = "contrail.payments.PaymentConfirmed"
	TypePaymentFailed     = "contrail.payments.PaymentFailed"
	TypePaymentRefunded   = "contrail.payments.PaymentRefunded"
	TypeOrderShipped      = "contrail.shipping.OrderShipped"
)

const ddl = statedb.InboxDDL + `
CREATE TABLE IF NOT EXISTS orders (
	seq            INTEGER PRIMARY KEY AUTOINCREMENT,
	id             TEXT NOT NULL UNIQUE,
	status         TEXT NOT NULL,
	reason         TEXT NOT NULL DEFAULT '',
	detail         TEXT NOT NULL DEFAULT '',
	reserved       INTEGER NOT NULL DEFAULT 0,
	paid           INTEGER NOT NULL DEFAULT 0,
	reservation_id TEXT NOT NULL DEFAULT '',
	payment_id     TEXT NOT NULL DEFAULT '',
	placement      TEXT NOT NULL,
	idem_key       TEXT UNIQUE,
	idem_hash      TEXT NOT NULL DEFAULT '',
	trace_id       TEXT NOT NULL DEFAULT '',
	created_at     INTEGER NOT NULL,
	updated_at     INTEGER NOT NULL,
	final_at       INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS history (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	order_id   TEXT NOT NULL,
	type       TEXT NOT NULL,
	direction  TEXT NOT NULL,
	event_id   TEXT NOT NULL,
	at         INTEGER NOT NULL,
	topic      TEXT NOT NULL,
	partition  INTEGER NOT NULL,
	off        INTEGER NOT NULL,
	schema_id  INTEGER NOT NULL,
	detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS history_order ON history(order_id, seq);
-- MarkPublished finds an emitted event by its order (the record key) with
-- history_order; an index on event_id cost a page write per event.
DROP INDEX IF EXISTS history_event;
CREATE INDEX IF NOT EXISTS orders_created ON orders(created_at);
-- The orders still in flight, for GET /orders?open=true and /orders/count:
-- a final order leaves the index, so finding the open ones never scans the
-- finished ones.
CREATE INDEX IF NOT EXISTS orders_open_created ON orders(created_at) WHERE status IN ('PENDING', 'CONFIRMED');
`

// Store is the order service's state in its SQLite file: the shared
// statedb.State (DB, Batch, In over the statements its transactions run),
// the prepared reads of its API, and the placement group commit. It is safe
// for concurrent use; writes serialize on SQLite's single writer.
type Store struct {
	*statedb.State[*Tx]
	versions *host.SchemaVersions
	reads    reads
	placeq   chan *placeReq
	stop     chan struct{}
	stopOnce sync.Once
}

// The store's statements, prepared once: parsing SQL on every event cost
// about a fifth of the service's CPU at saturation. The writes run in
// transactions (statedb.Tx.Exec and QueryRow), the reads (reads) outside.
const (
	qSelectIdem    = `SELECT id, idem_hash FROM orders WHERE idem_key = ?`
	qInsertOrder   = `INSERT INTO orders(id, status, placement, idem_key, idem_hash, trace_id, created_at, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)`
	qInsertHistory = `INSERT INTO history(order_id, type, direction, event_id, at, topic, partition, off, schema_id, detail) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	qSelectState   = `SELECT status, reason, detail, reserved, paid, reservation_id, payment_id FROM orders WHERE id = ?`
	qPlacement     = `SELECT placement FROM orders WHERE id = ?`
	qUpdateState   = `UPDATE orders SET status = ?, reason = ?, detail = ?, reserved = ?, paid = ?, reservation_id = ?, payment_id = ?, updated_at = ?,
		final_at = CASE WHEN ? > 0 THEN ? ELSE final_at END WHERE id = ?`
	qMarkPublished = `UPDATE history SET partition = ?, off = ?, schema_id = ? WHERE order_id = ? AND event_id = ? AND direction = 'out'`
	qGetOrder      = `SELECT ` + orderCols + ` FROM orders WHERE id = ?`
	qHistory       = `SELECT type, direction, event_id, at, topic, partition, off, schema_id, detail FROM history WHERE order_id = ? ORDER BY seq`
	// Without the hint SQLite walks the table in seq order from the start.
	qListSince = `SELECT min(seq) FROM orders INDEXED BY orders_created WHERE created_at >= ?`
	qList      = `SELECT ` + orderCols + ` FROM orders WHERE seq > ? ORDER BY seq LIMIT ?`
	qListOpen  = `SELECT ` + orderCols + ` FROM orders INDEXED BY orders_open_created WHERE status IN ('PENDING', 'CONFIRMED') AND created_at >= ? AND seq > ? ORDER BY seq LIMIT ?`
	qCountOpen = `SELECT count(*) FROM orders WHERE status IN ('PENDING', 'CONFIRMED') AND created_at >= ? AND seq > ?`
	qCount     = `SELECT count(*) FROM orders WHERE created_at >= ? AND seq > ?`

	qSavepoint  = `SAVEPOINT placement`
	qRollbackTo = `ROLLBACK TO placement`
	qRelease    = `RELEASE placement`
)

// reads are the API's queries, run on the database outside transactions.
type reads struct {
	getOrder, history, listSince, list, listOpen, count, countOpen *sql.Stmt
}

// prepare prepares the reads on db. It must run outside any transaction:
// the database has one connection, which a transaction holds.
func (r *reads) prepare(ctx context.Context, db *sql.DB) error {
	for _, q := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&r.getOrder, qGetOrder}, {&r.history, qHistory},
		{&r.listSince, qListSince}, {&r.list, qList}, {&r.listOpen, qListOpen}, {&r.count, qCount}, {&r.countOpen, qCountOpen},
	} {
		p, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("order: prepare %q: %w", q.sql, err)
		}
		*q.dst = p
	}
	return nil
}

// ResolveVersions makes Get name each history entry's subject and schema
// version through v. Call it before serving.
func (s *Store) ResolveVersions(v *host.SchemaVersions) { s.versions = v }

// Published is an acknowledged publish of an event the store emitted.
type Published struct {
	// OrderID is the order the event belongs to (the record key).
	OrderID   string
	EventID   string
	Partition int32
	Offset    int64
	SchemaID  int
}

// MarkPublished fills in where the emitted events landed, in one
// transaction. Unknown event ids are ignored.
func (s *Store) MarkPublished(ctx context.Context, ps []Published) error {
	// Not cancelled halfway: the transaction commits what it marked.
	qctx := context.WithoutCancel(ctx)
	return s.Batch(qctx, func(t *Tx) error {
		for _, p := range ps {
			if _, err := t.tx.Exec(qctx, qMarkPublished, p.Partition, p.Offset, p.SchemaID, p.OrderID, p.EventID); err != nil {
				return fmt.Errorf("order: mark published: %w", err)
			}
		}
		return nil
	})
}

// OpenStore opens or creates the store at path. emit receives the events
// the store emits, inside the transaction that changes the state.
func OpenStore(ctx context.Context, path string, emit statedb.Emitter) (*Store, error) {
	return statedb.OpenStore(ctx, path, ddl, emit, NewStore)
}

// NewStore returns a store on an open database whose tables exist (see
// DDL) and prepares its statements; call it outside any transaction on db.
// emit receives the emitted events (nil drops them).
func NewStore(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*Store, error) {
	st, err := statedb.NewState(ctx, db, emit, func(t statedb.Tx) *Tx { return &Tx{t} },
		qSelectIdem, qInsertOrder, qInsertHistory, qSelectState, qPlacement, qUpdateState, qMarkPublished,
		qSavepoint, qRollbackTo, qRelease)
	if err != nil {
		return nil, fmt.Errorf("order: %w", err)
	}
	s := &Store{State: st, placeq: make(chan *placeReq, maxPlaceBatch), stop: make(chan struct{})}
	if err := s.reads.prepare(ctx, db); err != nil {
		return nil, err
	}
	go s.placeLoop()
	return s, nil
}

// DDL is the SQL that creates the store's tables (idempotent).
func DDL() string { return ddl }

// Close stops the placement group commit and closes the database.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	return s.State.Close()
}

// Place stores a new PENDING order and emits OrderPlaced in one
// transaction. With a non-empty idemKey, a second call with the same key and
// the same reqHash returns the first order and created=false without
// emitting anything; a different reqHash returns ErrIdempotencyConflict.
func (s *Store) Place(ctx context.Context, p Placement, idemKey, reqHash, traceID string) (o Order, created bool, err error) {
	body, err := json.Marshal(p)
	if err != nil {
		return Order{}, false, fmt.Errorf("order: encode placement: %w", err)
	}
	return s.place(ctx, p, body, idemKey, reqHash, traceID)
}

// place is Place with p already encoded as body (json.Marshal(p)).
func (s *Store) place(ctx context.Context, p Placement, body []byte, idemKey, reqHash, traceID string) (o Order, created bool, err error) {
	req := &placeReq{ctx: ctx, p: p, body: body, key: idemKey, hash: reqHash, trace: traceID, res: make(chan placeRes, 1)}
	select {
	case s.placeq <- req:
	case <-ctx.Done():
		return Order{}, false, fmt.Errorf("order: not placed: %w", ctx.Err())
	case <-s.stop:
		return Order{}, false, ErrClosed
	}
	// Once queued, the placement commits or rolls back on its own merits,
	// even if the client goes away (a retry with the same key finds it).
	var r placeRes
	select {
	case r = <-req.res:
	case <-s.stop:
		return Order{}, false, ErrClosed
	}
	if r.err != nil {
		return Order{}, false, r.err
	}
	if r.created {
		// Everything the caller needs is known: skip reading it back.
		now := time.Now().UTC()
		return Order{ID: r.id, Status: Pending, CustomerID: p.CustomerID, Currency: p.Currency, Total: p.Total.String(),
			Items: p.Items, TraceID: traceID, CreatedAt: now, UpdatedAt: now}, true, nil
	}
	o, err = s.Get(ctx, r.id, false)
	return o, false, err
}

// ErrClosed is returned by Place after Close.
var ErrClosed = errors.New("order: store closed")

// maxPlaceBatch caps how many placements share one transaction.
const maxPlaceBatch = 128

// placeReq is a placement waiting for the group commit.
type placeReq struct {
	ctx              context.Context
	p                Placement
	body             []byte
	key, hash, trace string
	res              chan placeRes
}

type placeRes struct {
	id      string
	created bool
	err     error
}

// placeLoop commits placements in groups: every placement that arrived
// while the previous transaction committed goes into the next one, so
// concurrent POSTs share a commit, and a lone POST waits for nothing.
func (s *Store) placeLoop() {
	for {
		var batch []*placeReq
		select {
		case r := <-s.placeq:
			batch = append(batch, r)
		case <-s.stop:
			return
		}
	collect:
		for len(batch) < maxPlaceBatch {
			select {
			case r := <-s.placeq:
				batch = append(batch, r)
			default:
				break collect
			}
		}
		s.placeBatch(batch)
	}
}

// placeBatch places batch in one transaction, each placement inside its
// own savepoint: one that fails (an idempotency conflict, a client that
// went away) is undone alone and gets its error; a failed commit fails
// them all, and then none of them was stored or emitted.
func (s *Store) placeBatch(batch []*placeReq) {
	ctx := context.Background()
	res := make([]placeRes, len(batch))
	err := s.Batch(ctx, func(t *Tx) error {
		if len(batch) == 1 {
			res[0] = t.placeOne(batch[0])
			return res[0].err
		}
		exec := func(query string) error {
			_, err := t.tx.Exec(ctx, query)
			return err
		}
		for i, r := range batch {
			if err := exec(qSavepoint); err != nil {
				return fmt.Errorf("order: savepoint: %w", err)
			}
			res[i] = t.placeOne(r)
			if res[i].err != nil {
				if err := exec(qRollbackTo); err != nil {
					return fmt.Errorf("order: roll back a placement: %w", err)
				}
			}
			if err := exec(qRelease); err != nil {
				return fmt.Errorf("order: release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, r := range batch {
		out := res[i]
		if err != nil && out.err == nil {
			out = placeRes{err: err}
		}
		r.res <- out
	}
}

// placeOne stores one placement inside tx, or finds the order its
// idempotency key already placed.
func (t *Tx) placeOne(r *placeReq) placeRes {
	if err := r.ctx.Err(); err != nil {
		return placeRes{err: fmt.Errorf("order: not placed: %w", err)}
	}
	// No cancellation inside the shared transaction: SQLite answers an
	// interrupted write by rolling back the whole transaction. The values
	// (the request's trace context) stay for the outbox record.
	ctx := context.WithoutCancel(r.ctx)
	if r.key != "" {
		var id, hash string
		err := t.tx.QueryRow(ctx, qSelectIdem, r.key).Scan(&id, &hash)
		switch {
		case err == nil:
			if hash != r.hash {
				return placeRes{err: ErrIdempotencyConflict}
			}
			return placeRes{id: id}
		case !errors.Is(err, sql.ErrNoRows):
			return placeRes{err: fmt.Errorf("order: look up idempotency key: %w", err)}
		}
	}
	id := uuid.NewString()
	now := time.Now().UnixMilli()
	var key any
	if r.key != "" {
		key = r.key
	}
	if _, err := t.tx.Exec(ctx, qInsertOrder, id, string(Pending), string(r.body), key, r.hash, r.trace, now, now); err != nil {
		return placeRes{err: fmt.Errorf("order: insert order: %w", err)}
	}
	ev := Placed{Meta: statedb.NewMeta(id, ""), OrderID: id, Placement: r.p}
	if err := t.emitOut(ctx, id, TypeOrderPlaced, "orders", ev.Meta, "", ev); err != nil {
		return placeRes{err: err}
	}
	return placeRes{id: id, created: true}
}

// emitOut records ev in the order's history and emits it.
func (t *Tx) emitOut(ctx context.Context, orderID, typ, topic string, m statedb.Meta, detail string, ev any) error {
	if _, err := t.tx.Exec(ctx, qInsertHistory, orderID, typ, "out", m.EventID, m.OccurredAt.UnixMilli(), topic, -1, -1, 0, detail); err != nil {
		return fmt.Errorf("order: insert history: %w", err)
	}
	if err := t.tx.Emit(ctx, ev); err != nil {
		return fmt.Errorf("order: emit %s: %w", typ, err)
	}
	return nil
}

// state is the part of an order row the state machine reads and writes.
type state struct {
	id            string
	status        Status
	reason        string
	detail        string
	reserved      bool
	paid          bool
	reservationID string
	paymentID     string
	// placement reads the order as placed; only OrderReady needs its items
	// and address, so most events never read it.
	placement func() (Placement, error)
}

// Tx applies consumed events inside one SQLite transaction; Store.Batch
// and Store.In create it. Each method writes the inbox row (unless the
// runtime's inbox transaction holds it), the history row, the state change
// and the emitted events; a redelivered event (same event id) changes
// nothing. A Tx is not safe for concurrent use.
type Tx struct{ tx statedb.Tx }

type out struct {
	typ, topic, detail string
	meta               statedb.Meta
	ev                 any
}

// apply runs fn on orderID's state for the event rec and stores the
// result: the history row, the new state and fn's events.
func (t *Tx) apply(ctx context.Context, rec statedb.Record, orderID, detail string, fn func(st *state) ([]out, error)) error {
	fresh, err := t.tx.Seen(ctx, rec.EventID)
	if err != nil {
		return fmt.Errorf("order: inbox: %w", err)
	}
	if !fresh {
		return nil
	}
	st := state{id: orderID}
	err = t.tx.QueryRow(ctx, qSelectState, orderID).
		Scan(&st.status, &st.reason, &st.detail, &st.reserved, &st.paid, &st.reservationID, &st.paymentID)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w %q (event %s %s)", ErrUnknownOrder, orderID, rec.Type, rec.EventID)
	}
	if err != nil {
		return fmt.Errorf("order: load %s: %w", orderID, err)
	}
	st.placement = func() (Placement, error) {
		var b []byte
		var p Placement
		if err := t.tx.QueryRow(ctx, qPlacement, orderID).Scan(&b); err != nil {
			return p, fmt.Errorf("order: load placement of %s: %w", orderID, err)
		}
		if err := json.Unmarshal(b, &p); err != nil {
			return p, fmt.Errorf("order: decode placement of %s: %w", orderID, err)
		}
		return p, nil
	}
	at := rec.Time
	if at.IsZero() {
		at = time.Now()
	}
	if _, err := t.tx.Exec(ctx, qInsertHistory, orderID, rec.Type, "in", rec.EventID, at.UnixMilli(), rec.Topic, rec.Partition, rec.Offset, rec.SchemaID, detail); err != nil {
		return fmt.Errorf("order: insert history: %w", err)
	}
	was := st.status
	outs, err := fn(&st)
	if err != nil {
		return err
	}
	now := time.Now().UnixMilli()
	var finalAt int64
	if st.status.Final() && !was.Final() {
		finalAt = now
	}
	if _, err := t.tx.Exec(ctx, qUpdateState,
		string(st.status), st.reason, st.detail, st.reserved, st.paid, st.reservationID, st.paymentID, now, finalAt, finalAt, orderID); err != nil {
		return fmt.Errorf("order: update %s: %w", orderID, err)
	}
	for _, o := range outs {
		if err := t.emitOut(ctx, orderID, o.typ, o.topic, o.meta, o.detail, o.ev); err != nil {
			return err
		}
	}
	return nil
}

// confirmIfReady moves a PENDING order with both reservation and payment to
// CONFIRMED and returns the OrderReady to emit.
func confirmIfReady(st *state, causation string) ([]out, error) {
	if st.status != Pending || !st.reserved || !st.paid {
		return nil, nil
	}
	p, err := st.placement()
	if err != nil {
		return nil, err
	}
	st.status = Confirmed
	ev := Ready{Meta: statedb.NewMeta(st.id, causation), OrderID: st.id, ReservationID: st.reservationID,
		PaymentID: st.paymentID, Items: p.Items, Currency: p.Currency, Address: p.Address}
	return []out{{typ: TypeOrderReady, topic: "orders", meta: ev.Meta, ev: ev}}, nil
}

// cancel moves a PENDING order to CANCELLED and returns the one
// OrderCancelled; any other state is left alone (a second failure, or one
// that arrives after the order moved on, only lands in the history).
func cancel(st *state, reason, detail, causation string) []out {
	if st.status != Pending {
		return nil
	}
	st.status, st.reason, st.detail = Cancelled, reason, detail
	ev := CancelledEvent{Meta: statedb.NewMeta(st.id, causation), OrderID: st.id, Reason: reason, Detail: detail}
	return []out{{typ: TypeOrderCancelled, topic: "orders", meta: ev.Meta, detail: reason, ev: ev}}
}

// InventoryReserved applies InventoryReserved for orderID.
func (t *Tx) InventoryReserved(ctx context.Context, rec statedb.Record, orderID, reservationID string) error {
	return t.apply(ctx, rec, orderID, "", func(st *state) ([]out, error) {
		if st.reserved {
			return nil, nil
		}
		st.reserved, st.reservationID = true, reservationID
		return confirmIfReady(st, rec.EventID)
	})
}

// PaymentConfirmed applies PaymentConfirmed for orderID.
func (t *Tx) PaymentConfirmed(ctx context.Context, rec statedb.Record, orderID, paymentID string) error {
	return t.apply(ctx, rec, orderID, "", func(st *state) ([]out, error) {
		if st.paid {
			return nil, nil
		}
		st.paid, st.paymentID = true, paymentID
		return confirmIfReady(st, rec.EventID)
	})
}

// InventoryRejected applies InventoryRejected; detail names the short lines.
func (t *Tx) InventoryRejected(ctx context.Context, rec statedb.Record, orderID, detail string) error {
	return t.apply(ctx, rec, orderID, detail, func(st *state) ([]out, error) {
		return cancel(st, ReasonOutOfStock, detail, rec.EventID), nil
	})
}

// PaymentFailed applies PaymentFailed; detail carries the decline code and message.
func (t *Tx) PaymentFailed(ctx context.Context, rec statedb.Record, orderID, detail string) error {
	return t.apply(ctx, rec, orderID, detail, func(st *state) ([]out, error) {
		return cancel(st, ReasonPaymentFailed, detail, rec.EventID), nil
	})
}

// OrderShipped applies OrderShipped; detail carries the tracking number.
func (t *Tx) OrderShipped(ctx context.Context, rec statedb.Record, orderID, detail string) error {
	return t.apply(ctx, rec, orderID, detail, func(st *state) ([]out, error) {
		if st.status == Confirmed {
			st.status = Shipped
		}
		return nil, nil
	})
}

// Observed records an event that does not change the state
// (InventoryReleased, PaymentRefunded, or an own event read back) in the
// order's history.
func (t *Tx) Observed(ctx context.Context, rec statedb.Record, orderID, detail string) error {
	return t.apply(ctx, rec, orderID, detail, func(*state) ([]out, error) { return nil, nil })
}

// Get returns the order with id, with its history when withHistory. It
// returns an error wrapping ErrUnknownOrder when there is none.
func (s *Store) Get(ctx context.Context, id string, withHistory bool) (Order, error) {
	rows, err := s.reads.getOrder.QueryContext(ctx, id)
	if err != nil {
		return Order{}, fmt.Errorf("order: get %s: %w", id, err)
	}
	list, err := scanOrders(rows)
	if err != nil {
		return Order{}, err
	}
	if len(list) == 0 {
		return Order{}, fmt.Errorf("%w %q", ErrUnknownOrder, id)
	}
	o := list[0]
	if withHistory {
		if o.History, err = s.history(ctx, id); err != nil {
			return Order{}, err
		}
	}
	return o, nil
}

// ListFilter selects a page of orders.
type ListFilter struct {
	// After is the cursor of the previous page (0 = from the first order).
	After int64
	// Limit is the page size, 1..1000; default 100.
	Limit int
	// Since, when not zero, skips orders created before it.
	Since time.Time
	// Open keeps only orders that are not final yet (PENDING, CONFIRMED).
	Open bool
}

// List returns a page of orders, oldest first, and the cursor for the next
// page (0 = no more).
func (s *Store) List(ctx context.Context, f ListFilter) ([]Order, int64, error) {
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var rows *sql.Rows
	var err error
	if f.Open {
		// The open orders come from their own index; no cursor lookup.
		var since int64
		if !f.Since.IsZero() {
			since = f.Since.UnixMilli()
		}
		rows, err = s.reads.listOpen.QueryContext(ctx, since, f.After, limit+1)
	} else {
		after, ok, serr := s.since(ctx, f.After, f.Since)
		if serr != nil || !ok {
			return nil, 0, serr
		}
		rows, err = s.reads.list.QueryContext(ctx, after, limit+1)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("order: list: %w", err)
	}
	list, err := scanOrders(rows)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].seq
	}
	for i := range list {
		list[i].seq = 0
	}
	return list, next, nil
}

// since moves the cursor after to the first order created at or after t
// (t zero: no change); ok is false when there is no such order.
func (s *Store) since(ctx context.Context, after int64, t time.Time) (int64, bool, error) {
	if t.IsZero() {
		return after, true, nil
	}
	var first sql.NullInt64
	if err := s.reads.listSince.QueryRowContext(ctx, t.UnixMilli()).Scan(&first); err != nil {
		return 0, false, fmt.Errorf("order: orders since %s: %w", t.Format(time.RFC3339Nano), err)
	}
	if !first.Valid {
		return 0, false, nil
	}
	return max(after, first.Int64-1), true, nil
}

// Count counts the orders f selects (After, Since and Open; Limit is
// ignored). With Open it reads only the orders still in flight.
func (s *Store) Count(ctx context.Context, f ListFilter) (int, error) {
	var since int64
	if !f.Since.IsZero() {
		since = f.Since.UnixMilli()
	}
	q := s.reads.count
	if f.Open {
		q = s.reads.countOpen
	}
	var n int
	if err := q.QueryRowContext(ctx, since, f.After).Scan(&n); err != nil {
		return 0, fmt.Errorf("order: count: %w", err)
	}
	return n, nil
}

const orderCols = `seq, id, status, reason, detail, placement, trace_id, reservation_id, payment_id, created_at, updated_at, final_at`

func scanOrders(rows *sql.Rows) ([]Order, error) {
	defer rows.Close()
	var out []Order
	for rows.Next() {
		var o Order
		var placement sql.RawBytes // valid until rows.Next: decoded at once
		var created, updated, final int64
		if err := rows.Scan(&o.seq, &o.ID, &o.Status, &o.Reason, &o.Detail, &placement, &o.TraceID, &o.ReservationID, &o.PaymentID, &created, &updated, &final); err != nil {
			return nil, fmt.Errorf("order: scan: %w", err)
		}
		// Only the fields an Order shows: skipping the address and payment
		// saves their allocations on every listed order.
		var p struct {
			CustomerID string      `json:"customer_id"`
			Currency   string      `json:"currency"`
			Items      []Line      `json:"items"`
			Total      money.Cents `json:"total_cents"`
		}
		if err := json.Unmarshal(placement, &p); err != nil {
			return nil, fmt.Errorf("order: decode placement of %s: %w", o.ID, err)
		}
		o.CustomerID, o.Currency, o.Items, o.Total = p.CustomerID, p.Currency, p.Items, p.Total.String()
		o.CreatedAt, o.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
		if final > 0 {
			t := time.UnixMilli(final).UTC()
			o.FinalAt = &t
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

func (s *Store) history(ctx context.Context, id string) ([]HistoryEntry, error) {
	rows, err := s.reads.history.QueryContext(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("order: history of %s: %w", id, err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var at int64
		if err := rows.Scan(&h.Type, &h.Direction, &h.EventID, &at, &h.Topic, &h.Partition, &h.Offset, &h.SchemaID, &h.Detail); err != nil {
			return nil, fmt.Errorf("order: scan history: %w", err)
		}
		h.Time = time.UnixMilli(at).UTC()
		if subj, v, ok := s.versions.Lookup(ctx, h.SchemaID); ok {
			h.Subject, h.SchemaVersion = subj, v
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// Stats counts orders per status.
func (s *Store) Stats(ctx context.Context) (map[Status]int, error) {
	rows, err := s.DB().QueryContext(ctx, `SELECT status, count(*) FROM orders GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("order: stats: %w", err)
	}
	defer rows.Close()
	out := map[Status]int{}
	for rows.Next() {
		var st Status
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[st] = n
	}
	return out, rows.Err()
}
