// Package inventory is the inventory service of the reference flow: seeded
// stock per SKU, reserved for an order all lines at once or not at all.
//
// Stock moves between three buckets and never goes negative:
//
//	initial = available + reserved + shipped   (per SKU, at every commit)
//
// OrderPlaced moves each line from available to reserved (InventoryReserved)
// or, when any line is short, changes nothing and emits InventoryRejected
// with the short lines. OrderCancelled moves a reservation back to available
// (InventoryReleased). OrderReady moves it from reserved to shipped: the
// order service never cancels an order once it is ready, so the stock is
// committed to the shipment from that moment. (The shipping service's
// OrderShipped follows OrderReady deterministically; counting at OrderReady
// keeps the inventory service on one topic.) The inbox row, the stock change
// and the emitted event commit in one transaction, on SQLite or on a
// PostgreSQL database that several replicas share (see Tx for how they
// never reserve twice or oversell).
package inventory

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/google/uuid"
)

// Line is a quantity of one SKU (the schema's StockLine).
type Line struct {
	SKU      string `json:"sku"`
	Quantity int    `json:"quantity"`
}

// ShortLine is a line that could not be reserved.
type ShortLine struct {
	SKU       string `json:"sku"`
	Requested int    `json:"requested"`
	Available int    `json:"available"`
}

// Reserved is the domain form of InventoryReserved.
type Reserved struct {
	Meta          statedb.Meta
	OrderID       string
	ReservationID string
	Lines         []Line
}

// Rejected is the domain form of InventoryRejected.
type Rejected struct {
	Meta    statedb.Meta
	OrderID string
	Short   []ShortLine
}

// Released is the domain form of InventoryReleased.
type Released struct {
	Meta          statedb.Meta
	OrderID       string
	ReservationID string
	Lines         []Line
}

// Reservation states.
const (
	StatusReserved  = "RESERVED"
	StatusRejected  = "REJECTED"
	StatusReleased  = "RELEASED"
	StatusShipped   = "SHIPPED"
	StatusCancelled = "CANCELLED" // cancelled before any OrderPlaced was seen
)

// DefaultStock is the catalogue `contrail up` seeds: SKU-0001..SKU-0100 with
// 1,000,000 units each, and SKU-SCARCE with 5 units (orders for more than
// that are rejected).
func DefaultStock() map[string]int {
	m := map[string]int{"SKU-SCARCE": 5}
	for i := 1; i <= 100; i++ {
		m[fmt.Sprintf("SKU-%04d", i)] = 1_000_000
	}
	return m
}

// Migrations are the inventory's tables (component "inventory" in
// schema_migrations), which NewStore applies.
var Migrations = []eventing.Migration{{Version: 1, Name: "stock and reservations",
	SQLite: statedb.InboxDDL + `
CREATE TABLE IF NOT EXISTS stock (
	sku       TEXT PRIMARY KEY,
	initial   INTEGER NOT NULL CHECK (initial >= 0),
	available INTEGER NOT NULL CHECK (available >= 0),
	reserved  INTEGER NOT NULL CHECK (reserved >= 0),
	shipped   INTEGER NOT NULL CHECK (shipped >= 0)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reservations (
	order_id       TEXT PRIMARY KEY,
	reservation_id TEXT NOT NULL,
	status         TEXT NOT NULL,
	lines          TEXT NOT NULL,
	updated_at     INTEGER NOT NULL
) WITHOUT ROWID;
`,
	Postgres: statedb.InboxPostgresDDL + `
CREATE TABLE IF NOT EXISTS stock (
	sku       TEXT PRIMARY KEY,
	initial   BIGINT NOT NULL CHECK (initial >= 0),
	available BIGINT NOT NULL CHECK (available >= 0),
	reserved  BIGINT NOT NULL CHECK (reserved >= 0),
	shipped   BIGINT NOT NULL CHECK (shipped >= 0)
);
CREATE TABLE IF NOT EXISTS reservations (
	order_id       TEXT PRIMARY KEY,
	reservation_id TEXT NOT NULL,
	status         TEXT NOT NULL,
	lines          TEXT NOT NULL,
	updated_at     BIGINT NOT NULL
);
`}}

