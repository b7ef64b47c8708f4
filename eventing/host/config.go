package host

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/wire"
)

// Config is how one reference service finds its broker, registry, state and
// HTTP port. FromEnv fills it from the environment, so the same binary runs
// on the embedded stack (`contrail up`) and on Redpanda with only
// environment variables changed. The zero value is completed by
// SetDefaults; Validate reports what is wrong and how to fix it.
type Config struct {
	// Service is the service name ("order", "inventory", ...); it names the
	// consumer group, the SQLite file and the default OTEL_SERVICE_NAME.
	Service string
	// Brokers is the seed broker list. Env KAFKA_BROKERS, else
	// CONTRAIL_BROKERS (comma separated). Default 127.0.0.1:9092.
	Brokers []string
	// RegistryURL is the schema registry. Env SCHEMA_REGISTRY_URL.
	// Default http://127.0.0.1:8081.
	RegistryURL string
	// RegistryUser and RegistryPassword are optional basic-auth credentials,
	// env CONTRAIL_REGISTRY_USER and CONTRAIL_REGISTRY_PASSWORD, or the
	// alias SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO as "user:password"
	// (regclient.CredentialsFromEnv).
	RegistryUser, RegistryPassword string
	// DataDir holds the service's SQLite file <DataDir>/<Service>.db.
	// Env CONTRAIL_DATA_DIR. Default ./.contrail.
	DataDir string
	// Durability is the SQLite file's synchronous level: DurabilityNormal
	// survives a process kill, DurabilityFull (an fsync per commit) also a
	// power loss or kernel crash, at a cost. Env CONTRAIL_SQLITE_SYNC=normal|full
	// (any case). Default DurabilityNormal. Validate rejects other values.
	// Unused with DatabaseURL, where PostgreSQL's synchronous_commit decides.
	Durability statedb.Durability
	// DatabaseURL, when set, keeps the service's state (its own tables and
	// the runtime's inbox and outbox) in PostgreSQL instead of a SQLite
	// file, so several replicas of the service can share it:
	// postgres://user:password@host:5432/dbname?sslmode=disable. Every
	// replica of a service uses the same URL and DatabaseSchema. The URL's
	// own parameters go to the server (?synchronous_commit=off; the
	// default is on, see eventing.OpenPostgres). Env CONTRAIL_DATABASE_URL.
	// Default empty: SQLite in DataDir, with Durability.
	DatabaseURL string
	// DatabaseSchema is the PostgreSQL schema of the service's tables,
	// created if missing, so one database holds every service. Env
	// CONTRAIL_DATABASE_SCHEMA. Default "contrail_<Service>". Unused
	// without DatabaseURL.
	DatabaseSchema string
	// HTTPAddr is the listen address of /healthz, /readyz, /metrics (and the
	// service's API). Env CONTRAIL_HTTP_ADDR. Default: DefaultHTTPAddr(Service).
	HTTPAddr string
	// Group is the consumer group. Env CONTRAIL_GROUP. Default "contrail-<Service>".
	Group string
	// InstanceID is the static group membership id (group.instance.id): a
	// restarted instance with the same id takes its partitions back at once
	// instead of waiting for the dead member's session to time out. Every
	// replica of a service needs its own: two members with one id fence
	// each other out of the group. Env CONTRAIL_INSTANCE_ID; "none" turns
	// static membership off. Default "<Group>-<hostname>" (unique per
	// container; set it explicitly when running two replicas of one
	// service on one host, as `contrail up --replicas` does).
	InstanceID string

	// TLS enables TLS to the brokers. Env KAFKA_TLS=true, or implied by any
	// of the files below.
	TLS bool
	// TLSCAFile, TLSCertFile, TLSKeyFile: env KAFKA_TLS_CA_FILE,
	// KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE (PEM). Empty CA = system roots.
	TLSCAFile, TLSCertFile, TLSKeyFile string
	// TLSServerName overrides the verified host name. Env KAFKA_TLS_SERVER_NAME.
	TLSServerName string
	// SASLMechanism is SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN; empty disables
	// SASL. Env KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD.
	SASLMechanism, SASLUsername, SASLPassword string

	// AdminToken guards the admin API: /debug/pprof on every service and
	// the routes a Service declares in AdminRoutes (the order service's
	// GET /orders and /orders/count, the payment service's GET /payments),
	// which then need "Authorization: Bearer <AdminToken>". Env
	// CONTRAIL_ADMIN_TOKEN. Default empty: the admin API is off and answers
	// 403 saying how to turn it on. Validate rejects a token shorter than
	// MinAdminTokenLen.
	AdminToken string
	// HTTP bounds what one client can hold of the HTTP server; see
	// HTTPLimits for the variables and defaults.
	HTTP HTTPLimits
}

