package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/contrail-events/contrail/wire"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// DefaultMaxRequestBytes is the default request body limit (4 MiB).
const DefaultMaxRequestBytes = 4 << 20

// Opt configures a Server; see NewServer.
type Opt interface{ apply(*serverConfig) }

type serverOpt func(*serverConfig)

func (f serverOpt) apply(c *serverConfig) { f(c) }

type serverConfig struct {
	users    map[string]string
	maxBytes int64
	readOnly bool
}

func serverDefaults() serverConfig { return serverConfig{maxBytes: DefaultMaxRequestBytes} }

func (c *serverConfig) validate() error {
	if c.maxBytes <= 0 {
		return fmt.Errorf("registry: max request bytes must be positive, got %d", c.maxBytes)
	}
	for u := range c.users {
		if u == "" || strings.Contains(u, ":") {
			return fmt.Errorf("registry: invalid basic auth user name %q", u)
		}
	}
	return nil
}

// WithBasicAuth requires HTTP basic auth on every request; users maps a name
// to a password, plain or a bcrypt hash ("$2a$..."). Default: no auth. A nil
// or empty map keeps auth off.
func WithBasicAuth(users map[string]string) Opt {
	return serverOpt(func(c *serverConfig) { c.users = users })
}

// WithMaxRequestBytes limits request bodies; larger ones get HTTP 413.
// Default DefaultMaxRequestBytes.
func WithMaxRequestBytes(n int64) Opt { return serverOpt(func(c *serverConfig) { c.maxBytes = n }) }

// WithReadOnly refuses every write (42205) whatever the stored mode says:
// for a replica or a registry exposed to readers only. Default false.
func WithReadOnly(on bool) Opt { return serverOpt(func(c *serverConfig) { c.readOnly = on }) }

// Server is the registry's HTTP API on gin. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	reg     *Registry
	cfg     serverConfig
	engine  *gin.Engine
	metrics *prometheus.Registry
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// NewServer returns the HTTP API over reg. It fails when an option is invalid.
func NewServer(reg *Registry, opts ...Opt) (*Server, error) {
	if reg == nil {
		return nil, errors.New("registry: nil registry: use Open")
	}
	cfg := serverDefaults()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if gin.Mode() == gin.DebugMode {
		gin.SetMode(gin.ReleaseMode)
	}
	s := &Server{reg: reg, cfg: cfg, metrics: prometheus.NewRegistry()}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "contrail_registry_requests_total", Help: "HTTP requests by method, route and status code.",
	}, []string{"method", "route", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "contrail_registry_request_duration_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0001, .0005, .001, .005, .01, .05, .1, .5, 1},
	}, []string{"route"})
	s.metrics.MustRegister(s.reqs, s.latency,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "contrail_registry_schemas", Help: "Schemas stored (global IDs)."},
			func() float64 { return float64(reg.Stats().Schemas) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "contrail_registry_subjects", Help: "Subjects stored."},
			func() float64 { return float64(reg.Stats().Subjects) }),
		prometheus.NewGoCollector())

	e := gin.New()
	e.UseRawPath = true
	e.UnescapePathValues = true
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.Use(s.observe, gin.CustomRecoveryWithWriter(io.Discard, func(c *gin.Context, _ any) {
		s.fail(c, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "Internal server error; please report this input."})
	}), s.auth, s.limit)
	e.NoRoute(func(c *gin.Context) {
		s.fail(c, errf(http.StatusNotFound, CodeRouteNotFound, "HTTP 404 Not Found: no route %s %s; see the Confluent Schema Registry API.", c.Request.Method, c.Request.URL.Path))
	})
	e.NoMethod(func(c *gin.Context) {
		s.fail(c, errf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "HTTP 405 Method Not Allowed: %s %s.", c.Request.Method, c.Request.URL.Path))
	})
	s.routes(e)
	s.engine = e
	return s, nil
}

