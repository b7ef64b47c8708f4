package tracing_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
)

// staleTraceHeaders are trace headers left on a record from an earlier hop
// (mixed case, as other clients may write them).
func staleTraceHeaders() []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: "Traceparent", Value: []byte("00-11111111111111111111111111111111-2222222222222222-01")},
		{Key: "tracestate", Value: []byte("k=v")},
		{Key: "Uber-Trace-Id", Value: []byte("11111111111111111111111111111111:2222222222222222:0:1")},
	}
}

// TestUnsampledNone: with UnsampledNone an unsampled publish writes no trace
// header and removes the stale ones the record carried, while keeping the
// application's headers and the baggage; a sampled publish still writes
// traceparent and uber-trace-id. Both on the byte-level fast path and
// through a foreign propagator.
func TestUnsampledNone(t *testing.T) {
	none := tracing.WithUnsampledHeaders(tracing.UnsampledNone)
	slowProp := propagation.NewCompositeTextMapPropagator(tracing.NewPropagator())
	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	tests := []struct {
		name    string
		prop    propagation.TextMapPropagator
		sampler sdktrace.Sampler
		parent  trace.SpanContext
		bag     bool
		want    bool // trace headers written
	}{
		{name: "unsampled parent", parent: unsampledSC},
		{name: "unsampled parent, baggage", parent: unsampledSC, bag: true},
		{name: "unsampled parent, foreign propagator", prop: slowProp, parent: unsampledSC, bag: true},
		{name: "no parent, ratio 0 root", sampler: sdktrace.TraceIDRatioBased(0)},
		{name: "sampled parent", parent: sampledSC, want: true},
		{name: "sampled parent, foreign propagator", prop: slowProp, parent: sampledSC, want: true},
		{name: "no parent, sampled root", sampler: sdktrace.AlwaysSample(), want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.prop == nil {
				tc.prop = tracing.NewPropagator()
			}
			if tc.sampler == nil {
				tc.sampler = sdktrace.ParentBased(sdktrace.AlwaysSample())
			}
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec), sdktrace.WithSampler(tc.sampler))
			m := tracing.NewMessaging(tracing.WithTracerProvider(tp), tracing.WithPropagators(tc.prop), none)
			ctx := context.Background()
			if tc.parent.IsValid() {
				ctx = trace.ContextWithSpanContext(ctx, tc.parent)
			}
			if tc.bag {
				ctx = baggage.ContextWithBaggage(ctx, bag)
			}
			r := &kgo.Record{Topic: "orders", Headers: append(appHeaders(), staleTraceHeaders()...)}
			_, finish := m.StartSend(ctx, r)
			finish(nil)
			c := tracing.RecordCarrier(r)
			if c.Get("contrail-event-id") != "e-1" || headerCount(r, "content-type") != 1 {
				t.Fatalf("application headers changed: %v", r.Headers)
			}
			if n := headerCount(r, "Traceparent") + headerCount(r, "Uber-Trace-Id") + headerCount(r, "tracestate"); n != 0 {
				t.Fatalf("stale trace headers kept: %v", r.Headers)
			}
			tpv, uber := c.Get("traceparent"), c.Get("uber-trace-id")
			if !tc.want {
				if tpv != "" || uber != "" || c.Get("tracestate") != "" {
					t.Fatalf("unsampled record carries trace headers: %v", r.Headers)
				}
				if len(rec.Ended()) != 0 {
					t.Fatalf("%d spans recorded for an unsampled publish", len(rec.Ended()))
				}
			} else {
				s := ended(t, rec, "send orders")
				tid, sid := s.SpanContext().TraceID().String(), s.SpanContext().SpanID().String()
				if tpv != "00-"+tid+"-"+sid+"-01" || uber != tid+":"+sid+":0:1" {
					t.Fatalf("sampled record: traceparent %q, uber-trace-id %q; want the send span %s/%s", tpv, uber, tid, sid)
				}
				if tc.parent.IsValid() && s.Parent().SpanID() != tc.parent.SpanID() {
					t.Fatalf("send span's parent %v, want %v", s.Parent(), tc.parent)
				}
			}
			if got := c.Get("baggage"); tc.bag != (got == "tenant=acme") {
				t.Fatalf("baggage header %q with baggage in context=%v", got, tc.bag)
			}
		})
	}
}