// MinAdminTokenLen is the shortest AdminToken Validate accepts.
const MinAdminTokenLen = 16

// HTTPLimits bound what one HTTP client can take of a service: how long it
// may take to send its headers and its whole request (a client trickling a
// body byte by byte holds a connection and a goroutine), how long a
// response may take, how long an idle keep-alive connection stays open,
// and how large the request headers may be. SetDefaults fills zero fields;
// FromEnv reads each from the environment as a Go duration ("30s") or a
// byte count, and Validate rejects values that are not positive.
type HTTPLimits struct {
	// ReadHeaderTimeout bounds reading the request line and headers.
	// Env CONTRAIL_HTTP_READ_HEADER_TIMEOUT. Default 5s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading the whole request, body included.
	// Env CONTRAIL_HTTP_READ_TIMEOUT. Default 30s.
	ReadTimeout time.Duration
	// WriteTimeout bounds a response, counted from the end of the request
	// headers; it also caps /debug/pprof/profile?seconds=. Env
	// CONTRAIL_HTTP_WRITE_TIMEOUT. Default 60s.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle for that long.
	// Env CONTRAIL_HTTP_IDLE_TIMEOUT. Default 120s.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request headers (the trace headers among
	// them end up in the service's events). Env
	// CONTRAIL_HTTP_MAX_HEADER_BYTES. Default 32768 (Go's own default is
	// 1 MiB).
	MaxHeaderBytes int
}

// setDefaults fills every zero field with its default.
func (l *HTTPLimits) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&l.ReadHeaderTimeout, 5*time.Second)
	def(&l.ReadTimeout, 30*time.Second)
	def(&l.WriteTimeout, 60*time.Second)
	def(&l.IdleTimeout, 120*time.Second)
	if l.MaxHeaderBytes == 0 {
		l.MaxHeaderBytes = 32 << 10
	}
}

// validate reports the first limit that is not positive, naming its
// environment variable.
func (l *HTTPLimits) validate() error {
	for _, d := range []struct {
		env string
		v   time.Duration
	}{
		{"CONTRAIL_HTTP_READ_HEADER_TIMEOUT", l.ReadHeaderTimeout}, {"CONTRAIL_HTTP_READ_TIMEOUT", l.ReadTimeout},
		{"CONTRAIL_HTTP_WRITE_TIMEOUT", l.WriteTimeout}, {"CONTRAIL_HTTP_IDLE_TIMEOUT", l.IdleTimeout},
	} {
		if d.v <= 0 {
			return fmt.Errorf("%w: %s must be a positive duration such as 30s", ErrConfig, d.env)
		}
	}
	if l.MaxHeaderBytes <= 0 {
		return fmt.Errorf("%w: CONTRAIL_HTTP_MAX_HEADER_BYTES must be a positive number of bytes such as 32768", ErrConfig)
	}
	return nil
}

// fromEnv reads the limits from getenv. A value that does not parse, or is
// not positive, becomes -1, for Validate to name its variable.
func (l *HTTPLimits) fromEnv(getenv func(string) string) {
	dur := func(d *time.Duration, env string) {
		if v := getenv(env); v != "" {
			if *d, _ = time.ParseDuration(v); *d <= 0 {
				*d = -1
			}
		}
	}
	dur(&l.ReadHeaderTimeout, "CONTRAIL_HTTP_READ_HEADER_TIMEOUT")
	dur(&l.ReadTimeout, "CONTRAIL_HTTP_READ_TIMEOUT")
	dur(&l.WriteTimeout, "CONTRAIL_HTTP_WRITE_TIMEOUT")
	dur(&l.IdleTimeout, "CONTRAIL_HTTP_IDLE_TIMEOUT")
	if v := getenv("CONTRAIL_HTTP_MAX_HEADER_BYTES"); v != "" {
		if l.MaxHeaderBytes, _ = strconv.Atoi(v); l.MaxHeaderBytes <= 0 {
			l.MaxHeaderBytes = -1
		}
	}
}

// DefaultHTTPAddr is each service's HTTP address under `contrail up`.
func DefaultHTTPAddr(service string) string {
	switch service {
	case "order":
		return "127.0.0.1:8080"
	case "inventory":
		return "127.0.0.1:8091"
	case "payment":
		return "127.0.0.1:8092"
	case "shipping":
		return "127.0.0.1:8093"
	}
	return "127.0.0.1:0"
}