// routes is the whole REST API; the handlers live in http_<resource>.go.
func (s *Server) routes(e *gin.Engine) {
	e.GET("/", func(c *gin.Context) { c.Data(http.StatusOK, wire.ContentTypeRegistry, []byte("{}")) })
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})))

	e.GET("/subjects", s.listSubjects)
	e.POST("/subjects/:subject", s.lookup)
	e.DELETE("/subjects/:subject", s.deleteSubject)
	e.GET("/subjects/:subject/versions", s.listVersions)
	e.POST("/subjects/:subject/versions", s.register)
	e.GET("/subjects/:subject/versions/:version", s.getVersion)
	e.GET("/subjects/:subject/versions/:version/schema", s.getVersionSchema)
	e.DELETE("/subjects/:subject/versions/:version", s.deleteVersion)
	e.GET("/subjects/:subject/versions/:version/referencedby", s.referencedBy)

	e.GET("/schemas", s.listSchemas)
	e.GET("/schemas/types", s.schemaTypes)
	e.GET("/schemas/ids/:id", s.getSchema)
	e.GET("/schemas/ids/:id/schema", s.getSchemaText)
	e.GET("/schemas/ids/:id/subjects", s.getSchemaSubjects)
	e.GET("/schemas/ids/:id/versions", s.getSchemaVersions)

	e.POST("/compatibility/subjects/:subject/versions/:version", s.checkVersion)
	e.POST("/compatibility/subjects/:subject/versions", s.checkAllVersions)

	for _, path := range []string{"/config", "/config/:subject"} {
		e.GET(path, s.getConfig)
		e.PUT(path, s.putConfig)
		e.DELETE(path, s.deleteConfig)
	}
	for _, path := range []string{"/mode", "/mode/:subject"} {
		e.GET(path, s.getMode)
		e.PUT(path, s.putMode)
		e.DELETE(path, s.deleteMode)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Serve serves h on ln until ctx is done, then shuts down gracefully (5s).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("registry: serve: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			return fmt.Errorf("registry: shutdown: %w", err)
		}
		return nil
	}
}

// observe counts and times every request by route pattern, not path, so
// subject names do not multiply the series.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	s.reqs.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
	s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

func (s *Server) limit(c *gin.Context) {
	if c.Request.ContentLength > s.cfg.maxBytes {
		s.fail(c, errf(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "Request body of %d bytes exceeds the limit of %d bytes.", c.Request.ContentLength, s.cfg.maxBytes))
		return
	}
	// net/http already stops a body at its Content-Length; only bodies of
	// unknown length need the reader that enforces the limit.
	if c.Request.ContentLength < 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.maxBytes)
	}
}

// writable refuses a write on a server started read-only; on refusal it
// answers and returns false.
func (s *Server) writable(c *gin.Context) bool {
	if s.cfg.readOnly {
		s.fail(c, errNotPermitted("This registry is read-only (started with --read-only)."))
		return false
	}
	return true
}

// fail answers err in Confluent's error shape: an *Error anywhere in its
// chain gives the status and code, anything else is a store failure.
func (s *Server) fail(c *gin.Context, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = errStore(err)
	}
	b, _ := marshal(e)
	c.Abort()
	c.Data(e.Status, wire.ContentTypeRegistry, b)
}

// marshal is json.Marshal without HTML escaping: messages quote <, > and &.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func (s *Server) ok(c *gin.Context, v any) {
	b, err := marshal(v)
	if err != nil {
		s.fail(c, &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "encode response: " + err.Error()})
		return
	}
	c.Data(http.StatusOK, wire.ContentTypeRegistry, b)
}

// reply answers v, or err when it is not nil: the ending of most handlers.
func (s *Server) reply(c *gin.Context, v any, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, v)
}

// qbool reads a boolean query parameter; absent or unparsable is false, as
// on Confluent.
func qbool(c *gin.Context, name string) bool {
	v, _ := strconv.ParseBool(c.Query(name))
	return v
}

func (s *Server) versionParam(c *gin.Context) (int, bool) {
	v, err := ParseVersion(c.Param("version"))
	if err != nil {
		s.fail(c, err)
		return 0, false
	}
	return v, true
}

func (s *Server) idParam(c *gin.Context) (int, bool) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id < 0 {
		s.fail(c, errSchemaNotFound("Schema id %q not found: ids are non-negative integers.", c.Param("id")))
		return 0, false
	}
	return id, true
}
