// Package platform is the library behind `contrail up`: it runs the whole
// reference order flow on one machine. It starts the embedded broker and the
// schema registry in-process, Jaeger as a subprocess (unless disabled),
// registers the repository's schemas, and starts the four services as
// subprocesses (`contrail service <name>`), so each can crash and restart on
// its own, as it would in production. With Config.PostgresURL the services
// keep their state in PostgreSQL, and Config.Replicas runs several
// processes of each. A supervisor restarts a service that
// exits while the platform runs. Everything keeps its state under one data
// directory, so a restart carries on where the last run stopped. Each run
// gives the services an admin token (their CONTRAIL_ADMIN_TOKEN: the one
// in the environment, else a fresh random one) and writes it to
// <data dir>/admin-token, where `contrail load` finds it.
package platform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/console"
	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/platform/loadgen"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// Services are the reference services, in start order.
var Services = []string{"inventory", "payment", "shipping", "order"}

// Config is what `contrail up` runs. The zero value plus SetDefaults is the
// documented default layout on 127.0.0.1.
type Config struct {
	// DataDir holds every part's state: broker/, registry/, <service>.db
	// (without PostgresURL), logs/. Default ".contrail".
	DataDir string
	// BrokerAddr is the embedded broker's listen address. Default 127.0.0.1:9092.
	BrokerAddr string
	// RegistryAddr is the schema registry's listen address. Default 127.0.0.1:8081.
	RegistryAddr string
	// ServiceAddrs maps a service name to its HTTP address; port 0 picks a
	// free port once, kept across the service's restarts. Defaults: each
	// service's host.DefaultHTTPAddr (order 127.0.0.1:8080, inventory
	// :8091, payment :8092, shipping :8093).
	ServiceAddrs map[string]string
	// NoJaeger skips Jaeger; services then record spans without exporting.
	NoJaeger bool
	// ConsoleAddr is the web console's listen address (package console);
	// port 0 picks a free port. Default "": no console (`contrail up`
	// passes wire.DefaultConsoleAddr unless --no-console).
	ConsoleAddr string
	// JaegerUIAddr is Jaeger's query API/UI address. Default 127.0.0.1:16686.
	// JaegerOTLPHTTPAddr and JaegerOTLPGRPCAddr default to :4318 and :4317.
	JaegerUIAddr, JaegerOTLPHTTPAddr, JaegerOTLPGRPCAddr string
	// JaegerBin is a prebuilt Jaeger binary; default: $CONTRAIL_JAEGER_BIN,
	// else built from the checkout's tools/ module.
	JaegerBin string
	// Executable is the contrail binary the services run as; default the
	// running executable.
	Executable string
	// Env is extra environment for the services (KEY=VALUE).
	Env []string
	// ReplicaEnv, when set, returns extra environment for replica (from 1)
	// of service, after Env: e.g. one order replica publishing an older
	// major of an event during a rolling upgrade. Default nil: none.
	ReplicaEnv func(service string, replica int) []string
	// Out receives the human status lines; default io.Discard.
	Out io.Writer
	// Logger receives the platform's own logs; default discards.
	Logger *slog.Logger
	// Partitions is the partition count of the manifest's topics that name
	// none. Default 3.
	Partitions int
	// BrokerSubprocess runs the broker as a supervised `contrail broker`
	// subprocess instead of in-process, so it can be killed and restarted
	// like a service (the crash test does). BrokerAddr must then name a
	// fixed port, or port 0 to pick a free one once.
	BrokerSubprocess bool
	// PostgresURL, when set, keeps every service's state in this
	// PostgreSQL database (postgres://user:password@host:5432/dbname), each
	// service in its own schema contrail_<service> (its
	// CONTRAIL_DATABASE_URL), instead of a SQLite file in DataDir. It is
	// what lets Replicas be more than 1. Default empty: SQLite.
	PostgresURL string
	// Replicas is how many processes of each service run. The replicas of
	// a service share its consumer group, each with its own static member
	// id (CONTRAIL_INSTANCE_ID contrail-<service>-<n>), so its partitions
	// are spread over them and move to the others when one dies; and each
	// has its own HTTP port: the first the service's address (ServiceAddrs),
	// the others a free port each (ReplicaURLs). More than 1 needs
	// PostgresURL. Default 1.
	Replicas int
	// AdminToken is the services' admin token (CONTRAIL_ADMIN_TOKEN: the
	// order and payment lists and /debug/pprof need it as a bearer token).
	// Default: $CONTRAIL_ADMIN_TOKEN, else 32 random bytes in hex, new on
	// every Start. Start writes it to <DataDir>/admin-token
	// (loadgen.AdminTokenFile, mode 0600).
	AdminToken string
}