// ErrConfig is wrapped by every Validate error.
var ErrConfig = errors.New("host: invalid configuration")

// FromEnv returns the configuration of service read from getenv (os.Getenv
// when nil), with defaults applied. It does not validate.
func FromEnv(service string, getenv func(string) string) Config {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := Config{Service: service, Brokers: EnvBrokers(getenv)}
	c.RegistryURL = getenv(regclient.EnvURL)
	creds := regclient.CredentialsFromEnv(getenv)
	c.RegistryUser, c.RegistryPassword = creds.User, creds.Password
	c.DataDir = getenv("CONTRAIL_DATA_DIR")
	if v := getenv("CONTRAIL_SQLITE_SYNC"); v != "" {
		// A bad value is kept as given, for Validate to name it.
		c.Durability = statedb.Durability(v)
		if d, err := statedb.ParseDurability(v); err == nil {
			c.Durability = d
		}
	}
	c.DatabaseURL = getenv("CONTRAIL_DATABASE_URL")
	c.DatabaseSchema = getenv("CONTRAIL_DATABASE_SCHEMA")
	c.HTTPAddr = getenv("CONTRAIL_HTTP_ADDR")
	c.Group = getenv("CONTRAIL_GROUP")
	c.InstanceID = getenv("CONTRAIL_INSTANCE_ID")
	c.TLS, _ = strconv.ParseBool(getenv("KAFKA_TLS"))
	c.TLSCAFile = getenv("KAFKA_TLS_CA_FILE")
	c.TLSCertFile = getenv("KAFKA_TLS_CERT_FILE")
	c.TLSKeyFile = getenv("KAFKA_TLS_KEY_FILE")
	c.TLSServerName = getenv("KAFKA_TLS_SERVER_NAME")
	c.SASLMechanism = getenv("KAFKA_SASL_MECHANISM")
	c.SASLUsername = getenv("KAFKA_SASL_USERNAME")
	c.SASLPassword = getenv("KAFKA_SASL_PASSWORD")
	c.AdminToken = getenv("CONTRAIL_ADMIN_TOKEN")
	c.HTTP.fromEnv(getenv)
	c.SetDefaults()
	return c
}

// EnvBrokers returns the Kafka-style broker list of KAFKA_BROKERS, else of
// CONTRAIL_BROKERS, read from getenv (os.Getenv when nil): comma
// separated, blanks dropped. It is nil when neither is set.
func EnvBrokers(getenv func(string) string) []string {
	if getenv == nil {
		getenv = os.Getenv
	}
	brokers := getenv("KAFKA_BROKERS")
	if brokers == "" {
		brokers = getenv("CONTRAIL_BROKERS")
	}
	return SplitList(brokers)
}

// SplitList splits a comma-separated list, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// SetDefaults fills every empty field with its documented default.
func (c *Config) SetDefaults() {
	if len(c.Brokers) == 0 {
		c.Brokers = slices.Clone(eventing.DefaultBrokers)
	}
	if c.RegistryURL == "" {
		c.RegistryURL = wire.DefaultRegistryURL
	}
	if c.DataDir == "" {
		c.DataDir = ".contrail"
	}
	if c.Durability == "" {
		c.Durability = statedb.DurabilityNormal
	}
	if c.HTTPAddr == "" {
		c.HTTPAddr = DefaultHTTPAddr(c.Service)
	}
	if c.DatabaseSchema == "" && c.Service != "" {
		c.DatabaseSchema = "contrail_" + c.Service
	}
	if c.Group == "" {
		c.Group = "contrail-" + c.Service
	}
	if c.InstanceID == "" {
		host, _ := os.Hostname()
		if host == "" {
			host = "local"
		}
		c.InstanceID = c.Group + "-" + host
	}
	if c.TLSCAFile != "" || c.TLSCertFile != "" || c.TLSKeyFile != "" || c.TLSServerName != "" {
		c.TLS = true
	}
	c.HTTP.setDefaults()
}

