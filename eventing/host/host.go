package host

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"
	"go.opentelemetry.io/otel/propagation"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/tracing"
)

// Host is everything a reference service runs on: its database (a SQLite
// file, or a schema in PostgreSQL shared by the service's replicas) with
// the runtime's inbox and outbox, the registry serde, tracing, a publisher,
// a router in the service's consumer group (which also relays the outbox) and a gin
// engine serving /healthz, /readyz and /metrics next to the service's own
// routes, and /debug/pprof behind the admin token (Admin). NewHost builds
// it; register handlers on Router and routes on Engine or Admin, then Run.
type Host struct {
	Config  Config
	Log     *slog.Logger
	DB      *sql.DB
	Store   *eventing.Store
	Serde   *serde.Serde
	Tracing *tracing.Provider
	Pub     *eventing.Publisher
	// Router also runs the outbox relay (WithInbox + WithPublisher): the
	// state change and its events commit together, the relay publishes
	// them after the commit.
	Router  *eventing.Router
	Metrics *eventing.Metrics
	Prom    *prometheus.Registry
	Engine  *gin.Engine
	// Admin is the part of Engine behind RequireAdmin(Config.AdminToken):
	// /debug/pprof and the service's AdminRoutes. Without a token every
	// route on it answers 403.
	Admin *gin.RouterGroup
	// Registry is the schema registry client the serde uses.
	Registry *sr.Client

	prop   propagation.TextMapPropagator
	closed []func()
}

// HostOpts are the optional parts of NewHost.
type HostOpts struct {
	// DDL creates the service's own tables on SQLite (CREATE ... IF NOT
	// EXISTS). A service that runs on PostgreSQL too creates them with
	// eventing.Migrate in its store's constructor instead; NewHost refuses
	// a DDL with Config.DatabaseURL.
	DDL string
	// SharedRows says the service's handlers write rows that events on
	// different partitions share (the inventory's stock per SKU). On
	// PostgreSQL, where partitions are handled in parallel on their own
	// connections and by several replicas, a batch transaction holds such
	// a row's lock for the whole batch, and two batches taking the same
	// rows in different orders deadlock; so there the service's
	// transactions run one at a time across its replicas
	// (eventing.SerialTransactions). SQLite, with its one writer, runs them
	// one at a time anyway.
	SharedRows bool
	// LogOutput receives JSON logs; default os.Stderr.
	LogOutput io.Writer
	// Concurrency is how many partitions the router handles at once;
	// default 3 (the manifest's partition count).
	Concurrency int
	// OnPublished, when set, is called after the broker acknowledged each
	// record the service produced (the relay's outbox rows), with the
	// record's partition and offset filled in. It runs on the producer's
	// callback path: hand the work to another goroutine.
	OnPublished func(r *kgo.Record)
}

// PostgresBatchTransactions is how many records of one partition share a
// batch transaction on PostgreSQL (eventing.BatchTransactions), fewer than
// on SQLite: a batch holds the row locks its records take (an order's row,
// the inventory's consumer-group lock) until it commits, and replicas
// wait for them. Polls at saturation bring fewer records than this per
// partition, so it seldom cuts a batch.
const PostgresBatchTransactions = 50

