package eventing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/contrail-events/contrail/events"
)

// StoreDDL creates the inbox and outbox tables and the table of parked
// outbox rows (rows the broker refuses for good; see the relay). OpenStore
// and NewStore run it; every statement is CREATE TABLE IF NOT EXISTS, so it
// is safe on a database an older version created. It is exported for
// services that manage their schema themselves.
const StoreDDL = `
CREATE TABLE IF NOT EXISTS contrail_inbox (
	consumer_group TEXT NOT NULL,
	event_id       TEXT NOT NULL,
	topic          TEXT NOT NULL,
	partition      INTEGER NOT NULL,
	offset         INTEGER NOT NULL,
	handled_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
	PRIMARY KEY (consumer_group, event_id)
);
CREATE TABLE IF NOT EXISTS contrail_outbox (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	topic      TEXT NOT NULL,
	key        BLOB,
	value      BLOB,
	headers    TEXT NOT NULL,
	created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE IF NOT EXISTS contrail_outbox_parked (
	id         INTEGER PRIMARY KEY,
	topic      TEXT NOT NULL,
	key        BLOB,
	value      BLOB,
	headers    TEXT NOT NULL,
	created_at TEXT NOT NULL,
	event_id   TEXT NOT NULL DEFAULT '',
	event_type TEXT NOT NULL DEFAULT '',
	error      TEXT NOT NULL,
	parked_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);`

// Store is the durable inbox and outbox on SQLite. The handler's own tables
// live in the same database, so its state change, the inbox entry and the
// outbox rows commit in one transaction. It is safe for concurrent use.
type Store struct {
	db     *sql.DB
	notify chan struct{}
	// stmts are the runtime's per-event statements, prepared once (SQLite
	// would otherwise parse each of them on every event), indexed by the
	// stmt* constants.
	stmts [numStmts]*sql.Stmt
}

// The runtime's prepared statements (Store.stmts).
const (
	stmtInbox = iota
	stmtOutbox
	stmtSavepoint
	stmtRelease
	stmtPending
	stmtDelete
	stmtPark
	numStmts
)

var storeQueries = [numStmts]string{
	stmtInbox:     insertInbox,
	stmtOutbox:    `INSERT INTO contrail_outbox (topic, key, value, headers) VALUES (?, ?, ?, ?)`,
	stmtSavepoint: savepointBegin,
	stmtRelease:   savepointRelease,
	stmtPending:   `SELECT id, topic, key, value, headers FROM contrail_outbox ORDER BY id LIMIT ?`,
	// One statement for any set of ids, passed as a JSON array: only rows
	// the broker acknowledged (or that were parked) are deleted, never a
	// range, so a row that failed stays whatever its neighbours did.
	stmtDelete: `DELETE FROM contrail_outbox WHERE id IN (SELECT value FROM json_each(?))`,
	// OR REPLACE: a row requeued under its old id and parked again
	// replaces its earlier entry instead of failing the relay's transaction.
	stmtPark: `INSERT OR REPLACE INTO contrail_outbox_parked (id, topic, key, value, headers, created_at, event_id, event_type, error)
		SELECT id, topic, key, value, headers, created_at, ?, ?, ? FROM contrail_outbox WHERE id = ?`,
}

// OpenStore opens (creating if needed) the SQLite database at path with WAL
// journaling and a single connection (SQLite has one writer; one
// connection makes concurrent handlers queue instead of failing with
// SQLITE_BUSY), and creates the runtime's tables.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("runtime: open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	s, err := NewStore(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// NewStore uses an already open database (the service's own), creates the
// runtime's tables in it and prepares the runtime's statements on it. Call
// it outside any transaction on db: with one connection, preparing waits
// for that connection.
func NewStore(ctx context.Context, db *sql.DB) (*Store, error) {
	if _, err := db.ExecContext(ctx, StoreDDL); err != nil {
		return nil, fmt.Errorf("runtime: create inbox/outbox tables: %w", err)
	}
	s := &Store{db: db, notify: make(chan struct{}, 1)}
	for i, q := range storeQueries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			s.closeStmts()
			return nil, fmt.Errorf("runtime: prepare %q: %w", q, err)
		}
		s.stmts[i] = st
	}
	return s, nil
}

// DB returns the database.
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the runtime's prepared statements and the database.
func (s *Store) Close() error {
	s.closeStmts()
	return s.db.Close()
}

func (s *Store) closeStmts() {
	for i, st := range s.stmts {
		if st != nil {
			st.Close()
			s.stmts[i] = nil
		}
	}
}

// txStmt returns statement i bound to tx. A *sql.Stmt prepared on the
// database finds the SQLite statement already prepared on the
// transaction's connection, so nothing is parsed again; inside a batch the
// bound statement is also reused for every record of the batch.
func (s *Store) txStmt(ctx context.Context, tx *sql.Tx, i int) *sql.Stmt {
	if b := batchFrom(ctx); b != nil && b.tx == tx {
		return b.stmt(i)
	}
	return tx.StmtContext(context.WithoutCancel(ctx), s.stmts[i])
}

type txKey struct{}

// Tx returns the transaction the inbox middleware opened for the message
// handled in ctx, or nil when the router has no inbox. A handler makes its
// state change with it, so the change commits together with the inbox entry
// and any events emitted with Emit. Inside a handler use only this
// transaction, never the *sql.DB: a store from OpenStore has one connection,
// which the transaction holds until the handler returns (with
// BatchTransactions, until the batch of records commits; the handler then
// runs in a savepoint of the batch's transaction, which Tx returns).
func Tx(ctx context.Context) *sql.Tx {
	tx, _ := ctx.Value(txKey{}).(*sql.Tx)
	return tx
}

