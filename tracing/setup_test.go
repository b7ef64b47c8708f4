package tracing_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
)

func bufLogger() (*slog.Logger, *syncBuf) {
	b := &syncBuf{}
	return slog.New(slog.NewTextHandler(b, nil)), b
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  tracing.Config
		want string // substring of the error; "" = valid
	}{
		{name: "defaults", cfg: tracing.Config{}},
		{name: "ratio", cfg: tracing.Config{Sampler: "parentbased_traceidratio", SamplerArg: "0.25"}},
		{name: "grpc", cfg: tracing.Config{Endpoint: "http://127.0.0.1:4317", Protocol: "grpc"}},
		{name: "unknown sampler", cfg: tracing.Config{Sampler: "sometimes"}, want: "OTEL_TRACES_SAMPLER"},
		{name: "bad ratio", cfg: tracing.Config{Sampler: "traceidratio", SamplerArg: "1.5"}, want: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "bad endpoint", cfg: tracing.Config{Endpoint: "127.0.0.1:4318"}, want: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "bad protocol", cfg: tracing.Config{Protocol: "thrift"}, want: "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{name: "batch > queue", cfg: tracing.Config{QueueSize: 2, BatchSize: 3}, want: "BatchSize"},
		{name: "unsampled w3c", cfg: tracing.Config{UnsampledHeaders: " W3C "}},
		{name: "unsampled none", cfg: tracing.Config{UnsampledHeaders: "NONE"}},
		{name: "bad unsampled headers", cfg: tracing.Config{UnsampledHeaders: "jaeger"}, want: "CONTRAIL_TRACES_UNSAMPLED_HEADERS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, tracing.ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want ErrInvalidConfig mentioning %q", err, tc.want)
			}
			if _, err := tracing.Setup(context.Background(), tc.cfg); !errors.Is(err, tracing.ErrInvalidConfig) {
				t.Fatalf("Setup accepted a bad config: %v", err)
			}
		})
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("OTEL_SERVICE_NAME", "inventory")
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
	t.Setenv("OTEL_TRACES_SAMPLER", "traceidratio")
	t.Setenv("OTEL_TRACES_SAMPLER_ARG", "0.5")
	t.Setenv("OTEL_SDK_DISABLED", "TRUE")
	t.Setenv("CONTRAIL_TRACES_UNSAMPLED_HEADERS", "w3c")
	c := tracing.ConfigFromEnv()
	if c.ServiceName != "inventory" || c.Endpoint != "http://127.0.0.1:4318" || c.Sampler != "traceidratio" || c.SamplerArg != "0.5" || !c.Disabled || c.UnsampledHeaders != "w3c" {
		t.Fatalf("ConfigFromEnv = %+v", c)
	}
}

