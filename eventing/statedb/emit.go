package statedb

import (
	"context"
	"database/sql"
	"time"

	"github.com/google/uuid"
)

// Emitter records events a service emits inside the transaction that changes
// its state, so both commit or neither does (the outbox pattern). Each
// service's domain events are plain structs; the service's wiring converts
// them to the generated event types. Implementations must be safe for
// concurrent use; Emit must use tx and nothing else for its writes.
type Emitter interface {
	Emit(ctx context.Context, tx *sql.Tx, ev any) error
}

// EmitterFunc adapts a function to Emitter.
type EmitterFunc func(ctx context.Context, tx *sql.Tx, ev any) error

// Emit implements Emitter.
func (f EmitterFunc) Emit(ctx context.Context, tx *sql.Tx, ev any) error { return f(ctx, tx, ev) }

// Meta is the envelope every emitted domain event carries; it becomes the
// schemas' EventMetadata.
type Meta struct {
	EventID       string
	OccurredAt    time.Time
	CorrelationID string
	CausationID   string // empty for a flow's first event
}

// NewMeta returns metadata for an event of the flow correlationID caused by
// causationID (may be empty), with a fresh event id and the current time
// truncated to milliseconds (the schemas' timestamp-millis).
func NewMeta(correlationID, causationID string) Meta {
	return Meta{
		EventID:       uuid.NewString(),
		OccurredAt:    time.Now().UTC().Truncate(time.Millisecond),
		CorrelationID: correlationID,
		CausationID:   causationID,
	}
}

// InboxDDL creates the inbox table MarkSeen uses, on SQLite. Services
// include it in their first migration; InboxPostgresDDL is the same table
// on PostgreSQL.
const InboxDDL = `CREATE TABLE IF NOT EXISTS inbox (
	event_id TEXT PRIMARY KEY,
	seen_at  INTEGER NOT NULL
) WITHOUT ROWID;`

// InboxPostgresDDL is InboxDDL on PostgreSQL.
const InboxPostgresDDL = `CREATE TABLE IF NOT EXISTS inbox (
	event_id TEXT PRIMARY KEY,
	seen_at  BIGINT NOT NULL
);`

const qMarkSeen = `INSERT INTO inbox(event_id, seen_at) VALUES($1, $2) ON CONFLICT DO NOTHING`

// MarkSeen records eventID in the inbox inside tx and reports whether it was
// new. A false result means the event was applied before (a redelivery) and
// the caller must change nothing. An empty eventID is always new. Like
// Statements.Exec, the INSERT runs without ctx's cancellation: an
// interrupted write would roll back the caller's whole transaction.
func MarkSeen(ctx context.Context, tx *sql.Tx, eventID string) (bool, error) {
	if eventID == "" {
		return true, nil
	}
	res, err := tx.ExecContext(quiet(ctx), qMarkSeen, eventID, time.Now().UnixMilli())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
