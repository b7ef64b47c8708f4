package tracing_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/plugin/kotel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
	"github.com/contrail-events/contrail/wire"
)

// hooks is the event runtime's view of tracing (eventing.Tracer): the
// benchmark calls it exactly as the runtime does, and holds a nil
// interface when tracing is disabled.
type hooks interface {
	StartSend(ctx context.Context, r *kgo.Record) (context.Context, func(error))
	StartProcess(ctx context.Context, r *kgo.Record, group string) (context.Context, func(error))
}

// discard accepts every span, like a collector that keeps up.
type discard struct{ n atomic.Int64 }

func (d *discard) ExportSpans(_ context.Context, s []sdktrace.ReadOnlySpan) error {
	d.n.Add(int64(len(s)))
	return nil
}
func (d *discard) Shutdown(context.Context) error { return nil }

// pipeline is one producer and one consumer client on their own topic.
type pipeline struct {
	name       string
	prod, cons *kgo.Client
	topic      string
	h          hooks         // ours; nil = no hooks (untraced or disabled)
	kt         *kotel.Tracer // kotel's process spans, when kotel hooks are installed
	p          *tracing.Provider
	sendCtx    context.Context // the publisher's context (holds its parent span, if any)
	static     bool            // add fixed trace headers without any tracing code
}

// Fixed trace headers of the real size, for the "headersonly" variant that
// prices the bytes on the wire apart from the tracing code.
var (
	staticTP   = []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	staticUber = []byte("4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:0")
)

// unsampledParent is the context of a request whose trace was sampled out
// upstream (ratio 0, parent not sampled), the sampled-out case.
var unsampledParent = trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
	TraceID: trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36},
	SpanID:  trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7},
}))

// benchRecords is the records per measurement: enough for about 0.1 s on
// this machine, so a GC cycle or a scheduling hiccup is a small share.
const benchRecords = 150_000

// benchBrokersEnv names seed brokers (comma-separated) to run
// BenchmarkTracingOverhead and BenchmarkPipeline against instead of an
// in-process kfake: a `contrail broker` in another process, or Redpanda.
// The per-CPU-second figures then count the clients only, as a service's
// own CPU would.
const benchBrokersEnv = "CONTRAIL_BENCH_BROKERS"

// benchBrokers returns the seed brokers and each variant's topic: an
// in-process kfake with one single-partition topic per variant, or, with
// CONTRAIL_BENCH_BROKERS set, that cluster with fresh single-partition
// topics named after the variant and the time (created with kadm).
func benchBrokers(b *testing.B, variants []string) ([]string, map[string]string) {
	topicOf := map[string]string{}
	env := os.Getenv(benchBrokersEnv)
	if env == "" {
		for _, v := range variants {
			topicOf[v] = v
		}
		return startKfake(b, variants...), topicOf
	}
	addrs := strings.Split(env, ",")
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	if err != nil {
		b.Fatalf("%s=%s: %v", benchBrokersEnv, env, err)
	}
	defer cl.Close()
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	var topics []string
	for _, v := range variants {
		topicOf[v] = "contrail-bench-" + v + "-" + suffix
		topics = append(topics, topicOf[v])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, 1, -1, nil, topics...)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		b.Fatalf("creating benchmark topics on %s=%s: %v", benchBrokersEnv, env, err)
	}
	return addrs, topicOf
}

var (
	benchKeys    [256][]byte
	benchIDs     [256][]byte
	benchPayload = make([]byte, 128)
)

func init() {
	for i := range benchKeys {
		benchKeys[i] = []byte("order-" + strconv.Itoa(i))
		benchIDs[i] = []byte(fmt.Sprintf("0196f0c2-7a1b-7c3d-8e4f-%012d", i))
	}
}

// cpuTime is the CPU time this process has used, all threads.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchRecord is a record allocated the way the event runtime's publisher
// allocates one (eventing recordAlloc): the record and room for
// eight headers in one allocation, the runtime's five plus the three a
// tracer may add. Every variant, the untraced baseline included, pays it.
type benchRecord struct {
	rec     kgo.Record
	headers [8]kgo.RecordHeader
}

