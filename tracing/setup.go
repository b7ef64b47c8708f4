package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Metric names the Provider reports through its MeterProvider.
const (
	// MetricDroppedSpans counts sampled spans dropped because the export
	// queue was full (or the provider was shut down).
	MetricDroppedSpans = "contrail.tracing.spans.dropped"
	// MetricFailedSpans counts spans the exporter failed to deliver.
	MetricFailedSpans = "contrail.tracing.spans.export_failed"
)

// Sampler names accepted in Config.Sampler (OTEL_TRACES_SAMPLER).
const (
	SamplerAlwaysOn                = "always_on"
	SamplerAlwaysOff               = "always_off"
	SamplerTraceIDRatio            = "traceidratio"
	SamplerParentBasedAlwaysOn     = "parentbased_always_on"
	SamplerParentBasedAlwaysOff    = "parentbased_always_off"
	SamplerParentBasedTraceIDRatio = "parentbased_traceidratio"
)

// Protocols accepted in Config.Protocol (OTEL_EXPORTER_OTLP_PROTOCOL).
const (
	ProtocolHTTP = "http/protobuf"
	ProtocolGRPC = "grpc"
)

// ErrInvalidConfig is wrapped by every error Config.Validate returns.
var ErrInvalidConfig = errors.New("tracing: invalid config")

// Config is the tracing setup of one service. Fields left zero take the
// defaults named on each field; ConfigFromEnv fills it from the standard
// OpenTelemetry environment variables.
type Config struct {
	// ServiceName is service.name on every span (OTEL_SERVICE_NAME).
	// Default: OpenTelemetry's "unknown_service:<executable>".
	ServiceName string
	// Endpoint is the OTLP collector base URL, e.g. http://127.0.0.1:4318
	// (OTEL_EXPORTER_OTLP_ENDPOINT). Empty means spans are recorded and
	// propagated but not exported, and Setup logs that once.
	Endpoint string
	// Protocol is ProtocolHTTP (default) or ProtocolGRPC
	// (OTEL_EXPORTER_OTLP_PROTOCOL). For HTTP, "/v1/traces" is appended to
	// Endpoint's path as the OTLP spec says.
	Protocol string
	// Sampler is one of the Sampler* names (OTEL_TRACES_SAMPLER).
	// Default: SamplerParentBasedAlwaysOn.
	Sampler string
	// SamplerArg is the ratio in [0,1] for the ratio samplers
	// (OTEL_TRACES_SAMPLER_ARG). Default: 1.
	SamplerArg string
	// UnsampledHeaders is which trace headers a record whose trace is not
	// sampled carries (CONTRAIL_TRACES_UNSAMPLED_HEADERS): "all" (default,
	// UnsampledAll), "w3c" (UnsampledW3C: no uber-trace-id, which
	// jaeger-client-go consumers need to keep the decision) or "none"
	// (UnsampledNone: no trace headers; consumers decide on their own).
	UnsampledHeaders string
	// Disabled turns tracing off entirely (OTEL_SDK_DISABLED=true): the
	// Provider hands out no-op tracers and a nil Messaging.
	Disabled bool
	// QueueSize is how many ended spans may wait for export before new
	// ones are dropped and counted. Default: 16384.
	QueueSize int
	// BatchSize is the most spans per export call. Default: 512.
	BatchSize int
	// BatchTimeout is the longest a span waits before its batch is
	// exported. Default: 1s.
	BatchTimeout time.Duration
	// ExportTimeout bounds one export call. Default: 10s.
	ExportTimeout time.Duration
	// Exporter, if set, replaces the OTLP exporter (tests, benchmarks);
	// Endpoint and Protocol are then ignored.
	Exporter sdktrace.SpanExporter
	// Logger receives the few lines tracing logs. Default: slog.Default().
	Logger *slog.Logger
	// MeterProvider receives the MetricDroppedSpans and MetricFailedSpans
	// counters. Default: the global meter provider.
	MeterProvider metric.MeterProvider
}

