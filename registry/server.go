package registry

import (
	"bufio"
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/contrail-events/contrail/wire"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/bcrypt"
)

// DefaultMaxRequestBytes is the default request body limit (4 MiB).
const DefaultMaxRequestBytes = 4 << 20

// UsersEnv is the environment variable `contrail registry serve` reads basic
// auth users from: "alice:secret,bob:$2a$10$..." (bcrypt hashes allowed).
const UsersEnv = "CONTRAIL_REGISTRY_USERS"

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

// ParseUsers parses basic-auth users from "name:password" entries separated
// by commas or newlines; blank lines and lines starting with # are skipped.
func ParseUsers(s string) (map[string]string, error) {
	users := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(strings.ReplaceAll(s, ",", "\n")))
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		name, pass, ok := strings.Cut(t, ":")
		if !ok || name == "" || pass == "" {
			return nil, fmt.Errorf("registry: users entry %d: want name:password, got %q", line, t)
		}
		users[name] = pass
	}
	return users, nil
}

// LoadUsersFile reads basic-auth users from a file in ParseUsers' format.
func LoadUsersFile(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: read users file: %w", err)
	}
	users, err := ParseUsers(string(b))
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return users, nil
}

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

func (s *Server) auth(c *gin.Context) {
	if len(s.cfg.users) == 0 {
		return
	}
	user, pass, ok := c.Request.BasicAuth()
	if ok {
		if want, known := s.cfg.users[user]; known && passwordOK(want, pass) {
			return
		}
	}
	c.Header("WWW-Authenticate", `Basic realm="contrail-registry"`)
	s.fail(c, errf(http.StatusUnauthorized, CodeUnauthorized, "Unauthorized: send HTTP basic auth credentials of a configured user."))
}

func passwordOK(want, got string) bool {
	if strings.HasPrefix(want, "$2") {
		return bcrypt.CompareHashAndPassword([]byte(want), []byte(got)) == nil
	}
	return subtle.ConstantTimeCompare([]byte(want), []byte(got)) == 1
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

// bind decodes the JSON body into v; on failure it answers and returns false.
func (s *Server) bind(c *gin.Context, v any, hint string) bool {
	body, bp, ok := s.readBody(c)
	defer putBody(bp)
	return ok && s.decode(c, body, v, hint)
}

// bodyPool recycles request body buffers: handlers copy what they keep.
var bodyPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readBody reads the request body into a pooled buffer; the caller passes
// the returned holder to putBody when done (handlers copy what they keep).
func (s *Server) readBody(c *gin.Context) ([]byte, *[]byte, bool) {
	bp := bodyPool.Get().(*[]byte)
	buf := (*bp)[:0]
	if n := c.Request.ContentLength; n > int64(cap(buf)) {
		buf = make([]byte, 0, n)
	}
	var err error
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		var n int
		n, err = c.Request.Body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err != nil {
			break
		}
	}
	if err == io.EOF {
		err = nil
	}
	*bp = buf
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(c, errf(http.StatusRequestEntityTooLarge, CodeRequestTooLarge, "Request body exceeds the limit of %d bytes.", mbe.Limit))
			return nil, bp, false
		}
		s.fail(c, errf(http.StatusBadRequest, CodeBadRequest, "Cannot read request body: %v", err))
		return nil, bp, false
	}
	return buf, bp, true
}

// putBody recycles a buffer from readBody once the handler is done with it.
func putBody(bp *[]byte) {
	if cap(*bp) <= 1<<20 {
		*bp = (*bp)[:0]
		bodyPool.Put(bp)
	}
}

func (s *Server) decode(c *gin.Context, body []byte, v any, hint string) bool {
	if err := json.Unmarshal(body, v); err != nil {
		s.fail(c, errf(http.StatusBadRequest, CodeBadRequest, "Invalid JSON body: %v; send %s.", err, hint))
		return false
	}
	return true
}

func (s *Server) writable(c *gin.Context) bool {
	if s.cfg.readOnly {
		s.fail(c, errNotPermitted("This registry is read-only (started with --read-only)."))
		return false
	}
	return true
}

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

const schemaHint = `{"schema": "<Avro schema as a JSON string>", "references": [{"name", "subject", "version"}]}`