// Store is the inventory's state: the shared statedb.State (DB, Close,
// Batch, In) over the stock and reservations tables. Safe for concurrent
// use, by several replicas on one PostgreSQL database too: every write that
// decides something is conditional (see Tx).
type Store struct{ *statedb.State[*Tx] }

// The statements a consumed event runs, prepared once by NewStore.
const (
	qAvailable = `SELECT available FROM stock WHERE sku = $1`
	// qClaim records a decision about an order only if none exists: the
	// first transaction to insert it decides, a concurrent one waits for
	// it and inserts nothing.
	qClaim     = `INSERT INTO reservations(order_id, reservation_id, status, lines, updated_at) VALUES($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`
	qSetStatus = `UPDATE reservations SET status = $2, updated_at = $3 WHERE order_id = $1`
	// qMoveReserved moves a RESERVED reservation to status $2 and returns
	// it; a reservation in any other state is left alone (no row).
	qMoveReserved = `UPDATE reservations SET status = $2, updated_at = $3 WHERE order_id = $1 AND status = 'RESERVED' RETURNING reservation_id, lines`
)

// The moves of an order's lines between the stock buckets, each one
// statement for all lines (one round trip on PostgreSQL instead of one per
// SKU). The lines are $1: on PostgreSQL arrays of SKUs and quantities ($1,
// $2), on SQLite a JSON array of Line. An order lists a SKU once (merge).
var (
	// qReserveLines takes every line that is available and returns the
	// SKUs it took; OrderPlaced puts them back when a line is short. The
	// check and the change are one statement, and on PostgreSQL a row's
	// lock makes a concurrent reservation of the same SKU wait and then
	// see (re-check) the stock this one left.
	qReserveLines = map[eventing.Dialect]string{
		eventing.SQLite: `UPDATE stock SET available = available - v.q, reserved = reserved + v.q
			FROM (SELECT value->>'sku' AS sku, value->>'quantity' AS q FROM json_each($1)) AS v
			WHERE stock.sku = v.sku AND stock.available >= v.q RETURNING stock.sku`,
		eventing.Postgres: `UPDATE stock SET available = stock.available - v.q, reserved = stock.reserved + v.q
			FROM unnest($1::text[], $2::bigint[]) AS v(sku, q) WHERE stock.sku = v.sku AND stock.available >= v.q RETURNING stock.sku`,
	}
	qReleaseLines = map[eventing.Dialect]string{
		eventing.SQLite: `UPDATE stock SET available = available + v.q, reserved = reserved - v.q
			FROM (SELECT value->>'sku' AS sku, value->>'quantity' AS q FROM json_each($1)) AS v WHERE stock.sku = v.sku`,
		eventing.Postgres: `UPDATE stock SET available = stock.available + v.q, reserved = stock.reserved - v.q
			FROM unnest($1::text[], $2::bigint[]) AS v(sku, q) WHERE stock.sku = v.sku`,
	}
	qShipLines = map[eventing.Dialect]string{
		eventing.SQLite: `UPDATE stock SET reserved = reserved - v.q, shipped = shipped + v.q
			FROM (SELECT value->>'sku' AS sku, value->>'quantity' AS q FROM json_each($1)) AS v WHERE stock.sku = v.sku`,
		eventing.Postgres: `UPDATE stock SET reserved = stock.reserved - v.q, shipped = stock.shipped + v.q
			FROM unnest($1::text[], $2::bigint[]) AS v(sku, q) WHERE stock.sku = v.sku`,
	}
)

// linesArgs are the arguments of the *Lines statements for lines.
func linesArgs(d eventing.Dialect, lines []Line) []any {
	if d == eventing.Postgres {
		skus, qs := make([]string, len(lines)), make([]int64, len(lines))
		for i, l := range lines {
			skus[i], qs[i] = l.SKU, int64(l.Quantity)
		}
		return []any{skus, qs}
	}
	js, _ := json.Marshal(lines)
	return []any{string(js)}
}

// moveLines runs one of the *Lines statements for lines.
func (t *Tx) moveLines(ctx context.Context, q map[eventing.Dialect]string, lines []Line) error {
	if len(lines) == 0 {
		return nil
	}
	d := t.tx.Dialect()
	_, err := t.tx.Exec(ctx, q[d], linesArgs(d, lines)...)
	return err
}

