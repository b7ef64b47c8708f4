package eventing

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// batchTx is one partition's records of one poll sharing one inbox
// transaction (see BatchTransactions). Only the partition's goroutine uses
// it.
type batchTx struct {
	store *Store
	tx    *sql.Tx
	// ctx is the context the batch's handlers run in; cancel ends it when
	// the batch broke, so no handler starts or dead-letters after that.
	ctx    context.Context
	cancel context.CancelFunc
	// wake: an outbox row was added; wake the relay after the commit.
	wake bool
	// broken: a savepoint could not be released or rolled back, so the
	// transaction's state is unknown and the whole batch must roll back.
	broken error
	// stmts: the store's prepared statements bound to tx, made on first use
	// (SQLite; on PostgreSQL pgx's statement cache does that).
	stmts [numStmts]*sql.Stmt
	// savepoints: each record runs in a savepoint (SQLite). Without them
	// (PostgreSQL) a failed attempt breaks the batch instead; see handle.
	savepoints bool
}

// exec runs the store's statement i in the batch's transaction, never
// cancelled: SQLite answers an interrupted statement inside an explicit
// transaction by rolling back the whole batch, and pgx by closing the
// connection.
func (b *batchTx) exec(i int, args ...any) (sql.Result, error) {
	ctx := context.WithoutCancel(b.ctx)
	if b.store.stmts[i] == nil {
		return b.tx.ExecContext(ctx, b.store.q[i], args...)
	}
	if b.stmts[i] == nil {
		b.stmts[i] = b.tx.StmtContext(ctx, b.store.stmts[i])
	}
	return b.stmts[i].ExecContext(ctx, args...)
}

type batchKey struct{}

// batchFrom returns the batch the message in ctx is handled in, or nil.
func batchFrom(ctx context.Context) *batchTx {
	b, _ := ctx.Value(batchKey{}).(*batchTx)
	return b
}

// The savepoint statements. SQLite and PostgreSQL allow nested savepoints
// of one name; a handler's own savepoints (other names, or the same name
// nested) stay inside the record's. Undoing a record is savepointRollback
// then savepointRelease.
const (
	savepointBegin    = `SAVEPOINT contrail_record`
	savepointRelease  = `RELEASE contrail_record`
	savepointRollback = `ROLLBACK TO contrail_record`
)

// handle runs one attempt of next for m in the batch: the inbox row first
// (a duplicate is dropped), then next with the batch transaction in ctx
// (see Tx). A successful attempt stays in the batch, which the router
// commits after its last record.
//
// On SQLite each attempt runs in a savepoint: a failed one is rolled back
// to it, so a retry or the dead-letter path starts from the state before
// the record, and the batch goes on. On PostgreSQL a savepoint is two more
// round trips (beside about five per event) and a subtransaction per
// record, and more than 64 subtransactions in one transaction slow every
// session; so there records run without one, and a failed attempt breaks
// the batch instead: it is rolled back
// whole (nothing of it commits) and the router handles its records again
// one transaction each, where retries and dead letters work as without
// batching. A handler's failure costs its batch a second pass; the happy
// path saves the savepoints.
func (b *batchTx) handle(ctx context.Context, m *Message, id string, next HandlerFunc, onDuplicate func(context.Context, *Message)) error {
	if b.broken != nil {
		return fmt.Errorf("runtime: inbox: batch transaction unusable: %w", b.broken)
	}
	// Savepoint statements run even when ctx ended: an attempt cut short
	// by shutdown must still be undone before the batch commits.
	sctx := context.WithoutCancel(ctx)
	if b.savepoints {
		if _, err := b.exec(stmtSavepoint); err != nil {
			return b.fail(fmt.Errorf("runtime: inbox: savepoint for event %s: %w", id, err))
		}
	}
	// Not ctx: SQLite answers an interrupted statement inside an explicit
	// transaction by rolling back the whole batch, so the runtime's own
	// statements are never cancelled; shutdown waits for them instead.
	res, err := b.exec(stmtInbox, m.Group, id, m.Record.Topic, m.Record.Partition, m.Record.Offset)
	if err != nil {
		err = fmt.Errorf("runtime: inbox: record event %s: %w", id, err)
		if !b.savepoints {
			return b.fail(err)
		}
		b.undo(sctx)
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Handled before, in an earlier transaction or earlier in this batch.
		if b.savepoints {
			if _, err := b.exec(stmtRelease); err != nil {
				return b.fail(fmt.Errorf("runtime: inbox: release savepoint of event %s: %w", id, err))
			}
		}
		m.duplicate = true
		if onDuplicate != nil {
			onDuplicate(ctx, m)
		}
		return nil
	}
	if err := next(context.WithValue(ctx, txKey{}, b.tx), m); err != nil {
		if !b.savepoints {
			return b.fail(fmt.Errorf("runtime: inbox: event %s failed in a batch without savepoints; its records are handled again one transaction each: %w", id, err))
		}
		b.undo(sctx)
		return err
	}
	if b.savepoints {
		if _, err := b.exec(stmtRelease); err != nil {
			return b.fail(fmt.Errorf("runtime: inbox: release savepoint of event %s: %w", id, err))
		}
	}
	return nil
}

