// Package shipping is the shipping service of the reference flow: on
// OrderReady it creates one shipment with a tracking number and emits
// OrderShipped. A redelivered OrderReady, even under a new event id, creates
// nothing: the shipment is keyed by order id. The inbox row, the shipment
// and the emitted event commit in one SQLite transaction.
package shipping

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/services/flowkit"
)

// Carrier is the carrier every shipment uses.
const Carrier = "Contrail Express"

// ShippedEvent is the domain form of OrderShipped.
type ShippedEvent struct {
	Meta           flowkit.Meta
	OrderID        string
	ShipmentID     string
	Carrier        string
	TrackingNumber string
	ShippedAt      time.Time
}

// Shipment is one shipment row.
type Shipment struct {
	OrderID        string    `json:"order_id"`
	ShipmentID     string    `json:"shipment_id"`
	Carrier        string    `json:"carrier"`
	TrackingNumber string    `json:"tracking_number"`
	ShippedAt      time.Time `json:"shipped_at"`
}

// TrackingNumber derives the order's tracking number ("CX" + 12 digits),
// the same for the same order so a retried shipment never gets a new one.
func TrackingNumber(orderID string) string {
	sum := sha256.Sum256([]byte(orderID))
	return fmt.Sprintf("CX%012d", binary.BigEndian.Uint64(sum[:8])%1_000_000_000_000)
}

const ddl = flowkit.InboxDDL + `
CREATE TABLE IF NOT EXISTS shipments (
	order_id    TEXT PRIMARY KEY,
	shipment_id TEXT NOT NULL,
	carrier     TEXT NOT NULL,
	tracking    TEXT NOT NULL,
	shipped_at  INTEGER NOT NULL
) WITHOUT ROWID;
`

// DDL is the SQL that creates the store's tables (idempotent).
func DDL() string { return ddl }

// Store is the shipping service's state. Safe for concurrent use.
type Store struct {
	db   *sql.DB
	emit flowkit.Emitter
	sql  *flowkit.Statements
}

// The statements a consumed event runs, prepared once by Prepare.
const (
	qShipmentID     = `SELECT shipment_id FROM shipments WHERE order_id = ?`
	qInsertShipment = `INSERT INTO shipments(order_id, shipment_id, carrier, tracking, shipped_at) VALUES(?, ?, ?, ?, ?)`
)

// Prepare prepares the statements the event handlers run, so they are not
// parsed on every event. Call it once, before handling events and outside
// any transaction; without it the store works, only slower.
func (s *Store) Prepare(ctx context.Context) error {
	st, err := flowkit.Prepare(ctx, s.db, qShipmentID, qInsertShipment)
	if err != nil {
		return fmt.Errorf("shipping: %w", err)
	}
	s.sql = st
	return nil
}

// OpenStore opens or creates the store at path.
func OpenStore(ctx context.Context, path string, emit flowkit.Emitter) (*Store, error) {
	db, err := flowkit.OpenDB(ctx, path, ddl)
	if err != nil {
		return nil, err
	}
	s := NewStore(db, emit)
	if err := s.Prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// NewStore returns a store on an open database whose tables exist.
func NewStore(db *sql.DB, emit flowkit.Emitter) *Store { return &Store{db: db, emit: emit} }

// DB returns the underlying database.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Tx applies consumed events in one transaction; see Store.Batch.
type Tx struct {
	s  *Store
	tx *sql.Tx
	// inboxed: the caller's transaction already holds the event's inbox
	// row (the runtime's inbox), so the store's own dedupe row is skipped.
	inboxed bool
}

// seen records eventID in the store's inbox unless the caller's inbox
// already did, and reports whether the event is new.
func (t *Tx) seen(ctx context.Context, eventID string) (bool, error) {
	if t.inboxed {
		return true, nil
	}
	return flowkit.MarkSeen(ctx, t.tx, eventID)
}

// Batch runs fn in one transaction, committed when fn returns nil.
func (s *Store) Batch(ctx context.Context, fn func(*Tx) error) error {
	return flowkit.InTx(ctx, s.db, func(tx *sql.Tx) error { return fn(&Tx{s: s, tx: tx}) })
}

// OrderReady ships orderID once and emits OrderShipped.
func (t *Tx) OrderReady(ctx context.Context, rec flowkit.Record, orderID string) error {
	fresh, err := t.seen(ctx, rec.EventID)
	if err != nil || !fresh {
		return err
	}
	var existing string
	err = t.s.sql.QueryRow(ctx, t.tx, qShipmentID, orderID).Scan(&existing)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("shipping: look up %s: %w", orderID, err)
	}
	ev := ShippedEvent{Meta: flowkit.NewMeta(orderID, rec.EventID), OrderID: orderID, ShipmentID: uuid.NewString(),
		Carrier: Carrier, TrackingNumber: TrackingNumber(orderID)}
	ev.ShippedAt = ev.Meta.OccurredAt
	if _, err := t.s.sql.Exec(ctx, t.tx, qInsertShipment,
		orderID, ev.ShipmentID, ev.Carrier, ev.TrackingNumber, ev.ShippedAt.UnixMilli()); err != nil {
		return fmt.Errorf("shipping: insert shipment of %s: %w", orderID, err)
	}
	if t.s.emit == nil {
		return nil
	}
	return t.s.emit.Emit(ctx, t.tx, ev)
}

// Get returns orderID's shipment; ok is false when there is none.
func (s *Store) Get(ctx context.Context, orderID string) (Shipment, bool, error) {
	var sh Shipment
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT order_id, shipment_id, carrier, tracking, shipped_at FROM shipments WHERE order_id = ?`, orderID).
		Scan(&sh.OrderID, &sh.ShipmentID, &sh.Carrier, &sh.TrackingNumber, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Shipment{}, false, nil
	}
	if err != nil {
		return Shipment{}, false, fmt.Errorf("shipping: get %s: %w", orderID, err)
	}
	sh.ShippedAt = time.UnixMilli(at).UTC()
	return sh, true, nil
}

// Count returns the number of shipments.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM shipments`).Scan(&n)
	return n, err
}

// In returns a Tx that applies events inside tx, the runtime's inbox
// transaction: the caller commits it, and its inbox row already dedupes the
// event by id, so the store writes no second one. Effects stay keyed by
// order id either way.
func (s *Store) In(tx *sql.Tx) *Tx { return &Tx{s: s, tx: tx, inboxed: true} }
