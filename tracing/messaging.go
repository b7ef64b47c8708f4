package tracing

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Span event names and attributes Contrail adds beyond the semantic
// conventions.
const (
	// EventRetry is the span event [Messaging.Retry] adds.
	EventRetry = "retry"
	// EventDeadLetter is the span event [Messaging.DeadLetter] adds.
	EventDeadLetter = "dead_letter"
	// AttrRetryAttempt is, on an EventRetry, the attempt about to start
	// (2 for the first retry).
	AttrRetryAttempt = attribute.Key("contrail.retry.attempt")
	// AttrDeadLetterTopic is the dead-letter topic on an EventDeadLetter.
	AttrDeadLetterTopic = attribute.Key("contrail.dead_letter.topic")
	// AttrOrderID is the order id services put on their spans, so
	// `contrail trace <order-id>` can find a trace by tag.
	AttrOrderID = attribute.Key("contrail.order.id")
)

// Opt configures [NewMessaging].
type Opt interface{ apply(*messagingConfig) }

type optFunc func(*messagingConfig)

func (f optFunc) apply(c *messagingConfig) { f(c) }

type messagingConfig struct {
	tp           trace.TracerProvider
	prop         propagation.TextMapPropagator
	parentBased  bool
	rootsDropped bool
	unsampled    UnsampledHeaders
}

// UnsampledHeaders selects the trace headers [Messaging.StartSend] writes
// on a record whose trace is not sampled. Sampled records always carry
// traceparent (+ tracestate, baggage) and uber-trace-id.
type UnsampledHeaders int

const (
	// UnsampledAll writes the same headers as on sampled records,
	// uber-trace-id included with its sampled flag 0, so every consumer,
	// jaeger-client-go ones too, keeps the upstream "do not sample"
	// decision. The default.
	UnsampledAll UnsampledHeaders = iota
	// UnsampledW3C writes traceparent (+ tracestate, baggage) with its
	// sampled flag 0 but no uber-trace-id: about 70 bytes and one header
	// less per record. OpenTelemetry consumers (Contrail's included) keep
	// the decision; a jaeger-client-go consumer sees no context, starts a
	// new trace and samples it by its own sampler, so it may record
	// fragments of traces that were sampled out upstream. Use it once no
	// jaeger-client-go consumer remains.
	UnsampledW3C
	// UnsampledNone writes no trace context at all on an unsampled record
	// (stale trace headers the record carried are still removed; baggage is
	// still written): the cheapest setting, opt-in. A consumer then sees a
	// record without a parent and its own sampler decides on a new root:
	// with the same ratio-0 config nothing is recorded either, but a
	// consumer with another config (always_on, a higher ratio) may record
	// its part of the flow as a trace of its own. Trace ids in the log
	// lines of unsampled flows are no longer the same across services, and
	// jaeger-client-go consumers see no context. Sampled records are
	// unaffected.
	UnsampledNone
)

// String returns the name Config.UnsampledHeaders accepts: "all", "w3c" or
// "none".
func (u UnsampledHeaders) String() string {
	switch u {
	case UnsampledW3C:
		return "w3c"
	case UnsampledNone:
		return "none"
	}
	return "all"
}

// WithUnsampledHeaders sets which trace headers an unsampled record
// carries. Default: UnsampledAll; any value other than UnsampledW3C and
// UnsampledNone means UnsampledAll.
func WithUnsampledHeaders(u UnsampledHeaders) Opt {
	return optFunc(func(c *messagingConfig) { c.unsampled = u })
}

// withRootsDropped tells Messaging that tp's sampler drops every span
// without a valid parent (always_off, parentbased_always_off, a ratio of
// 0), so a record without a parent needs no span: a fresh unsampled
// context is propagated instead. Setup passes it; arbitrary providers never
// get it.
func withRootsDropped() Opt {
	return optFunc(func(c *messagingConfig) { c.rootsDropped = true })
}

// withParentBasedSampler tells Messaging that tp's sampler follows the
// parent's decision, so a record whose parent is not sampled needs no span
// at all: the parent's context is propagated as is. Setup passes it for the
// parentbased_* samplers; arbitrary providers never get it.
func withParentBasedSampler() Opt {
	return optFunc(func(c *messagingConfig) { c.parentBased = true })
}

// WithTracerProvider sets the provider spans are started from. Default: the
// global provider (otel.GetTracerProvider), also when tp is nil.
func WithTracerProvider(tp trace.TracerProvider) Opt {
	return optFunc(func(c *messagingConfig) {
		if tp != nil {
			c.tp = tp
		}
	})
}

// WithPropagators sets the propagator that writes and reads record headers.
// Default: the global propagator (otel.GetTextMapPropagator), also when p is
// nil. Services should pass [NewPropagator]() (Setup's Provider does).
func WithPropagators(p propagation.TextMapPropagator) Opt {
	return optFunc(func(c *messagingConfig) {
		if p != nil {
			c.prop = p
		}
	})
}

func defaultMessagingConfig() messagingConfig {
	return messagingConfig{tp: otel.GetTracerProvider(), prop: otel.GetTextMapPropagator()}
}