// ConfigFromEnv returns a Config filled from OTEL_SERVICE_NAME,
// OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL,
// OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_SDK_DISABLED and
// Contrail's CONTRAIL_TRACES_UNSAMPLED_HEADERS. It does not validate; Setup
// does.
func ConfigFromEnv() Config {
	return Config{
		ServiceName:      os.Getenv("OTEL_SERVICE_NAME"),
		Endpoint:         os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT"),
		Protocol:         os.Getenv("OTEL_EXPORTER_OTLP_PROTOCOL"),
		Sampler:          os.Getenv("OTEL_TRACES_SAMPLER"),
		SamplerArg:       os.Getenv("OTEL_TRACES_SAMPLER_ARG"),
		UnsampledHeaders: os.Getenv("CONTRAIL_TRACES_UNSAMPLED_HEADERS"),
		Disabled:         strings.EqualFold(strings.TrimSpace(os.Getenv("OTEL_SDK_DISABLED")), "true"),
	}
}

func (c *Config) setDefaults() {
	c.Protocol = strings.ToLower(strings.TrimSpace(c.Protocol))
	if c.Protocol == "" {
		c.Protocol = ProtocolHTTP
	}
	c.Sampler = strings.ToLower(strings.TrimSpace(c.Sampler))
	if c.Sampler == "" {
		c.Sampler = SamplerParentBasedAlwaysOn
	}
	c.UnsampledHeaders = strings.ToLower(strings.TrimSpace(c.UnsampledHeaders))
	if c.UnsampledHeaders == "" {
		c.UnsampledHeaders = UnsampledAll.String()
	}
	if c.QueueSize == 0 {
		c.QueueSize = 16384
	}
	if c.BatchSize == 0 {
		c.BatchSize = 512
	}
	if c.BatchTimeout == 0 {
		c.BatchTimeout = time.Second
	}
	if c.ExportTimeout == 0 {
		c.ExportTimeout = 10 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MeterProvider == nil {
		c.MeterProvider = otel.GetMeterProvider()
	}
}

// Validate reports the first problem with c (after defaults), wrapping
// ErrInvalidConfig, with the environment variable to fix.
func (c Config) Validate() error {
	c.setDefaults()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	if _, err := c.sampler(); err != nil {
		return bad("%v", err)
	}
	if _, ok := c.unsampledHeaders(); !ok {
		return bad("CONTRAIL_TRACES_UNSAMPLED_HEADERS %q is not supported: use %q (traceparent and uber-trace-id, the default), %q (traceparent only) or %q (no trace headers on unsampled records)", c.UnsampledHeaders, UnsampledAll, UnsampledW3C, UnsampledNone)
	}
	if c.Protocol != ProtocolHTTP && c.Protocol != ProtocolGRPC {
		return bad("OTEL_EXPORTER_OTLP_PROTOCOL %q is not supported: use %q or %q", c.Protocol, ProtocolHTTP, ProtocolGRPC)
	}
	if c.Endpoint != "" && c.Exporter == nil {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("OTEL_EXPORTER_OTLP_ENDPOINT %q is not a URL like http://127.0.0.1:4318", c.Endpoint)
		}
	}
	if c.QueueSize < 1 || c.BatchSize < 1 || c.BatchSize > c.QueueSize {
		return bad("need 1 <= BatchSize (%d) <= QueueSize (%d)", c.BatchSize, c.QueueSize)
	}
	if c.BatchTimeout < 0 || c.ExportTimeout < 0 {
		return bad("BatchTimeout and ExportTimeout must not be negative")
	}
	return nil
}

// unsampledHeaders maps c.UnsampledHeaders (after defaults) to its
// setting; ok is false for an unknown name.
func (c Config) unsampledHeaders() (UnsampledHeaders, bool) {
	for _, u := range []UnsampledHeaders{UnsampledAll, UnsampledW3C, UnsampledNone} {
		if c.UnsampledHeaders == u.String() {
			return u, true
		}
	}
	return UnsampledAll, false
}

// ratio is the sampling ratio of the ratio samplers, 1 for the others.
func (c Config) ratio() (float64, error) {
	if !strings.HasSuffix(c.Sampler, "traceidratio") || strings.TrimSpace(c.SamplerArg) == "" {
		return 1, nil
	}
	r, err := strconv.ParseFloat(strings.TrimSpace(c.SamplerArg), 64)
	if err != nil || r < 0 || r > 1 {
		return 0, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG %q is not a ratio between 0 and 1 (e.g. 0.25)", c.SamplerArg)
	}
	return r, nil
}

