package eventing

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/wire"
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
	// broken: a record failed (or the inbox could not record it); the
	// whole batch rolls back and its records are handled again one
	// transaction each.
	broken error
	// stmts: the store's prepared statements bound to tx, made on first use
	// (SQLite; on PostgreSQL pgx's statement cache does that).
	stmts [numStmts]*sql.Stmt
	// claimed: the event ids whose inbox rows the batch inserted up front
	// (claimInbox): true while the record is yet to be handled, false once
	// handled, and false from the start for an id the inbox already held
	// (a duplicate). Records not in it insert their own row.
	claimed map[string]bool
	// outbox: the rows Enqueue added in the batch, inserted by
	// flushOutbox before the commit.
	outbox []pendingRow
	// deferred: handlers' writes kept for the end of the batch (Deferred),
	// flushed in the order they were first asked for.
	deferred    []deferredWrite
	deferredIdx map[any]int
	// pre: the chunk's values decoded before the transaction began
	// (predecode), by record; a record without one is decoded by its
	// handler, inside the transaction, as without batching.
	pre map[*kgo.Record]any
}

// predecode returns the decoded values of chunk's records that have a
// handler, by record (a batch's pre), decoded before the batch's
// transaction begins, so the decoding (and the data contract's READ rules,
// which run in it) does not hold the database's connection: on SQLite that
// connection is the service's one writer, which its other batches and its
// relay wait for. A record whose value does not decode is left to its
// handler, which decodes it again and retries, dead-letters or blocks on
// the error as without batching. It stops at the first value that does not
// decode: when the registry is unreachable every later decode would wait
// for it too, and the batch's handlers meet that error at once instead.
func (r *Router) predecode(ctx context.Context, chunk []*kgo.Record) map[*kgo.Record]any {
	pre := map[*kgo.Record]any{}
	for _, rec := range chunk {
		rt := r.routes[HeaderValue(rec, wire.HeaderEventType)]
		if rt == nil || rt.decode == nil {
			continue
		}
		v, err := rt.decode(ctx, rec.Value)
		if err != nil {
			break
		}
		pre[rec] = v
	}
	return pre
}

// decoded returns rec's value decoded by predecode, or nil.
func (b *batchTx) decoded(rec *kgo.Record) any {
	if v, ok := b.pre[rec]; ok {
		delete(b.pre, rec) // once: a second pass decodes afresh
		return v
	}
	return nil
}

// deferredWrite is one Deferred value and its flush.
type deferredWrite struct {
	value any
	flush func(ctx context.Context, tx *sql.Tx) error
}

// Deferred lets a handler gather writes of many records into one
// statement: it returns the value kept under key for the router's batch
// transaction tx of the message in ctx, made by mk on the batch's first
// call, and runs flush with it in tx just before the batch commits (after
// the batch's last record; an error fails the batch, which is then handled
// again one transaction per record). ok is false, and nothing is kept,
// when tx is not such a batch transaction (BatchTransactions(0), a record
// handled alone, a transaction of the handler's own): then the caller
// writes at once. The value is used by the batch's records one at a time.
// A write kept this way is not visible to the batch's later statements:
// keep only writes nothing in the batch reads back.
func Deferred[T any](ctx context.Context, tx *sql.Tx, key any, mk func() *T, flush func(ctx context.Context, tx *sql.Tx, v *T) error) (v *T, ok bool) {
	b := batchFrom(ctx)
	if b == nil || b.tx != tx {
		return nil, false
	}
	if i, ok := b.deferredIdx[key]; ok {
		return b.deferred[i].value.(*T), true
	}
	v = mk()
	if b.deferredIdx == nil {
		b.deferredIdx = map[any]int{}
	}
	b.deferredIdx[key] = len(b.deferred)
	b.deferred = append(b.deferred, deferredWrite{value: v, flush: func(ctx context.Context, tx *sql.Tx) error { return flush(ctx, tx, v) }})
	return v, true
}

