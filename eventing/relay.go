package eventing

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/wire"
)

// Relay publishes outbox rows in insertion order and deletes each row once
// the broker acknowledged it. A crash between the two republishes the rows
// on restart with their original event ids, which consumers' inboxes drop:
// delivery is at-least-once, handling effectively once. With a Tracer, a
// row's send span is a child of the trace context stored in its W3C
// headers (Emit stores the handler's), so a relayed event continues the
// trace of the event that caused it instead of starting a new one.
//
// One row's failure never holds up or repeats the others:
//
//   - Only acknowledged rows are deleted (by id). A row that failed for a
//     reason that can pass (broker unreachable, unknown topic, missing
//     ACL) stays in the outbox for the next flush; rows already
//     acknowledged are not sent again because of it.
//   - Per-key order holds: rows of one topic and key go out one round trip
//     apart (the n-th row of every key of a batch in the n-th round, all
//     keys of a round in parallel), and once a row of a key failed, the
//     later rows of that key wait in the outbox behind it. So a later row
//     is never produced while an earlier one of its key can still fail,
//     whatever the client does with a partition after a failure.
//   - A row the broker will never accept (MESSAGE_TOO_LARGE,
//     RECORD_LIST_TOO_LARGE, INVALID_RECORD, INVALID_TOPIC_EXCEPTION) is
//     produced once more on its own, since a broker refuses a whole partition's batch and franz-go
//     then fails the partition's other buffered records with the same
//     error. If it fails alone again it is parked: moved to
//     contrail_outbox_parked (with the error and the time) in the same
//     transaction that deletes the acknowledged rows, logged once at error
//     level and counted in contrail_outbox_parked_total. It is not
//     dead-lettered to "<topic>.dlq": a record too large for the topic is
//     too large there too, and the row is the service's own state, which an
//     operator inspects, requeues or deletes in the service's database
//     (docs/operations.md, "Requeue or delete a parked outbox row"). Later
//     rows of its key go on without it.
//
// On PostgreSQL every replica of a service runs a relay on the same outbox.
// A flush reads its rows with FOR UPDATE SKIP LOCKED inside a transaction
// that stays open while they are produced and commits their deletion, so
// two relays never hold (and never publish) the same row; and it leaves a
// key's rows for later while an older row of that key is held by another
// relay, so per-key order holds across replicas too. A relay that dies
// mid-flush releases its rows when PostgreSQL ends its session; another
// replica publishes them again (the at-least-once case above).
type Relay struct {
	store    *Store
	pub      *Publisher
	interval time.Duration
	batch    int
	// send produces rs and sets errs[i] to rs[i]'s outcome (nil:
	// acknowledged); tests replace it.
	send func(ctx context.Context, rs []*kgo.Record, errs []error)
}

// NewRelay returns a relay from s through p that polls every interval
// (it is also woken at once by Enqueue in this process); interval <= 0 means
// 200ms.
func NewRelay(s *Store, p *Publisher, interval time.Duration) *Relay {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	r := &Relay{store: s, pub: p, interval: interval, batch: 500}
	r.send = r.produce
	return r
}

// Run relays until ctx ends, then returns nil. Rows that could not be
// produced, and errors reading or updating the outbox, are logged and
// retried at the next tick; nothing is lost.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		for {
			res, err := r.flush(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				r.pub.cfg.logger.Warn("outbox relay: rows stay in the outbox; will retry", "error", err, "published", res.published, "parked", res.parked)
				break
			}
			// A full batch that was wholly resolved: there may be more.
			if res.rows < r.batch || res.published+res.parked < res.rows {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.store.notify:
		}
	}
}

// Flush publishes up to one batch of outbox rows (the oldest first) and
// returns how many the broker acknowledged; those are deleted from the
// outbox. Rows the broker refuses for good are parked (see Relay) and not
// counted. The error says why rows stayed in the outbox for the next flush
// (the first failure, wrapped: kerr errors, ctx errors), or that the
// outbox could not be read or updated.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	res, err := r.flush(ctx)
	return res.published, err
}

// flushResult counts one flush's rows: read, acknowledged, parked.
type flushResult struct{ rows, published, parked int }

// rowKey is the (topic, key) within which rows keep their order.
type rowKey struct{ topic, key string }

