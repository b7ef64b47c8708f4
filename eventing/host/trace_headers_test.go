package host_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/contrail-events/contrail/tracing"
)

// maxTraceHeaderBytes bounds the trace headers a client's request puts on
// the records a service emits for it: baggage at most 8192 bytes (W3C's
// limit, which OpenTelemetry enforces), tracestate at most 32 members of a
// 256-byte key and a 256-byte value, plus traceparent and uber-trace-id.
const maxTraceHeaderBytes = 8192 + 32*(256+1+256+1) + 512

// TestClientTraceHeadersAreBounded sends the trace headers a hostile client
// could (huge, many, repeated) through what a service does with them: the
// HTTP middleware extracts them with Contrail's propagator and starts the
// request's span under them, and Host.Outbox injects the handler's context
// into the record of every event the request emits. Whatever comes in, the
// headers on the record stay under maxTraceHeaderBytes; the server's
// MaxHeaderBytes (HTTPLimits) bounds the request itself.
func TestClientTraceHeadersAreBounded(t *testing.T) {
	members := func(n, keyLen, valLen int, sep string) string {
		parts := make([]string, n)
		for i := range parts {
			k := fmt.Sprintf("k%04d", i)
			parts[i] = k + strings.Repeat("x", max(keyLen-len(k), 0)) + "=" + strings.Repeat("v", valLen)
		}
		return strings.Join(parts, sep)
	}
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := []struct {
		name string
		hdr  http.Header
	}{
		{name: "at the limits", hdr: http.Header{"Traceparent": {parent},
			"Tracestate": {members(32, 256, 256, ",")}, "Baggage": {members(2, 8, 4000, ",")}}},
		{name: "over every limit", hdr: http.Header{"Traceparent": {parent},
			"Tracestate": {members(1000, 256, 256, ",")}, "Baggage": {members(500, 64, 500, ",")}}},
		{name: "repeated headers", hdr: http.Header{"Traceparent": {parent, parent},
			"Tracestate": {members(30, 256, 256, ","), members(30, 256, 256, ",")},
			"Baggage":    {members(2, 8, 4000, ","), members(2, 8, 4000, ","), members(2, 8, 4000, ",")}}},
		{name: "many small baggage members", hdr: http.Header{"Traceparent": {parent}, "Baggage": {members(1000, 5, 1, ",")}}},
	}
	prop := tracing.NewPropagator()
	tp := sdktrace.NewTracerProvider()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := 0
			for k, vs := range tt.hdr {
				for _, v := range vs {
					in += len(k) + len(v)
				}
			}
			ctx := prop.Extract(context.Background(), propagation.HeaderCarrier(tt.hdr))
			ctx, span := tp.Tracer("test").Start(ctx, "POST /orders")
			defer span.End()
			r := &kgo.Record{Topic: "orders"}
			prop.Inject(ctx, tracing.RecordCarrier(r))
			out := 0
			for _, h := range r.Headers {
				out += len(h.Key) + len(h.Value)
			}
			if out > maxTraceHeaderBytes {
				t.Fatalf("%d bytes of request trace headers became %d bytes of record headers, over the bound %d", in, out, maxTraceHeaderBytes)
			}
			t.Logf("%d bytes of request trace headers -> %d bytes on the record", in, out)
		})
	}
}