// flushDeferred runs the batch's Deferred flushes.
func (b *batchTx) flushDeferred() error {
	ctx := context.WithoutCancel(b.ctx)
	for _, d := range b.deferred {
		if err := d.flush(ctx, b.tx); err != nil {
			return fmt.Errorf("runtime: batch: deferred writes: %w", err)
		}
	}
	b.deferred, b.deferredIdx = nil, nil
	return nil
}

// pendingRow is an outbox row of a batch not inserted yet.
type pendingRow struct {
	topic      string
	key, value []byte
	headers    string
}

// exec runs the store's statement i in the batch's transaction, never
// cancelled: SQLite answers an interrupted statement inside an explicit
// transaction by rolling back the whole batch, and pgx by closing the
// connection.
func (b *batchTx) exec(i int, args ...any) (sql.Result, error) {
	ctx := context.WithoutCancel(b.ctx)
	args = b.store.stamp(i, args)
	if st := b.stmt(ctx, i); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return b.tx.ExecContext(ctx, b.store.q[i], args...)
}

// stmt returns the store's prepared statement i bound to the batch's
// transaction (bound on first use), or nil when the store does not prepare
// it (PostgreSQL: pgx caches statements itself).
func (b *batchTx) stmt(ctx context.Context, i int) *sql.Stmt {
	if b.store.stmts[i] == nil {
		return nil
	}
	if b.stmts[i] == nil {
		b.stmts[i] = b.tx.StmtContext(ctx, b.store.stmts[i])
	}
	return b.stmts[i]
}

type batchKey struct{}

// batchFrom returns the batch the message in ctx is handled in, or nil.
func batchFrom(ctx context.Context) *batchTx {
	b, _ := ctx.Value(batchKey{}).(*batchTx)
	return b
}

// handle runs one attempt of next for m in the batch: the inbox row first
// (a duplicate is dropped), then next with the batch transaction in ctx
// (see Tx). A successful attempt stays in the batch, which the router
// commits after its last record.
//
// Records run without a savepoint each: a failed attempt breaks the batch
// instead, which is rolled back whole (nothing of it commits), and the
// router handles its records again one transaction each, where retries and
// dead letters work as without batching. A savepoint per record would
// undo just the failed attempt, but costs every record of every batch: on
// PostgreSQL two round trips and a subtransaction (more than 64 of them in
// one transaction slow every session), on SQLite two statements and a copy
// of each page the record touches (the order flow measured about 1.06x the
// throughput without them). A handler's failure costs its batch a second
// pass; the happy path saves the savepoints.
func (b *batchTx) handle(ctx context.Context, m *Message, id string, next HandlerFunc, onDuplicate func(context.Context, *Message)) error {
	if b.broken != nil {
		return fmt.Errorf("runtime: inbox: batch transaction unusable: %w", b.broken)
	}
	// Not ctx: SQLite answers an interrupted statement inside an explicit
	// transaction by rolling back the whole batch, so the runtime's own
	// statements are never cancelled; shutdown waits for them instead.
	fresh, claimed := b.claimed[id]
	if claimed {
		b.claimed[id] = false // a second record with the id is a duplicate
	} else {
		res, err := b.exec(stmtInbox, m.Group, id, m.Record.Topic, m.Record.Partition, m.Record.Offset)
		if err != nil {
			return b.fail(fmt.Errorf("runtime: inbox: record event %s: %w", id, err))
		}
		n, _ := res.RowsAffected()
		fresh = n > 0
	}
	if !fresh {
		// Handled before, in an earlier transaction or earlier in this batch.
		m.duplicate = true
		if onDuplicate != nil {
			onDuplicate(ctx, m)
		}
		return nil
	}
	if err := next(context.WithValue(ctx, txKey{}, b.tx), m); err != nil {
		return b.fail(fmt.Errorf("runtime: inbox: event %s failed in a batch; its records are handled again one transaction each: %w", id, err))
	}
	return nil
}

// inboxID is the inbox key of rec, as the inbox middleware computes it:
// its event id, or topic/partition/offset for a record without one.
func inboxID(rec *kgo.Record) string {
	if id := HeaderValue(rec, wire.HeaderEventID); id != "" {
		return id
	}
	return fmt.Sprintf("%s/%d/%d", rec.Topic, rec.Partition, rec.Offset)
}

