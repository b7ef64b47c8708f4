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

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/google/uuid"
)

// Carrier is the carrier every shipment uses.
const Carrier = "Contrail Express"

// ShippedEvent is the domain form of OrderShipped.
type ShippedEvent struct {
	Meta           statedb.Meta
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

const ddl = statedb.InboxDDL + `
CREATE TABLE IF NOT EXISTS shipments (
	order_id    TEXT PRIMARY KEY,
	shipment_id TEXT NOT NULL,
	carrier     TEXT NOT NULL,
	tracking    TEXT NOT NULL,
	shipped_at  INTEGER NOT NULL
) WITHOUT ROWID;
`

// Store is the shipping service's state: the shared statedb.State (DB,
// Close, Batch, In) over the shipments table. Safe for concurrent use.
type Store struct{ *statedb.State[*Tx] }

// The statements a consumed event runs, prepared once by NewStore.
const (
	qShipmentID     = `SELECT shipment_id FROM shipments WHERE order_id = ?`
	qInsertShipment = `INSERT INTO shipments(order_id, shipment_id, carrier, tracking, shipped_at) VALUES(?, ?, ?, ?, ?)`
)

// OpenStore opens or creates the store at path.
func OpenStore(ctx context.Context, path string, emit statedb.Emitter) (*Store, error) {
	return statedb.OpenStore(ctx, path, ddl, emit, NewStore)
}

// NewStore returns a store on an open database whose tables exist
// (OpenStore and the service's Run create them) and prepares the
// statements its handlers run; call it outside any transaction on db. emit
// receives the emitted events (nil drops them).
func NewStore(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*Store, error) {
	st, err := statedb.NewState(ctx, db, emit, func(t statedb.Tx) *Tx { return &Tx{t} }, qShipmentID, qInsertShipment)
	if err != nil {
		return nil, fmt.Errorf("shipping: %w", err)
	}
	return &Store{st}, nil
}

// Tx applies consumed events in one transaction; see Store.Batch and
// Store.In. Not safe for concurrent use.
type Tx struct{ tx statedb.Tx }

// OrderReady ships orderID once and emits OrderShipped.
func (t *Tx) OrderReady(ctx context.Context, rec statedb.Record, orderID string) error {
	fresh, err := t.tx.Seen(ctx, rec.EventID)
	if err != nil || !fresh {
		return err
	}
	var existing string
	err = t.tx.QueryRow(ctx, qShipmentID, orderID).Scan(&existing)
	if err == nil {
		return nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("shipping: look up %s: %w", orderID, err)
	}
	ev := ShippedEvent{Meta: statedb.NewMeta(orderID, rec.EventID), OrderID: orderID, ShipmentID: uuid.NewString(),
		Carrier: Carrier, TrackingNumber: TrackingNumber(orderID)}
	ev.ShippedAt = ev.Meta.OccurredAt
	if _, err := t.tx.Exec(ctx, qInsertShipment,
		orderID, ev.ShipmentID, ev.Carrier, ev.TrackingNumber, ev.ShippedAt.UnixMilli()); err != nil {
		return fmt.Errorf("shipping: insert shipment of %s: %w", orderID, err)
	}
	return t.tx.Emit(ctx, ev)
}

// Get returns orderID's shipment; ok is false when there is none.
func (s *Store) Get(ctx context.Context, orderID string) (Shipment, bool, error) {
	var sh Shipment
	var at int64
	err := s.DB().QueryRowContext(ctx, `SELECT order_id, shipment_id, carrier, tracking, shipped_at FROM shipments WHERE order_id = ?`, orderID).
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
	err := s.DB().QueryRowContext(ctx, `SELECT count(*) FROM shipments`).Scan(&n)
	return n, err
}
