package statedb

import (
	"context"
	"database/sql"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events/common"
)

// State is the part of a reference service's store that every service has
// alike: its database (SQLite or PostgreSQL), the Emitter its events go to, and the
// statements its event handlers run, prepared once. A service embeds a
// *State[*Tx] in its Store, so DB, Close, Batch and In become the store's
// methods, and keeps only its own tables, queries and handler methods on
// its Tx. T is the service's transaction type: NewState's tx function
// wraps each Tx in it. A State is safe for concurrent use; on SQLite writes
// serialize on its single writer, on PostgreSQL transactions run in
// parallel (READ COMMITTED), so a service's writes that decide something
// are conditional or lock their rows.
type State[T any] struct {
	db    *sql.DB
	emit  Emitter
	stmts *Statements
	tx    func(Tx) T
}

// NewState returns the state of a service on db, whose tables exist (OpenDB
// or NewHost ran the service's DDL), and prepares queries, the statements
// its handlers run through Tx.Exec and Tx.QueryRow. emit receives the
// events the service's transactions emit; a nil emit drops them (for tests
// of the state alone). tx wraps each transaction in the service's own type.
// Call it outside any transaction on db: the services' databases have one
// connection, which a transaction holds. It returns an error naming the
// first query SQLite refuses (see Prepare).
func NewState[T any](ctx context.Context, db *sql.DB, emit Emitter, tx func(Tx) T, queries ...string) (*State[T], error) {
	st, err := Prepare(ctx, db, queries...)
	if err != nil {
		return nil, err
	}
	return &State[T]{db: db, emit: emit, stmts: st, tx: tx}, nil
}

// OpenStore opens or creates the SQLite database at path with OpenDB (ddl
// creates the service's tables; opts as OpenDB's, default
// DurabilityNormal) and builds the service's store S on it with open,
// which gets emit. When open fails the database is closed again. Errors are
// OpenDB's and open's, unwrapped.
func OpenStore[S any](ctx context.Context, path, ddl string, emit Emitter,
	open func(ctx context.Context, db *sql.DB, emit Emitter) (S, error), opts ...DBOpt) (S, error) {
	var zero S
	db, err := OpenDB(ctx, path, ddl, opts...)
	if err != nil {
		return zero, err
	}
	s, err := open(ctx, db, emit)
	if err != nil {
		db.Close()
		return zero, err
	}
	return s, nil
}

// DB returns the underlying database.
func (s *State[T]) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *State[T]) Close() error { return s.db.Close() }

// Batch runs fn in one transaction, committed when fn returns nil (one
// commit for a whole batch of events); otherwise it is rolled back and fn's
// error returned. Each event fn applies is deduplicated by Tx.Seen in the
// service's own inbox table (InboxDDL).
func (s *State[T]) Batch(ctx context.Context, fn func(T) error) error {
	return InTx(ctx, s.db, func(tx *sql.Tx) error { return fn(s.tx(Tx{tx: tx, emit: s.emit, stmts: s.stmts})) })
}

// In returns a transaction that applies events inside tx, the runtime's
// inbox transaction (eventing.Tx): the caller commits it, and its inbox row
// already dedupes the event by id, so Tx.Seen writes no second one. A
// service's effects stay keyed by order id either way.
func (s *State[T]) In(tx *sql.Tx) T {
	return s.tx(Tx{tx: tx, emit: s.emit, stmts: s.stmts, inboxed: true})
}

// Apply runs fn for a consumed event about orderID whose metadata is md: it
// returns ctx's error before starting if ctx has ended (the statements
// ignore cancellation, since an interrupted write would roll back the whole
// batch transaction), tags the span with orderID and builds the event's
// Record. fn gets In(tx) when the runtime's inbox transaction (eventing.Tx)
// is set, else runs in a Batch of its own. Errors are fn's, Batch's or
// ctx's, unwrapped.
func (s *State[T]) Apply(ctx context.Context, md common.EventMetadata, orderID string, fn func(T, Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	TagOrder(ctx, orderID)
	rec := RecordFrom(ctx, md.EventID, md.OccurredAt)
	if tx := eventing.Tx(ctx); tx != nil {
		return fn(s.In(tx), rec)
	}
	return s.Batch(ctx, func(t T) error { return fn(t, rec) })
}

// Tx is one transaction of a State, in which a service applies consumed
// events: the service's own Tx type holds it (State's tx function wraps it)
// and its handler methods call Seen first, then Exec, QueryRow and Emit.
// The zero Tx is not usable; State.Batch and State.In make them. A Tx is not
// safe for concurrent use.
type Tx struct {
	tx    *sql.Tx
	emit  Emitter
	stmts *Statements
	// inboxed: the caller's transaction already holds the event's inbox
	// row (the runtime's inbox), so Seen writes no second one.
	inboxed bool
}

// Seen records eventID in the service's inbox table (MarkSeen) and reports
// whether the event is new; false means a redelivery, and the handler must
// change nothing. Inside the runtime's inbox transaction (State.In) the
// runtime recorded the event already: Seen reports true and writes nothing.
// Errors are MarkSeen's.
func (t *Tx) Seen(ctx context.Context, eventID string) (bool, error) {
	if t.inboxed {
		return true, nil
	}
	return MarkSeen(ctx, t.tx, eventID)
}

// Emit hands ev, one of the service's domain events, to the State's
// Emitter inside this transaction, so the event commits with the state
// change or not at all. Without an Emitter it does nothing. Errors are the
// Emitter's.
func (t *Tx) Emit(ctx context.Context, ev any) error {
	if t.emit == nil {
		return nil
	}
	return t.emit.Emit(ctx, t.tx, ev)
}

// Prepare builds ev for EmitPrepared ahead of the transaction that stores
// it: encoded now when the State's Emitter is a Preparer, else by
// Emitter.Emit when stored. Without an Emitter storing it does nothing.
// Errors are the Preparer's.
func (s *State[T]) Prepare(ctx context.Context, ev any) (Prepared, error) {
	if p, ok := s.emit.(Preparer); ok {
		return p.Prepare(ctx, ev)
	}
	emit := s.emit
	return PreparedFunc(func(ctx context.Context, tx *sql.Tx) error {
		if emit == nil {
			return nil
		}
		return emit.Emit(ctx, tx, ev)
	}), nil
}

// EmitPrepared stores p (from State.Prepare) in this transaction, so the
// event commits with the state change or not at all, as Emit does. Errors
// are p's.
func (t *Tx) EmitPrepared(ctx context.Context, p Prepared) error { return p.Store(ctx, t.tx) }

// Exec runs query with args in the transaction, prepared when it was one of
// NewState's queries; like Statements.Exec it ignores ctx's cancellation.
func (t *Tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.stmts.Exec(ctx, t.tx, query, args...)
}

// Query runs query with args in the transaction and returns its rows,
// prepared when it was one of NewState's queries; like Statements.Query it
// ignores ctx's cancellation. The caller closes the rows.
func (t *Tx) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.stmts.Query(ctx, t.tx, query, args...)
}

// SQL is the transaction itself, for eventing.Deferred.
func (t *Tx) SQL() *sql.Tx { return t.tx }

// Dialect is the dialect of the transaction's database.
func (t *Tx) Dialect() eventing.Dialect { return t.stmts.Dialect() }

// QueryRow runs query with args in the transaction and returns its first
// row, prepared when it was one of NewState's queries; like
// Statements.QueryRow it ignores ctx's cancellation.
func (t *Tx) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return t.stmts.QueryRow(ctx, t.tx, query, args...)
}