// claimInbox inserts the inbox rows of the records of chunk the router
// has a handler for, in one statement instead of one per record, and fills
// b.claimed with which of them were new. A record that then does not get
// handled in the batch has its row deleted again before the commit
// (forgetUnhandled). On PostgreSQL the insert waits, as a single one does,
// for another replica's uncommitted row of the same event, and counts it
// as a duplicate once that commits.
func (b *batchTx) claimInbox(r *Router, chunk []*kgo.Record) error {
	type entry struct {
		id, topic string
		partition int32
		offset    int64
	}
	var es []entry
	for _, rec := range chunk {
		if r.routes[HeaderValue(rec, wire.HeaderEventType)] == nil {
			continue // skipped, or resolved alone: no inbox row here
		}
		es = append(es, entry{inboxID(rec), rec.Topic, rec.Partition, rec.Offset})
	}
	if len(es) == 0 {
		return nil
	}
	var args []any
	if b.store.dialect == Postgres {
		ids, topics := make([]string, len(es)), make([]string, len(es))
		parts, offs := make([]int32, len(es)), make([]int64, len(es))
		for i, e := range es {
			ids[i], topics[i], parts[i], offs[i] = e.id, e.topic, e.partition, e.offset
		}
		args = []any{r.cfg.group, ids, topics, parts, offs}
	} else {
		js := []byte{'['}
		for i, e := range es {
			if i > 0 {
				js = append(js, ',')
			}
			var ok1, ok2 bool
			js = append(js, '[')
			js, ok1 = appendJSONString(js, e.id)
			js = append(js, ',')
			js, ok2 = appendJSONString(js, e.topic)
			if !ok1 || !ok2 {
				return nil // text JSON cannot carry as is: one insert per record
			}
			js = append(js, ',')
			js = strconv.AppendInt(js, int64(e.partition), 10)
			js = append(js, ',')
			js = strconv.AppendInt(js, e.offset, 10)
			js = append(js, ']')
		}
		js = append(js, ']')
		args = []any{r.cfg.group, string(js)}
	}
	rows, err := b.query(stmtInboxBulk, args...)
	if err != nil {
		return fmt.Errorf("runtime: inbox: record %d events: %w", len(es), err)
	}
	defer rows.Close()
	b.claimed = make(map[string]bool, len(es))
	for _, e := range es {
		b.claimed[e.id] = false
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("runtime: inbox: record %d events: %w", len(es), err)
		}
		b.claimed[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("runtime: inbox: record %d events: %w", len(es), err)
	}
	return nil
}

