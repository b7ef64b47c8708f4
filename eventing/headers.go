package eventing

import (
	"bytes"
	"context"
	"strings"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kgo"
)

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

// traceID returns the trace id of a W3C traceparent header value
// ("00-<trace id>-<span id>-<flags>": exactly four dash-separated parts, the
// second 32 lower-case hex digits), or nil.
func traceID(tp []byte) []byte {
	i := bytes.IndexByte(tp, '-')
	if i < 0 {
		return nil
	}
	id := tp[i+1:]
	j := bytes.IndexByte(id, '-')
	if j != 32 || bytes.Count(id[j+1:], []byte{'-'}) != 1 {
		return nil
	}
	id = id[:32]
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil
		}
	}
	return id
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

// init fills m from r's key and headers with one allocation for all the
// strings. A HeaderEventType value that is a key of routes takes that key's
// string instead of a copy; init returns that route (nil when there is none),
// so the caller needs no second lookup.
func (m *Message) init(r *kgo.Record, group string, routes map[string]*route) *route {
	var id, typ, corr, cause, tp []byte
	for _, h := range r.Headers {
		switch h.Key {
		case wire.HeaderEventID:
			id = h.Value
		case wire.HeaderEventType:
			typ = h.Value
		case wire.HeaderCorrelationID:
			corr = h.Value
		case wire.HeaderCausationID:
			cause = h.Value
		case headerTraceParent:
			tp = h.Value
		}
	}
	trace := traceID(tp)
	*m = Message{Record: r, Group: group, Attempt: 1}
	rt := routes[string(typ)] // no allocation for the lookup
	if rt != nil {
		m.EventType = rt.t.FullName()
		typ = nil
	}
	var sb strings.Builder
	sb.Grow(len(id) + len(typ) + len(corr) + len(cause) + len(r.Key) + len(trace))
	for _, b := range [...][]byte{id, typ, corr, cause, r.Key, trace} {
		sb.Write(b)
	}
	all := sb.String()
	next := func(b []byte) string {
		s := all[:len(b)]
		all = all[len(b):]
		return s
	}
	m.EventID = next(id)
	if typ != nil {
		m.EventType = next(typ)
	}
	m.CorrelationID, m.CausationID, m.Key, m.TraceID = next(corr), next(cause), next(r.Key), next(trace)
	return rt
}

// messageCtx is the context a handler runs in: the router's context plus the
// message and the emitter, in one allocation with the message itself.
type messageCtx struct {
	context.Context
	msg   Message
	emit  *emitter
	batch *batchTx // nil unless the record is handled in a batch transaction
}

// Value answers MessageFrom and Emit without a chain of WithValue contexts.
func (c *messageCtx) Value(key any) any {
	switch key.(type) {
	case messageKey:
		return &c.msg
	case emitterKey:
		return c.emit
	case batchKey:
		if c.batch == nil {
			return nil
		}
		return c.batch
	}
	return c.Context.Value(key)
}

type messageKey struct{}

// MessageFrom returns the message being handled in ctx, or nil outside a
// handler. Publishing with a ctx that carries a message sets the new event's
// correlation id to the message's and its causation id to the message's
// event id.
func MessageFrom(ctx context.Context) *Message {
	m, _ := ctx.Value(messageKey{}).(*Message)
	return m
}
