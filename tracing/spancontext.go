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

// contextWithConfig is contextWithSpanContext(ctx,
// trace.NewSpanContext(*cfg)) without building the span context first.
func contextWithConfig(ctx context.Context, cfg *trace.SpanContextConfig) context.Context {
	if !spanKeyOK {
		return trace.ContextWithSpanContext(ctx, trace.NewSpanContext(*cfg))
	}
	return newSpanContextCtx(ctx, cfg)
}

// newSpanContextCtx returns ctx with cfg's non-recording span, in one
// allocation.
func newSpanContextCtx(ctx context.Context, cfg *trace.SpanContextConfig) *spanContextCtx {
	var c *spanContextCtx
	if i := int(cfg.TraceFlags)<<1 | b2i(cfg.Remote); i < len(commonTails) && cfg.TraceState.Len() == 0 {
		c = &spanContextCtx{spanTail: &commonTails[i]}
	} else {
		// Still one allocation: the tail travels in the same block.
		w := &struct {
			spanContextCtx
			tail spanTail
		}{tail: spanTail{flags: cfg.TraceFlags, remote: cfg.Remote, ts: cfg.TraceState}}
		c = &w.spanContextCtx
		c.spanTail = &w.tail
	}
	c.Context = ctx
	c.tid, c.sid = cfg.TraceID, cfg.SpanID
	return c
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// spanContextCtx holds a non-recording span on top of a parent context. It
// keeps the span context's ids, and the rest (flags, remote, trace state)
// behind a pointer, usually to one of the shared commonTails, so it fits
// 48 bytes (a trace.SpanContext alone is 64).
type spanContextCtx struct {
	context.Context
	*spanTail
	tid trace.TraceID
	sid trace.SpanID
}

// spanTail is the part of a span context besides its ids. Embedding it
// also makes ctxSpan a trace.Span: embedded.Span is never called, only
// required.
type spanTail struct {
	embedded.Span
	flags  trace.TraceFlags
	remote bool
	ts     trace.TraceState
}

// commonTails are the tails without a trace state and with only the sampled
// and random flags (all that traceparent carries over), at index
// flags<<1 | remote. Shared and never written.
var commonTails = func() (t [8]spanTail) {
	for i := range t {
		t[i].flags, t[i].remote = trace.TraceFlags(i>>1), i&1 == 1
	}
	return t
}()

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
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: s.tid, SpanID: s.sid, TraceFlags: s.flags, TraceState: s.ts, Remote: s.remote})
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