// newRecord returns record i with the headers the event runtime puts on
// every record (event id, type, content type, correlation and causation
// ids), so the untraced baseline is what Contrail actually sends.
func newRecord(topic string, i int) *kgo.Record {
	ra := new(benchRecord)
	hs := runtimeHeaders(i)
	n := copy(ra.headers[:], hs[:])
	ra.rec = kgo.Record{Topic: topic, Key: benchKeys[i%256], Value: benchPayload, Headers: ra.headers[:n]}
	return &ra.rec
}

// runtimeHeaders are the event runtime's five headers of record i.
func runtimeHeaders(i int) [5]kgo.RecordHeader {
	return [5]kgo.RecordHeader{
		{Key: wire.HeaderEventID, Value: benchIDs[i%256]},
		{Key: "contrail-event-type", Value: benchType},
		{Key: "content-type", Value: benchContentType},
		{Key: "contrail-correlation-id", Value: benchIDs[(i+1)%256]},
		{Key: "contrail-causation-id", Value: benchIDs[(i+2)%256]},
	}
}

var (
	benchType        = []byte("contrail.orders.OrderPlaced")
	benchContentType = []byte("application/vnd.contrail.avro")
)

// run produces n records (asynchronously, as the runtime's publisher does)
// while consuming them, calling the hooks around each, and returns records
// per wall-clock second and per CPU second of the whole process (broker
// and clients included). The CPU figure is what other processes on a busy
// machine disturb least.
func (p *pipeline) run(ctx context.Context, n int) (wall, cpu float64, err error) {
	start, cpu0 := time.Now(), cpuTime()
	var produced sync.WaitGroup
	produced.Add(n)
	var perr atomic.Pointer[error]
	consumed := make(chan error, 1)
	go func() {
		seen := 0
		for seen < n {
			fs := p.cons.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				consumed <- err
				return
			}
			fs.EachRecord(func(r *kgo.Record) {
				seen++
				switch {
				case p.h != nil:
					_, finish := p.h.StartProcess(ctx, r, "bench")
					finish(nil)
				case p.kt != nil:
					_, span := p.kt.WithProcessSpan(r)
					span.End()
				}
			})
		}
		consumed <- nil
	}()
	for i := range n {
		r := newRecord(p.topic, i)
		if p.static {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: "traceparent", Value: staticTP}, kgo.RecordHeader{Key: "uber-trace-id", Value: staticUber})
		}
		if p.h != nil {
			_, finish := p.h.StartSend(p.sendCtx, r)
			p.prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
				finish(err)
				if err != nil {
					perr.Store(&err)
				}
				produced.Done()
			})
			continue
		}
		p.prod.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				perr.Store(&err)
			}
			produced.Done()
		})
	}
	produced.Wait()
	if e := perr.Load(); e != nil {
		return 0, 0, *e
	}
	if err := <-consumed; err != nil {
		return 0, 0, err
	}
	return float64(n) / time.Since(start).Seconds(), float64(n) / (cpuTime() - cpu0).Seconds(), nil
}

