package statedb

import (
	"context"
	"database/sql"
	"fmt"
)

// Statements are SQL statements prepared once on a database and reused in
// its transactions, so a handler does not parse its SQL on every event (on
// the order service that parsing was about a fifth of its CPU). A nil
// *Statements, or a query that was not prepared, runs the plain way. Safe
// for concurrent use.
//
// Exec and QueryRow run without ctx's cancellation (its values stay): the
// SQLite driver starts a watcher goroutine for every statement with a
// cancellable context, and SQLite answers an interrupted write inside a
// transaction by rolling back the whole transaction. The transaction itself
// still ends with its own context.
type Statements struct {
	m map[string]*sql.Stmt
}

// Prepare prepares queries on db. Call it outside any transaction: the
// services' databases have one connection, which a transaction holds. It
// returns an error naming the first query SQLite refuses.
func Prepare(ctx context.Context, db *sql.DB, queries ...string) (*Statements, error) {
	s := &Statements{m: make(map[string]*sql.Stmt, len(queries))}
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("statedb: prepare %q: %w", q, err)
		}
		s.m[q] = st
	}
	return s, nil
}

func (s *Statements) get(query string) *sql.Stmt {
	if s == nil {
		return nil
	}
	return s.m[query]
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
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, query, args...)
}

// QueryRow runs query with args in tx and returns its first row.
func (s *Statements) QueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	ctx = quiet(ctx)
	if st := s.get(query); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, query, args...)
}