func TestNoCollectorStillRunsAndSaysSoOnce(t *testing.T) {
	log, buf := bufLogger()
	p, err := tracing.Setup(context.Background(), tracing.Config{ServiceName: "order", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Shutdown(context.Background())
	if !p.Enabled() || p.Exporting() || p.Messaging() == nil {
		t.Fatalf("enabled=%v exporting=%v messaging=%v; want tracing on, nothing exported", p.Enabled(), p.Exporting(), p.Messaging())
	}
	r := &kgo.Record{Topic: "orders"}
	_, finish := p.Messaging().StartSend(context.Background(), r)
	finish(nil)
	if tracing.RecordCarrier(r).Get("traceparent") == "" {
		t.Fatalf("context not propagated without a collector")
	}
	if n := strings.Count(buf.String(), "not exported"); n != 1 {
		t.Fatalf("logged %d times that traces are not exported, want 1:\n%s", n, buf.String())
	}
}

func TestDisabled(t *testing.T) {
	p, err := tracing.Setup(context.Background(), tracing.Config{Disabled: true, Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Enabled() || p.Messaging() != nil {
		t.Fatalf("disabled provider: enabled=%v messaging=%v", p.Enabled(), p.Messaging())
	}
	_, span := p.TracerProvider().Tracer("t").Start(context.Background(), "x")
	if span.IsRecording() || span.SpanContext().IsValid() {
		t.Fatalf("disabled provider records spans")
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// blockingExporter holds every export until release is closed.
type blockingExporter struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
}

func (b *blockingExporter) ExportSpans(ctx context.Context, s []sdktrace.ReadOnlySpan) error {
	select {
	case <-b.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	b.mu.Lock()
	b.got += len(s)
	b.mu.Unlock()
	return nil
}
func (b *blockingExporter) Shutdown(context.Context) error { return nil }

func TestDroppedSpansAreCountedAndLoggedOnce(t *testing.T) {
	log, buf := bufLogger()
	exp := &blockingExporter{release: make(chan struct{})}
	p, err := tracing.Setup(context.Background(), tracing.Config{
		Exporter: exp, QueueSize: 4, BatchSize: 1, BatchTimeout: time.Hour, Logger: log, Sampler: "always_on",
	})
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider().Tracer("t")
	const n = 50
	for range n {
		_, s := tr.Start(context.Background(), "s")
		s.End()
	}
	dropped := p.DroppedSpans()
	// At most the queue plus the one batch in the blocked exporter survive.
	if dropped < n-4-1 {
		t.Fatalf("dropped %d of %d spans with a queue of 4, want >= %d", dropped, n, n-5)
	}
	close(exp.release)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if uint64(exp.got)+p.DroppedSpans() != n {
		t.Fatalf("exported %d + dropped %d != %d ended: a span went missing silently", exp.got, p.DroppedSpans(), n)
	}
	if c := strings.Count(buf.String(), "dropping spans"); c != 1 {
		t.Fatalf("logged drops %d times, want once:\n%s", c, buf.String())
	}
	if !strings.Contains(buf.String(), tracing.MetricDroppedSpans) {
		t.Fatalf("drop log line does not name the metric:\n%s", buf.String())
	}
}

// keepExporter keeps its spans after Shutdown (tracetest's clears them).
type keepExporter struct{ *tracetest.InMemoryExporter }

func (keepExporter) Shutdown(context.Context) error { return nil }

func TestShutdownFlushes(t *testing.T) {
	exp := keepExporter{tracetest.NewInMemoryExporter()}
	p, err := tracing.Setup(context.Background(), tracing.Config{Exporter: exp, ServiceName: "svc", BatchTimeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for range 10 {
		_, s := p.TracerProvider().Tracer("t").Start(context.Background(), "s")
		s.End()
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 10 || p.DroppedSpans() != 0 {
		t.Fatalf("after Shutdown: %d exported, %d dropped; want 10 and 0", len(spans), p.DroppedSpans())
	}
	if got := spans[0].Resource.Attributes(); !strings.Contains(spans[0].Resource.String(), "service.name=svc") {
		t.Fatalf("resource %v lacks service.name=svc", got)
	}
}

func TestLogHandlerAddsTraceIDs(t *testing.T) {
	var b bytes.Buffer
	log := slog.New(tracing.NewLogHandler(slog.NewJSONHandler(&b, nil))).With("service", "inventory")
	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("t").Start(context.Background(), "s")
	log.InfoContext(ctx, "handled")
	log.Info("no context")
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	sc := span.SpanContext()
	if !strings.Contains(lines[0], `"trace_id":"`+sc.TraceID().String()+`"`) || !strings.Contains(lines[0], `"span_id":"`+sc.SpanID().String()+`"`) {
		t.Fatalf("line without ids: %s", lines[0])
	}
	if strings.Contains(lines[1], "trace_id") {
		t.Fatalf("ids invented for a line without a span: %s", lines[1])
	}
	if attrs := tracing.LogAttrs(ctx); len(attrs) != 2 || attrs[0].Value.String() != sc.TraceID().String() {
		t.Fatalf("LogAttrs = %v", attrs)
	}
}

func TestGinMiddlewareContinuesTrace(t *testing.T) {
	exp := keepExporter{tracetest.NewInMemoryExporter()}
	p, err := tracing.Setup(context.Background(), tracing.Config{Exporter: exp, ServiceName: "order"})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(p.GinMiddleware("order"))
	var handlerSpan trace.SpanContext
	e.POST("/orders", func(c *gin.Context) {
		handlerSpan = trace.SpanContextFromContext(c.Request.Context())
		c.Status(http.StatusAccepted)
	})
	req := httptest.NewRequest(http.MethodPost, "/orders", nil)
	req.Header.Set("uber-trace-id", "3f1a2b3c4d5e6f70:5e6f708192a3b4c5:0:1")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].SpanKind != trace.SpanKindServer || spans[0].Name != "POST /orders" {
		t.Fatalf("spans %+v, want one SERVER span POST /orders", spans)
	}
	if spans[0].Parent.SpanID().String() != "5e6f708192a3b4c5" || handlerSpan.SpanID() != spans[0].SpanContext.SpanID() {
		t.Fatalf("server span parent %v, handler saw %v", spans[0].Parent.SpanID(), handlerSpan.SpanID())
	}
}

// TestParentNotSampledSkipsSpans: with Setup's parent-based sampler an
// unsampled parent costs no spans, yet the trace id still travels.
func TestParentNotSampledSkipsSpans(t *testing.T) {
	exp := keepExporter{tracetest.NewInMemoryExporter()}
	p, err := tracing.Setup(context.Background(), tracing.Config{Exporter: exp, Sampler: "parentbased_traceidratio", SamplerArg: "0"})
	if err != nil {
		t.Fatal(err)
	}
	parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1, 2, 3}, SpanID: trace.SpanID{4, 5, 6}})
	r := &kgo.Record{Topic: "orders"}
	_, finish := p.Messaging().StartSend(trace.ContextWithSpanContext(context.Background(), parent), r)
	finish(nil)
	if got := tracing.RecordCarrier(r).Get("traceparent"); got != "00-01020300000000000000000000000000-0405060000000000-00" {
		t.Fatalf("traceparent %q, want the unsampled parent's context", got)
	}
	ctx, finish2 := p.Messaging().StartProcess(context.Background(), r, "g")
	finish2(errors.New("ignored: nothing is recorded"))
	if sc := trace.SpanContextFromContext(ctx); sc.TraceID() != parent.TraceID() || sc.IsSampled() {
		t.Fatalf("handler context %v, want the unsampled trace %v", sc, parent.TraceID())
	}
	// A sampled parent is still followed by the same Messaging.
	sampled := parent.WithTraceFlags(trace.FlagsSampled)
	_, finish = p.Messaging().StartSend(trace.ContextWithSpanContext(context.Background(), sampled), r)
	finish(nil)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if spans := exp.GetSpans(); len(spans) != 1 || spans[0].Name != "send orders" || spans[0].Parent.SpanID() != parent.SpanID() {
		t.Fatalf("exported %d spans, want only the sampled send", len(spans))
	}
}

func TestCollectorDownIsLoggedOnceAndCounted(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	log, buf := bufLogger()
	p, err := tracing.Setup(context.Background(), tracing.Config{Endpoint: dead, Logger: log, BatchSize: 1, ExportTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, s := p.TracerProvider().Tracer("t").Start(context.Background(), "s")
		s.End()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.ForceFlush(ctx); err != nil {
		t.Fatal(err)
	}
	p.Shutdown(ctx)
	if n := strings.Count(buf.String(), "exporting spans failed"); n != 1 {
		t.Fatalf("logged export failure %d times, want once:\n%s", n, buf.String())
	}
	if p.ExportedSpans() != 0 {
		t.Fatalf("exported %d spans to a closed port", p.ExportedSpans())
	}
	if p.FailedSpans() != 3 {
		t.Fatalf("FailedSpans %d, want the 3 spans the closed port refused", p.FailedSpans())
	}
}