// NewHost connects a service: it opens its database, sets up tracing from
// the OTEL_* environment, and creates the serde, publisher, router and
// relay. It does not wait for the broker or the registry (see /readyz).
func NewHost(ctx context.Context, cfg Config, o HostOpts) (_ *Host, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if o.LogOutput == nil {
		o.LogOutput = os.Stderr
	}
	if o.Concurrency == 0 {
		o.Concurrency = 3
	}
	// h is not the named result: the error returns below must not set it
	// to nil before the deferred Close (and the closers that use h) run.
	h := &Host{Config: cfg}
	defer func() {
		if err != nil {
			h.Close()
		}
	}()
	h.Log = slog.New(tracing.NewLogHandler(slog.NewJSONHandler(o.LogOutput, nil))).With("service", cfg.Service)

	tc := tracing.ConfigFromEnv()
	if tc.ServiceName == "" {
		tc.ServiceName = cfg.Service
	}
	tc.Logger = slog.New(tracing.NewLogHandler(slog.NewJSONHandler(o.LogOutput, nil)))
	if h.Tracing, err = tracing.Setup(ctx, tc); err != nil {
		return nil, fmt.Errorf("host: tracing: %w", err)
	}
	h.closed = append(h.closed, func() {
		c, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Tracing.Shutdown(c)
	})
	h.prop = h.Tracing.Propagator()

	batch := eventing.DefaultBatchTransactions
	if cfg.DatabaseURL != "" {
		if o.DDL != "" {
			return nil, fmt.Errorf("%w: HostOpts.DDL is SQLite DDL: on PostgreSQL create the service's tables with eventing.Migrate", ErrConfig)
		}
		if h.DB, err = eventing.OpenPostgres(ctx, cfg.DatabaseURL, cfg.DatabaseSchema); err != nil {
			return nil, fmt.Errorf("host: CONTRAIL_DATABASE_URL: %w", err)
		}
		batch = PostgresBatchTransactions
	} else if h.DB, err = statedb.OpenDB(ctx, cfg.DBPath(), o.DDL, statedb.WithDurability(cfg.Durability)); err != nil {
		return nil, err
	}
	h.closed = append(h.closed, func() { h.DB.Close() })
	if h.Store, err = eventing.NewStore(ctx, h.DB); err != nil {
		return nil, err
	}

	cl, _, err := regclient.New(cfg.RegistryURL, regclient.WithCredentials(cfg.RegistryUser, cfg.RegistryPassword))
	if err != nil {
		return nil, fmt.Errorf("host: SCHEMA_REGISTRY_URL: %w", err)
	}
	if v, _ := strconv.ParseBool(os.Getenv("CONTRAIL_REGISTER_SCHEMAS")); v {
		// Against a fresh Redpanda or Confluent registry: register the
		// repository's schemas (shared types first) before serving.
		set, err := schemas.Default()
		if err != nil {
			return nil, fmt.Errorf("host: embedded schemas: %w", err)
		}
		if _, err := registry.Push(ctx, cl, set, false, nil); err != nil {
			return nil, fmt.Errorf("%w (CONTRAIL_REGISTER_SCHEMAS=true; is SCHEMA_REGISTRY_URL right?)", err)
		}
	}
	autoReg := true
	if v := os.Getenv("CONTRAIL_AUTO_REGISTER"); v != "" {
		autoReg, _ = strconv.ParseBool(v)
	}
	if h.Serde, err = serde.New(cl, serde.AutoRegister(autoReg)); err != nil {
		return nil, fmt.Errorf("host: serde: %w", err)
	}

	h.Prom = prometheus.NewRegistry()
	h.Prom.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if h.Metrics, err = eventing.NewMetrics(h.Prom); err != nil {
		return nil, err
	}
	kopts, err := cfg.KafkaOpts()
	if err != nil {
		return nil, err
	}
	hooks, err := newClientHooks(h.Prom)
	if err != nil {
		return nil, err
	}
	kopts = append(kopts, kgo.ClientID("contrail-"+cfg.Service), kgo.WithHooks(hooks))
	common := []eventing.Opt{eventing.Brokers(cfg.Brokers...), eventing.ClientOpts(kopts...), eventing.WithCodec(h.Serde),
		eventing.WithLogger(h.Log), eventing.WithMetrics(h.Metrics)}
	if m := h.Tracing.Messaging(); m != nil || o.OnPublished != nil {
		t := hookTracer{prop: h.prop, onPublished: o.OnPublished}
		if m != nil {
			t.inner = m
		}
		common = append(common, eventing.WithTracer(t))
	}
	popts := make([]eventing.PublisherOpt, 0, len(common))
	ropts := make([]eventing.RouterOpt, 0, len(common)+4)
	for _, c := range common {
		popts = append(popts, c)
		ropts = append(ropts, c)
	}
	if h.Pub, err = eventing.NewPublisher(popts...); err != nil {
		return nil, fmt.Errorf("host: publisher: %w", err)
	}
	h.closed = append(h.closed, h.Pub.Close)
	ropts = append(ropts, eventing.Group(cfg.Group), eventing.WithInbox(h.Store), eventing.WithPublisher(h.Pub),
		eventing.Concurrency(o.Concurrency), eventing.CommitInterval(200*time.Millisecond), eventing.BatchTransactions(batch))
	if o.SharedRows {
		ropts = append(ropts, eventing.SerialTransactions())
	}
	if h.Router, err = eventing.NewRouter(ropts...); err != nil {
		return nil, fmt.Errorf("host: router: %w", err)
	}
	h.Registry = cl

	gin.SetMode(gin.ReleaseMode)
	h.Engine = gin.New()
	h.Engine.Use(gin.Recovery(), h.Tracing.GinMiddleware(cfg.Service))
	health := eventing.HealthHandler(map[string]eventing.ReadyCheck{
		"database":  h.DB.PingContext,
		"publisher": h.Pub.Ready,
		"router":    h.Router.Ready,
	})
	h.Engine.GET("/healthz", gin.WrapH(health))
	h.Engine.GET("/readyz", gin.WrapH(health))
	h.Engine.GET("/metrics", gin.WrapH(promhttp.HandlerFor(h.Prom, promhttp.HandlerOpts{})))
	// CPU and heap profiles for the benchmark and for operators: they show
	// the service's internals and cost CPU, so only with the admin token.
	h.Admin = h.Engine.Group("/", RequireAdmin(cfg.AdminToken))
	h.Admin.GET("/debug/pprof/*name", gin.WrapH(pprofMux()))
	return h, nil
}

