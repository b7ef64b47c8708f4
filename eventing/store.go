package eventing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/contrail-events/contrail/events"
)

// StoreDDL creates the inbox and outbox tables. OpenStore and NewStore run
// it; it is exported for services that manage their schema themselves.
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
	numStmts
)

var storeQueries = [numStmts]string{
	stmtInbox:     insertInbox,
	stmtOutbox:    `INSERT INTO contrail_outbox (topic, key, value, headers) VALUES (?, ?, ?, ?)`,
	stmtSavepoint: savepointBegin,
	stmtRelease:   savepointRelease,
	stmtPending:   `SELECT id, topic, key, value, headers FROM contrail_outbox ORDER BY id LIMIT ?`,
	stmtDelete:    `DELETE FROM contrail_outbox WHERE id <= ?`,
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

type outboxRow struct {
	id int64
	r  *kgo.Record
}

// pending and deleteUpTo run without ctx's cancellation: they are short,
// and a cancellable context costs the SQLite driver a watcher goroutine per
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

func (s *Store) deleteUpTo(ctx context.Context, id int64) error {
	_, err := s.stmts[stmtDelete].ExecContext(context.WithoutCancel(ctx), id)
	return err
}

// Pending returns how many outbox rows wait for the relay.
func (s *Store) Pending(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM contrail_outbox`).Scan(&n)
	return n, err
}
