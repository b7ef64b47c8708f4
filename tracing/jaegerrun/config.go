package jaegerrun

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"text/template"
	"time"

	"github.com/contrail-events/contrail/wire"
)

// Config describes a Jaeger v2 all-in-one with memory storage (traces last
// until Jaeger stops): OTLP gRPC and HTTP receivers, the query service's HTTP
// (API and UI) and gRPC endpoints, and a healthcheckv2 endpoint. Jaeger's
// own telemetry is off: it does not trace itself (which would export to
// 127.0.0.1:4317, its own OTLP port or someone else's), and reports no
// metrics. Addresses are host:port; port 0 means "any free port", resolved
// by Resolve. The zero Config is valid: every field has a default.
type Config struct {
	// OTLPGRPCAddr is the OTLP/gRPC receiver. Default 127.0.0.1:4317.
	OTLPGRPCAddr string
	// OTLPHTTPAddr is the OTLP/HTTP receiver. Default 127.0.0.1:4318.
	OTLPHTTPAddr string
	// QueryHTTPAddr serves the query API and UI. Default 127.0.0.1:16686.
	QueryHTTPAddr string
	// QueryGRPCAddr serves the query gRPC API. Default 127.0.0.1:0 (a free
	// port: nothing here uses it, and Jaeger's usual 16685 may be taken).
	QueryGRPCAddr string
	// HealthAddr serves healthcheckv2 (GET /status, see HealthURL).
	// Default 127.0.0.1:0 (a free port).
	HealthAddr string
	// BatchTimeout is how long the batch processor holds spans before
	// storing them, so how soon a query sees them. Default 100ms.
	BatchTimeout time.Duration
	// MaxTraces caps the traces kept in memory. Default 100000.
	MaxTraces int
	// LogLevel is Jaeger's log level (debug, info, warn, error).
	// Default warn.
	LogLevel string
}

// ErrConfig is wrapped by every error Validate returns.
var ErrConfig = errors.New("jaegerrun: invalid config")

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.OTLPGRPCAddr, wire.DefaultOTLPGRPCAddr)
	def(&c.OTLPHTTPAddr, wire.DefaultOTLPHTTPAddr)
	def(&c.QueryHTTPAddr, wire.DefaultJaegerQueryAddr)
	def(&c.QueryGRPCAddr, "127.0.0.1:0")
	def(&c.HealthAddr, "127.0.0.1:0")
	def(&c.LogLevel, "warn")
	if c.BatchTimeout == 0 {
		c.BatchTimeout = 100 * time.Millisecond
	}
	if c.MaxTraces == 0 {
		c.MaxTraces = 100000
	}
}

// addrField is one address field of a Config: its name, for errors, and
// where it is stored, for Resolve.
type addrField struct {
	name string
	p    *string
}

// addrs returns c's address fields.
func (c *Config) addrs() []addrField {
	return []addrField{
		{"OTLPGRPCAddr", &c.OTLPGRPCAddr}, {"OTLPHTTPAddr", &c.OTLPHTTPAddr},
		{"QueryHTTPAddr", &c.QueryHTTPAddr}, {"QueryGRPCAddr", &c.QueryGRPCAddr},
		{"HealthAddr", &c.HealthAddr},
	}
}