// dropsRoots reports whether c's sampler drops every span that has no
// valid parent, so Messaging can skip starting them.
func (c Config) dropsRoots() bool {
	switch c.Sampler {
	case SamplerAlwaysOff, SamplerParentBasedAlwaysOff:
		return true
	case SamplerTraceIDRatio, SamplerParentBasedTraceIDRatio:
		r, err := c.ratio()
		return err == nil && r == 0
	}
	return false
}

func (c Config) sampler() (sdktrace.Sampler, error) {
	ratio, err := c.ratio()
	if err != nil {
		return nil, err
	}
	switch c.Sampler {
	case SamplerAlwaysOn:
		return sdktrace.AlwaysSample(), nil
	case SamplerAlwaysOff:
		return sdktrace.NeverSample(), nil
	case SamplerTraceIDRatio:
		return sdktrace.TraceIDRatioBased(ratio), nil
	case SamplerParentBasedAlwaysOn:
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case SamplerParentBasedAlwaysOff:
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case SamplerParentBasedTraceIDRatio:
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER %q is not supported: use one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio", c.Sampler)
}

// Provider is the tracing of one service: its TracerProvider, propagator
// and export pipeline. Its methods are safe for concurrent use. Call
// Shutdown before exit to flush queued spans.
type Provider struct {
	cfg  Config
	tp   *sdktrace.TracerProvider // nil when disabled
	bsp  *batchProcessor          // nil when nothing is exported
	prop propagation.TextMapPropagator
	reg  metric.Registration
	msg  *Messaging

	shutOnce sync.Once
	shutErr  error
}

// Setup builds a Provider from cfg. It does not touch the OpenTelemetry
// globals (see Provider.SetGlobal). With cfg.Disabled it returns a disabled
// Provider and no error. With no Endpoint and no Exporter it logs once that
// spans are not exported and still returns a working Provider, so services
// run without a collector. Errors wrap ErrInvalidConfig for bad settings.
func Setup(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	p := &Provider{cfg: cfg, prop: NewPropagator()}
	if cfg.Disabled {
		return p, nil
	}
	sampler, _ := cfg.sampler()
	res := resource.Default()
	if cfg.ServiceName != "" {
		var err error
		if res, err = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName(cfg.ServiceName))); err != nil {
			return nil, fmt.Errorf("tracing: build resource: %w", err)
		}
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sampler), sdktrace.WithResource(res)}
	exp := cfg.Exporter
	if exp == nil && cfg.Endpoint != "" {
		var err error
		if exp, err = newOTLPExporter(ctx, cfg); err != nil {
			return nil, err
		}
	}
	if exp != nil {
		p.bsp = newBatchProcessor(exp, cfg.Logger, cfg.QueueSize, cfg.BatchSize, cfg.BatchTimeout, cfg.ExportTimeout)
		opts = append(opts, sdktrace.WithSpanProcessor(p.bsp))
		if err := p.registerMetrics(); err != nil {
			cfg.Logger.Warn("tracing: dropped-span metrics are unavailable", "err", err)
		}
	} else {
		cfg.Logger.Info("tracing: OTEL_EXPORTER_OTLP_ENDPOINT is not set, so traces are not exported (trace context is still propagated); set it to e.g. http://127.0.0.1:4318 to send spans to Jaeger",
			"service", cfg.ServiceName)
	}
	p.tp = sdktrace.NewTracerProvider(opts...)
	mopts := []Opt{WithTracerProvider(p.tp), WithPropagators(p.prop)}
	if strings.HasPrefix(cfg.Sampler, "parentbased_") {
		mopts = append(mopts, withParentBasedSampler())
	}
	if cfg.dropsRoots() {
		mopts = append(mopts, withRootsDropped())
	}
	if u, _ := cfg.unsampledHeaders(); u != UnsampledAll {
		mopts = append(mopts, WithUnsampledHeaders(u))
	}
	p.msg = NewMessaging(mopts...)
	return p, nil
}