// pprofMux serves net/http/pprof's handlers under /debug/pprof/ on a mux of
// its own (importing the package also registers them on
// http.DefaultServeMux, which nothing here serves).
func pprofMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index) // and every named profile: heap, goroutine, ...
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// RequireAdmin returns gin middleware for the admin API: it lets a request
// through only with the header "Authorization: Bearer <token>" (the scheme
// in any case). A missing or wrong token answers 401 with a
// WWW-Authenticate challenge; with token empty the admin API is off and
// every request answers 403 saying how to turn it on. Both answers are
// {"error": "..."}. The comparison takes the same time whatever token was
// sent. The handler is safe for concurrent use.
func RequireAdmin(token string) gin.HandlerFunc {
	if token == "" {
		return func(c *gin.Context) {
			c.AbortWithStatusJSON(http.StatusForbidden, gin.H{"error": "the admin API (listing orders and payments, /debug/pprof) is off: " +
				"start the service with CONTRAIL_ADMIN_TOKEN set and send it as \"Authorization: Bearer <token>\" " +
				"(contrail up generates one per run; see docs/operations.md)"})
		}
	}
	want := sha256.Sum256([]byte(token))
	return func(c *gin.Context) {
		scheme, got, _ := strings.Cut(c.GetHeader("Authorization"), " ")
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(sum[:], want[:]) != 1 {
			c.Header("WWW-Authenticate", `Bearer realm="contrail-admin"`)
			c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": "admin endpoint: send the service's CONTRAIL_ADMIN_TOKEN as \"Authorization: Bearer <token>\""})
			return
		}
		c.Next()
	}
}

// Close releases everything NewHost opened, in reverse order.
func (h *Host) Close() {
	for i := len(h.closed) - 1; i >= 0; i-- {
		h.closed[i]()
	}
	h.closed = nil
}

// Outbox returns an Emitter that stores each domain event, converted by
// convert to a generated event, in the runtime's outbox inside the
// caller's transaction, with the caller's trace context in the record
// headers so the relay's send span continues the trace. It is a
// statedb.Preparer: Prepare does the conversion and encoding ahead of the
// transaction.
func (h *Host) Outbox(convert func(ev any) (events.Type, any, error)) statedb.Emitter {
	return outbox{h: h, convert: convert}
}

// outbox is Host.Outbox's Emitter.
type outbox struct {
	h       *Host
	convert func(ev any) (events.Type, any, error)
}

func (o outbox) Emit(ctx context.Context, tx *sql.Tx, ev any) error {
	p, err := o.Prepare(ctx, ev)
	if err != nil {
		return err
	}
	return p.Store(ctx, tx)
}