// forgetUnhandled deletes the inbox rows claimInbox inserted for records
// the batch did not handle (it stopped before them): they are handled
// later, alone or in another batch, and must not look handled.
func (b *batchTx) forgetUnhandled(group string) error {
	var ids []string
	for id, fresh := range b.claimed {
		if fresh {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var arg any = ids
	if b.store.dialect != Postgres {
		js, err := json.Marshal(ids)
		if err != nil {
			return err
		}
		arg = string(js)
	}
	if _, err := b.exec(stmtInboxForget, group, arg); err != nil {
		return fmt.Errorf("runtime: inbox: forget %d unhandled events: %w", len(ids), err)
	}
	return nil
}

// flushOutbox inserts the batch's pending outbox rows, in the order they
// were enqueued, in one statement.
func (b *batchTx) flushOutbox() error {
	if len(b.outbox) == 0 {
		return nil
	}
	var args []any
	if b.store.dialect == Postgres {
		topics, heads := make([]string, len(b.outbox)), make([]string, len(b.outbox))
		keys, vals := make([][]byte, len(b.outbox)), make([][]byte, len(b.outbox))
		for i, row := range b.outbox {
			topics[i], keys[i], vals[i], heads[i] = row.topic, row.key, row.value, row.headers
		}
		args = []any{topics, keys, vals, heads}
	} else {
		js := []byte{'['}
		hexOrNull := func(js, v []byte) []byte {
			if v == nil {
				return append(js, "null"...)
			}
			js = append(js, '"')
			js = hex.AppendEncode(js, v)
			return append(js, '"')
		}
		for i, row := range b.outbox {
			if i > 0 {
				js = append(js, ',')
			}
			var ok1, ok2 bool
			js = append(js, '[')
			js, ok1 = appendJSONString(js, row.topic)
			js = append(js, ',')
			js = hexOrNull(js, row.key)
			js = append(js, ',')
			js = hexOrNull(js, row.value)
			js = append(js, ',')
			js, ok2 = appendJSONString(js, row.headers)
			js = append(js, ']')
			if !ok1 || !ok2 {
				return b.flushOutboxEach()
			}
		}
		js = append(js, ']')
		args = []any{string(js)}
	}
	if _, err := b.exec(stmtOutboxBulk, args...); err != nil {
		return fmt.Errorf("runtime: outbox insert of %d rows: %w", len(b.outbox), err)
	}
	b.outbox = b.outbox[:0]
	return nil
}

// flushOutboxEach is flushOutbox one insert per row, for text JSON cannot
// carry as is.
func (b *batchTx) flushOutboxEach() error {
	for _, row := range b.outbox {
		if _, err := b.exec(stmtOutbox, row.topic, row.key, row.value, row.headers); err != nil {
			return fmt.Errorf("runtime: outbox insert: %w", err)
		}
	}
	b.outbox = b.outbox[:0]
	return nil
}

// appendJSONString appends s as a JSON string; ok is false (and dst
// unusable) when s is not valid UTF-8, which JSON cannot carry byte for
// byte.
func appendJSONString(dst []byte, s string) (_ []byte, ok bool) {
	if !utf8.ValidString(s) {
		return dst, false
	}
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, `\u00`...)
			dst = append(dst, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"'), true
}

// query runs the store's statement i in the batch's transaction and
// returns its rows; see exec.
func (b *batchTx) query(i int, args ...any) (*sql.Rows, error) {
	ctx := context.WithoutCancel(b.ctx)
	args = b.store.stamp(i, args)
	if st := b.stmt(ctx, i); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return b.tx.QueryContext(ctx, b.store.q[i], args...)
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
	store, m := r.cfg.inbox, r.cfg.metrics
	pre := r.predecode(hctx, chunk)
	// The transaction outlives hctx: records handled before a shutdown
	// timeout are still committed (database/sql rolls back a transaction
	// whose BeginTx context ends).
	t0 := time.Now()
	tx, err := store.db.BeginTx(context.WithoutCancel(hctx), nil)
	if err != nil {
		return 0, handled, fmt.Errorf("runtime: batch: begin: %w", err)
	}
	t1 := time.Now()
	m.stage(StageBatchBegin, t1.Sub(t0))
	if r.cfg.serial {
		if err := store.serialize(hctx, tx, r.cfg.group); err != nil {
			_ = tx.Rollback()
			return 0, handled, err
		}
	}
	bctx, cancel := context.WithCancel(hctx)
	defer cancel()
	b := &batchTx{store: store, tx: tx, ctx: bctx, cancel: cancel, pre: pre}
	if err := b.claimInbox(r, chunk); err != nil {
		_ = tx.Rollback()
		return 0, handled, err
	}
	n, st := 0, handled
	for _, rec := range chunk {
		if ctx.Err() != nil {
			st = stopped // shutting down: start nothing new, commit what was handled
			break
		}
		if !rec.Timestamp.IsZero() {
			m.stage(StageConsumeDelay, time.Since(rec.Timestamp))
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
	if err := b.forgetUnhandled(r.cfg.group); err != nil {
		_ = tx.Rollback()
		return 0, handled, err
	}
	if err := b.flushDeferred(); err != nil {
		_ = tx.Rollback()
		return 0, handled, err
	}
	if err := b.flushOutbox(); err != nil {
		_ = tx.Rollback()
		return 0, handled, err
	}
	t2 := time.Now()
	m.stage(StageBatchHandle, t2.Sub(t1))
	if err := tx.Commit(); err != nil {
		return 0, handled, fmt.Errorf("runtime: batch: commit %d records: %w", n, err)
	}
	m.stage(StageBatchCommit, time.Since(t2))
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
