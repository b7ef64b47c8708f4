// Package console is Contrail's web console: server-rendered pages over the
// brokers, the schema registry, Jaeger and the order service, so one browser
// tab shows what the CLI shows piece by piece.
//
// Pages (plain GET URLs, shareable and usable from the keyboard; no
// JavaScript at all):
//
//	/                               what is connected, with links
//	/schemas                        every subject: latest version, levels, producers, consumers
//	/schemas/{subject}              its versions, level, contract fields, latest text
//	/schemas/{subject}/diff?from=&to=   semantic diff (compat rule IDs) and side-by-side text diff
//	/topics                         topics, partitions, messages, consumer groups and lag
//	/topics/{topic}                 per partition: offsets, each group's commit and lag
//	/topics/{topic}/messages?partition=&offset=|time=&limit=   records, decoded through the registry
//	/dlq                            dead-letter topics and how many dead letters wait
//	/dlq/{topic}                    the waiting dead letters: origin, error class and message, age
//	/dlq/{topic}/replay             confirm, then POST: replay (not with ReadOnly)
//	/orders, /orders/{id}           orders from the order service, status and history
//	/traces/{ref}                   a trace (by trace id or order id) as a waterfall from Jaeger
//
// Templates and the stylesheet are embedded (go:embed), so the console runs
// from the contrail binary alone. A Console is safe for concurrent use.
package console

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/tracing/jaegerapi"
	"github.com/contrail-events/contrail/wire"
)

// DefaultAddr is where `contrail console` listens by default.
const DefaultAddr = wire.DefaultConsoleAddr

// DefaultReplayGroup is the consumer group that remembers how far dead
// letters were replayed; `contrail dlq replay` uses the same one, so the
// console and the CLI agree on what is still waiting.
const DefaultReplayGroup = "contrail-dlq-replay"

// ErrConfig is wrapped by every error New returns for a bad option.
var ErrConfig = errors.New("console: invalid configuration")

// Opt configures New. Options are applied in order; a later one overrides
// an earlier one.
type Opt interface{ apply(*config) }

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

type config struct {
	brokers      []string
	kafkaOpts    []kgo.Opt
	registryURL  string
	registryOpts []regclient.Opt
	jaegerURL    string
	orderURL     string
	orderToken   string
	schemaDir    string
	set          *schemas.Set
	contractsDir string
	readOnly     bool
	masked       []string
	replayGroup  string
	timeout      time.Duration
	logger       *slog.Logger
	httpClient   *http.Client
}

// defaults holds every default in one place.
func defaults() config {
	return config{
		brokers:     slices.Clone(eventing.DefaultBrokers),
		registryURL: wire.DefaultRegistryURL,
		jaegerURL:   "http://" + wire.DefaultJaegerQueryAddr,
		orderURL:    "http://" + host.DefaultHTTPAddr("order"),
		replayGroup: DefaultReplayGroup,
		timeout:     10 * time.Second,
		logger:      slog.New(slog.DiscardHandler),
	}
}

// Brokers sets the seed brokers (host:port). Default eventing.DefaultBrokers
// (127.0.0.1:9092, the embedded broker). Empty entries are dropped; no
// entries keeps the default.
func Brokers(addrs ...string) Opt {
	return optFunc(func(c *config) {
		var out []string
		for _, a := range addrs {
			if a = strings.TrimSpace(a); a != "" {
				out = append(out, a)
			}
		}
		if len(out) > 0 {
			c.brokers = out
		}
	})
}

// KafkaOpts adds franz-go client options, typically TLS and SASL (see
// host.Config.KafkaOpts). Default none. Seed brokers come from Brokers.
func KafkaOpts(opts ...kgo.Opt) Opt {
	return optFunc(func(c *config) { c.kafkaOpts = append(c.kafkaOpts, opts...) })
}

// Registry sets the schema registry URL and how to reach it (credentials as
// regclient.New takes them: the URL's userinfo, regclient.WithCredentials,
// then the environment). Default wire.DefaultRegistryURL
// (http://127.0.0.1:8081). An empty url keeps the default URL.
func Registry(rawURL string, opts ...regclient.Opt) Opt {
	return optFunc(func(c *config) {
		if rawURL != "" {
			c.registryURL = rawURL
		}
		c.registryOpts = append(c.registryOpts, opts...)
	})
}