// Validate reports the first problem, wrapping ErrConfig.
func (c *Config) Validate() error {
	switch {
	case c.Service == "":
		return fmt.Errorf("%w: no service name", ErrConfig)
	case len(c.Brokers) == 0:
		return fmt.Errorf("%w: no brokers: set KAFKA_BROKERS=host:port[,host:port]", ErrConfig)
	case (c.TLSCertFile == "") != (c.TLSKeyFile == ""):
		return fmt.Errorf("%w: KAFKA_TLS_CERT_FILE and KAFKA_TLS_KEY_FILE go together", ErrConfig)
	}
	for _, b := range c.Brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("%w: broker %q is not host:port (KAFKA_BROKERS)", ErrConfig, b)
		}
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		return fmt.Errorf("%w: HTTP address %q is not host:port (CONTRAIL_HTTP_ADDR)", ErrConfig, c.HTTPAddr)
	}
	if err := c.Durability.Validate(); err != nil {
		return fmt.Errorf("%w: CONTRAIL_SQLITE_SYNC=%q: use normal (the default; a commit survives a process kill) or full (an fsync per commit; it also survives a power loss)",
			ErrConfig, c.Durability)
	}
	if c.DatabaseURL != "" {
		if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
			return fmt.Errorf("%w: CONTRAIL_DATABASE_URL %s must start with postgres:// (postgres://user:password@host:5432/dbname)",
				ErrConfig, eventing.RedactURL(c.DatabaseURL))
		}
		if err := eventing.CheckSchemaName(c.DatabaseSchema); err != nil {
			return fmt.Errorf("%w: CONTRAIL_DATABASE_SCHEMA: %w", ErrConfig, err)
		}
	}
	if !strings.HasPrefix(c.RegistryURL, "http://") && !strings.HasPrefix(c.RegistryURL, "https://") {
		return fmt.Errorf("%w: SCHEMA_REGISTRY_URL %q must start with http:// or https://", ErrConfig, c.RegistryURL)
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
	default:
		return fmt.Errorf("%w: KAFKA_SASL_MECHANISM %q: use SCRAM-SHA-256, SCRAM-SHA-512 or PLAIN", ErrConfig, c.SASLMechanism)
	}
	if c.SASLMechanism != "" && c.SASLUsername == "" {
		return fmt.Errorf("%w: KAFKA_SASL_MECHANISM is set but KAFKA_SASL_USERNAME is empty", ErrConfig)
	}
	if c.AdminToken != "" && len(c.AdminToken) < MinAdminTokenLen {
		return fmt.Errorf("%w: CONTRAIL_ADMIN_TOKEN is shorter than %d characters: use a random one, e.g. openssl rand -hex 32", ErrConfig, MinAdminTokenLen)
	}
	return c.HTTP.validate()
}

// DBPath is the service's SQLite file (unused with DatabaseURL).
func (c *Config) DBPath() string { return filepath.Join(c.DataDir, c.Service+".db") }

// Database describes where the service's state lives, for a log line: the
// SQLite file, or the PostgreSQL URL without its password and the schema.
func (c *Config) Database() string {
	if c.DatabaseURL == "" {
		return c.DBPath()
	}
	return eventing.RedactURL(c.DatabaseURL) + " schema " + c.DatabaseSchema
}

// KafkaOpts returns the franz-go options for the brokers, TLS and SASL. It
// returns an error when a TLS file cannot be read.
func (c *Config) KafkaOpts() ([]kgo.Opt, error) {
	// A killed member is noticed after 10s at most (franz-go's default is
	// 45s), and with a static instance id its restart resumes at once.
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.SessionTimeout(10 * time.Second), kgo.HeartbeatInterval(time.Second)}
	if c.InstanceID != "" && c.InstanceID != "none" {
		opts = append(opts, kgo.InstanceID(c.InstanceID))
	}
	if c.TLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
		if c.TLSCAFile != "" {
			pem, err := os.ReadFile(c.TLSCAFile)
			if err != nil {
				return nil, fmt.Errorf("host: read KAFKA_TLS_CA_FILE: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: KAFKA_TLS_CA_FILE %s holds no PEM certificate", ErrConfig, c.TLSCAFile)
			}
			tc.RootCAs = pool
		}
		if c.TLSCertFile != "" {
			cert, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile)
			if err != nil {
				return nil, fmt.Errorf("host: load KAFKA_TLS_CERT_FILE/KAFKA_TLS_KEY_FILE: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	switch strings.ToUpper(c.SASLMechanism) {
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: c.SASLUsername, Pass: c.SASLPassword}.AsMechanism()))
	case "SCRAM-SHA-256":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASLUsername, Pass: c.SASLPassword}.AsSha256Mechanism()))
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: c.SASLUsername, Pass: c.SASLPassword}.AsSha512Mechanism()))
	}
	return opts, nil
}
