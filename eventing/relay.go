package eventing

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Relay publishes outbox rows in insertion order and deletes them once the
// broker acknowledged. A crash between the two republishes the rows on
// restart with their original event ids, which consumers' inboxes drop:
// delivery is at-least-once, handling effectively once. With a Tracer, a
// row's send span is a child of the trace context stored in its W3C
// headers (Emit stores the handler's), so a relayed event continues the
// trace of the event that caused it instead of starting a new one.
type Relay struct {
	store    *Store
	pub      *Publisher
	interval time.Duration
	batch    int
}

// NewRelay returns a relay from s through p that polls every interval
// (it is also woken at once by Enqueue in this process); interval <= 0 means
// 200ms.
func NewRelay(s *Store, p *Publisher, interval time.Duration) *Relay {
	if interval <= 0 {
		interval = 200 * time.Millisecond
	}
	return &Relay{store: s, pub: p, interval: interval, batch: 500}
}

// Run relays until ctx ends, then returns nil. Errors reading the outbox or
// producing are logged and retried at the next tick; nothing is lost.
func (r *Relay) Run(ctx context.Context) error {
	t := time.NewTicker(r.interval)
	defer t.Stop()
	for {
		for {
			n, err := r.Flush(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				r.pub.cfg.logger.Warn("outbox relay failed; will retry", "error", err)
				break
			}
			if n < r.batch {
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

// Flush publishes up to one batch of outbox rows and returns how many it
// published.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	rows, err := r.store.pending(ctx, r.batch)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	rs := make([]*kgo.Record, len(rows))
	for i, row := range rows {
		rs[i] = row.r
	}
	if err := produceAllFrom(ctx, true, r.pub.cl, r.pub.cfg.tracer, r.pub.cfg.metrics, "", rs...); err != nil {
		return 0, fmt.Errorf("runtime: outbox relay: %w", err)
	}
	if err := r.store.deleteUpTo(ctx, rows[len(rows)-1].id); err != nil {
		return 0, fmt.Errorf("runtime: outbox relay: delete published rows: %w", err)
	}
	return len(rows), nil
}
