package order

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/services/flowkit"
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

const ddl = flowkit.InboxDDL + `
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

// Store is the order service's state in its SQLite file. It is safe for
// concurrent use; writes serialize on SQLite's single writer.
type Store struct {
	db       *sql.DB
	emit     flowkit.Emitter
	versions *flowkit.SchemaVersions
	st       stmts
	placeq   chan *placeReq
	stop     chan struct{}
	stopOnce sync.Once
}

// The store's statements, prepared once: parsing SQL on every event cost
// about a fifth of the service's CPU at saturation.
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
)

type stmts struct {
	selectIdem, insertOrder, insertHistory, selectState, placement, updateState, markPublished, getOrder, history *sql.Stmt
	listSince, list, listOpen, count, countOpen                                                                   *sql.Stmt
	savepoint, rollbackTo, release                                                                                *sql.Stmt
}

// prepare prepares every statement on db. It must run outside any
// transaction: the database has one connection, which a transaction holds.
func (st *stmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, q := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&st.selectIdem, qSelectIdem}, {&st.insertOrder, qInsertOrder}, {&st.insertHistory, qInsertHistory},
		{&st.selectState, qSelectState}, {&st.placement, qPlacement}, {&st.updateState, qUpdateState}, {&st.markPublished, qMarkPublished},
		{&st.getOrder, qGetOrder}, {&st.history, qHistory},
		{&st.listSince, qListSince}, {&st.list, qList}, {&st.listOpen, qListOpen}, {&st.count, qCount}, {&st.countOpen, qCountOpen},
		{&st.savepoint, "SAVEPOINT placement"}, {&st.rollbackTo, "ROLLBACK TO placement"}, {&st.release, "RELEASE placement"},
	} {
		p, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("order: prepare %q: %w", q.sql, err)
		}
		*q.dst = p
	}
	return nil
}

// in returns st bound to tx; on the store's single connection this reuses
// the prepared statement. It binds without ctx's cancellation, like every
// statement the store runs inside a transaction (see quiet).
func in(ctx context.Context, tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	return tx.StmtContext(quiet(ctx), st)
}

// quiet is ctx without its cancellation, for the store's short statements
// inside a transaction: SQLite answers a write interrupted by a cancelled
// context by rolling back the whole transaction (with the runtime's batch
// transactions, other records' effects), and the SQLite driver starts a
// watcher goroutine for every statement whose context can be cancelled.
// The handlers check ctx before they start instead; the transaction itself
// still ends with its own context.
func quiet(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// ResolveVersions makes Get name each history entry's subject and schema
// version through v. Call it before serving.
func (s *Store) ResolveVersions(v *flowkit.SchemaVersions) { s.versions = v }

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
	qctx := quiet(ctx)
	return flowkit.InTx(qctx, s.db, func(tx *sql.Tx) error {
		mark := in(ctx, tx, s.st.markPublished)
		for _, p := range ps {
			if _, err := mark.ExecContext(qctx, p.Partition, p.Offset, p.SchemaID, p.OrderID, p.EventID); err != nil {
				return fmt.Errorf("order: mark published: %w", err)
			}
		}
		return nil
	})
}

// OpenStore opens or creates the store at path. emit receives the events
// the store emits, inside the transaction that changes the state.
func OpenStore(ctx context.Context, path string, emit flowkit.Emitter) (*Store, error) {
	return flowkit.OpenStore(ctx, path, ddl, emit, NewStore)
}

// NewStore returns a store on an open database whose tables exist (see
// DDL) and prepares its statements; call it outside any transaction on db.
func NewStore(ctx context.Context, db *sql.DB, emit flowkit.Emitter) (*Store, error) {
	s := &Store{db: db, emit: emit, placeq: make(chan *placeReq, maxPlaceBatch), stop: make(chan struct{})}
	if err := s.st.prepare(ctx, db); err != nil {
		return nil, err
	}
	go s.placeLoop()
	return s, nil
}

// DDL is the SQL that creates the store's tables (idempotent).
func DDL() string { return ddl }

// DB returns the underlying database (for the wiring's outbox and tests).
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error {
	s.stopOnce.Do(func() { close(s.stop) })
	return s.db.Close()
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
	exec := func(tx *sql.Tx, st *sql.Stmt) error {
		_, err := in(ctx, tx, st).ExecContext(ctx)
		return err
	}
	err := flowkit.InTx(ctx, s.db, func(tx *sql.Tx) error {
		if len(batch) == 1 {
			res[0] = s.placeOne(tx, batch[0])
			return res[0].err
		}
		for i, r := range batch {
			if err := exec(tx, s.st.savepoint); err != nil {
				return fmt.Errorf("order: savepoint: %w", err)
			}
			res[i] = s.placeOne(tx, r)
			if res[i].err != nil {
				if err := exec(tx, s.st.rollbackTo); err != nil {
					return fmt.Errorf("order: roll back a placement: %w", err)
				}
			}
			if err := exec(tx, s.st.release); err != nil {
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
func (s *Store) placeOne(tx *sql.Tx, r *placeReq) placeRes {
	if err := r.ctx.Err(); err != nil {
		return placeRes{err: fmt.Errorf("order: not placed: %w", err)}
	}
	// No cancellation inside the shared transaction: SQLite answers an
	// interrupted write by rolling back the whole transaction. The values
	// (the request's trace context) stay for the outbox record.
	ctx := context.WithoutCancel(r.ctx)
	if r.key != "" {
		var id, hash string
		err := in(ctx, tx, s.st.selectIdem).QueryRowContext(ctx, r.key).Scan(&id, &hash)
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
	if _, err := in(ctx, tx, s.st.insertOrder).ExecContext(ctx, id, string(Pending), string(r.body), key, r.hash, r.trace, now, now); err != nil {
		return placeRes{err: fmt.Errorf("order: insert order: %w", err)}
	}
	ev := Placed{Meta: flowkit.NewMeta(id, ""), OrderID: id, Placement: r.p}
	if err := s.emitOut(ctx, tx, id, TypeOrderPlaced, "orders", ev.Meta, "", ev); err != nil {
		return placeRes{err: err}
	}
	return placeRes{id: id, created: true}
}

func (s *Store) emitOut(ctx context.Context, tx *sql.Tx, orderID, typ, topic string, m flowkit.Meta, detail string, ev any) error {
	if _, err := in(ctx, tx, s.st.insertHistory).ExecContext(quiet(ctx), orderID, typ, "out", m.EventID, m.OccurredAt.UnixMilli(), topic, -1, -1, 0, detail); err != nil {
		return fmt.Errorf("order: insert history: %w", err)
	}
	if s.emit == nil {
		return nil
	}
	if err := s.emit.Emit(ctx, tx, ev); err != nil {
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

// Tx applies consumed events inside one SQLite transaction; Batch creates
// it. Each method writes the inbox row, the history row, the state change
// and the emitted events; a redelivered event (same event id) changes
// nothing. A Tx is not safe for concurrent use.
type Tx struct {
	s  *Store
	tx *sql.Tx
	// inboxed: the caller's transaction already holds the event's inbox
	// row (the runtime's inbox), so the store's own dedupe row is skipped.
	inboxed bool
}

// Batch runs fn in one transaction and commits when fn returns nil: one
// commit for a whole polled batch of events.
func (s *Store) Batch(ctx context.Context, fn func(*Tx) error) error {
	return flowkit.InTx(ctx, s.db, func(tx *sql.Tx) error { return fn(&Tx{s: s, tx: tx}) })
}

func (t *Tx) apply(ctx context.Context, rec flowkit.Record, orderID, detail string, fn func(st *state) ([]out, error)) error {
	return t.s.applyTx(ctx, t.tx, t.inboxed, rec, orderID, detail, fn)
}

type out struct {
	typ, topic, detail string
	meta               flowkit.Meta
	ev                 any
}

func (s *Store) applyTx(ctx context.Context, tx *sql.Tx, inboxed bool, rec flowkit.Record, orderID, detail string, fn func(st *state) ([]out, error)) error {
	if !inboxed {
		fresh, err := flowkit.MarkSeen(ctx, tx, rec.EventID)
		if err != nil {
			return fmt.Errorf("order: inbox: %w", err)
		}
		if !fresh {
			return nil
		}
	}
	qctx := quiet(ctx)
	st := state{id: orderID}
	err := in(ctx, tx, s.st.selectState).QueryRowContext(qctx, orderID).
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
		if err := in(ctx, tx, s.st.placement).QueryRowContext(qctx, orderID).Scan(&b); err != nil {
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
	if _, err := in(ctx, tx, s.st.insertHistory).ExecContext(qctx, orderID, rec.Type, "in", rec.EventID, at.UnixMilli(), rec.Topic, rec.Partition, rec.Offset, rec.SchemaID, detail); err != nil {
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
	if _, err := in(ctx, tx, s.st.updateState).ExecContext(qctx,
		string(st.status), st.reason, st.detail, st.reserved, st.paid, st.reservationID, st.paymentID, now, finalAt, finalAt, orderID); err != nil {
		return fmt.Errorf("order: update %s: %w", orderID, err)
	}
	for _, o := range outs {
		if err := s.emitOut(ctx, tx, orderID, o.typ, o.topic, o.meta, o.detail, o.ev); err != nil {
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
	ev := Ready{Meta: flowkit.NewMeta(st.id, causation), OrderID: st.id, ReservationID: st.reservationID,
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
	ev := CancelledEvent{Meta: flowkit.NewMeta(st.id, causation), OrderID: st.id, Reason: reason, Detail: detail}
	return []out{{typ: TypeOrderCancelled, topic: "orders", meta: ev.Meta, detail: reason, ev: ev}}
}

// InventoryReserved applies InventoryReserved for orderID.
func (t *Tx) InventoryReserved(ctx context.Context, rec flowkit.Record, orderID, reservationID string) error {
	return t.apply(ctx, rec, orderID, "", func(st *state) ([]out, error) {
		if st.reserved {
			return nil, nil
		}
		st.reserved, st.reservationID = true, reservationID
		return confirmIfReady(st, rec.EventID)
	})
}

// PaymentConfirmed applies PaymentConfirmed for orderID.
func (t *Tx) PaymentConfirmed(ctx context.Context, rec flowkit.Record, orderID, paymentID string) error {
	return t.apply(ctx, rec, orderID, "", func(st *state) ([]out, error) {
		if st.paid {
			return nil, nil
		}
		st.paid, st.paymentID = true, paymentID
		return confirmIfReady(st, rec.EventID)
	})
}

// InventoryRejected applies InventoryRejected; detail names the short lines.
func (t *Tx) InventoryRejected(ctx context.Context, rec flowkit.Record, orderID, detail string) error {
	return t.apply(ctx, rec, orderID, detail, func(st *state) ([]out, error) {
		return cancel(st, ReasonOutOfStock, detail, rec.EventID), nil
	})
}

// PaymentFailed applies PaymentFailed; detail carries the decline code and message.
func (t *Tx) PaymentFailed(ctx context.Context, rec flowkit.Record, orderID, detail string) error {
	return t.apply(ctx, rec, orderID, detail, func(st *state) ([]out, error) {
		return cancel(st, ReasonPaymentFailed, detail, rec.EventID), nil
	})
}

// OrderShipped applies OrderShipped; detail carries the tracking number.
func (t *Tx) OrderShipped(ctx context.Context, rec flowkit.Record, orderID, detail string) error {
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
func (t *Tx) Observed(ctx context.Context, rec flowkit.Record, orderID, detail string) error {
	return t.apply(ctx, rec, orderID, detail, func(*state) ([]out, error) { return nil, nil })
}

// Get returns the order with id, with its history when withHistory. It
// returns an error wrapping ErrUnknownOrder when there is none.
func (s *Store) Get(ctx context.Context, id string, withHistory bool) (Order, error) {
	rows, err := s.st.getOrder.QueryContext(ctx, id)
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
		rows, err = s.st.listOpen.QueryContext(ctx, since, f.After, limit+1)
	} else {
		after, ok, serr := s.since(ctx, f.After, f.Since)
		if serr != nil || !ok {
			return nil, 0, serr
		}
		rows, err = s.st.list.QueryContext(ctx, after, limit+1)
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
	if err := s.st.listSince.QueryRowContext(ctx, t.UnixMilli()).Scan(&first); err != nil {
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
	q := s.st.count
	if f.Open {
		q = s.st.countOpen
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
			CustomerID string        `json:"customer_id"`
			Currency   string        `json:"currency"`
			Items      []Line        `json:"items"`
			Total      flowkit.Cents `json:"total_cents"`
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
	rows, err := s.st.history.QueryContext(ctx, id)
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
	rows, err := s.db.QueryContext(ctx, `SELECT status, count(*) FROM orders GROUP BY status`)
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

// In returns a Tx that applies events inside tx, the runtime's inbox
// transaction: the caller commits it, and its inbox row already dedupes the
// event by id, so the store writes no second one.
func (s *Store) In(tx *sql.Tx) *Tx { return &Tx{s: s, tx: tx, inboxed: true} }