// OpenStore opens or creates the SQLite store at path and seeds every SKU
// of seed that is not stocked yet (existing SKUs keep their counts, so a
// restart never resets stock).
func OpenStore(ctx context.Context, path string, seed map[string]int, emit statedb.Emitter) (*Store, error) {
	return statedb.OpenStore(ctx, path, "", emit, func(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*Store, error) {
		s, err := NewStore(ctx, db, emit)
		if err != nil {
			return nil, err
		}
		return s, s.Seed(ctx, seed)
	})
}

// NewStore returns a store on an open database (SQLite or PostgreSQL),
// after applying Migrations to it, and prepares the statements its
// handlers run; call it outside any transaction on db. emit receives the
// emitted events (nil drops them).
func NewStore(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*Store, error) {
	if err := eventing.Migrate(ctx, db, Name, Migrations); err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	st, err := statedb.NewState(ctx, db, emit, func(t statedb.Tx) *Tx { return &Tx{t} },
		qAvailable, qClaim, qSetStatus, qMoveReserved,
		qReserveLines[eventing.SQLite], qReleaseLines[eventing.SQLite], qShipLines[eventing.SQLite])
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	return &Store{st}, nil
}

// Seed stocks every SKU of seed that has no row yet, in SKU order (two
// replicas seeding at once then never wait on each other in a cycle).
func (s *Store) Seed(ctx context.Context, seed map[string]int) error {
	skus := make([]string, 0, len(seed))
	for sku, n := range seed {
		if n < 0 {
			return fmt.Errorf("inventory: seed %s with %d units: stock cannot be negative", sku, n)
		}
		skus = append(skus, sku)
	}
	sort.Strings(skus)
	return statedb.InTx(ctx, s.DB(), func(tx *sql.Tx) error {
		for _, sku := range skus {
			n := seed[sku]
			if _, err := tx.ExecContext(ctx, `INSERT INTO stock(sku, initial, available, reserved, shipped) VALUES($1, $2, $2, 0, 0) ON CONFLICT DO NOTHING`, sku, n); err != nil {
				return fmt.Errorf("inventory: seed %s: %w", sku, err)
			}
		}
		return nil
	})
}

// Tx applies consumed events in one transaction; see Store.Batch and
// Store.In. Not safe for concurrent use.
//
// Several replicas (on PostgreSQL) may apply events at once. The runtime's
// inbox keeps one event from being applied twice; beyond that every
// decision here is a conditional write: a reservation row is claimed
// (INSERT ... ON CONFLICT DO NOTHING) before stock moves, stock is taken
// only where it is available (UPDATE ... WHERE available >= n), and a
// reservation moves on only from RESERVED (UPDATE ... WHERE status =
// 'RESERVED'). An order's lines move in one statement; on PostgreSQL the
// service's transactions run one at a time (Service.SharedRows), so two
// never wait on each other's stock rows in a cycle.
type Tx struct{ tx statedb.Tx }

// merge sums quantities per SKU, sorted by SKU, so an order listing a SKU
// twice reserves the sum and locks rows in a fixed order.
func merge(lines []Line) []Line {
	m := map[string]int{}
	for _, l := range lines {
		m[l.SKU] += l.Quantity
	}
	out := make([]Line, 0, len(m))
	for sku, q := range m {
		out = append(out, Line{SKU: sku, Quantity: q})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SKU < out[j].SKU })
	return out
}