func newOTLPExporter(ctx context.Context, cfg Config) (sdktrace.SpanExporter, error) {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if cfg.Protocol == ProtocolGRPC {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.Endpoint), otlptracegrpc.WithTimeout(cfg.ExportTimeout))
	} else {
		u, _ := url.Parse(cfg.Endpoint)
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()), otlptracehttp.WithTimeout(cfg.ExportTimeout))
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: create OTLP exporter for %s: %w", cfg.Endpoint, err)
	}
	return exp, nil
}

func (p *Provider) registerMetrics() error {
	m := p.cfg.MeterProvider.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	dropped, err := m.Int64ObservableCounter(MetricDroppedSpans, metric.WithUnit("{span}"),
		metric.WithDescription("Sampled spans dropped because the export queue was full."))
	if err != nil {
		return err
	}
	failed, err := m.Int64ObservableCounter(MetricFailedSpans, metric.WithUnit("{span}"),
		metric.WithDescription("Spans the exporter failed to deliver."))
	if err != nil {
		return err
	}
	p.reg, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		o.ObserveInt64(dropped, int64(p.bsp.dropped.Load()))
		o.ObserveInt64(failed, int64(p.bsp.failed.Load()))
		return nil
	}, dropped, failed)
	return err
}

// Enabled reports whether tracing is on. When it is false, give the event
// runtime a nil Tracer so it installs no hooks.
func (p *Provider) Enabled() bool { return p.tp != nil }

// Exporting reports whether spans are exported anywhere.
func (p *Provider) Exporting() bool { return p.bsp != nil }

// TracerProvider returns the provider to start spans from; a no-op one when
// tracing is disabled.
func (p *Provider) TracerProvider() trace.TracerProvider {
	if p.tp == nil {
		return noop.NewTracerProvider()
	}
	return p.tp
}

// Propagator returns [NewPropagator]'s propagator.
func (p *Provider) Propagator() propagation.TextMapPropagator { return p.prop }

// Messaging returns the Provider's messaging hooks, or nil when tracing is
// disabled. Check for nil before storing it in an interface.
func (p *Provider) Messaging() *Messaging { return p.msg }

// SetGlobal installs the Provider's TracerProvider and propagator as the
// OpenTelemetry globals, for libraries that only use the globals.
func (p *Provider) SetGlobal() {
	otel.SetTracerProvider(p.TracerProvider())
	otel.SetTextMapPropagator(p.prop)
}

// DroppedSpans returns how many sampled spans were dropped because the
// export queue was full; the same number MetricDroppedSpans reports.
func (p *Provider) DroppedSpans() uint64 {
	if p.bsp == nil {
		return 0
	}
	return p.bsp.dropped.Load()
}

// FailedSpans returns how many spans the exporter failed to deliver (an
// export call returned an error, after the exporter's own retries, or ran
// past ExportTimeout); the same number MetricFailedSpans reports. Failed
// spans are not exported again.
func (p *Provider) FailedSpans() uint64 {
	if p.bsp == nil {
		return 0
	}
	return p.bsp.failed.Load()
}

// ExportedSpans returns how many spans the exporter accepted.
func (p *Provider) ExportedSpans() uint64 {
	if p.bsp == nil {
		return 0
	}
	return p.bsp.exported.Load()
}

// ForceFlush exports every ended span now. It returns ctx's error if ctx
// ends first.
func (p *Provider) ForceFlush(ctx context.Context) error {
	if p.tp == nil {
		return nil
	}
	return p.tp.ForceFlush(ctx)
}

// Shutdown flushes queued spans and stops exporting; spans ended afterwards
// are dropped and counted. It is safe to call more than once and
// concurrently; later calls return the first call's result.
func (p *Provider) Shutdown(ctx context.Context) error {
	if p.tp == nil {
		return nil
	}
	p.shutOnce.Do(func() {
		p.shutErr = p.tp.Shutdown(ctx)
		if p.reg != nil {
			p.shutErr = errors.Join(p.shutErr, p.reg.Unregister())
		}
	})
	return p.shutErr
}