// undo rolls the transaction back to the record's savepoint and releases
// it.
func (b *batchTx) undo(context.Context) {
	if _, err := b.exec(stmtRollbackTo); err != nil {
		b.fail(fmt.Errorf("runtime: inbox: roll back to savepoint: %w", err))
		return
	}
	if _, err := b.exec(stmtRelease); err != nil {
		b.fail(fmt.Errorf("runtime: inbox: release savepoint: %w", err))
	}
}

// fail marks the batch broken and ends its handlers' context, so the
// dead-letter middleware returns instead of dead-lettering and the retry
// middleware stops.
func (b *batchTx) fail(err error) error {
	if b.broken == nil {
		b.broken = err
		b.cancel()
	}
	return err
}

// outcome is what became of a record handled inside a batch.
type outcome int

const (
	handled outcome = iota // succeeded, dead-lettered, duplicate or skipped
	blocked                // the chain failed: handle it alone with the blocking retry loop
	alone                  // needs waiting outside a transaction (type resolution): handle it alone
	stopped                // hctx ended
)

// processBatched handles a partition's records in batch transactions of
// up to batchMax records and returns the last record whose effects are
// committed (nil for none). A record that blocks (its chain fails even
// after retries and dead-lettering, e.g. the dead-letter topic is
// unreachable) ends its batch, which commits the records before it; the
// record is then retried alone, as without batching. A batch that cannot
// begin or commit is rolled back and its records handled again one
// transaction each.
func (r *Router) processBatched(ctx, hctx context.Context, p kgo.FetchTopicPartition, emit *emitter) *kgo.Record {
	var last *kgo.Record
	recs := p.Records
	for len(recs) > 0 && ctx.Err() == nil {
		chunk := recs[:min(len(recs), r.cfg.batchMax)]
		n, st, err := r.runBatch(ctx, hctx, chunk, emit)
		if n > 0 {
			last, recs = chunk[n-1], recs[n:]
		}
		if err != nil {
			// Nothing of the chunk committed or was marked: handle it
			// again, one transaction per record (the inbox drops what
			// an earlier batch committed).
			r.cfg.metrics.batchFailed.WithLabelValues(r.cfg.group).Inc()
			r.cfg.logger.Warn("batch transaction failed; handling its records one transaction each", "topic", p.Topic, "partition", p.Partition, "error", err)
			for _, rec := range chunk {
				if ctx.Err() != nil || !r.handleRecord(hctx, rec, emit) {
					return r.setLag(p, last)
				}
				last, recs = rec, recs[1:]
			}
			continue
		}
		switch st {
		case stopped:
			return r.setLag(p, last)
		case blocked, alone:
			if st == blocked && !sleep(hctx, r.cfg.retry.Backoff(2)) {
				return r.setLag(p, last)
			}
			if ctx.Err() != nil || !r.handleRecord(hctx, recs[0], emit) {
				return r.setLag(p, last)
			}
			last, recs = recs[0], recs[1:]
		}
	}
	return r.setLag(p, last)
}

// runBatch handles chunk in one transaction until a record does not end
// handled, commits what was handled and returns how many records that is
// and the outcome of the record it stopped at (handled when it did not
// stop). A non-nil error means nothing was committed: the transaction
// could not begin or commit, or broke.
func (r *Router) runBatch(ctx, hctx context.Context, chunk []*kgo.Record, emit *emitter) (int, outcome, error) {
	store := r.cfg.inbox
	// The transaction outlives hctx: records handled before a shutdown
	// timeout are still committed (database/sql rolls back a transaction
	// whose BeginTx context ends).
	tx, err := store.db.BeginTx(context.WithoutCancel(hctx), nil)
	if err != nil {
		return 0, handled, fmt.Errorf("runtime: batch: begin: %w", err)
	}
	if r.cfg.serial {
		if err := store.serialize(hctx, tx, r.cfg.group); err != nil {
			_ = tx.Rollback()
			return 0, handled, err
		}
	}
	bctx, cancel := context.WithCancel(hctx)
	defer cancel()
	b := &batchTx{store: store, tx: tx, ctx: bctx, cancel: cancel, savepoints: store.dialect != Postgres}
	n, st := 0, handled
	for _, rec := range chunk {
		if ctx.Err() != nil {
			st = stopped // shutting down: start nothing new, commit what was handled
			break
		}
		st = r.handle(hctx, rec, emit, b)
		if b.broken != nil {
			_ = tx.Rollback()
			return 0, handled, b.broken
		}
		if st != handled {
			break
		}
		n++
	}
	if n == 0 {
		_ = tx.Rollback()
		return 0, st, nil
	}
	if err := tx.Commit(); err != nil {
		return 0, handled, fmt.Errorf("runtime: batch: commit %d records: %w", n, err)
	}
	r.cfg.metrics.batches.WithLabelValues(r.cfg.group).Inc()
	r.cfg.metrics.batchRecords.WithLabelValues(r.cfg.group).Add(float64(n))
	if b.wake {
		store.wake()
	}
	return n, st, nil
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