// Messaging starts the spans of Kafka publishes and handled records,
// following the OpenTelemetry messaging semantic conventions for Kafka. Its
// methods match the event runtime's Tracer hook interface. A Messaging is
// safe for concurrent use. A nil *Messaging is valid and does nothing,
// without allocating; still, when tracing is disabled give the runtime a nil
// interface rather than a nil *Messaging, so no hook is called at all.
type Messaging struct {
	tracer       trace.Tracer
	prop         propagation.TextMapPropagator
	fast         bool // prop is Contrail's propagator: use the byte-level fast path
	parentBased  bool
	rootsDropped bool
	uberUnsamp   bool     // write uber-trace-id on unsampled records too
	noUnsamp     bool     // write no trace context on unsampled records (UnsampledNone)
	names        sync.Map // topic -> *spanNames
}

type spanNames struct{ send, process string }

// NewMessaging returns a Messaging; see the options for defaults.
func NewMessaging(opts ...Opt) *Messaging {
	c := defaultMessagingConfig()
	for _, o := range opts {
		o.apply(&c)
	}
	_, fast := c.prop.(propagator)
	return &Messaging{
		tracer:       c.tp.Tracer(ScopeName, trace.WithInstrumentationVersion(Version), trace.WithSchemaURL(semconv.SchemaURL)),
		prop:         c.prop,
		fast:         fast,
		parentBased:  c.parentBased,
		rootsDropped: c.rootsDropped,
		uberUnsamp:   c.unsampled != UnsampledW3C && c.unsampled != UnsampledNone,
		noUnsamp:     c.unsampled == UnsampledNone,
	}
}

// Span kinds as start options built once: trace.WithSpanKind allocates a
// closure on every call.
var (
	producerKind = trace.WithSpanKind(trace.SpanKindProducer)
	consumerKind = trace.WithSpanKind(trace.SpanKindConsumer)
)

// noopFinish is the finish func of records that get no span. A
// package-level func value, so returning it allocates nothing.
func noopFinish(error) {}