// Jaeger sets Jaeger's query API URL. Default http://127.0.0.1:16686
// (wire.DefaultJaegerQueryAddr). An empty url keeps the default.
func Jaeger(rawURL string) Opt {
	return optFunc(func(c *config) {
		if rawURL != "" {
			c.jaegerURL = rawURL
		}
	})
}

// OrderService sets the order service's base URL (GET /orders, GET
// /orders/{id}). Default http://127.0.0.1:8080 (host.DefaultHTTPAddr). An
// empty url keeps the default.
func OrderService(rawURL string) Opt {
	return optFunc(func(c *config) {
		if rawURL != "" {
			c.orderURL = rawURL
		}
	})
}

// OrderServiceToken is the services' admin token (their
// CONTRAIL_ADMIN_TOKEN), sent as "Authorization: Bearer <token>" to the
// order service: listing orders (GET /orders, /orders/count) is an admin
// endpoint. Default "": the Orders page then offers only the lookup by
// order id, which needs no token, and says how to list.
func OrderServiceToken(token string) Opt { return optFunc(func(c *config) { c.orderToken = token }) }

// SchemaDir loads the schema tree (manifest.yaml and .avsc files) that
// names each subject's producers, consumers and intended level from dir.
// Default "": the schemas built into the binary (schemas.Default). New fails
// when dir does not load.
func SchemaDir(dir string) Opt { return optFunc(func(c *config) { c.schemaDir = dir }) }

// SchemaSet uses an already loaded schema tree instead of SchemaDir's.
// A nil set keeps the default.
func SchemaSet(set *schemas.Set) Opt {
	return optFunc(func(c *config) {
		if set != nil {
			c.set = set
		}
	})
}

// ContractsDir loads the consumer contracts (contract.Load) shown next to
// each subject from dir. Default "": none. A missing dir is no contracts;
// New fails when a contract file is malformed.
func ContractsDir(dir string) Opt { return optFunc(func(c *config) { c.contractsDir = dir }) }

// ReadOnly turns off every action that writes (replaying dead letters): the
// buttons are disabled and the POST endpoints answer 403. Default false.
func ReadOnly(on bool) Opt { return optFunc(func(c *config) { c.readOnly = on }) }

// MaskFields masks record values at these field paths wherever the console
// shows a decoded value (messages, dead letters). A path is written as in
// consumer contracts: field names joined by dots from the event's root,
// descending through records and transparently through arrays, maps and
// union branches ("payment.cardToken", "shippingAddress.line1"). Fields
// whose schema carries the property "contrail.sensitive": true are masked
// too, without being listed. Default: none listed.
func MaskFields(paths ...string) Opt {
	return optFunc(func(c *config) { c.masked = append(c.masked, paths...) })
}

// ReplayGroup sets the consumer group that keeps dead-letter replay
// progress. Default DefaultReplayGroup, the group `contrail dlq replay`
// uses. An empty group keeps the default.
func ReplayGroup(group string) Opt {
	return optFunc(func(c *config) {
		if group != "" {
			c.replayGroup = group
		}
	})
}

// Timeout bounds the backend calls of one page (Kafka, registry, Jaeger,
// order service). Default 10s; zero or less keeps the default.
func Timeout(d time.Duration) Opt {
	return optFunc(func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	})
}

