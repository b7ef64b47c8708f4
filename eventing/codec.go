package eventing

import (
	"context"

	"github.com/contrail-events/contrail/events"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Codec turns events into record values and back. *serde.Serde (the registry
// serde, Confluent wire format) is the production codec; tests may use any
// other. Implementations must be safe for concurrent use.
//
// Decode errors are classified by the runtime: an error wrapping
// CodecUnavailable (serde.ErrRegistryUnavailable) is retried in place
// until the registry is back (never dead-lettered),
// context errors are transient; every other decode error means the record
// can never be read and is poison (dead-lettered at once).
type Codec interface {
	Encode(ctx context.Context, t events.Type, v any) ([]byte, error)
	Decode(ctx context.Context, data []byte, t events.Type, out any) error
}

// WriterNamer is an optional Codec extension that *serde.Serde has:
// WriterName returns the fully qualified name of the schema registered under
// a payload's schema ID. With it, the router dispatches a record that has no
// HeaderEventType header (one written by kcat or a Java Confluent
// serializer) by the name of its writer schema; without it, such a record
// goes to its topic's handler when the topic has exactly one, and is skipped
// otherwise.
//
// WriterName must be safe for concurrent use and should cache: it is called
// for every record without the header. A CodecUnavailable error and
// context errors make the router retry in place; any other error makes the
// record poison (dead-lettered at once).
type WriterNamer interface {
	WriterName(ctx context.Context, id int) (string, error)
}

// appendEncoder is the optional allocation-saving form of Encode that
// *serde.Serde has.
type appendEncoder interface {
	AppendEncode(ctx context.Context, dst []byte, t events.Type, v any) ([]byte, error)
}

// Tracer is the tracing hook the runtime calls; tracing.Messaging satisfies
// it. A nil Tracer means no hooks are called at all.
//
// StartSend fires once per published record, before it is produced; it may
// rewrite the record's trace headers, and its func is called with the
// produce result once the broker answered. StartProcess fires once per
// consumed record before its first attempt; its func is called with the
// final outcome (nil after success or dead-lettering). Retry fires before
// each retry with the attempt about to start (2, 3, ...) and the error of the
// previous one. DeadLetter fires just before a record is written to its
// dead-letter topic.
type Tracer interface {
	StartSend(ctx context.Context, r *kgo.Record) (context.Context, func(error))
	StartProcess(ctx context.Context, r *kgo.Record, group string) (context.Context, func(error))
	Retry(ctx context.Context, attempt int, err error)
	DeadLetter(ctx context.Context, dlqTopic string, err error)
}