// newUnsampledRoot returns a new root context that is not sampled, with
// random non-zero ids as the SDK's default generator makes them.
func newUnsampledRoot() trace.SpanContext {
	var cfg trace.SpanContextConfig
	for !cfg.TraceID.IsValid() {
		binary.NativeEndian.PutUint64(cfg.TraceID[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(cfg.TraceID[8:], rand.Uint64())
	}
	for !cfg.SpanID.IsValid() {
		binary.NativeEndian.PutUint64(cfg.SpanID[:], rand.Uint64())
	}
	return trace.NewSpanContext(cfg)
}

func (m *Messaging) spanNames(topic string) *spanNames {
	if n, ok := m.names.Load(topic); ok {
		return n.(*spanNames)
	}
	n, _ := m.names.LoadOrStore(topic, &spanNames{send: "send " + topic, process: "process " + topic})
	return n.(*spanNames)
}

// StartSend starts the PRODUCER span "send <topic>" for r as a child of the
// span in ctx and injects its context into r.Headers (traceparent,
// tracestate, baggage, uber-trace-id), first removing any trace headers r
// already carries. Call it before producing r; call finish exactly once
// with the produce result, after which the span also carries r's partition
// and offset. The returned context holds the producer span.
//
// Records whose trace is sampled out get no span at all, which is what
// keeps sampled-out traffic cheap: with a parent-based sampler (Setup's
// default) and an unsampled parent, the parent's context is injected as
// is; with a sampler that drops every root (Setup with always_off,
// parentbased_always_off or a ratio of 0) and no parent, a fresh unsampled
// context is injected, so consumers keep the decision. Either way ctx is
// returned unchanged, finish does nothing, and which headers are written
// follows [WithUnsampledHeaders] (with UnsampledNone: none at all, and any
// trace headers r carried are removed).
func (m *Messaging) StartSend(ctx context.Context, r *kgo.Record) (context.Context, func(error)) {
	if m == nil {
		return ctx, noopFinish
	}
	if parent := trace.SpanContextFromContext(ctx); !parent.IsValid() {
		if m.rootsDropped {
			if m.noUnsamp {
				m.inject(ctx, trace.SpanContext{}, r) // no ids to make: none are written
			} else {
				m.inject(ctx, newUnsampledRoot(), r)
			}
			return ctx, noopFinish
		}
	} else if m.parentBased && !parent.IsSampled() {
		m.inject(ctx, parent, r)
		return ctx, noopFinish
	}
	ctx, span := m.tracer.Start(ctx, m.spanNames(r.Topic).send, producerKind)
	m.inject(ctx, span.SpanContext(), r)
	if !span.IsRecording() {
		return ctx, noopFinish
	}
	span.SetAttributes(recordAttrs(r, "send", semconv.MessagingOperationTypeSend)...)
	return ctx, func(err error) {
		if err != nil {
			RecordError(span, err)
		} else {
			span.SetAttributes(
				semconv.MessagingDestinationPartitionID(strconv.Itoa(int(r.Partition))),
				semconv.MessagingKafkaOffset(int(r.Offset)),
			)
		}
		span.End()
	}
}

// StartProcess starts the CONSUMER span "process <topic>" for a fetched
// record r handled by consumer group. Its parent is the context extracted
// from r's headers (W3C first, then uber-trace-id), never a span already in
// ctx, and it links to that producer context too; records without a valid
// context start a new root trace. Baggage from the headers is in the
// returned context. Call finish exactly once when handling ends, with the
// handler's final error.
//
// Sampled-out records get no span: with a parent-based sampler and an
// unsampled producer context the returned context holds the producer's
// context; with a sampler that drops every root and no valid producer
// context it holds a fresh unsampled one. Log lines still carry a trace id
// and the handler's publishes keep the decision; finish does nothing.
func (m *Messaging) StartProcess(ctx context.Context, r *kgo.Record, group string) (context.Context, func(error)) {
	if m == nil {
		return ctx, noopFinish
	}
	// The parent is the record's context only: a span already in ctx must
	// not become the parent when r carries none.
	var producer trace.SpanContext
	if m.fast {
		ctx, producer = extractRecord(ctx, r)
		// With roots dropped the fresh unsampled root below shadows it.
		if !producer.IsValid() && !m.rootsDropped && trace.SpanContextFromContext(ctx).IsValid() {
			ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
		}
	} else {
		if trace.SpanContextFromContext(ctx).IsValid() {
			ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
		}
		ctx = m.prop.Extract(ctx, RecordCarrier(r))
		producer = trace.SpanContextFromContext(ctx)
	}
	if !producer.IsValid() {
		if m.rootsDropped {
			return contextWithSpanContext(ctx, newUnsampledRoot()), noopFinish
		}
	} else if m.parentBased && !producer.IsSampled() {
		return ctx, noopFinish
	}
	var span trace.Span
	if producer.IsValid() {
		ctx, span = m.tracer.Start(ctx, m.spanNames(r.Topic).process,
			consumerKind, trace.WithLinks(trace.Link{SpanContext: producer}))
	} else {
		ctx, span = m.tracer.Start(ctx, m.spanNames(r.Topic).process, consumerKind)
	}
	if !span.IsRecording() {
		return ctx, noopFinish
	}
	attrs := recordAttrs(r, "process", semconv.MessagingOperationTypeProcess)
	attrs = append(attrs,
		semconv.MessagingDestinationPartitionID(strconv.Itoa(int(r.Partition))),
		semconv.MessagingKafkaOffset(int(r.Offset)),
	)
	if group != "" {
		attrs = append(attrs, semconv.MessagingConsumerGroupName(group))
	}
	span.SetAttributes(attrs...)
	return ctx, func(err error) {
		RecordError(span, err)
		span.End()
	}
}

func (m *Messaging) inject(ctx context.Context, sc trace.SpanContext, r *kgo.Record) {
	if m.noUnsamp && !sc.IsSampled() {
		// UnsampledNone: an invalid context makes both paths below remove
		// the trace headers and write baggage only.
		sc = trace.SpanContext{}
	}
	if m.fast {
		injectRecord(ctx, sc, r, m.uberUnsamp)
		return
	}
	c := RecordCarrier(r)
	c.Delete(traceHeaders...)
	m.prop.Inject(trace.ContextWithSpanContext(ctx, sc), c)
	if !m.uberUnsamp && !sc.IsSampled() {
		c.Delete(wire.HeaderUberTraceID)
	}
}

// recordAttrs are the attributes shared by send and process spans.
func recordAttrs(r *kgo.Record, op string, typ attribute.KeyValue) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs,
		semconv.MessagingSystemKafka,
		semconv.MessagingOperationName(op),
		typ,
		semconv.MessagingDestinationName(r.Topic),
	)
	if len(r.Key) > 0 && utf8.Valid(r.Key) {
		attrs = append(attrs, semconv.MessagingKafkaMessageKey(string(r.Key)))
	}
	if id := RecordCarrier(r).Get(wire.HeaderEventID); id != "" {
		attrs = append(attrs, semconv.MessagingMessageID(id))
	}
	return attrs
}

// Retry records on the span in ctx (the process span) that the previous
// handling attempt failed with err and attempt (2, 3, ...) is about to
// start, as the runtime calls it: a span event EventRetry with
// AttrRetryAttempt, error.type and exception.message. It leaves the status
// alone, since a later attempt may succeed. It does nothing if the span is
// not recording.
func (m *Messaging) Retry(ctx context.Context, attempt int, err error) {
	if m == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.AddEvent(EventRetry, trace.WithAttributes(errorEventAttrs(err, AttrRetryAttempt.Int(attempt))...))
}

// DeadLetter records on the span in ctx that the record was sent to
// dlqTopic because of err: a span event EventDeadLetter with
// AttrDeadLetterTopic, error.type and exception.message, and the span's
// status set as [RecordError] does. It does nothing if the span is not
// recording.
func (m *Messaging) DeadLetter(ctx context.Context, dlqTopic string, err error) {
	if m == nil {
		return
	}
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.AddEvent(EventDeadLetter, trace.WithAttributes(errorEventAttrs(err, AttrDeadLetterTopic.String(dlqTopic))...))
	RecordError(span, err)
}