func (r *Relay) flush(ctx context.Context) (flushResult, error) {
	m := r.pub.cfg.metrics
	t0 := time.Now()
	c, rows, err := r.store.claim(ctx, r.batch)
	defer c.release()
	if err != nil || len(rows) == 0 {
		return flushResult{}, err
	}
	t1 := time.Now()
	m.stage(StageOutboxClaim, t1.Sub(t0))
	if m != nil {
		m.flushRows.Observe(float64(len(rows)))
	}
	res := flushResult{rows: len(rows)}
	// errs[i] is row i's outcome: nil once acknowledged. Rows not tried
	// (ctx ended) keep ctx's error.
	errs := make([]error, len(rows))
	park := make([]bool, len(rows))
	failed := map[rowKey]bool{} // keys with a row that stays
	for _, round := range rounds(rows) {
		if err := ctx.Err(); err != nil {
			for _, i := range round {
				errs[i] = err
			}
			continue
		}
		send := make([]int, 0, len(round))
		for _, i := range round {
			if k, ok := orderKey(rows[i]); ok && failed[k] {
				errs[i] = errHeldBack
				continue
			}
			send = append(send, i)
		}
		r.sendRows(ctx, rows, send, errs)
		for _, i := range send {
			if permanentProduceError(errs[i]) {
				// The broker fails a partition's whole batch: find out
				// whether this row is the one it refuses.
				r.sendRows(ctx, rows, []int{i}, errs)
				park[i] = permanentProduceError(errs[i])
			}
			if errs[i] != nil && !park[i] {
				if k, ok := orderKey(rows[i]); ok {
					failed[k] = true
				}
			}
		}
	}

	t2 := time.Now()
	m.stage(StageOutboxProduce, t2.Sub(t1))
	var (
		acked  []int64
		parked []parkedRow
		kept   int
		first  error
	)
	for i, row := range rows {
		switch {
		case errs[i] == nil:
			acked = append(acked, row.id)
		case park[i]:
			parked = append(parked, parkedRow{id: row.id, eventID: HeaderValue(row.r, wire.HeaderEventID),
				eventType: HeaderValue(row.r, wire.HeaderEventType), err: errs[i].Error()})
		default:
			kept++
			if first == nil && errs[i] != errHeldBack {
				first = fmt.Errorf("runtime: publish %s to %s: %w", HeaderValue(row.r, wire.HeaderEventType), row.r.Topic, errs[i])
			}
		}
	}
	if err := c.settle(ctx, acked, parked); err != nil {
		// The acknowledged rows go out again with the next flush (their
		// event ids let inboxes drop them); the parked ones are tried again.
		return flushResult{rows: len(rows), published: len(acked)}, fmt.Errorf("runtime: outbox relay: delete published rows: %w", err)
	}
	m.stage(StageOutboxSettle, time.Since(t2))
	res.published, res.parked = len(acked), len(parked)
	for i, row := range rows {
		if park[i] {
			r.parked(row, errs[i])
		}
	}
	if kept > 0 {
		if first == nil {
			first = errHeldBack
		}
		return res, fmt.Errorf("runtime: outbox relay: %d of %d rows not acknowledged, kept in the outbox for the next flush: %w", kept, len(rows), first)
	}
	return res, nil
}

// rounds splits rows (oldest first) into rounds in which no topic and key
// appears twice: the n-th row of each key goes in the n-th round. Rows
// without a key have no order to keep and all go in the first. Most
// batches are one round: a batch rarely holds two events of one entity.
func rounds(rows []outboxRow) [][]int {
	var out [][]int
	var seen map[rowKey]int
	for i, row := range rows {
		n := 0
		if k, ok := orderKey(row); ok {
			if seen == nil {
				seen = make(map[rowKey]int, len(rows))
			}
			n = seen[k]
			seen[k] = n + 1
		}
		for len(out) <= n {
			out = append(out, nil)
		}
		out[n] = append(out[n], i)
	}
	return out
}

// orderKey returns the key within which row keeps its order, and false for
// a row without a key (partitioned anywhere, so unordered).
func orderKey(row outboxRow) (rowKey, bool) {
	if row.r.Key == nil {
		return rowKey{}, false
	}
	return rowKey{row.r.Topic, string(row.r.Key)}, true
}

// sendRows produces the rows at idx (fresh records) and sets their errs.
func (r *Relay) sendRows(ctx context.Context, rows []outboxRow, idx []int, errs []error) {
	if len(idx) == 0 {
		return
	}
	rs := make([]*kgo.Record, len(idx))
	for j, i := range idx {
		rs[j] = rows[i].record()
	}
	out := make([]error, len(idx))
	r.send(ctx, rs, out)
	for j, i := range idx {
		errs[i] = out[j]
	}
}

// produce is Relay.send on the publisher's client: it produces rs, each
// send span continuing the trace context stored in the record's headers,
// and waits for every outcome.
func (r *Relay) produce(ctx context.Context, rs []*kgo.Record, errs []error) {
	cl, tracer, m := r.pub.cl, r.pub.cfg.tracer, r.pub.cfg.metrics
	var wg sync.WaitGroup
	wg.Add(len(rs))
	for i, rec := range rs {
		label := HeaderValue(rec, wire.HeaderEventType)
		done := func(rec *kgo.Record, err error) {
			errs[i] = err
			if err == nil && m != nil {
				m.publishedCounter(rec.Topic, label).Inc()
			}
			wg.Done()
		}
		if tracer == nil {
			cl.Produce(ctx, rec, done)
			continue
		}
		sctx, end := tracer.StartSend(storedTraceContext(ctx, rec), rec)
		rec.Context = sctx
		cl.Produce(ctx, rec, func(rec *kgo.Record, err error) {
			end(err)
			done(rec, err)
		})
	}
	wg.Wait()
}

// parked logs and counts a row settle moved to contrail_outbox_parked.
func (r *Relay) parked(row outboxRow, err error) {
	r.pub.cfg.logger.Error("outbox relay: the broker refuses this row for good; parked it in contrail_outbox_parked (docs/operations.md says how to requeue or delete it)",
		"outbox_id", row.id, "topic", row.r.Topic, "key", logKey(row.r.Key),
		"event_id", HeaderValue(row.r, wire.HeaderEventID), "event_type", HeaderValue(row.r, wire.HeaderEventType),
		"size", recordSize(row.r), "error", err)
	if m := r.pub.cfg.metrics; m != nil {
		m.outboxParked(row.r.Topic)
	}
}
