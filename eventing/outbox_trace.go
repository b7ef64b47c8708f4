package eventing

import (
	"context"
	"encoding/hex"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"
)

// headerTraceParent and headerTraceState are the W3C trace context headers.
const (
	headerTraceParent = "traceparent"
	headerTraceState  = "tracestate"
)

// storeTraceContext writes the span context of ctx (the handler's span) to
// r's W3C headers, so the relay's send span continues the handler's trace
// after the row was stored. It leaves r alone when ctx has no valid span.
// Emit, its only caller, passes a record fresh from buildRecord, which never
// writes trace headers (eventing/host's Host.Outbox injects its own and
// calls Store.Enqueue, never this). It uses only the OpenTelemetry trace
// API, never the tracing package or a propagator.
func storeTraceContext(ctx context.Context, r *kgo.Record) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	tid, sid := sc.TraceID(), sc.SpanID()
	tp := make([]byte, 0, 55)
	tp = append(tp, "00-"...)
	tp = hex.AppendEncode(tp, tid[:])
	tp = append(tp, '-')
	tp = hex.AppendEncode(tp, sid[:])
	tp = append(tp, '-')
	tp = hex.AppendEncode(tp, []byte{byte(sc.TraceFlags())})
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: headerTraceParent, Value: tp})
	if ts := sc.TraceState().String(); ts != "" {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: headerTraceState, Value: []byte(ts)})
	}
}

// storedTraceContext returns ctx with the remote span context of r's
// traceparent header (and tracestate) as parent, or ctx when r has no
// valid one. The relay starts each row's send span from it.
func storedTraceContext(ctx context.Context, r *kgo.Record) context.Context {
	var tp, ts []byte
	for _, h := range r.Headers {
		switch h.Key {
		case headerTraceParent:
			tp = h.Value
		case headerTraceState:
			ts = h.Value
		}
	}
	// "00-<32 hex trace id>-<16 hex span id>-<2 hex flags>"
	if len(tp) != 55 || tp[2] != '-' || tp[35] != '-' || tp[52] != '-' || string(tp[:2]) == "ff" {
		return ctx
	}
	var cfg trace.SpanContextConfig
	var flags [1]byte
	if _, err := hex.Decode(cfg.TraceID[:], tp[3:35]); err != nil {
		return ctx
	}
	if _, err := hex.Decode(cfg.SpanID[:], tp[36:52]); err != nil {
		return ctx
	}
	if _, err := hex.Decode(flags[:], tp[53:55]); err != nil {
		return ctx
	}
	cfg.TraceFlags, cfg.Remote = trace.TraceFlags(flags[0]), true
	if len(ts) > 0 {
		if state, err := trace.ParseTraceState(string(ts)); err == nil {
			cfg.TraceState = state
		}
	}
	sc := trace.NewSpanContext(cfg)
	if !sc.IsValid() {
		return ctx
	}
	return trace.ContextWithRemoteSpanContext(ctx, sc)
}
