// Package shipping is the shipping service of the reference flow: on
// OrderReady it creates one shipment with a tracking number and emits
// OrderShipped. A redelivered OrderReady, even under a new event id, creates
// nothing: the shipment is keyed by order id. The inbox row, the shipment
// and the emitted event commit in one transaction (SQLite, or PostgreSQL
// shared by replicas).
package shipping

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/contrail-events/contrail/eventing"
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

// Migrations are the shipping service's tables (component "shipping" in
// schema_migrations), which NewStore applies.
var Migrations = []eventing.Migration{{Version: 1, Name: "shipments",
	SQLite: statedb.InboxDDL + `
CREATE TABLE IF NOT EXISTS shipments (
	order_id    TEXT PRIMARY KEY,
	shipment_id TEXT NOT NULL,
	carrier     TEXT NOT NULL,
	tracking    TEXT NOT NULL,
	shipped_at  INTEGER NOT NULL
) WITHOUT ROWID;
`,
	Postgres: statedb.InboxPostgresDDL + `
CREATE TABLE IF NOT EXISTS shipments (
	order_id    TEXT PRIMARY KEY,
	shipment_id TEXT NOT NULL,
	carrier     TEXT NOT NULL,
	tracking    TEXT NOT NULL,
	shipped_at  BIGINT NOT NULL
);
`}}

// Store is the shipping service's state: the shared statedb.State (DB,
// Close, Batch, In) over the shipments table. Safe for concurrent use, by
// several replicas on one PostgreSQL database too.
type Store struct{ *statedb.State[*Tx] }

// qInsertShipment creates the order's shipment only if it has none: the
// first transaction ships, a concurrent one (another replica) waits for it
// and inserts nothing.
const qInsertShipment = `INSERT INTO shipments(order_id, shipment_id, carrier, tracking, shipped_at) VALUES($1, $2, $3, $4, $5)
	ON CONFLICT DO NOTHING`

// OpenStore opens or creates the SQLite store at path.
func OpenStore(ctx context.Context, path string, emit statedb.Emitter) (*Store, error) {
	return statedb.OpenStore(ctx, path, "", emit, NewStore)
}

// NewStore returns a store on an open database (SQLite or PostgreSQL),
// after applying Migrations to it, and prepares the statements its
// handlers run; call it outside any transaction on db. emit receives the
// emitted events (nil drops them).
func NewStore(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*Store, error) {
	if err := eventing.Migrate(ctx, db, Name, Migrations); err != nil {
		return nil, fmt.Errorf("shipping: %w", err)
	}
	st, err := statedb.NewState(ctx, db, emit, func(t statedb.Tx) *Tx { return &Tx{t} }, qInsertShipment)
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
	ev := ShippedEvent{Meta: statedb.NewMeta(orderID, rec.EventID), OrderID: orderID, ShipmentID: uuid.NewString(),
		Carrier: Carrier, TrackingNumber: TrackingNumber(orderID)}
	ev.ShippedAt = ev.Meta.OccurredAt
	res, err := t.tx.Exec(ctx, qInsertShipment, orderID, ev.ShipmentID, ev.Carrier, ev.TrackingNumber, ev.ShippedAt.UnixMilli())
	if err != nil {
		return fmt.Errorf("shipping: insert shipment of %s: %w", orderID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // shipped before
	}
	return t.tx.Emit(ctx, ev)
}

// Get returns orderID's shipment; ok is false when there is none.
func (s *Store) Get(ctx context.Context, orderID string) (Shipment, bool, error) {
	var sh Shipment
	var at int64
	err := s.DB().QueryRowContext(ctx, `SELECT order_id, shipment_id, carrier, tracking, shipped_at FROM shipments WHERE order_id = $1`, orderID).
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