// TestConsumerWithoutParentFollowsItsSampler: a record published with
// UnsampledNone carries no context, so the consumer's own sampler decides
// on a new root: ratio 0 (the same config) records nothing but still gives
// the handler an unsampled context for its logs; always_on or a ratio of 1
// records a root "process" span with no parent and no link, a trace of its
// own.
func TestConsumerWithoutParentFollowsItsSampler(t *testing.T) {
	prod, err := tracing.Setup(context.Background(), tracing.Config{Exporter: &discard{},
		Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0", UnsampledHeaders: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Shutdown(context.Background())
	r := &kgo.Record{Topic: "orders", Headers: appHeaders()}
	_, finish := prod.Messaging().StartSend(trace.ContextWithSpanContext(context.Background(), unsampledSC), r)
	finish(nil)
	if len(r.Headers) != len(appHeaders()) {
		t.Fatalf("producer wrote trace headers: %v", r.Headers)
	}

	tests := []struct {
		name    string
		sampler string
		arg     string
		want    bool // a recorded root span
	}{
		{name: "same config, ratio 0", sampler: tracing.SamplerParentBasedTraceIDRatio, arg: "0"},
		{name: "always_off", sampler: tracing.SamplerAlwaysOff},
		{name: "parentbased_always_on", sampler: tracing.SamplerParentBasedAlwaysOn, want: true},
		{name: "ratio 1", sampler: tracing.SamplerTraceIDRatio, arg: "1", want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exp := keepExporter{tracetest.NewInMemoryExporter()}
			p, err := tracing.Setup(context.Background(), tracing.Config{Exporter: exp, Sampler: tc.sampler, SamplerArg: tc.arg})
			if err != nil {
				t.Fatal(err)
			}
			ctx, finish := p.Messaging().StartProcess(context.Background(), r, "g")
			recording := trace.SpanFromContext(ctx).IsRecording()
			finish(nil)
			sc := trace.SpanContextFromContext(ctx)
			if !sc.IsValid() || sc.TraceID() == unsampledSC.TraceID() {
				t.Fatalf("handler context %v: want a new root's context", sc)
			}
			if sc.IsSampled() != tc.want || recording != tc.want {
				t.Fatalf("handler context sampled=%v recording=%v, want %v", sc.IsSampled(), recording, tc.want)
			}
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			spans := exp.GetSpans()
			if !tc.want {
				if len(spans) != 0 {
					t.Fatalf("exported %d spans, want none", len(spans))
				}
				return
			}
			if len(spans) != 1 || spans[0].Name != "process orders" || spans[0].Parent.IsValid() || len(spans[0].Links) != 0 ||
				spans[0].SpanContext.TraceID() != sc.TraceID() {
				t.Fatalf("spans %+v: want one root \"process orders\" without parent or link in trace %s", spans, sc.TraceID())
			}
		})
	}
}

// TestUnsampledHeadersFromEnv: CONTRAIL_TRACES_UNSAMPLED_HEADERS through
// ConfigFromEnv and Setup, case and spaces ignored; an unknown value is an
// ErrInvalidConfig naming the variable, the value and all three choices.
func TestUnsampledHeadersFromEnv(t *testing.T) {
	tests := []struct {
		name     string
		env      string
		bad      bool
		wantTP   bool // an unsampled publish writes traceparent
		wantUber bool // ... and uber-trace-id
	}{
		{name: "unset is all", env: "", wantTP: true, wantUber: true},
		{name: "all", env: "all", wantTP: true, wantUber: true},
		{name: "w3c", env: " W3C ", wantTP: true},
		{name: "none", env: "None"},
		{name: "unknown", env: "jaeger", bad: true},
		{name: "off is not none", env: "off", bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CONTRAIL_TRACES_UNSAMPLED_HEADERS", tc.env)
			cfg := tracing.ConfigFromEnv()
			if cfg.UnsampledHeaders != tc.env {
				t.Fatalf("ConfigFromEnv UnsampledHeaders = %q, want %q", cfg.UnsampledHeaders, tc.env)
			}
			cfg.Exporter, cfg.Sampler, cfg.SamplerArg = &discard{}, tracing.SamplerParentBasedTraceIDRatio, "0"
			p, err := tracing.Setup(context.Background(), cfg)
			if tc.bad {
				msg := ""
				if err != nil {
					msg = err.Error()
				}
				if !errors.Is(err, tracing.ErrInvalidConfig) || !strings.Contains(msg, "CONTRAIL_TRACES_UNSAMPLED_HEADERS") ||
					!strings.Contains(msg, `"`+tc.env+`"`) || !strings.Contains(msg, `"all"`) || !strings.Contains(msg, `"w3c"`) || !strings.Contains(msg, `"none"`) {
					t.Fatalf("Setup error %v: want ErrInvalidConfig naming the variable, %q and all, w3c, none", err, tc.env)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Shutdown(context.Background())
			r := &kgo.Record{Topic: "orders", Headers: staleTraceHeaders()}
			_, finish := p.Messaging().StartSend(trace.ContextWithSpanContext(context.Background(), unsampledSC), r)
			finish(nil)
			c := tracing.RecordCarrier(r)
			tpv, uber := c.Get("traceparent"), c.Get("uber-trace-id")
			if tc.wantTP != (tpv != "") || tc.wantUber != (uber != "") {
				t.Fatalf("traceparent %q, uber-trace-id %q: want present %v, %v", tpv, uber, tc.wantTP, tc.wantUber)
			}
			if tc.wantTP && !strings.Contains(tpv, unsampledSC.TraceID().String()) {
				t.Fatalf("traceparent %q does not forward the unsampled parent", tpv)
			}
		})
	}
}

func TestUnsampledHeadersString(t *testing.T) {
	tests := []struct {
		name string
		u    tracing.UnsampledHeaders
		want string
	}{
		{name: "all", u: tracing.UnsampledAll, want: "all"},
		{name: "w3c", u: tracing.UnsampledW3C, want: "w3c"},
		{name: "none", u: tracing.UnsampledNone, want: "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.u.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
		})
	}
}