func (o outbox) Prepare(ctx context.Context, ev any) (statedb.Prepared, error) {
	t, v, err := o.convert(ev)
	if err != nil {
		return nil, err
	}
	r, err := o.h.Pub.Record(ctx, t, v)
	if err != nil {
		return nil, err
	}
	if o.h.prop != nil {
		o.h.prop.Inject(ctx, tracing.RecordCarrier(r))
	}
	store := o.h.Store
	return statedb.PreparedFunc(func(ctx context.Context, tx *sql.Tx) error { return store.Enqueue(ctx, tx, r) }), nil
}

// Run serves HTTP on Config.HTTPAddr and runs the router (and with it the
// outbox relay) until ctx ends or one of them fails, then shuts down: the
// router drains, commits and flushes the outbox, HTTP closes, and Close
// releases the rest.
func (h *Host) Run(ctx context.Context) error {
	defer h.Close()
	ln, err := net.Listen("tcp", h.Config.HTTPAddr)
	if err != nil {
		return fmt.Errorf("host: listen on %s (set CONTRAIL_HTTP_ADDR): %w", h.Config.HTTPAddr, err)
	}
	l := h.Config.HTTP
	srv := &http.Server{Handler: h.Engine, ReadHeaderTimeout: l.ReadHeaderTimeout, ReadTimeout: l.ReadTimeout,
		WriteTimeout: l.WriteTimeout, IdleTimeout: l.IdleTimeout, MaxHeaderBytes: l.MaxHeaderBytes}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 2)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("host: http: %w", err)
			return
		}
		errc <- nil
	}()
	go func() { errc <- h.Router.Run(ctx) }()
	h.Log.Info("service started", "http", ln.Addr().String(), "brokers", h.Config.Brokers, "group", h.Config.Group, "db", h.Config.Database(),
		"instance", h.Config.InstanceID,
		"admin_api", h.Config.AdminToken != "")
	var first error
	n := 2
	select {
	case <-ctx.Done():
	case first = <-errc:
		n--
		if first != nil {
			h.Log.Error("service part failed; stopping", "err", first)
		}
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	// Wait for the other part (the one that returned already sent).
	for i := 0; i < n; i++ {
		select {
		case err := <-errc:
			if first == nil && err != nil && !errors.Is(err, context.Canceled) {
				first = err
			}
		case <-time.After(15 * time.Second):
			i = n
		}
	}
	h.Log.Info("service stopped")
	return first
}

// hookTracer wraps the runtime's tracing hooks (inner, nil when tracing is
// off) for two things the runtime does not do: it continues, on the relay's
// send span, the trace that was current when the event was written to the
// outbox (the Outbox emitter stores the trace headers in the record;
// eventing.Relay starts send spans from its own context, which would begin a
// new trace per relayed event), and it reports acknowledged records to
// onPublished.
type hookTracer struct {
	inner       eventing.Tracer
	prop        propagation.TextMapPropagator
	onPublished func(*kgo.Record)
}

func noopFinish(error) {}

func (t hookTracer) StartSend(ctx context.Context, r *kgo.Record) (context.Context, func(error)) {
	finish := noopFinish
	if t.inner != nil {
		// Only outbox rows carry a stored context; a fresh publish carries
		// none, and extracting from it would cost a string-based scan.
		if t.prop != nil && tracing.CarriesContext(r) {
			ctx = t.prop.Extract(ctx, tracing.RecordCarrier(r))
		}
		ctx, finish = t.inner.StartSend(ctx, r)
	}
	if t.onPublished == nil {
		return ctx, finish
	}
	return ctx, func(err error) {
		finish(err)
		if err == nil {
			t.onPublished(r)
		}
	}
}

func (t hookTracer) StartProcess(ctx context.Context, r *kgo.Record, group string) (context.Context, func(error)) {
	if t.inner == nil {
		return ctx, noopFinish
	}
	return t.inner.StartProcess(ctx, r, group)
}

func (t hookTracer) Retry(ctx context.Context, attempt int, err error) {
	if t.inner != nil {
		t.inner.Retry(ctx, attempt, err)
	}
}

func (t hookTracer) DeadLetter(ctx context.Context, dlqTopic string, err error) {
	if t.inner != nil {
		t.inner.DeadLetter(ctx, dlqTopic, err)
	}
}
