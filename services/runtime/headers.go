package runtime

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Record header keys the runtime writes on every event it publishes.
const (
	// HeaderEventID carries the event's unique id (its metadata.eventId);
	// the inbox deduplicates on it.
	HeaderEventID = "contrail-event-id"
	// HeaderEventType carries the event's fully qualified Avro name; the
	// router dispatches on it.
	HeaderEventType = "contrail-event-type"
	// HeaderContentType carries ContentTypeAvro.
	HeaderContentType = "content-type"
	// HeaderCorrelationID carries the id shared by every event of one flow.
	HeaderCorrelationID = "contrail-correlation-id"
	// HeaderCausationID carries the id of the event whose handler published
	// this one; absent for a flow's first event.
	HeaderCausationID = "contrail-causation-id"
)

// Header keys the dead-letter middleware adds to a dead letter, next to the
// original record's own headers.
const (
	HeaderDLQTopic      = "contrail-dlq-topic"       // original topic
	HeaderDLQPartition  = "contrail-dlq-partition"   // original partition, decimal
	HeaderDLQOffset     = "contrail-dlq-offset"      // original offset, decimal
	HeaderDLQErrorClass = "contrail-dlq-error-class" // an ErrorClass
	HeaderDLQError      = "contrail-dlq-error"       // the error message
	HeaderDLQTime       = "contrail-dlq-time"        // RFC 3339 time of dead-lettering, UTC
)

// ContentTypeAvro is the content-type of a Confluent-framed Avro value.
const ContentTypeAvro = "application/vnd.contrail.avro"

// DLQSuffix is appended to a topic's name to name its dead-letter topic.
const DLQSuffix = ".dlq"

// HeaderValue returns the value of the last header named key, or "".
func HeaderValue(r *kgo.Record, key string) string {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return string(r.Headers[i].Value)
		}
	}
	return ""
}

// setHeader replaces every header named key with one carrying value.
func setHeader(r *kgo.Record, key, value string) {
	out := r.Headers[:0]
	for _, h := range r.Headers {
		if h.Key != key {
			out = append(out, h)
		}
	}
	r.Headers = append(out, kgo.RecordHeader{Key: key, Value: []byte(value)})
}

// traceID returns the trace id of a W3C traceparent header
// ("00-<trace id>-<span id>-<flags>"), or "".
func traceID(r *kgo.Record) string {
	tp := HeaderValue(r, "traceparent")
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	for _, c := range parts[1] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return ""
		}
	}
	return parts[1]
}

// Message is one consumed record on its way to a handler, with the facts the
// middleware and the handler need. The router creates one per record; a
// Message is only used by one goroutine at a time.
type Message struct {
	// Record is the consumed record. Middleware must not modify it.
	Record *kgo.Record
	// Group is the consumer group handling it.
	Group string
	// EventID, EventType, CorrelationID and CausationID come from the
	// record's headers.
	EventID, EventType, CorrelationID, CausationID string
	// Key is the record key (the order id for the order flow's events).
	Key string
	// TraceID is the trace id of the record's traceparent header, or "".
	TraceID string
	// Attempt is the 1-based attempt number, set by the retry middleware.
	Attempt int
	// Value is the decoded event (a pointer to the handler's type) once the
	// handler stage decoded it; nil before.
	Value any

	deadLettered bool  // set by the dead-letter middleware
	duplicate    bool  // set by the inbox middleware
	resolveErr   error // why the event type could not be resolved
}

func newMessage(r *kgo.Record, group string) *Message {
	m := &Message{Record: r, Group: group, Key: string(r.Key), Attempt: 1}
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderEventID:
			m.EventID = string(h.Value)
		case HeaderEventType:
			m.EventType = string(h.Value)
		case HeaderCorrelationID:
			m.CorrelationID = string(h.Value)
		case HeaderCausationID:
			m.CausationID = string(h.Value)
		}
	}
	m.TraceID = traceID(r)
	return m
}

type messageKey struct{}

// WithMessage returns ctx carrying m; handlers read it back with
// MessageFrom. The router does this for every record.
func WithMessage(ctx context.Context, m *Message) context.Context {
	return context.WithValue(ctx, messageKey{}, m)
}

// MessageFrom returns the message being handled in ctx, or nil outside a
// handler. Publishing with a ctx that carries a message sets the new event's
// correlation id to the message's and its causation id to the message's
// event id.
func MessageFrom(ctx context.Context) *Message {
	m, _ := ctx.Value(messageKey{}).(*Message)
	return m
}
