package eventing_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/tracing"
	"github.com/contrail-events/contrail/wire"
)

// BenchmarkRuntimeTracing's size: 6 comparisons x 15 pairs x 2 runs of
// 50,000 events take about two minutes on 2 cores.
const (
	tracingBenchEvents = 50_000
	tracingBenchPairs  = 15
)

// discardSpans accepts every span, like a collector that keeps up.
type discardSpans struct{ n atomic.Int64 }

func (d *discardSpans) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	d.n.Add(int64(len(s)))
	return nil
}
func (d *discardSpans) Shutdown(context.Context) error { return nil }

// sampledOutParent is the context of a request whose trace was sampled out
// upstream (ratio 0, parent not sampled): the sampled-out case.
var sampledOutParent = trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
	TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
}))

// tracingVariant is one way of running the runtime, and the trace headers
// its records must carry.
type tracingVariant struct {
	name   string
	run    runtimeRun
	p      *tracing.Provider // nil for untraced
	events int64             // events moved through it, warm-up included
	// want: traceparent trace flags ("" = no traceparent), uber-trace-id present.
	wantFlags string
	wantUber  bool
}

func newTracingVariants(b *testing.B) []*tracingVariant {
	ctx := context.Background()
	setup := func(cfg tracing.Config) *tracing.Provider {
		cfg.Exporter, cfg.ServiceName = &discardSpans{}, "bench"
		p, err := tracing.Setup(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			if err := p.Shutdown(ctx); err != nil {
				b.Error(err)
			}
		})
		return p
	}
	// hooks is what the services do: the runtime gets a nil interface when
	// tracing is disabled (a nil *tracing.Messaging would not be one).
	hooks := func(p *tracing.Provider) eventing.Tracer {
		if m := p.Messaging(); m != nil {
			return m
		}
		return nil
	}
	dis := setup(tracing.Config{Disabled: true})
	so := setup(tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0"})
	sw := setup(tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0", UnsampledHeaders: "w3c"})
	al := setup(tracing.Config{Sampler: tracing.SamplerAlwaysOn})
	if hooks(dis) != nil {
		b.Fatal("disabled tracing hands out hooks")
	}
	return []*tracingVariant{
		{name: "untraced"},
		{name: "disabled", run: runtimeRun{tracer: hooks(dis)}, p: dis},
		{name: "sampledout", run: runtimeRun{tracer: hooks(so), ctx: sampledOutParent}, p: so, wantFlags: "00", wantUber: true},
		{name: "sampledoutw3c", run: runtimeRun{tracer: hooks(sw), ctx: sampledOutParent}, p: sw, wantFlags: "00"},
		{name: "always", run: runtimeRun{tracer: hooks(al)}, p: al, wantFlags: "01", wantUber: true},
		{name: "headersonly", run: runtimeRun{tracer: headersOnly{}}, wantFlags: "00", wantUber: true},
	}
}

// headersOnly is a Tracer with no tracing code: StartSend appends the two
// trace headers a sampled-out record carries by default, as fixed bytes of
// the real size, so the headersonly variant prices those bytes on the wire
// (and the runtime's hook calls) apart from the tracing package's work.
type headersOnly struct{}

var (
	staticTraceParent = []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	staticUberTraceID = []byte("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:0")
)

func noFinish(error) {}

func (headersOnly) StartSend(ctx context.Context, r *kgo.Record) (context.Context, func(error)) {
	r.Headers = append(r.Headers,
		kgo.RecordHeader{Key: wire.HeaderTraceParent, Value: staticTraceParent},
		kgo.RecordHeader{Key: wire.HeaderUberTraceID, Value: staticUberTraceID})
	return ctx, noFinish
}

func (headersOnly) StartProcess(ctx context.Context, _ *kgo.Record, _ string) (context.Context, func(error)) {
	return ctx, noFinish
}

func (headersOnly) Retry(context.Context, int, error)         {}
func (headersOnly) DeadLetter(context.Context, string, error) {}

// checkHeaders runs a few events through v on a topic of its own and
// fails unless the first record carries exactly v's trace headers, so each
// variant measures what its name says.
func (be *benchEnv) checkHeaders(b *testing.B, v *tracingVariant) {
	const n = 200
	tb := be.topic(b)
	run := v.run
	run.tb = tb
	be.runRuntimeWith(b, n, run)
	v.events += n
	cl, err := kgo.NewClient(kgo.SeedBrokers(be.addr), kgo.ConsumeTopics(tb.Topic()), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rec *kgo.Record
	for rec == nil {
		fs := cl.PollRecords(ctx, 1)
		if err := ctx.Err(); err != nil {
			b.Fatalf("%s: no record to check: %v", v.name, err)
		}
		if rs := fs.Records(); len(rs) > 0 {
			rec = rs[0]
		}
	}
	var tp string
	var uber bool
	for _, h := range rec.Headers {
		switch h.Key {
		case wire.HeaderTraceParent:
			tp = string(h.Value)
		case wire.HeaderUberTraceID:
			uber = true
		}
	}
	switch {
	case v.wantFlags == "" && tp != "":
		b.Fatalf("%s: record has traceparent %q, want none", v.name, tp)
	case v.wantFlags != "" && !strings.HasSuffix(tp, "-"+v.wantFlags):
		b.Fatalf("%s: record has traceparent %q, want trace flags %s", v.name, tp, v.wantFlags)
	case v.run.ctx != nil && !strings.Contains(tp, trace.SpanContextFromContext(v.run.ctx).TraceID().String()):
		b.Fatalf("%s: traceparent %q does not continue the parent's trace", v.name, tp)
	case uber != v.wantUber:
		b.Fatalf("%s: uber-trace-id present %v, want %v", v.name, uber, v.wantUber)
	}
}

// stats3 prints median, min and max of r with three decimals.
func stats3(r ratios) string {
	s := slices.Clone(r)
	slices.Sort(s)
	return fmt.Sprintf("median %.3fx (min %.3fx, max %.3fx, %d pairs)", s[len(s)/2], s[0], s[len(s)-1], len(s))
}

// BenchmarkRuntimeTracing prices tracing on the event runtime's full path
// (typed Publisher, Router, serde through our registry, headers, no-op
// handler, commit; the same path as BenchmarkThroughput), with the tracer
// given to both the Publisher and the Router as the services do. Variants,
// each against the untraced runtime (no WithTracer) in back-to-back pairs
// that alternate which side goes first: disabled (tracing.Setup with
// Disabled: the runtime gets a nil Tracer), sampledout (ratio 0 under an
// unsampled parent; the default UnsampledAll headers, traceparent +
// uber-trace-id), sampledoutw3c (the same with UnsampledHeaders "w3c"),
// always (always_on), and headersonly (a Tracer with no tracing code that
// adds sampledout's two headers as fixed bytes); sampledout is also paired
// with headersonly, which leaves the tracing package's own share. Spans go
// to an exporter that discards them. It reports throughput and
// CPU-per-event ratios (medians of 15 pairs, with min and max) and the
// spans each provider exported and dropped; it fails if a variant's
// records do not carry its trace headers, if a variant that must not
// sample exports spans, or if always loses spans uncounted. Run it with
//
//	go test -run '^$' -bench RuntimeTracing -benchtime 1x ./eventing
func BenchmarkRuntimeTracing(b *testing.B) {
	be := newBenchEnv(b)
	vs := map[string]*tracingVariant{}
	for _, v := range newTracingVariants(b) {
		vs[v.name] = v
		be.checkHeaders(b, v) // also the warm-up: registry caches, connections
	}
	type cmp struct{ label, base, variant string }
	cmps := []cmp{
		{"disabled", "untraced", "disabled"},
		{"headersonly", "untraced", "headersonly"},
		{"sampledout", "untraced", "sampledout"},
		{"sampledout_headersonly", "headersonly", "sampledout"},
		{"sampledoutw3c", "untraced", "sampledoutw3c"},
		{"always", "untraced", "always"},
	}
	measure := func(v *tracingVariant) runResult {
		v.events += tracingBenchEvents
		runtime.GC() // the previous run's garbage is not this run's cost
		return be.runRuntimeWith(b, tracingBenchEvents, v.run)
	}
	for range b.N {
		wall, cpu := map[string]ratios{}, map[string]ratios{}
		var baseRates, baseCPU []float64
		var pairs []string
		for i := range tracingBenchPairs {
			for _, c := range cmps {
				var u, t runResult
				if i%2 == 0 { // alternate who goes first
					u, t = measure(vs[c.base]), measure(vs[c.variant])
				} else {
					t, u = measure(vs[c.variant]), measure(vs[c.base])
				}
				wall[c.label] = append(wall[c.label], t.rate/u.rate)
				cpu[c.label] = append(cpu[c.label], float64(t.cpu)/float64(u.cpu))
				if c.base == "untraced" {
					baseRates, baseCPU = append(baseRates, u.rate), append(baseCPU, float64(u.cpu.Nanoseconds())/1000)
				}
				pairs = append(pairs, fmt.Sprintf("pair %d: %s %.0f ev/s %v CPU/ev, %s %.0f ev/s %v CPU/ev",
					i+1, c.base, u.rate, u.cpu, c.variant, t.rate, t.cpu))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		var spans []string
		var droppedAlways uint64
		for _, name := range []string{"disabled", "sampledout", "sampledoutw3c", "always"} {
			v := vs[name]
			if err := v.p.ForceFlush(ctx); err != nil {
				b.Fatalf("%s: flush: %v", v.name, err)
			}
			exp, drop := v.p.ExportedSpans(), v.p.DroppedSpans()
			spans = append(spans, fmt.Sprintf("%s exported %d dropped %d (%d events)", v.name, exp, drop, v.events))
			if v.wantFlags != "01" && exp+drop != 0 {
				b.Errorf("%s: %d spans exported, %d dropped; want none (it must not sample)", v.name, exp, drop)
			}
			if v.wantFlags == "01" {
				droppedAlways = drop
				if exp+drop < uint64(2*v.events) {
					b.Errorf("%s: %d spans exported + %d dropped, want >= %d (send + process per event)", v.name, exp, drop, 2*v.events)
				}
			}
		}
		cancel()
		// Summary first: go test truncates long benchmark logs.
		for _, c := range cmps {
			b.Logf("%-13s vs %-11s throughput %s; CPU per event (lower is cheaper) %s", c.variant, c.base+":", stats3(wall[c.label]), stats3(cpu[c.label]))
		}
		b.Logf("untraced events/s: %v; CPU µs per event: %v", ratios(baseRates).plain(), ratios(baseCPU).plainf())
		b.Logf("spans: %s", strings.Join(spans, "; "))
		b.Log(strings.Join(pairs, "\n"))
		for _, c := range cmps {
			b.ReportMetric(wall[c.label].median(), "x_"+c.label)
			b.ReportMetric(cpu[c.label].median(), "x_cpu_"+c.label)
		}
		b.ReportMetric(ratios(baseRates).median(), "events/s")
		b.ReportMetric(float64(droppedAlways), "dropped_always")
	}
}