func (s *Server) routes(e *gin.Engine) {
	e.GET("/", func(c *gin.Context) { c.Data(http.StatusOK, wire.ContentTypeRegistry, []byte("{}")) })
	e.GET("/metrics", gin.WrapH(promhttp.HandlerFor(s.metrics, promhttp.HandlerOpts{})))

	e.GET("/subjects", func(c *gin.Context) {
		s.ok(c, s.reg.Subjects(c.Query("subjectPrefix"), qbool(c, "deleted"), qbool(c, "deletedOnly")))
	})
	e.POST("/subjects/:subject", s.lookup)
	e.DELETE("/subjects/:subject", s.deleteSubject)
	e.GET("/subjects/:subject/versions", func(c *gin.Context) {
		vs, err := s.reg.Versions(c.Param("subject"), qbool(c, "deleted"), qbool(c, "deletedOnly"))
		if err != nil {
			s.fail(c, err)
			return
		}
		s.ok(c, vs)
	})
	e.POST("/subjects/:subject/versions", s.register)
	e.GET("/subjects/:subject/versions/:version", func(c *gin.Context) {
		if sv, ok := s.getVersion(c); ok {
			s.ok(c, sv)
		}
	})
	e.GET("/subjects/:subject/versions/:version/schema", func(c *gin.Context) {
		if sv, ok := s.getVersion(c); ok {
			c.Data(http.StatusOK, wire.ContentTypeRegistry, []byte(sv.Schema))
		}
	})
	e.DELETE("/subjects/:subject/versions/:version", s.deleteVersion)
	e.GET("/subjects/:subject/versions/:version/referencedby", func(c *gin.Context) {
		v, ok := s.versionParam(c)
		if !ok {
			return
		}
		ids, err := s.reg.ReferencedBy(c.Param("subject"), v)
		if err != nil {
			s.fail(c, err)
			return
		}
		s.ok(c, ids)
	})

	e.GET("/schemas", func(c *gin.Context) {
		s.ok(c, s.reg.AllSchemas(c.Query("subjectPrefix"), qbool(c, "deleted"), qbool(c, "latestOnly")))
	})
	e.GET("/schemas/types", func(c *gin.Context) { s.ok(c, []string{schemaTypeAvro}) })
	e.GET("/schemas/ids/:id", func(c *gin.Context) {
		id, ok := s.idParam(c)
		if !ok {
			return
		}
		if qbool(c, "fetchMaxId") {
			rec, maxID, err := s.reg.schemaWithMaxID(id)
			if err != nil {
				s.fail(c, err)
				return
			}
			s.ok(c, schemaByIDResponse{Schema: rec.Text, SchemaType: typeOut(rec.Type), References: rec.References, MaxID: &maxID})
			return
		}
		body, found := s.reg.schemaBody(id)
		if !found {
			s.fail(c, errSchemaNotFound("Schema %d not found", id))
			return
		}
		c.Data(http.StatusOK, wire.ContentTypeRegistry, body)
	})
	e.GET("/schemas/ids/:id/schema", func(c *gin.Context) {
		id, ok := s.idParam(c)
		if !ok {
			return
		}
		rec, err := s.reg.SchemaByID(id)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Data(http.StatusOK, wire.ContentTypeRegistry, []byte(rec.Text))
	})
	e.GET("/schemas/ids/:id/subjects", func(c *gin.Context) {
		id, ok := s.idParam(c)
		if !ok {
			return
		}
		svs, err := s.reg.SubjectVersionsOf(id, qbool(c, "deleted"))
		if err != nil {
			s.fail(c, err)
			return
		}
		out := []string{}
		for _, sv := range svs {
			if len(out) == 0 || out[len(out)-1] != sv.Subject {
				out = append(out, sv.Subject)
			}
		}
		s.ok(c, out)
	})
	e.GET("/schemas/ids/:id/versions", func(c *gin.Context) {
		id, ok := s.idParam(c)
		if !ok {
			return
		}
		svs, err := s.reg.SubjectVersionsOf(id, qbool(c, "deleted"))
		if err != nil {
			s.fail(c, err)
			return
		}
		type pair struct {
			Subject string `json:"subject"`
			Version int    `json:"version"`
		}
		out := make([]pair, len(svs))
		for i, sv := range svs {
			out[i] = pair{sv.Subject, sv.Version}
		}
		s.ok(c, out)
	})

	e.POST("/compatibility/subjects/:subject/versions/:version", func(c *gin.Context) {
		v, ok := s.versionParam(c)
		if ok {
			s.compatibility(c, v, false)
		}
	})
	e.POST("/compatibility/subjects/:subject/versions", func(c *gin.Context) { s.compatibility(c, 0, true) })

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

func (s *Server) getVersion(c *gin.Context) (SubjectVersion, bool) {
	v, ok := s.versionParam(c)
	if !ok {
		return SubjectVersion{}, false
	}
	sv, err := s.reg.Version(c.Param("subject"), v, qbool(c, "deleted"))
	if err != nil {
		s.fail(c, err)
		return SubjectVersion{}, false
	}
	return sv, true
}

func (s *Server) register(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	body, bp, ok := s.readBody(c)
	defer putBody(bp)
	if !ok {
		return
	}
	subject := c.Param("subject")
	plain := c.Request.URL.RawQuery == ""
	if plain {
		if id, hit := s.reg.cachedRegister(subject, body); hit {
			s.writeID(c, id)
			return
		}
	}
	var req SchemaRequest
	if !s.decode(c, body, &req, schemaHint) {
		return
	}
	id, gen, err := s.reg.register(c.Request.Context(), subject, req, qbool(c, "normalize"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if plain && req.ID == 0 && req.Version == 0 {
		s.reg.rememberRegister(subject, body, id, gen)
	}
	s.writeID(c, id)
}

func (s *Server) writeID(c *gin.Context, id int) {
	body := strconv.AppendInt(append(make([]byte, 0, 24), `{"id":`...), int64(id), 10)
	c.Data(http.StatusOK, wire.ContentTypeRegistry, append(body, '}'))
}

func (s *Server) lookup(c *gin.Context) {
	var req SchemaRequest
	if !s.bind(c, &req, schemaHint) {
		return
	}
	sv, err := s.reg.Lookup(c.Param("subject"), req, qbool(c, "normalize"), qbool(c, "deleted"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, sv)
}

func (s *Server) deleteSubject(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	vs, err := s.reg.DeleteSubject(c.Request.Context(), c.Param("subject"), qbool(c, "permanent"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, vs)
}

func (s *Server) deleteVersion(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	v, ok := s.versionParam(c)
	if !ok {
		return
	}
	got, err := s.reg.DeleteVersion(c.Request.Context(), c.Param("subject"), v, qbool(c, "permanent"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, got)
}

func (s *Server) compatibility(c *gin.Context, version int, all bool) {
	var req SchemaRequest
	if !s.bind(c, &req, schemaHint) {
		return
	}
	res, err := s.reg.CheckCompatibility(c.Param("subject"), version, all, req, qbool(c, "normalize"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if !qbool(c, "verbose") {
		s.ok(c, struct {
			IsCompatible bool `json:"is_compatible"`
		}{res.Compatible})
		return
	}
	// verbose always carries the array, even when empty.
	msgs := make([]string, 0, len(res.Findings))
	for _, f := range res.Findings {
		msgs = append(msgs, fmt.Sprintf("%s: %s", f.Rule, f.Message))
	}
	s.ok(c, struct {
		IsCompatible bool     `json:"is_compatible"`
		Messages     []string `json:"messages"`
	}{res.Compatible, msgs})
}

func (s *Server) getConfig(c *gin.Context) {
	l, err := s.reg.Config(c.Param("subject"), qbool(c, "defaultToGlobal"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, map[string]string{"compatibilityLevel": string(l)})
}

func (s *Server) putConfig(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	var req struct {
		Compatibility string `json:"compatibility"`
	}
	if !s.bind(c, &req, `{"compatibility": "BACKWARD"}`) {
		return
	}
	l, err := s.reg.SetConfig(c.Request.Context(), c.Param("subject"), req.Compatibility)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, map[string]string{"compatibility": string(l)})
}

func (s *Server) deleteConfig(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	l, err := s.reg.DeleteConfig(c.Request.Context(), c.Param("subject"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, map[string]string{"compatibility": string(l)})
}

func (s *Server) getMode(c *gin.Context) {
	m, err := s.reg.Mode(c.Param("subject"), qbool(c, "defaultToGlobal"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, map[string]string{"mode": m})
}

func (s *Server) putMode(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	var req struct {
		Mode string `json:"mode"`
	}
	if !s.bind(c, &req, `{"mode": "READWRITE"}`) {
		return
	}
	m, err := s.reg.SetMode(c.Request.Context(), c.Param("subject"), req.Mode, qbool(c, "force"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, map[string]string{"mode": m})
}

func (s *Server) deleteMode(c *gin.Context) {
	if !s.writable(c) {
		return
	}
	m, err := s.reg.DeleteMode(c.Request.Context(), c.Param("subject"))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ok(c, map[string]string{"mode": m})
}