type storedHeader struct {
	K string `json:"k"`
	V []byte `json:"v"`
}

// Enqueue adds r to the outbox inside tx. The relay produces it after tx
// commits; nothing is produced if tx rolls back. It wakes the relay at
// once, or, when tx is the router's batch transaction of the message in
// ctx, after that batch commits.
func (s *Store) Enqueue(ctx context.Context, tx *sql.Tx, r *kgo.Record) error {
	if tx == nil {
		return errors.New("runtime: outbox: nil transaction: enqueue inside the transaction that changes your state")
	}
	hs := make([]storedHeader, len(r.Headers))
	for i, h := range r.Headers {
		hs[i] = storedHeader{h.Key, h.Value}
	}
	hj, _ := json.Marshal(hs)
	// Never cancelled mid-statement: an interrupted INSERT makes SQLite roll
	// back the caller's whole transaction (a batch of records) behind
	// database/sql's back.
	if _, err := s.txStmt(ctx, tx, stmtOutbox).ExecContext(context.WithoutCancel(ctx),
		r.Topic, r.Key, r.Value, string(hj)); err != nil {
		return fmt.Errorf("runtime: outbox insert: %w", err)
	}
	if b := batchFrom(ctx); b != nil && b.tx == tx {
		b.wake = true // the rows are visible only after the batch commits
	} else {
		s.wake()
	}
	return nil
}

// AddEvent builds the record p would publish for v (encoding, key, headers,
// ids from ctx) and enqueues it in tx.
func (s *Store) AddEvent(ctx context.Context, tx *sql.Tx, p *Publisher, t events.Type, v any, opts ...PublishOpt) error {
	r, err := p.Record(ctx, t, v, opts...)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, tx, r)
}

func (s *Store) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// outboxRow is one row read by the relay. r is a template: the relay sends
// copies of it (record), since producing stamps a record and a tracer may
// rewrite its headers, and a row can be sent more than once in a flush.
type outboxRow struct {
	id int64
	r  *kgo.Record
}

// record returns a fresh record with the row's topic, key, value and
// headers.
func (row outboxRow) record() *kgo.Record {
	return &kgo.Record{Topic: row.r.Topic, Key: row.r.Key, Value: row.r.Value, Headers: slices.Clone(row.r.Headers)}
}

// pending and settle run without ctx's cancellation: they are short, and a
// cancellable context costs the SQLite driver a watcher goroutine per
// statement. The relay checks ctx between them.
func (s *Store) pending(ctx context.Context, limit int) ([]outboxRow, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := s.stmts[stmtPending].QueryContext(context.WithoutCancel(ctx), limit)
	if err != nil {
		return nil, fmt.Errorf("runtime: outbox read: %w", err)
	}
	defer rows.Close()
	var out []outboxRow
	for rows.Next() {
		var (
			row outboxRow
			hj  string
		)
		row.r = &kgo.Record{}
		if err := rows.Scan(&row.id, &row.r.Topic, &row.r.Key, &row.r.Value, &hj); err != nil {
			return nil, fmt.Errorf("runtime: outbox read: %w", err)
		}
		var hs []storedHeader
		if err := json.Unmarshal([]byte(hj), &hs); err != nil {
			return nil, fmt.Errorf("runtime: outbox row %d has corrupt headers: %w", row.id, err)
		}
		for _, h := range hs {
			row.r.Headers = append(row.r.Headers, kgo.RecordHeader{Key: h.K, Value: h.V})
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// parkedRow is an outbox row to move to contrail_outbox_parked, with why.
type parkedRow struct {
	id                 int64
	eventID, eventType string
	err                string
}

// settle deletes the acknowledged rows and moves the parked ones to
// contrail_outbox_parked, all in one transaction: a crash leaves either
// the rows as they were (sent again, with their event ids, which inboxes
// drop) or every change made.
func (s *Store) settle(ctx context.Context, acked []int64, parked []parkedRow) (err error) {
	if len(acked) == 0 && len(parked) == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	ids := make([]byte, 0, 1+len(acked)*8+len(parked)*8)
	ids = append(ids, '[')
	for i, id := range acked {
		if i > 0 {
			ids = append(ids, ',')
		}
		ids = strconv.AppendInt(ids, id, 10)
	}
	for i, p := range parked {
		if i > 0 || len(acked) > 0 {
			ids = append(ids, ',')
		}
		ids = strconv.AppendInt(ids, p.id, 10)
	}
	ids = append(ids, ']')
	if len(parked) == 0 { // one statement is its own transaction
		_, err := s.stmts[stmtDelete].ExecContext(ctx, string(ids))
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	park := tx.StmtContext(ctx, s.stmts[stmtPark])
	for _, p := range parked {
		if _, err := park.ExecContext(ctx, p.eventID, p.eventType, p.err, p.id); err != nil {
			return fmt.Errorf("park row %d: %w", p.id, err)
		}
	}
	if _, err := tx.StmtContext(ctx, s.stmts[stmtDelete]).ExecContext(ctx, string(ids)); err != nil {
		return err
	}
	return tx.Commit()
}

// Pending returns how many outbox rows wait for the relay.
func (s *Store) Pending(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM contrail_outbox`).Scan(&n)
	return n, err
}

// Parked returns how many outbox rows the relay parked in
// contrail_outbox_parked because the broker refuses them for good. They
// stay there until an operator requeues or deletes them (see
// docs/operations.md, "Requeue or delete a parked outbox row").
func (s *Store) Parked(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM contrail_outbox_parked`).Scan(&n)
	return n, err
}
