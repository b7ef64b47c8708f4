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
	"golang.org/x/crypto/bcrypt"
)

// DefaultMaxRequestBytes is the default request body limit (4 MiB).
const DefaultMaxRequestBytes = 4 << 20

// Opt configures a Server; see NewServer.
type Opt interface{ apply(*serverConfig) }

type serverOpt func(*serverConfig)

func (f serverOpt) apply(c *serverConfig) { f(c) }

// Defaults of the auth failure limit (WithAuthFailureLimit): a client
// address may fail basic auth DefaultAuthFailureBurst times in a row, then
// once per 1/DefaultAuthFailuresPerSecond seconds.
const (
	DefaultAuthFailuresPerSecond = 1.0
	DefaultAuthFailureBurst      = 10
)

type serverConfig struct {
	users        map[string]string
	maxBytes     int64
	readOnly     bool
	authFailures rateLimit
	collectors   []prometheus.Collector
}

func serverDefaults() serverConfig {
	return serverConfig{
		maxBytes:     DefaultMaxRequestBytes,
		authFailures: rateLimit{perSecond: DefaultAuthFailuresPerSecond, burst: DefaultAuthFailureBurst},
	}
}

func (c *serverConfig) validate() error {
	if c.maxBytes <= 0 {
		return fmt.Errorf("registry: max request bytes must be positive, got %d", c.maxBytes)
	}
	for u, pw := range c.users {
		if u == "" || strings.Contains(u, ":") {
			return fmt.Errorf("registry: invalid basic auth user name %q", u)
		}
		if isBcrypt(pw) {
			if _, err := bcrypt.Cost([]byte(pw)); err != nil {
				return fmt.Errorf("registry: basic auth user %q: the password starts with $2, which marks a bcrypt hash, but it is not a valid one", u)
			}
		}
	}
	return c.authFailures.validate()
}

// WithBasicAuth requires HTTP basic auth on every request; users maps a name
// to a password, plain or a bcrypt hash ("$2a$..."). Default: no auth. A nil
// or empty map keeps auth off. Hash every password or none: an unknown user
// is checked against a dummy bcrypt hash, so it takes as long as a bcrypt
// user, but a plain-password user answers faster than both.
func WithBasicAuth(users map[string]string) Opt {
	return serverOpt(func(c *serverConfig) { c.users = users })
}

// WithAuthFailureLimit limits failed basic-auth attempts per client address
// (IPv4 address, IPv6 /64; the peer's, never X-Forwarded-For) with a token
// bucket: burst failures in a row, refilled at perSecond. A client out of
// tokens gets HTTP 429 (error code 429) with Retry-After, before its
// credentials are checked, even if they are right. perSecond 0 turns the
// limit off. Default DefaultAuthFailuresPerSecond and
// DefaultAuthFailureBurst; only used with WithBasicAuth.
func WithAuthFailureLimit(perSecond float64, burst int) Opt {
	return serverOpt(func(c *serverConfig) { c.authFailures = rateLimit{perSecond: perSecond, burst: burst} })
}

// WithCollectors adds metrics to the server's /metrics (the replica's
// role and lag: Replica.Collectors). Default none.
func WithCollectors(cs ...prometheus.Collector) Opt {
	return serverOpt(func(c *serverConfig) { c.collectors = append(c.collectors, cs...) })
}

// WithMaxRequestBytes limits request bodies: a larger schema request
// (register, lookup, compatibility) gets HTTP 422 with error code 42209,
// any other request HTTP 413. Default DefaultMaxRequestBytes.
func WithMaxRequestBytes(n int64) Opt { return serverOpt(func(c *serverConfig) { c.maxBytes = n }) }

// WithReadOnly refuses every write (42205) whatever the stored mode says:
// for a replica or a registry exposed to readers only. Default false.
func WithReadOnly(on bool) Opt { return serverOpt(func(c *serverConfig) { c.readOnly = on }) }

