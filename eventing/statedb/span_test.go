package statedb_test

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/tracing"
)

func TestTagOrder(t *testing.T) {
	tests := []struct {
		name    string
		orderID string
		want    bool
	}{
		{name: "tags the span", orderID: "o-1", want: true},
		{name: "empty id leaves it alone", orderID: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			ctx, span := tp.Tracer("test").Start(context.Background(), "process orders")
			statedb.TagOrder(ctx, tt.orderID)
			span.End()
			var got string
			var found bool
			for _, a := range rec.Ended()[0].Attributes() {
				if a.Key == tracing.AttrOrderID {
					got, found = a.Value.AsString(), true
				}
			}
			if found != tt.want || got != tt.orderID {
				t.Fatalf("attribute %s = %q (present %v), want %q (present %v)", tracing.AttrOrderID, got, found, tt.orderID, tt.want)
			}
		})
	}
	// No span in the context: nothing to tag, no panic.
	statedb.TagOrder(context.Background(), "o-2")
}
