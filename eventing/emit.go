package eventing

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/events"
)

type emitterKey struct{}

// emitter is how a handler's Emit reaches Kafka: through the outbox when the
// handler runs in an inbox transaction, through the session's transaction in
// exactly-once mode, else directly.
type emitter struct {
	pub   *Publisher
	store *Store
	txn   *kgo.Client
}

// Emit publishes v (a pointer to t's Go type) from inside a handler, as a
// consequence of the message being handled: its correlation id is the
// message's and its causation id the message's event id.
//
//   - With an inbox (WithInbox), the event goes to the outbox in the
//     handler's transaction and the router's relay publishes it after the
//     transaction commits: the state change and the event commit together.
//     With a Tracer, the handler's trace context is stored with the row
//     (W3C traceparent/tracestate headers) and the relay's send span
//     continues that trace.
//   - In exactly-once mode (ExactlyOnce), it is produced inside the poll's
//     transaction, which commits with the consumed offsets.
//   - Otherwise it is published at once, like Publisher.Publish.
//
// Emit outside a handler returns an error: use a Publisher there.
func Emit(ctx context.Context, t events.Type, v any, opts ...PublishOpt) error {
	em, _ := ctx.Value(emitterKey{}).(*emitter)
	if em == nil {
		return errors.New("runtime: Emit called outside a handler: use Publisher.Publish")
	}
	if tx := Tx(ctx); tx != nil && em.store != nil {
		r, err := em.pub.Record(ctx, t, v, opts...)
		if err != nil {
			return err
		}
		if em.pub.cfg.tracer != nil {
			storeTraceContext(ctx, r)
		}
		return em.store.Enqueue(ctx, tx, r)
	}
	if em.txn != nil {
		r, err := em.pub.Record(ctx, t, v, opts...)
		if err != nil {
			return err
		}
		if err := produceAll(ctx, em.txn, em.pub.cfg.tracer, em.pub.cfg.metrics, t.FullName(), r); err != nil {
			return fmt.Errorf("runtime: emit in transaction: %w", err)
		}
		return nil
	}
	return em.pub.Publish(ctx, t, v, opts...)
}