// Server is the registry's HTTP API on gin. It implements http.Handler and is
// safe for concurrent use.
type Server struct {
	reg     *Registry
	cfg     serverConfig
	authn   *authenticator // nil: no auth
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
	if len(cfg.users) > 0 {
		s.authn = newAuthenticator(cfg.users, cfg.authFailures)
	}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "contrail_registry_requests_total",
		Help: "HTTP requests by method (OTHER for non-standard ones), route pattern (unmatched for no route) and status code.",
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
	s.metrics.MustRegister(cfg.collectors...)

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
	e.GET("/subjects/:subject/metadata", s.latestWithMetadata)

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

	e.GET("/contexts", s.listContexts)
	e.DELETE("/contexts/:context", s.deleteContext)

	e.GET("/v1/metadata/id", s.metadataID)
	e.GET("/v1/metadata/version", s.metadataVersion)
}

// ServeHTTP implements http.Handler. Before routing it rewrites the request
// as Confluent's pre-matching filters do: /contexts/{context}/... paths to
// context-qualified subjects (ContextFilter), then subjects that have an
// alias to the aliased subject (AliasFilter).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := s.rewrite(r); err != nil {
		var e *Error
		errors.As(err, &e)
		b, _ := marshal(e)
		w.Header().Set("Content-Type", wire.ContentTypeRegistry)
		w.WriteHeader(e.Status)
		w.Write(b)
		return
	}
	// gin unescapes path values from RawPath with url.QueryUnescape, which
	// reads '+' as a space; in a path '+' is a plus sign, so escape it.
	if strings.Contains(r.URL.RawPath, "+") {
		r.URL.RawPath = strings.ReplaceAll(r.URL.RawPath, "+", "%2B")
	}
	s.engine.ServeHTTP(w, r)
}

// ServeConfig holds the http.Server timeouts Serve applies: they cut off
// clients that send a request, or read an answer, too slowly to be anything
// but stuck or hostile. A zero field takes its default.
type ServeConfig struct {
	// ReadHeaderTimeout bounds reading a request's headers. Default 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included: at the
	// default 4 MiB body limit, 60s asks for about 70 KB/s. Default 60s.
	ReadTimeout time.Duration
	// WriteTimeout bounds the time from the end of the request headers to
	// the end of the answer, handling included. Default 60s.
	WriteTimeout time.Duration
	// IdleTimeout bounds how long a keep-alive connection may wait for its
	// next request. Default 120s.
	IdleTimeout time.Duration
}

// Defaults of ServeConfig.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultReadTimeout       = 60 * time.Second
	DefaultWriteTimeout      = 60 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
)

func (c *ServeConfig) setDefaults() {
	for _, d := range []struct {
		field *time.Duration
		def   time.Duration
	}{
		{&c.ReadHeaderTimeout, DefaultReadHeaderTimeout},
		{&c.ReadTimeout, DefaultReadTimeout},
		{&c.WriteTimeout, DefaultWriteTimeout},
		{&c.IdleTimeout, DefaultIdleTimeout},
	} {
		if *d.field == 0 {
			*d.field = d.def
		}
	}
}

// Validate reports a negative timeout; zero means the default.
func (c ServeConfig) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"read header timeout", c.ReadHeaderTimeout},
		{"read timeout", c.ReadTimeout},
		{"write timeout", c.WriteTimeout},
		{"idle timeout", c.IdleTimeout},
	} {
		if d.v < 0 {
			return fmt.Errorf("registry: %s must not be negative, got %s", d.name, d.v)
		}
	}
	return nil
}

// Serve serves h on ln with c's timeouts until ctx is done, then shuts down
// gracefully (5s). It fails at once when c is invalid.
func (c ServeConfig) Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	if err := c.Validate(); err != nil {
		return err
	}
	c.setDefaults()
	hs := &http.Server{Handler: h, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout}
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

// Serve serves h on ln with the default ServeConfig until ctx is done, then
// shuts down gracefully (5s).
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	return ServeConfig{}.Serve(ctx, ln, h)
}

// knownMethods are the methods the metrics name; any other is "OTHER", so
// a client inventing methods cannot add series.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true,
	http.MethodDelete: true, http.MethodConnect: true, http.MethodOptions: true, http.MethodTrace: true,
}