// Validate reports, wrapping ErrConfig, the first field (after defaults)
// that Jaeger would reject: an address that is not host:port with a port in
// 0-65535 (or contains characters a YAML scalar would need quoting for), a
// negative BatchTimeout or MaxTraces, an unknown LogLevel, or two fields
// sharing one non-zero address.
func (c Config) Validate() error {
	c.setDefaults()
	seen := map[string]string{}
	for _, a := range c.addrs() {
		host, port, err := net.SplitHostPort(*a.p)
		if err != nil {
			return fmt.Errorf("%w: %s %q: %v (want host:port, e.g. 127.0.0.1:4318)", ErrConfig, a.name, *a.p, err)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return fmt.Errorf("%w: %s %q: port must be a number 0-65535", ErrConfig, a.name, *a.p)
		}
		for _, r := range host {
			if !(r == '.' || r == ':' || r == '-' || r == '%' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return fmt.Errorf("%w: %s %q: host has character %q (want a host name or IP address)", ErrConfig, a.name, *a.p, r)
			}
		}
		if port != "0" {
			if other, ok := seen[*a.p]; ok {
				return fmt.Errorf("%w: %s and %s are both %s: give each its own port", ErrConfig, other, a.name, *a.p)
			}
			seen[*a.p] = a.name
		}
	}
	if c.BatchTimeout < 0 {
		return fmt.Errorf("%w: BatchTimeout %v is negative", ErrConfig, c.BatchTimeout)
	}
	if c.MaxTraces < 0 {
		return fmt.Errorf("%w: MaxTraces %d is negative", ErrConfig, c.MaxTraces)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("%w: LogLevel %q: want debug, info, warn or error", ErrConfig, c.LogLevel)
	}
	return nil
}

// Resolve returns c with defaults filled in and every address whose port is
// 0 given a distinct free port on its host (the listeners are held together
// while choosing, then closed: another process could still take a port
// before Jaeger binds it). It returns Validate's error, or the error of
// listening on an address's host.
func (c Config) Resolve() (Config, error) {
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	c.setDefaults()
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, a := range c.addrs() {
		host, port, _ := net.SplitHostPort(*a.p)
		if port != "0" {
			continue
		}
		l, err := net.Listen("tcp", *a.p)
		if err != nil {
			return Config{}, fmt.Errorf("jaegerrun: pick a free port for %s on %s: %w", a.name, host, err)
		}
		held = append(held, l)
		*a.p = net.JoinHostPort(host, strconv.Itoa(l.Addr().(*net.TCPAddr).Port))
	}
	return c, nil
}

// HealthURL is the healthcheckv2 status URL; it answers 200 once Jaeger is
// ready. Call it on a resolved Config.
func (c Config) HealthURL() string { return "http://" + c.HealthAddr + "/status" }

// YAML renders c (defaults filled in) as a Jaeger v2 config file, for
// `jaeger --config <file>`. Addresses must be resolved (no port 0: nobody
// could reach a port Jaeger picked itself); call Resolve first. The error
// wraps ErrConfig.
func (c Config) YAML() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.setDefaults()
	for _, a := range c.addrs() {
		if _, port, _ := net.SplitHostPort(*a.p); port == "0" {
			return nil, fmt.Errorf("%w: %s %q has port 0: call Config.Resolve first", ErrConfig, a.name, *a.p)
		}
	}
	var b bytes.Buffer
	if err := configTemplate.Execute(&b, c); err != nil {
		return nil, fmt.Errorf("jaegerrun: render config: %w", err)
	}
	return b.Bytes(), nil
}

var configTemplate = template.Must(template.New("jaeger.yaml").Parse(`# Jaeger v2 all-in-one, memory storage: traces last until Jaeger stops.
# Written by contrail (tracing/jaegerrun).
service:
  extensions: [jaeger_storage, jaeger_query, healthcheckv2]
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [jaeger_storage_exporter]
  telemetry:
    traces:
      level: none
    metrics:
      level: none
    logs:
      level: {{.LogLevel}}
extensions:
  healthcheckv2:
    use_v2: true
    http:
      endpoint: "{{.HealthAddr}}"
  jaeger_query:
    # Otherwise the query service traces itself and exports to
    # 127.0.0.1:4317: its own OTLP port, or someone else's.
    enable_tracing: false
    storage:
      traces: mem
    http:
      endpoint: "{{.QueryHTTPAddr}}"
    grpc:
      endpoint: "{{.QueryGRPCAddr}}"
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: {{.MaxTraces}}
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: "{{.OTLPGRPCAddr}}"
      http:
        endpoint: "{{.OTLPHTTPAddr}}"
processors:
  batch:
    timeout: {{.BatchTimeout}}
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`))
