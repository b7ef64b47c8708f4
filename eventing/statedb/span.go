package statedb

import (
	"context"

	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
)

// TagOrder sets tracing.AttrOrderID (contrail.order.id) to orderID on the
// span in ctx (the HTTP server span of POST /orders, or the runtime's
// CONSUMER span inside a handler), so a Jaeger search by order id finds the
// order's trace. It does nothing when the span is not recording (tracing
// off or not sampled) or orderID is empty.
func TagOrder(ctx context.Context, orderID string) {
	if orderID == "" {
		return
	}
	if sp := trace.SpanFromContext(ctx); sp.IsRecording() {
		sp.SetAttributes(tracing.AttrOrderID.String(orderID))
	}
}