// observe counts and times every request by route pattern, not path, so
// subject names do not multiply the series, and by standard method only:
// it runs before auth, so its labels must not come from the client.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	method := c.Request.Method
	if !knownMethods[method] {
		method = "OTHER"
	}
	s.reqs.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Inc()
	s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

func (s *Server) limit(c *gin.Context) {
	if c.Request.ContentLength > s.cfg.maxBytes {
		s.tooLarge(c, c.Request.ContentLength)
		return
	}
	// net/http already stops a body at its Content-Length; only bodies of
	// unknown length need the reader that enforces the limit.
	if c.Request.ContentLength < 0 {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, s.cfg.maxBytes)
	}
}

// schemaRoutes are the routes whose body is a schema request.
var schemaRoutes = map[string]bool{
	"/subjects/:subject":                                 true,
	"/subjects/:subject/versions":                        true,
	"/compatibility/subjects/:subject/versions":          true,
	"/compatibility/subjects/:subject/versions/:version": true,
}

// tooLarge answers a body over the limit (of n bytes; -1 unknown): a schema
// request 422 with 42209 (Confluent's "schema too large"), anything else 413.
func (s *Server) tooLarge(c *gin.Context, n int64) {
	size := "Request body"
	if n >= 0 {
		size = fmt.Sprintf("Request body of %d bytes", n)
	}
	if schemaRoutes[c.FullPath()] && c.Request.Method == http.MethodPost {
		s.fail(c, errf(http.StatusUnprocessableEntity, CodeSchemaTooLarge,
			"Schema too large: %s exceeds the limit of %d bytes (--max-request-bytes).", strings.ToLower(size[:1])+size[1:], s.cfg.maxBytes))
		return
	}
	s.fail(c, errf(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "%s exceeds the limit of %d bytes (--max-request-bytes).", size, s.cfg.maxBytes))
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

// Page sizes of list endpoints, used when a request sends no limit (or
// limit <= 0, or one above the maximum), as Confluent's normalizeLimit does.
const (
	// SchemasPageLimit caps GET /schemas: Confluent's schema.search.default.limit
	// and schema.search.max.limit defaults.
	SchemasPageLimit = 1000
	// ListPageLimit caps the other paginated lists (subjects, versions, the
	// versions and subjects of an ID, contexts). Confluent makes these
	// configurable (subject.search.*, subject.version.search.*,
	// context.search.*); 20,000 keeps every list of a registry this size whole.
	ListPageLimit = 20000
)

// page applies Confluent's offset and limit query parameters to n items and
// returns the window [lo, hi). offset (default 0) skips items; a negative
// one counts as 0. limit (default -1) keeps at most limit items when
// 0 < limit <= pageMax, else pageMax. A value that is not an integer answers 404
// (error code 404), as JAX-RS does for an unconvertible query parameter;
// then page returns false.
func (s *Server) page(c *gin.Context, n, pageMax int) (lo, hi int, ok bool) {
	offset, limit := 0, -1
	for _, p := range []struct {
		name string
		v    *int
	}{{"offset", &offset}, {"limit", &limit}} {
		raw, given := c.GetQuery(p.name)
		if !given {
			continue
		}
		v, err := strconv.Atoi(raw)
		if err != nil {
			s.fail(c, errf(http.StatusNotFound, CodeRouteNotFound, "HTTP 404 Not Found: query parameter %s=%q is not an integer.", p.name, raw))
			return 0, 0, false
		}
		*p.v = v
	}
	if limit <= 0 || limit > pageMax {
		limit = pageMax
	}
	lo = min(max(offset, 0), n)
	hi = min(lo+limit, n)
	return lo, hi, true
}

func (s *Server) idParam(c *gin.Context) (int, bool) {
	id, err := strconv.Atoi(c.Param("id"))
	if err != nil || id < 0 {
		s.fail(c, errSchemaNotFound("Schema id %q not found: ids are non-negative integers.", c.Param("id")))
		return 0, false
	}
	return id, true
}
