package eventing

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/wire"
)

// DeadLetterSender writes a dead letter and returns once it is durable.
type DeadLetterSender func(ctx context.Context, r *kgo.Record) error

// DeadLettered is called just before a dead letter is sent.
type DeadLettered func(ctx context.Context, m *Message, dlqTopic string, class ErrorClass, err error)

// DeadLetterMiddleware sends a record whose handling failed for good to
// "<topic>.dlq" and reports success, so the partition moves on. The dead
// letter keeps the original key, value and headers and adds HeaderDLQTopic,
// HeaderDLQPartition, HeaderDLQOffset, HeaderDLQErrorClass, HeaderDLQError
// and HeaderDLQTime. Two errors are returned instead of dead-lettering, so
// the router keeps retrying the record in place: any error once ctx has
// ended (shutdown: the record is redelivered later), and an unreachable
// schema registry (CodecUnavailable, such as serde.ErrRegistryUnavailable: an outage of our own
// infrastructure must not empty a topic into its dead-letter topic). When
// the send fails, the send error is returned. now and onDead may be nil.
func DeadLetterMiddleware(send DeadLetterSender, now func() time.Time, onDead DeadLettered) Middleware {
	if now == nil {
		now = time.Now
	}
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, m *Message) error {
			err := next(ctx, m)
			if err == nil || ctx.Err() != nil || CodecUnavailable(err) {
				return err
			}
			class := Classify(err)
			dl := DeadLetterRecord(m.Record, class, err, now())
			if onDead != nil {
				onDead(ctx, m, dl.Topic, class, err)
			}
			if serr := send(ctx, dl); serr != nil {
				return fmt.Errorf("runtime: dead-letter %s/%d@%d to %s failed (record will be retried): %w (handler error: %v)",
					m.Record.Topic, m.Record.Partition, m.Record.Offset, dl.Topic, serr, err)
			}
			m.deadLettered = true
			return nil
		}
	}
}

// DeadLetterRecord returns the dead letter for r: same key, value and
// headers plus the HeaderDLQ* headers, on topic r.Topic + DLQSuffix.
func DeadLetterRecord(r *kgo.Record, class ErrorClass, err error, at time.Time) *kgo.Record {
	hs := make([]kgo.RecordHeader, 0, len(r.Headers)+6)
	for _, h := range r.Headers {
		switch h.Key {
		case wire.HeaderDLQTopic, wire.HeaderDLQPartition, wire.HeaderDLQOffset, wire.HeaderDLQErrorClass, wire.HeaderDLQError, wire.HeaderDLQTime:
			continue // a replayed record failing again gets fresh ones
		}
		hs = append(hs, h)
	}
	hs = append(hs,
		kgo.RecordHeader{Key: wire.HeaderDLQTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: wire.HeaderDLQPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: wire.HeaderDLQOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: wire.HeaderDLQErrorClass, Value: []byte(class)},
		kgo.RecordHeader{Key: wire.HeaderDLQError, Value: []byte(err.Error())},
		kgo.RecordHeader{Key: wire.HeaderDLQTime, Value: []byte(at.UTC().Format(time.RFC3339Nano))},
	)
	return &kgo.Record{Topic: r.Topic + wire.DLQSuffix, Key: r.Key, Value: r.Value, Headers: hs}
}