// Logger receives one line per failed page and per replay. Default
// discards. A nil logger keeps the default.
func Logger(l *slog.Logger) Opt {
	return optFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// HTTPClient is the client used for Jaeger and the order service. Default
// a client without its own timeout (Timeout bounds every call). A nil
// client keeps the default.
func HTTPClient(hc *http.Client) Opt {
	return optFunc(func(c *config) {
		if hc != nil {
			c.httpClient = hc
		}
	})
}

// validate holds every check that spans options.
func (c *config) validate() error {
	for _, b := range c.brokers {
		if _, _, err := net.SplitHostPort(b); err != nil {
			return fmt.Errorf("%w: broker %q is not host:port", ErrConfig, b)
		}
	}
	if _, _, err := regclient.Parse(c.registryURL, c.registryOpts...); err != nil {
		return fmt.Errorf("%w: registry: %w", ErrConfig, err)
	}
	for name, u := range map[string]string{"Jaeger": c.jaegerURL, "order service": c.orderURL} {
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("%w: %s URL %q: want http(s)://host:port", ErrConfig, name, u)
		}
	}
	for _, p := range c.masked {
		if p == "" || strings.HasPrefix(p, ".") || strings.HasSuffix(p, ".") || strings.Contains(p, "..") {
			return fmt.Errorf("%w: masked field path %q: want field names joined by dots, e.g. payment.cardToken", ErrConfig, p)
		}
	}
	return nil
}

// Console is the web console. Create it with New, serve Handler (or call
// Serve) and Close it when done.
type Console struct {
	cfg       config
	kcl       *kgo.Client
	adm       *kadm.Client
	reg       *sr.Client
	regShown  string
	serde     *serde.Serde
	jaeger    *jaegerapi.Client
	http      *http.Client
	set       *schemas.Set
	contracts []*contract.Contract
	mask      *masker
	csrf      string
	handler   http.Handler
	started   time.Time
	idCache
}

// New returns a console with opts applied over the defaults. It loads the
// schema tree and the contracts, and creates (but does not dial) the Kafka
// and registry clients: a backend that is down shows as an error on the
// pages that need it, not here. Errors: ErrConfig for a bad option, the
// loaders' errors for schemas or contracts that do not load.
func New(opts ...Opt) (*Console, error) {
	cfg := defaults()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	c := &Console{cfg: cfg, started: time.Now()}
	var err error
	switch {
	case cfg.set != nil:
		c.set = cfg.set
	case cfg.schemaDir != "":
		c.set, err = schemas.Load(cfg.schemaDir)
	default:
		c.set, err = schemas.Default()
	}
	if err != nil {
		return nil, fmt.Errorf("console: schemas: %w", err)
	}
	if cfg.contractsDir != "" {
		if c.contracts, err = contract.Load(cfg.contractsDir); err != nil {
			return nil, fmt.Errorf("console: contracts: %w", err)
		}
	}
	c.reg, c.regShown, err = regclient.New(cfg.registryURL, cfg.registryOpts...)
	if err != nil {
		return nil, fmt.Errorf("%w: registry: %w", ErrConfig, err)
	}
	if c.serde, err = serde.New(c.reg); err != nil {
		return nil, fmt.Errorf("console: serde: %w", err)
	}
	c.kcl, err = kgo.NewClient(c.clientOpts()...)
	if err != nil {
		return nil, fmt.Errorf("%w: kafka client: %w", ErrConfig, err)
	}
	c.adm = kadm.NewClient(c.kcl)
	c.http = cfg.httpClient
	if c.http == nil {
		c.http = &http.Client{}
	}
	c.jaeger = &jaegerapi.Client{BaseURL: strings.TrimSuffix(cfg.jaegerURL, "/"), HTTP: c.http}
	c.mask = newMasker(cfg.masked)
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	c.csrf = hex.EncodeToString(tok[:])
	c.handler = c.routes()
	return c, nil
}

// clientOpts are the options of every Kafka client the console creates: the
// seed brokers, then KafkaOpts.
func (c *Console) clientOpts(extra ...kgo.Opt) []kgo.Opt {
	opts := append([]kgo.Opt{kgo.SeedBrokers(c.cfg.brokers...)}, c.cfg.kafkaOpts...)
	return append(opts, extra...)
}

// Handler returns the console's HTTP handler (every page and the
// stylesheet). It never panics on a request: a failed backend call is an
// error page (502), bad input a 4xx page.
func (c *Console) Handler() http.Handler { return c.handler }

// Serve serves Handler on ln until ctx ends, then shuts down gracefully
// (5s) and returns nil; it returns the server's error otherwise. It does
// not close the Console.
func (c *Console) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: c.handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close closes the Kafka client. The Handler must not be used afterwards.
func (c *Console) Close() { c.kcl.Close() }
