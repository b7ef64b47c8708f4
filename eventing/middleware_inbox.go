package eventing

import (
	"context"
	"fmt"
)

// insertInbox records a handled event; a duplicate inserts nothing. On
// PostgreSQL an insert of an event id another transaction inserted and has
// not committed yet waits for it: if that commits, this one is a duplicate;
// if it rolls back, this one inserts. So two replicas that get the same
// record (a partition moving between them) handle it once.
const insertInbox = `INSERT INTO contrail_inbox (consumer_group, event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`

// InboxMiddleware deduplicates by event id: it opens a transaction on s,
// records (group, event id) in the inbox and calls next with the transaction
// in ctx (see Tx). It commits when next succeeds and rolls back when it
// fails, so the handler's state change and the inbox entry are one unit. A
// record whose event id is already in the inbox is dropped: next is not
// called and nil is returned. A record without an event id header is keyed
// by topic/partition/offset. onDuplicate may be nil.
//
// Inside a router's batch transaction (BatchTransactions) it opens no
// transaction of its own: the batch recorded the inbox rows up front, and
// a failed attempt rolls the batch back, to be handled again one
// transaction per record. The router commits the batch.
func InboxMiddleware(s *Store, onDuplicate func(ctx context.Context, m *Message)) Middleware {
	return inboxMiddleware(s, onDuplicate, false)
}

// inboxMiddleware is InboxMiddleware; with serial, each transaction first
// takes the consumer group's lock (SerialTransactions).
func inboxMiddleware(s *Store, onDuplicate func(ctx context.Context, m *Message), serial bool) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, m *Message) error {
			id := m.EventID
			if id == "" {
				id = fmt.Sprintf("%s/%d/%d", m.Record.Topic, m.Record.Partition, m.Record.Offset)
			}
			if b := batchFrom(ctx); b != nil && b.store == s {
				return b.handle(ctx, m, id, next, onDuplicate)
			}
			// The transaction and the inbox insert ignore ctx's cancellation
			// (checked once here): the SQLite driver would start a watcher
			// goroutine per statement, and database/sql one per transaction;
			// the transaction ends by Commit or Rollback below in any case.
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("runtime: inbox: begin: %w", err)
			}
			sctx := context.WithoutCancel(ctx)
			tx, err := s.db.BeginTx(sctx, nil)
			if err != nil {
				return fmt.Errorf("runtime: inbox: begin: %w", err)
			}
			if serial {
				if err := s.serialize(sctx, tx, m.Group); err != nil {
					tx.Rollback()
					return err
				}
			}
			res, err := s.exec(sctx, tx, stmtInbox, m.Group, id, m.Record.Topic, m.Record.Partition, m.Record.Offset)
			if err != nil {
				tx.Rollback()
				return fmt.Errorf("runtime: inbox: record event %s: %w", id, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				tx.Rollback()
				m.duplicate = true
				if onDuplicate != nil {
					onDuplicate(ctx, m)
				}
				return nil
			}
			if err := next(context.WithValue(ctx, txKey{}, tx), m); err != nil {
				tx.Rollback()
				return err
			}
			if err := tx.Commit(); err != nil {
				return fmt.Errorf("runtime: inbox: commit event %s: %w", id, err)
			}
			return nil
		}
	}
}