func newPipelines(b *testing.B) (map[string]*pipeline, func()) {
	ctx := context.Background()
	addrs, topicOf := benchBrokers(b, benchVariants)
	out := map[string]*pipeline{}
	var closers []func()
	mk := func(name string, opts ...kgo.Opt) *pipeline {
		base := []kgo.Opt{kgo.SeedBrokers(addrs...), kgo.ProducerLinger(0)}
		prod, err := kgo.NewClient(append(base, opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		cons, err := kgo.NewClient(append(append(base, kgo.ConsumeTopics(topicOf[name]), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())), opts...)...)
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, prod.Close, cons.Close)
		p := &pipeline{name: name, prod: prod, cons: cons, topic: topicOf[name], sendCtx: ctx}
		out[name] = p
		return p
	}
	setup := func(cfg tracing.Config) *tracing.Provider {
		cfg.Exporter = &discard{}
		cfg.ServiceName = "bench"
		p, err := tracing.Setup(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		closers = append(closers, func() { p.Shutdown(ctx) })
		return p
	}

	mk("untraced")
	mk("headersonly").static = true

	dis := setup(tracing.Config{Disabled: true})
	pd := mk("disabled")
	if m := dis.Messaging(); m != nil { // what the runtime does: no hooks when disabled
		pd.h = m
	}
	pd.p = dis

	so := setup(tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0"})
	mk("sampledout").h, out["sampledout"].p = so.Messaging(), so
	out["sampledout"].sendCtx = unsampledParent

	sw := setup(tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0", UnsampledHeaders: "w3c"})
	mk("sampledoutw3c").h, out["sampledoutw3c"].p = sw.Messaging(), sw
	out["sampledoutw3c"].sendCtx = unsampledParent

	sn := setup(tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0", UnsampledHeaders: "none"})
	mk("sampledoutnone").h, out["sampledoutnone"].p = sn.Messaging(), sn
	out["sampledoutnone"].sendCtx = unsampledParent

	al := setup(tracing.Config{Sampler: tracing.SamplerAlwaysOn})
	mk("always").h, out["always"].p = al.Messaging(), al

	ko := setup(tracing.Config{Sampler: tracing.SamplerAlwaysOn})
	kt := kotel.NewTracer(kotel.TracerProvider(ko.TracerProvider()), kotel.TracerPropagator(ko.Propagator()))
	k := kotel.NewKotel(kotel.WithTracer(kt))
	pk := mk("kotel", kgo.WithHooks(k.Hooks()...))
	pk.kt, pk.p = kt, ko

	return out, func() {
		for _, c := range closers {
			c()
		}
	}
}

// benchVariants are the pipelines: untraced (the baseline: no hooks, no
// trace headers), headersonly (untraced plus the two trace headers as fixed
// bytes), disabled (Setup with Disabled), sampledout (ratio 0 under an
// unsampled parent, default UnsampledAll headers), sampledoutw3c (the same
// with UnsampledHeaders "w3c"), sampledoutnone (the same with "none": no
// trace headers on the wire), always (always_on) and kotel (franz-go's
// kotel plugin, always_on).
var benchVariants = []string{"untraced", "headersonly", "disabled", "sampledout", "sampledoutw3c", "sampledoutnone", "always", "kotel"}

type ratios []float64

func (r ratios) stats() (med, lo, hi float64) {
	s := slices.Clone(r)
	slices.Sort(s)
	return s[len(s)/2], s[0], s[len(s)-1]
}

// BenchmarkTracingOverhead measures, in one run, throughput ratios of a
// produce+consume fast path on kfake (in-process, TCP): each variant
// against the untraced pipeline, and our always-sampled hooks against
// franz-go's kotel plugin (its hooks plus its process span), as medians of
// 15 back-to-back pairs with min and max. Run it with
//
//	go test -run '^$' -bench TracingOverhead -benchtime 1x ./tracing
//
// and against a broker in another process (its CPU then is not counted):
//
//	go run ./cmd/contrail broker --addr 127.0.0.1:19092 --no-manifest &
//	CONTRAIL_BENCH_BROKERS=127.0.0.1:19092 go test -run '^$' -bench TracingOverhead -benchtime 1x ./tracing
func BenchmarkTracingOverhead(b *testing.B) {
	ps, closeAll := newPipelines(b)
	defer closeAll()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	type rate struct{ wall, cpu float64 }
	measure := func(name string) rate {
		runtime.GC() // every measurement starts from a collected heap
		w, c, err := ps[name].run(ctx, benchRecords)
		if err != nil {
			b.Fatalf("%s: %v", name, err)
		}
		return rate{w, c}
	}
	// Warm every pipeline up (connections, metadata, caches).
	for _, name := range benchVariants {
		measure(name)
	}
	const pairs = 15
	type cmp struct{ label, base, variant string }
	cmps := []cmp{
		{"disabled/untraced", "untraced", "disabled"},
		{"headersonly/untraced", "untraced", "headersonly"},
		{"sampledout/untraced", "untraced", "sampledout"},
		{"sampledout/headersonly", "headersonly", "sampledout"},
		{"sampledoutw3c/untraced", "untraced", "sampledoutw3c"},
		{"sampledoutnone/untraced", "untraced", "sampledoutnone"},
		{"always/untraced", "untraced", "always"},
		{"kotel/untraced", "untraced", "kotel"},
		{"always/kotel", "kotel", "always"},
	}
	wall, cpu := map[string]ratios{}, map[string]ratios{}
	var baseRPS []float64
	for range b.N {
		for i := range pairs {
			for _, c := range cmps {
				// Alternate which side goes first, so drift favors neither.
				var base, v rate
				if i%2 == 0 {
					base, v = measure(c.base), measure(c.variant)
				} else {
					v, base = measure(c.variant), measure(c.base)
				}
				wall[c.label] = append(wall[c.label], v.wall/base.wall)
				cpu[c.label] = append(cpu[c.label], v.cpu/base.cpu)
				if c.base == "untraced" {
					baseRPS = append(baseRPS, base.wall)
				}
			}
		}
	}
	b.StopTimer()
	for _, c := range cmps {
		med, lo, hi := wall[c.label].stats()
		cmed, clo, chi := cpu[c.label].stats()
		b.ReportMetric(med, c.label+"-x")
		fmt.Printf("%-24s throughput median %.3fx (min %.3fx, max %.3fx) | per CPU-second median %.3fx (min %.3fx, max %.3fx) | %d pairs",
			c.label, med, lo, hi, cmed, clo, chi, len(wall[c.label]))
		fmt.Println()
	}
	med, lo, hi := ratios(baseRPS).stats()
	fmt.Printf("untraced throughput: median %.0f records/s (min %.0f, max %.0f), %d records per measurement\n", med, lo, hi, benchRecords)
	for _, name := range []string{"sampledout", "sampledoutw3c", "sampledoutnone", "always", "kotel"} {
		p := ps[name].p
		p.ForceFlush(ctx)
		fmt.Printf("%-10s spans exported %d, dropped %d\n", name, p.ExportedSpans(), p.DroppedSpans())
	}
}

// BenchmarkHooks measures one record's hook calls alone (send + process),
// with allocations: go test -run '^$' -bench Hooks -benchmem ./tracing
func BenchmarkHooks(b *testing.B) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		cfg  tracing.Config
		ctx  context.Context
	}{
		{name: "disabled", cfg: tracing.Config{Disabled: true}, ctx: ctx},
		{name: "sampledout-root", cfg: tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0"}, ctx: ctx},
		{name: "sampledout-parent", cfg: tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0"}, ctx: unsampledParent},
		{name: "sampledout-parent-w3c", cfg: tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0", UnsampledHeaders: "w3c"}, ctx: unsampledParent},
		{name: "sampledout-parent-none", cfg: tracing.Config{Sampler: tracing.SamplerParentBasedTraceIDRatio, SamplerArg: "0", UnsampledHeaders: "none"}, ctx: unsampledParent},
		{name: "always", cfg: tracing.Config{Sampler: tracing.SamplerAlwaysOn}, ctx: ctx},
	} {
		b.Run(tc.name, func(b *testing.B) {
			tc.cfg.Exporter = &discard{}
			p, err := tracing.Setup(ctx, tc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer p.Shutdown(ctx)
			var h hooks
			if m := p.Messaging(); m != nil {
				h = m
			}
			// Every iteration starts from the runtime's five headers with
			// room for the trace headers, as a fresh record from the
			// runtime's publisher would.
			r := newRecord("orders", 1)
			base := r.Headers
			b.ReportAllocs()
			for b.Loop() {
				if h == nil {
					continue
				}
				r.Headers = base[:5]
				_, f := h.StartSend(tc.ctx, r)
				f(nil)
				_, f = h.StartProcess(ctx, r, "g")
				f(nil)
			}
		})
	}
}

// BenchmarkPipeline runs the kfake produce+consume path per variant, one
// record per op, so -benchmem shows allocations per record (disabled must
// equal untraced): go test -run '^$' -bench Pipeline -benchmem ./tracing
func BenchmarkPipeline(b *testing.B) {
	ps, closeAll := newPipelines(b)
	defer closeAll()
	ctx := context.Background()
	for _, name := range benchVariants {
		b.Run(name, func(b *testing.B) {
			if _, _, err := ps[name].run(ctx, 1000); err != nil { // warm up
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			if _, _, err := ps[name].run(ctx, b.N); err != nil {
				b.Fatal(err)
			}
		})
	}
}