// ErrConfig wraps every Config.Validate error.
var ErrConfig = errors.New("platform: invalid configuration")

// SetDefaults fills the documented defaults.
func (c *Config) SetDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.DataDir, ".contrail")
	def(&c.BrokerAddr, wire.DefaultBrokerAddr)
	def(&c.RegistryAddr, wire.DefaultRegistryAddr)
	def(&c.JaegerUIAddr, wire.DefaultJaegerQueryAddr)
	def(&c.JaegerOTLPHTTPAddr, wire.DefaultOTLPHTTPAddr)
	def(&c.JaegerOTLPGRPCAddr, wire.DefaultOTLPGRPCAddr)
	def(&c.JaegerBin, os.Getenv("CONTRAIL_JAEGER_BIN"))
	addrs := map[string]string{}
	for _, s := range Services {
		addrs[s] = host.DefaultHTTPAddr(s)
	}
	for k, v := range c.ServiceAddrs {
		if v != "" {
			addrs[k] = v
		}
	}
	c.ServiceAddrs = addrs
	if c.Out == nil {
		c.Out = io.Discard
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Partitions == 0 {
		c.Partitions = 3
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
}

// Validate reports the first problem, wrapping ErrConfig.
func (c *Config) Validate() error {
	check := func(flag, addr string) error {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%w: %s %q is not host:port", ErrConfig, flag, addr)
		}
		return nil
	}
	if err := check("--broker-addr", c.BrokerAddr); err != nil {
		return err
	}
	if err := check("--registry-addr", c.RegistryAddr); err != nil {
		return err
	}
	switch {
	case c.Replicas < 1:
		return fmt.Errorf("%w: --replicas must be at least 1, got %d", ErrConfig, c.Replicas)
	case c.Replicas > 1 && c.PostgresURL == "":
		return fmt.Errorf("%w: --replicas %d needs --postgres URL: a SQLite file has one writing process, so replicas share their state in PostgreSQL", ErrConfig, c.Replicas)
	case c.PostgresURL != "" && !strings.HasPrefix(c.PostgresURL, "postgres://") && !strings.HasPrefix(c.PostgresURL, "postgresql://"):
		return fmt.Errorf("%w: --postgres %s is not a postgres:// URL (postgres://user:password@host:5432/dbname?sslmode=disable)", ErrConfig, eventing.RedactURL(c.PostgresURL))
	}
	for _, s := range Services {
		if err := check("--"+s+"-addr", c.ServiceAddrs[s]); err != nil {
			return err
		}
	}
	if !c.NoJaeger {
		for flag, a := range map[string]string{"--jaeger-addr": c.JaegerUIAddr, "--otlp-http-addr": c.JaegerOTLPHTTPAddr, "--otlp-grpc-addr": c.JaegerOTLPGRPCAddr} {
			if err := check(flag, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// Platform is a running platform. Close stops it.
type Platform struct {
	cfg        Config
	broker     *broker.Broker
	regStore   *registry.BoltStore
	regLn      net.Listener
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	jaeger     *Process
	brokerProc *Process
	console    *console.Console
	// procs holds each service's replicas, the first one first.
	procs  map[string][]*Process
	ports  portPicker // the subprocesses' addresses
	pushed int
	// jaegerPlaceholderUI: Jaeger serves a placeholder instead of its UI
	// (a build without UI assets, as tools/ makes).
	jaegerPlaceholderUI bool

	// BrokerAddr, RegistryURL, JaegerURL (empty without Jaeger) and
	// ServiceURLs are where the parts listen, with real ports. ServiceURLs
	// has each service's first replica; ReplicaURLs all of them, the first
	// first. Every replica of a service serves the same API on the same
	// state.
	BrokerAddr  string
	RegistryURL string
	JaegerURL   string
	OTLPHTTP    string
	ServiceURLs map[string]string
	ReplicaURLs map[string][]string
	// ConsoleURL is the web console (empty without ConsoleAddr).
	ConsoleURL string
	// AdminToken is the services' admin token for this run, and
	// AdminTokenFile the file it was written to.
	AdminToken, AdminTokenFile string
}

// Start brings the platform up and returns once every service answers
// /readyz, or with an error (everything started so far is stopped again).
// ctx bounds the start only; Close stops the platform.
func Start(ctx context.Context, cfg Config) (*Platform, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Executable == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("platform: find the contrail executable: %w", err)
		}
		cfg.Executable = exe
	}
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("platform: data directory: %w", err)
	}
	cfg.DataDir = abs
	if err := os.MkdirAll(filepath.Join(abs, "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("platform: create data directory: %w", err)
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = os.Getenv(loadgen.EnvAdminToken)
	}
	if cfg.AdminToken == "" {
		b := make([]byte, 32)
		rand.Read(b) // never fails (crypto/rand panics instead)
		cfg.AdminToken = hex.EncodeToString(b)
	}
	tokenFile := filepath.Join(abs, loadgen.AdminTokenFile)
	if err := os.WriteFile(tokenFile, []byte(cfg.AdminToken+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("platform: write the admin token: %w", err)
	}
	// WriteFile keeps the mode of a file that exists.
	if err := os.Chmod(tokenFile, 0o600); err != nil {
		return nil, fmt.Errorf("platform: admin token file: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	p := &Platform{cfg: cfg, cancel: cancel, procs: map[string][]*Process{}, ports: portPicker{used: map[string]bool{}}, ServiceURLs: map[string]string{}, ReplicaURLs: map[string][]string{},
		AdminToken: cfg.AdminToken, AdminTokenFile: tokenFile}
	if err := p.start(ctx, runCtx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Platform) say(format string, args ...any) { fmt.Fprintf(p.cfg.Out, format+"\n", args...) }

func (p *Platform) start(ctx, runCtx context.Context) error {
	cfg := p.cfg
	set, err := schemas.Default()
	if err != nil {
		return fmt.Errorf("platform: load the embedded schemas: %w", err)
	}
	topics := make([]broker.Topic, 0, len(set.Topics))
	for _, t := range set.Topics {
		topics = append(topics, broker.Topic{Name: t.Name, Partitions: t.Partitions})
	}
	if cfg.BrokerSubprocess {
		if err := p.startBrokerProcess(ctx, runCtx, topics); err != nil {
			return err
		}
	} else {
		p.broker, err = broker.New(broker.Addr(cfg.BrokerAddr), broker.DataDir(filepath.Join(cfg.DataDir, "broker")),
			broker.SyncWrites(true), broker.Topics(topics...), broker.Partitions(cfg.Partitions), broker.Logger(cfg.Logger))
		if err != nil {
			return fmt.Errorf("platform: broker: %w", err)
		}
		if err := p.broker.Start(); err != nil {
			return fmt.Errorf("platform: start broker on %s (use --broker-addr for another port): %w", cfg.BrokerAddr, err)
		}
		p.BrokerAddr = p.broker.Addr()
	}
	p.say("broker     %s  (embedded, data in %s)", p.BrokerAddr, filepath.Join(cfg.DataDir, "broker"))

	p.regStore, err = registry.OpenBoltStore(filepath.Join(cfg.DataDir, "registry"))
	if err != nil {
		return fmt.Errorf("platform: registry store: %w", err)
	}
	reg, err := registry.Open(ctx, p.regStore)
	if err != nil {
		return fmt.Errorf("platform: open registry: %w", err)
	}
	srv, err := registry.NewServer(reg)
	if err != nil {
		return fmt.Errorf("platform: registry server: %w", err)
	}
	p.regLn, err = net.Listen("tcp", cfg.RegistryAddr)
	if err != nil {
		return fmt.Errorf("platform: registry listen on %s (use --registry-addr for another port): %w", cfg.RegistryAddr, err)
	}
	p.RegistryURL = "http://" + p.regLn.Addr().String()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := registry.Serve(runCtx, p.regLn, srv); err != nil {
			cfg.Logger.Error("registry stopped", "err", err)
		}
	}()
	cl, _, err := regclient.New(p.RegistryURL, regclient.WithCredentials("", ""))
	if err != nil {
		return fmt.Errorf("platform: registry client: %w", err)
	}
	res, err := registry.Push(ctx, cl, set, false, nil)
	if err != nil {
		return err
	}
	p.pushed = len(res)
	p.say("registry   %s  (%d subjects registered)", p.RegistryURL, len(res))

	if !cfg.NoJaeger {
		if err := p.startJaeger(ctx, runCtx); err != nil {
			return err
		}
	}

	for _, name := range Services {
		p.ports.reserve(cfg.ServiceAddrs[name]) // never a replica's pick
	}
	for _, name := range Services {
		for i := 1; i <= cfg.Replicas; i++ {
			if err := p.startService(runCtx, name, i); err != nil {
				return err
			}
		}
	}
	for _, name := range Services {
		for i, proc := range p.procs[name] {
			u := p.ReplicaURLs[name][i]
			if err := waitReady(ctx, u+"/readyz", proc); err != nil {
				return fmt.Errorf("platform: service %s not ready (log: %s): %w", proc.Name, proc.LogFile, err)
			}
			p.say("%-10s %s  (log %s)", proc.Name, u, proc.LogFile)
		}
	}
	if cfg.PostgresURL != "" {
		p.say("state      PostgreSQL %s, a schema per service (contrail_<service>)", eventing.RedactURL(cfg.PostgresURL))
	}
	p.say("admin      token in %s  (Authorization: Bearer, for GET /orders, GET /payments, /debug/pprof; contrail load reads it)", p.AdminTokenFile)
	if cfg.ConsoleAddr != "" {
		if err := p.startConsole(runCtx, set); err != nil {
			return err
		}
		p.say("console    %s  (schemas, topics, messages, dead letters, orders, traces)", p.ConsoleURL)
	}
	return nil
}

// startConsole serves the web console over this platform's broker,
// registry, Jaeger and order service.
func (p *Platform) startConsole(ctx context.Context, set *schemas.Set) error {
	opts := []console.Opt{console.Brokers(p.BrokerAddr), console.Registry(p.RegistryURL),
		console.OrderService(p.ServiceURLs["order"]), console.OrderServiceToken(p.AdminToken),
		console.SchemaSet(set), console.ContractsDir(contract.DefaultDir), console.Logger(p.cfg.Logger)}
	if p.JaegerURL != "" {
		opts = append(opts, console.Jaeger(p.JaegerURL))
	}
	c, err := console.New(opts...)
	if err != nil {
		return fmt.Errorf("platform: console: %w", err)
	}
	ln, err := net.Listen("tcp", p.cfg.ConsoleAddr)
	if err != nil {
		c.Close()
		return fmt.Errorf("platform: console listen on %s (use --console-addr for another port, or --no-console): %w", p.cfg.ConsoleAddr, err)
	}
	p.console, p.ConsoleURL = c, "http://"+ln.Addr().String()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := c.Serve(ctx, ln); err != nil {
			p.cfg.Logger.Error("console stopped", "err", err)
		}
	}()
	return nil
}

// startService starts replica i (from 1) of service name: the first on the
// service's address, in logs/<name>.log, the others on a free port, in
// logs/<name>-<i>.log.
func (p *Platform) startService(runCtx context.Context, name string, i int) error {
	cfg := p.cfg
	addr := cfg.ServiceAddrs[name]
	proc := name
	if i > 1 {
		h, _, _ := net.SplitHostPort(addr)
		addr = net.JoinHostPort(h, "0")
		proc = fmt.Sprintf("%s-%d", name, i)
	}
	addr, err := p.ports.resolve(addr)
	if err != nil {
		return err
	}
	env := []string{
		"KAFKA_BROKERS=" + p.BrokerAddr,
		"SCHEMA_REGISTRY_URL=" + p.RegistryURL,
		"CONTRAIL_DATA_DIR=" + cfg.DataDir,
		"CONTRAIL_HTTP_ADDR=" + addr,
		"OTEL_SERVICE_NAME=" + name,
		loadgen.EnvAdminToken + "=" + cfg.AdminToken,
	}
	if cfg.PostgresURL != "" {
		env = append(env, "CONTRAIL_DATABASE_URL="+cfg.PostgresURL)
	}
	if cfg.Replicas > 1 {
		// One static member id per replica, the same across its restarts.
		env = append(env, fmt.Sprintf("CONTRAIL_INSTANCE_ID=contrail-%s-%d", name, i))
	}
	env = append(env, cfg.Env...)
	if cfg.ReplicaEnv != nil {
		env = append(env, cfg.ReplicaEnv(name, i)...)
	}
	if p.OTLPHTTP != "" {
		env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT="+p.OTLPHTTP, "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	}
	pr := &Process{Name: proc, Path: cfg.Executable, Args: []string{"service", name}, Env: env,
		LogFile: filepath.Join(cfg.DataDir, "logs", proc+".log"), Restart: true, Logger: cfg.Logger}
	if err := pr.Start(runCtx); err != nil {
		return err
	}
	p.procs[name] = append(p.procs[name], pr)
	p.ReplicaURLs[name] = append(p.ReplicaURLs[name], "http://"+addr)
	if i == 1 {
		p.ServiceURLs[name] = "http://" + addr
	}
	return nil
}

// Process returns the supervised process of a service (its first
// replica), or of "broker" with BrokerSubprocess (for tests that kill
// one), or nil.
func (p *Platform) Process(name string) *Process {
	if name == "broker" {
		return p.brokerProc
	}
	if rs := p.procs[name]; len(rs) > 0 {
		return rs[0]
	}
	return nil
}

// Replicas returns the supervised processes of a service's replicas, the
// first first (Config.Replicas of them).
func (p *Platform) Replicas(name string) []*Process { return p.procs[name] }

// Broker returns the in-process broker (nil with BrokerSubprocess).
func (p *Platform) Broker() *broker.Broker { return p.broker }

func (p *Platform) startBrokerProcess(ctx, runCtx context.Context, topics []broker.Topic) error {
	addr, err := p.ports.resolve(p.cfg.BrokerAddr)
	if err != nil {
		return err
	}
	args := []string{"broker", "--addr", addr, "--data-dir", filepath.Join(p.cfg.DataDir, "broker"), "--partitions", fmt.Sprint(p.cfg.Partitions)}
	for _, t := range topics {
		args = append(args, "--topic", t.Name)
	}
	proc := &Process{Name: "broker", Path: p.cfg.Executable, Args: args,
		LogFile: filepath.Join(p.cfg.DataDir, "logs", "broker.log"), Restart: true, Logger: p.cfg.Logger}
	if err := proc.Start(runCtx); err != nil {
		return err
	}
	p.brokerProc = proc
	p.BrokerAddr = addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("platform: broker subprocess not listening on %s (log %s): %w", addr, proc.LogFile, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Close stops the services (SIGINT, then SIGKILL after 10s), Jaeger, the
// registry and the broker, in that order. Safe to call more than once.
func (p *Platform) Close() error {
	var wg sync.WaitGroup
	for _, rs := range p.procs {
		for _, proc := range rs {
			wg.Add(1)
			go func() { defer wg.Done(); proc.Stop(10 * time.Second) }()
		}
	}
	wg.Wait()
	if p.jaeger != nil {
		p.jaeger.Stop(10 * time.Second)
	}
	p.cancel()
	p.wg.Wait()
	if p.console != nil {
		p.console.Close()
	}
	var errs []error
	if p.regStore != nil {
		errs = append(errs, p.regStore.Close())
		p.regStore = nil
	}
	if p.broker != nil {
		errs = append(errs, p.broker.Close())
	}
	if p.brokerProc != nil {
		p.brokerProc.Stop(10 * time.Second)
	}
	return errors.Join(errs...)
}

func waitReady(ctx context.Context, url string, proc *Process) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("%s answered %s", url, resp.Status)
		}
		last = err
		if proc != nil && proc.Exits() > 2 {
			return fmt.Errorf("it exited %d times; last: %v", proc.Exits(), proc.LastExit())
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %v)", ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// portPicker hands out the addresses of the subprocesses (broker,
// services) that the platform must know before they listen. A port picked
// free (a listener on port 0, closed at once) stays free only until its
// process binds it, which a service does after it opened its database; a
// second pick in that window can get the same port from the kernel, and
// then one service crash-loops on "address already in use" while its
// readiness probe is answered by the other. So the picker remembers every
// address it handed out and never hands one out twice.
type portPicker struct {
	used map[string]bool
	// pick returns a port free now on host; default freePort.
	pick func(host string) (string, error)
}

// resolve returns addr with port 0 replaced by a free port on its host that
// no earlier call returned; other addresses come back as they are (and are
// not handed out later).
func (pp *portPicker) resolve(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if pp.pick == nil {
		pp.pick = freePort
	}
	if port != "0" {
		pp.reserve(addr)
		return addr, nil
	}
	for range 100 {
		port, err := pp.pick(host)
		if err != nil {
			return "", err
		}
		if a := net.JoinHostPort(host, port); !pp.used[a] {
			pp.used[a] = true
			return a, nil
		}
	}
	return "", fmt.Errorf("platform: find a free port on %s: 100 picks all handed out before", host)
}

// reserve keeps addr (unless its port is 0) from being handed out.
func (pp *portPicker) reserve(addr string) {
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "0" {
		pp.used[addr] = true
	}
}

// freePort returns a port that is free on host now.
func freePort(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("platform: find a free port on %s: %w", host, err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port, nil
}