// OrderPlaced reserves every line of orderID or rejects the order. A second
// OrderPlaced for an order that already has a reservation decision changes
// nothing, even under a new event id, even on another replica at the same
// moment.
func (t *Tx) OrderPlaced(ctx context.Context, rec statedb.Record, orderID string, lines []Line) error {
	fresh, err := t.tx.Seen(ctx, rec.EventID)
	if err != nil || !fresh {
		return err
	}
	want := merge(lines)
	js, _ := json.Marshal(want)
	resID := uuid.NewString()
	now := time.Now().UnixMilli()
	res, err := t.tx.Exec(ctx, qClaim, orderID, resID, StatusReserved, string(js), now)
	if err != nil {
		return fmt.Errorf("inventory: claim reservation of %s: %w", orderID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // decided before (or cancelled first)
	}
	// Every line in one statement; it takes the lines that are available.
	var try []Line
	for _, l := range want {
		if l.Quantity > 0 {
			try = append(try, l)
		}
	}
	got := map[string]bool{}
	if len(try) > 0 {
		d := t.tx.Dialect()
		rows, err := t.tx.Query(ctx, qReserveLines[d], linesArgs(d, try)...)
		if err != nil {
			return fmt.Errorf("inventory: reserve %d lines of %s: %w", len(try), orderID, err)
		}
		for rows.Next() {
			var sku string
			if err := rows.Scan(&sku); err != nil {
				rows.Close()
				return fmt.Errorf("inventory: reserve lines of %s: %w", orderID, err)
			}
			got[sku] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("inventory: reserve lines of %s: %w", orderID, err)
		}
	}
	var short []ShortLine
	var taken []Line
	for _, l := range want {
		if got[l.SKU] {
			taken = append(taken, l)
			continue
		}
		var avail int
		err := t.tx.QueryRow(ctx, qAvailable, l.SKU).Scan(&avail)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("inventory: read stock of %s: %w", l.SKU, err)
		}
		short = append(short, ShortLine{SKU: l.SKU, Requested: l.Quantity, Available: avail})
	}
	meta := statedb.NewMeta(orderID, rec.EventID)
	if len(short) == 0 {
		return t.tx.Emit(ctx, Reserved{Meta: meta, OrderID: orderID, ReservationID: resID, Lines: want})
	}
	// All or nothing: put back what this order took.
	if err := t.moveLines(ctx, qReleaseLines, taken); err != nil {
		return fmt.Errorf("inventory: put back the lines of %s: %w", orderID, err)
	}
	if _, err := t.tx.Exec(ctx, qSetStatus, orderID, StatusRejected, now); err != nil {
		return fmt.Errorf("inventory: reject %s: %w", orderID, err)
	}
	return t.tx.Emit(ctx, Rejected{Meta: meta, OrderID: orderID, Short: short})
}

// moveReserved moves orderID's reservation from RESERVED to status and
// returns it; ok is false when it was not RESERVED (or does not exist).
func (t *Tx) moveReserved(ctx context.Context, orderID, status string) (resID string, lines []Line, ok bool, err error) {
	var js string
	err = t.tx.QueryRow(ctx, qMoveReserved, orderID, status, time.Now().UnixMilli()).Scan(&resID, &js)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, false, nil
	}
	if err != nil {
		return "", nil, false, fmt.Errorf("inventory: reservation of %s to %s: %w", orderID, status, err)
	}
	if err := json.Unmarshal([]byte(js), &lines); err != nil {
		return "", nil, false, fmt.Errorf("inventory: decode reservation of %s: %w", orderID, err)
	}
	return resID, lines, true, nil
}

