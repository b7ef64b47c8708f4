package statedb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/contrail-events/contrail/eventing"
)

// Statements are SQL statements prepared once on a database and reused in
// its transactions, so a handler does not parse its SQL on every event (on
// the order service that parsing was about a fifth of its CPU). A nil
// *Statements, or a query that was not prepared, runs the plain way. Safe
// for concurrent use.
//
// Queries are written once for both dialects, with $1, $2, ...
// placeholders (SQLite's driver binds them by number too). A query that
// ends in " FOR UPDATE" locks the rows it reads on PostgreSQL, where
// replicas share them; on SQLite, which has no row locks and one writer,
// that suffix is dropped. On PostgreSQL nothing is prepared here: pgx
// prepares each query once per connection by itself.
//
// Exec and QueryRow run without ctx's cancellation (its values stay): the
// SQLite driver starts a watcher goroutine for every statement with a
// cancellable context, and SQLite answers an interrupted write inside a
// transaction by rolling back the whole transaction (pgx closes the
// connection). The transaction itself still ends with its own context.
type Statements struct {
	m       map[string]*sql.Stmt
	dialect eventing.Dialect

	// bound are the statements of m bound to boundTx, the transaction
	// that used them last: on SQLite one transaction at a time runs (one
	// connection), and a batch transaction runs each statement for many
	// events, so each is bound to it once rather than per call.
	mu      sync.Mutex
	boundTx *sql.Tx
	bound   map[*sql.Stmt]*sql.Stmt
}

// forUpdate is the suffix SQLite drops (see Statements).
const forUpdate = " FOR UPDATE"

// Prepare prepares queries on db. Call it outside any transaction: the
// services' SQLite databases have one connection, which a transaction
// holds. It returns an error naming the first query SQLite refuses (on
// PostgreSQL a query is first checked when it runs).
func Prepare(ctx context.Context, db *sql.DB, queries ...string) (*Statements, error) {
	s := &Statements{m: make(map[string]*sql.Stmt, len(queries)), dialect: eventing.DialectOf(db)}
	if s.dialect == eventing.Postgres {
		return s, nil
	}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, s.text(q))
		if err != nil {
			return nil, fmt.Errorf("statedb: prepare %q: %w", q, err)
		}
		s.m[q] = st
	}
	return s, nil
}

// Dialect returns the dialect of the database the statements were
// prepared on (SQLite for a nil *Statements).
func (s *Statements) Dialect() eventing.Dialect {
	if s == nil || s.dialect == "" {
		return eventing.SQLite
	}
	return s.dialect
}

// text is query as the database runs it.
func (s *Statements) text(query string) string {
	if s.Dialect() == eventing.SQLite {
		return strings.TrimSuffix(query, forUpdate)
	}
	return query
}

func (s *Statements) get(query string) *sql.Stmt {
	if s == nil {
		return nil
	}
	return s.m[query]
}

// in returns st bound to tx, binding it on first use in tx. Holding
// boundTx keeps it from being collected, so a later transaction never
// takes its place in the cache by address; database/sql closes the bound
// statements when their transaction ends.
func (s *Statements) in(ctx context.Context, tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.boundTx != tx {
		s.boundTx, s.bound = tx, make(map[*sql.Stmt]*sql.Stmt, len(s.m))
	}
	b := s.bound[st]
	if b == nil {
		b = tx.StmtContext(ctx, st)
		s.bound[st] = b
	}
	return b
}

func quiet(ctx context.Context) context.Context {
	if ctx.Done() == nil {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

// Exec runs query with args in tx.
func (s *Statements) Exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	ctx = quiet(ctx)
	if st := s.get(query); st != nil {
		return s.in(ctx, tx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, s.text(query), args...)
}

// Query runs query with args in tx and returns its rows.
func (s *Statements) Query(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	ctx = quiet(ctx)
	if st := s.get(query); st != nil {
		return s.in(ctx, tx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, s.text(query), args...)
}

// QueryRow runs query with args in tx and returns its first row.
func (s *Statements) QueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	ctx = quiet(ctx)
	if st := s.get(query); st != nil {
		return s.in(ctx, tx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, s.text(query), args...)
}
