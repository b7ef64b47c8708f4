package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.opentelemetry.io/otel/trace/noop"
)

// contextWithSpanContext is trace.ContextWithSpanContext(ctx, sc) in one
// allocation instead of two (a context.WithValue node plus the boxed
// non-recording span). Every handled record that is not sampled pays it,
// so it matters on the sampled-out path.
//
// It answers trace.SpanFromContext by recognizing the trace package's own
// context key, which it learns once by watching which key SpanFromContext
// asks for. If that ever stops working (checked at init), it falls back to
// trace.ContextWithSpanContext.
func contextWithSpanContext(ctx context.Context, sc trace.SpanContext) context.Context {
	if !spanKeyOK {
		return trace.ContextWithSpanContext(ctx, sc)
	}
	return &spanContextCtx{Context: ctx, span: spanOnly{sc: sc}}
}

// spanContextCtx holds a non-recording span on top of a parent context.
type spanContextCtx struct {
	context.Context
	span spanOnly
}

func (c *spanContextCtx) Value(key any) any {
	if key == spanKey {
		return &c.span // points into c: no allocation
	}
	return c.Context.Value(key)
}

// spanOnly is a non-recording span that only carries its SpanContext and
// does nothing else, as the trace package's own one does. (Embedding
// noop.Span would carry a second, unused SpanContext.)
type spanOnly struct {
	embedded.Span
	sc trace.SpanContext
}

func (s *spanOnly) SpanContext() trace.SpanContext        { return s.sc }
func (*spanOnly) End(...trace.SpanEndOption)              {}
func (*spanOnly) AddEvent(string, ...trace.EventOption)   {}
func (*spanOnly) AddLink(trace.Link)                      {}
func (*spanOnly) IsRecording() bool                       { return false }
func (*spanOnly) RecordError(error, ...trace.EventOption) {}
func (*spanOnly) SetStatus(codes.Code, string)            {}
func (*spanOnly) SetName(string)                          {}
func (*spanOnly) SetAttributes(...attribute.KeyValue)     {}
func (*spanOnly) TracerProvider() trace.TracerProvider    { return noop.NewTracerProvider() }

// keyProbe records the key the first Value call asks for.
type keyProbe struct {
	context.Context
	key any
}

func (p *keyProbe) Value(key any) any {
	if p.key == nil {
		p.key = key
	}
	return p.Context.Value(key)
}

// spanKey is the trace package's context key for the current span;
// spanKeyOK says contextWithSpanContext may use it.
var (
	spanKey   any
	spanKeyOK bool
)

func init() {
	p := &keyProbe{Context: context.Background()}
	trace.SpanFromContext(p)
	spanKey = p.key
	spanKeyOK = spanKey != nil && spanKeyWorks()
}

// spanKeyWorks checks that a spanContextCtx is read back exactly, and
// that a span set on top of it wins.
func spanKeyWorks() bool {
	sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Remote: true})
	ctx := &spanContextCtx{Context: context.Background(), span: spanOnly{sc: sc}}
	if !trace.SpanContextFromContext(ctx).Equal(sc) || trace.SpanFromContext(ctx).IsRecording() {
		return false
	}
	other := sc.WithSpanID(trace.SpanID{3})
	return trace.SpanContextFromContext(trace.ContextWithSpanContext(ctx, other)).Equal(other)
}
