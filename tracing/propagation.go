package tracing

import (
	"context"

	"github.com/contrail-events/contrail/wire"
	"go.opentelemetry.io/contrib/propagators/jaeger"
	"go.opentelemetry.io/otel/propagation"
)

// traceHeaders are removed before injecting, so a record re-published with
// copied headers never keeps a stale tracestate or baggage next to a new
// traceparent.
var traceHeaders = []string{wire.HeaderTraceParent, wire.HeaderTraceState, wire.HeaderBaggage, wire.HeaderUberTraceID}

// NewPropagator returns Contrail's propagator. Inject writes W3C
// traceparent, tracestate and baggage and Jaeger's uber-trace-id. Extract
// reads baggage, then uses traceparent if it holds a valid context and falls
// back to uber-trace-id, so W3C wins when both are present. A malformed
// value is ignored, never an error: the next span becomes a new root. The
// result is stateless and safe for concurrent use.
func NewPropagator() propagation.TextMapPropagator { return propagator{} }

type propagator struct{}

var (
	w3c     = propagation.TraceContext{}
	bag     = propagation.Baggage{}
	uber    = jaeger.Jaeger{}
	allKeys = append(append(w3c.Fields(), bag.Fields()...), uber.Fields()...)
)

func (propagator) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	w3c.Inject(ctx, c)
	bag.Inject(ctx, c)
	uber.Inject(ctx, c)
}

func (propagator) Extract(ctx context.Context, c propagation.TextMapCarrier) context.Context {
	ctx = bag.Extract(ctx, c)
	// TraceContext returns ctx itself when traceparent is missing or invalid.
	if w := w3c.Extract(ctx, c); w != ctx {
		return w
	}
	return uber.Extract(ctx, c)
}

func (propagator) Fields() []string { return allKeys }
