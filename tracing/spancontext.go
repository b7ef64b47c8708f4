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
	cfg := trace.SpanContextConfig{
		TraceID: sc.TraceID(), SpanID: sc.SpanID(), TraceFlags: sc.TraceFlags(),
		TraceState: sc.TraceState(), Remote: sc.IsRemote(),
	}
	return newSpanContextCtx(ctx, &cfg)
}

// newSpanContextCtx returns ctx with cfg's non-recording span, in one
// allocation.
func newSpanContextCtx(ctx context.Context, cfg *trace.SpanContextConfig) *spanContextCtx {
	var c *spanContextCtx
	if cfg.TraceState.Len() > 0 {
		// Still one allocation: the trace state travels in the same block.
		w := &struct {
			spanContextCtx
			x spanExtra
		}{x: spanExtra{ts: cfg.TraceState}}
		c = &w.spanContextCtx
		c.spanExtra = &w.x
	} else {
		c = new(spanContextCtx)
	}
	c.Context = ctx
	c.tid, c.sid = cfg.TraceID, cfg.SpanID
	c.flags, c.remote = cfg.TraceFlags, cfg.Remote
	return c
}

// spanContextCtx holds a non-recording span on top of a parent context. It
// keeps the span context's parts rather than a trace.SpanContext, and its
// trace state behind a pointer that is nil when there is none, so it fits
// 64 bytes (a trace.SpanContext alone is 64).
type spanContextCtx struct {
	context.Context
	*spanExtra
	tid    trace.TraceID
	sid    trace.SpanID
	flags  trace.TraceFlags
	remote bool
}

// spanExtra is a spanContextCtx's trace state. Embedding it also makes
// ctxSpan a trace.Span: embedded.Span is never called, only required.
type spanExtra struct {
	embedded.Span
	ts trace.TraceState
}

func (c *spanContextCtx) Value(key any) any {
	if key == spanKey {
		return (*ctxSpan)(c) // the same pointer: no allocation
	}
	return c.Context.Value(key)
}

// ctxSpan is the non-recording span a spanContextCtx holds: it only
// carries its SpanContext and does nothing else, as the trace package's own
// one does.
type ctxSpan spanContextCtx

func (s *ctxSpan) SpanContext() trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: s.tid, SpanID: s.sid, TraceFlags: s.flags, Remote: s.remote}
	if s.spanExtra != nil {
		cfg.TraceState = s.ts
	}
	return trace.NewSpanContext(cfg)
}
func (*ctxSpan) End(...trace.SpanEndOption)              {}
func (*ctxSpan) AddEvent(string, ...trace.EventOption)   {}
func (*ctxSpan) AddLink(trace.Link)                      {}
func (*ctxSpan) IsRecording() bool                       { return false }
func (*ctxSpan) RecordError(error, ...trace.EventOption) {}
func (*ctxSpan) SetStatus(codes.Code, string)            {}
func (*ctxSpan) SetName(string)                          {}
func (*ctxSpan) SetAttributes(...attribute.KeyValue)     {}
func (*ctxSpan) TracerProvider() trace.TracerProvider    { return noop.NewTracerProvider() }

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
	ts, _ := trace.ParseTraceState("k=v")
	for _, sc := range []trace.SpanContext{
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Remote: true}),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{4}, SpanID: trace.SpanID{5}, TraceFlags: trace.FlagsSampled, TraceState: ts}),
	} {
		cfg := trace.SpanContextConfig{TraceID: sc.TraceID(), SpanID: sc.SpanID(), TraceFlags: sc.TraceFlags(), TraceState: sc.TraceState(), Remote: sc.IsRemote()}
		ctx := newSpanContextCtx(context.Background(), &cfg)
		if !trace.SpanContextFromContext(ctx).Equal(sc) || trace.SpanFromContext(ctx).IsRecording() {
			return false
		}
		other := sc.WithSpanID(trace.SpanID{3})
		if !trace.SpanContextFromContext(trace.ContextWithSpanContext(ctx, other)).Equal(other) {
			return false
		}
	}
	return true
}