// OrderCancelled releases orderID's reservation, if it holds one, and emits
// InventoryReleased. A cancel for an order never seen marks it so a late
// OrderPlaced reserves nothing.
func (t *Tx) OrderCancelled(ctx context.Context, rec statedb.Record, orderID string) error {
	fresh, err := t.tx.Seen(ctx, rec.EventID)
	if err != nil || !fresh {
		return err
	}
	for attempt := 0; ; attempt++ {
		resID, lines, ok, err := t.moveReserved(ctx, orderID, StatusReleased)
		if err != nil {
			return err
		}
		if ok {
			if err := t.moveLines(ctx, qReleaseLines, lines); err != nil {
				return fmt.Errorf("inventory: release the lines of %s: %w", orderID, err)
			}
			return t.tx.Emit(ctx, Released{Meta: statedb.NewMeta(orderID, rec.EventID), OrderID: orderID, ReservationID: resID, Lines: lines})
		}
		if attempt > 0 {
			return nil // decided otherwise: rejected, released, shipped or cancelled
		}
		res, err := t.tx.Exec(ctx, qClaim, orderID, "", StatusCancelled, "null", time.Now().UnixMilli())
		if err != nil {
			return fmt.Errorf("inventory: mark %s cancelled: %w", orderID, err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		// A reservation exists after all: one committed (on another
		// replica) between the two statements. Look again.
	}
}

// OrderReady moves orderID's reservation from reserved to shipped.
func (t *Tx) OrderReady(ctx context.Context, rec statedb.Record, orderID string) error {
	fresh, err := t.tx.Seen(ctx, rec.EventID)
	if err != nil || !fresh {
		return err
	}
	_, lines, ok, err := t.moveReserved(ctx, orderID, StatusShipped)
	if err != nil || !ok {
		return err
	}
	if err := t.moveLines(ctx, qShipLines, lines); err != nil {
		return fmt.Errorf("inventory: ship the lines of %s: %w", orderID, err)
	}
	return nil
}

// SKU is one stock row.
type SKU struct {
	SKU       string `json:"sku"`
	Initial   int64  `json:"initial"`
	Available int64  `json:"available"`
	Reserved  int64  `json:"reserved"`
	Shipped   int64  `json:"shipped"`
}

// StockReport is GET /stock: every SKU, the totals, and whether stock is
// conserved (initial = available + reserved + shipped for every SKU).
type StockReport struct {
	SKUs         []SKU          `json:"skus"`
	Totals       SKU            `json:"totals"`
	Conserved    bool           `json:"conserved"`
	Violations   []string       `json:"violations,omitempty"`
	Reservations map[string]int `json:"reservations"`
}

// Stock reads every SKU and the reservation counts in one snapshot (on
// PostgreSQL a REPEATABLE READ transaction).
func (s *Store) Stock(ctx context.Context) (StockReport, error) {
	rep := StockReport{Conserved: true, Totals: SKU{SKU: "*"}, Reservations: map[string]int{}}
	opts := &sql.TxOptions{ReadOnly: true}
	if eventing.DialectOf(s.DB()) == eventing.Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.DB().BeginTx(ctx, opts)
	if err != nil {
		return rep, fmt.Errorf("inventory: stock: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `SELECT sku, initial, available, reserved, shipped FROM stock ORDER BY sku`)
	if err != nil {
		return rep, fmt.Errorf("inventory: stock: %w", err)
	}
	for rows.Next() {
		var k SKU
		if err := rows.Scan(&k.SKU, &k.Initial, &k.Available, &k.Reserved, &k.Shipped); err != nil {
			rows.Close()
			return rep, err
		}
		if k.Initial != k.Available+k.Reserved+k.Shipped || k.Available < 0 || k.Reserved < 0 || k.Shipped < 0 {
			rep.Conserved = false
			rep.Violations = append(rep.Violations, fmt.Sprintf("%s: initial %d != available %d + reserved %d + shipped %d", k.SKU, k.Initial, k.Available, k.Reserved, k.Shipped))
		}
		rep.Totals.Initial += k.Initial
		rep.Totals.Available += k.Available
		rep.Totals.Reserved += k.Reserved
		rep.Totals.Shipped += k.Shipped
		rep.SKUs = append(rep.SKUs, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return rep, err
	}
	// The buckets must also match the reservations that explain them.
	rrows, err := tx.QueryContext(ctx, `SELECT status, count(*) FROM reservations GROUP BY status`)
	if err != nil {
		return rep, err
	}
	defer rrows.Close()
	for rrows.Next() {
		var st string
		var n int
		if err := rrows.Scan(&st, &n); err != nil {
			return rep, err
		}
		rep.Reservations[st] = n
	}
	return rep, rrows.Err()
}

// ReservationOf returns the status of orderID's reservation ("" if none).
func (s *Store) ReservationOf(ctx context.Context, orderID string) (string, error) {
	var st string
	err := s.DB().QueryRowContext(ctx, `SELECT status FROM reservations WHERE order_id = $1`, orderID).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return st, err
}

// ShortDetail renders short lines for humans: "SKU-SCARCE: 7 requested, 5 available".
func ShortDetail(short []ShortLine) string {
	parts := make([]string, len(short))
	for i, s := range short {
		parts[i] = fmt.Sprintf("%s: %d requested, %d available", s.SKU, s.Requested, s.Available)
	}
	return strings.Join(parts, "; ")
}
