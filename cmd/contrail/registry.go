package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

func init() { register(newRegistryCmd) }

// Defaults of `contrail registry`.
const (
	defaultRegistryAddr = wire.DefaultRegistryAddr
	defaultRegistryURL  = wire.DefaultRegistryURL
)

func newRegistryCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "registry",
		Short: "Serve the Confluent-compatible schema registry, or push schemas/ to one",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newRegistryServeCmd(env), newRegistryPushCmd(env))
	return cmd
}

type registryServeFlags struct {
	addr           string
	dataDir        string
	usersFile      string
	store          string
	brokers        string
	topic          string
	advertisedURL  string
	leaderEligible bool
	maxBytes       int64
	readOnly       bool
	timeouts       registry.ServeConfig
	authFailRate   float64
	authFailBurst  int
}

func newRegistryServeCmd(env *cliEnv) *cobra.Command {
	var f registryServeFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the schema registry until interrupted",
		Long: "serve runs the Confluent-compatible schema registry on --addr. With --data-dir every\n" +
			"acknowledged write is fsynced to DIR/" + registry.DataFileName + " and survives kill -9; without it the\n" +
			"registry lives in memory. Basic auth users come from --users-file or $" + registry.UsersEnv + "\n" +
			"(one name:password entry per line; the password is the rest of the line; bcrypt hashes\n" +
			"allowed). --store kafka keeps the state in a compacted Kafka topic (--topic, default _schemas)\n" +
			"in Confluent's record format; such instances are replicas that elect one leader and forward\n" +
			"writes to it: docs/registry.md, \"Keep the registry in Kafka\".\n" +
			"Limits and timeouts: docs/registry.md, \"Limits and hardening\".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := f.timeouts.Validate(); err != nil {
				return withCode(exitError, err)
			}
			var opts []registry.Opt
			users, err := registryUsers(f.usersFile, env.stderr)
			if err != nil {
				return withCode(exitError, err)
			}
			if len(users) > 0 {
				opts = append(opts, registry.WithBasicAuth(users))
			}
			opts = append(opts, registry.WithMaxRequestBytes(f.maxBytes), registry.WithReadOnly(f.readOnly),
				registry.WithAuthFailureLimit(f.authFailRate, f.authFailBurst))
			store, err := openRegistryStore(cmd.Context(), f, env.stderr)
			if err != nil {
				return withCode(exitError, err)
			}
			defer store.Close()
			reg, err := registry.Open(cmd.Context(), store)
			if err != nil {
				return withCode(exitError, err)
			}
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return withCode(exitError, fmt.Errorf("registry: listen on %s: %w (is another registry running? pick another --addr)", f.addr, err))
			}
			var rep *registry.Replica
			if ks, ok := store.(*registry.KafkaStore); ok {
				if rep, err = startReplica(ks, f, ln.Addr()); err != nil {
					ln.Close()
					return withCode(exitError, err)
				}
				defer rep.Close()
				opts = append(opts, registry.WithCollectors(rep.Collectors()...))
			}
			srv, err := registry.NewServer(reg, opts...)
			if err != nil {
				ln.Close()
				return withCode(exitError, err)
			}
			var h http.Handler = srv
			if rep != nil {
				h = rep.Handler(srv)
				if f.readOnly {
					h = readOnlyReplica(srv, h)
				}
				role, leader := awaitElection(cmd.Context(), rep, 30*time.Second)
				fmt.Fprintf(env.stderr, "contrail registry: %s (leader %s)\n", role, leader)
			}
			fmt.Fprintf(env.stdout, "registry listening on http://%s\n", ln.Addr())
			return f.timeouts.Serve(cmd.Context(), ln, h)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", defaultRegistryAddr, "address to listen on (port 0 picks a free port)")
	fl.StringVar(&f.dataDir, "data-dir", "", "directory to keep the registry in (empty: memory only)")
	fl.StringVar(&f.store, "store", "", "where the registry keeps its state: bolt (--data-dir), memory, or kafka (--brokers); default bolt with --data-dir, else memory, or $"+registryStoreEnv)
	fl.StringVar(&f.brokers, "brokers", "", "Kafka brokers host:port[,host:port] for --store kafka (default $KAFKA_BROKERS; TLS and SASL from the KAFKA_TLS_*/KAFKA_SASL_* variables)")
	fl.StringVar(&f.topic, "topic", "", "state topic for --store kafka (default $"+registryTopicEnv+", else "+registry.DefaultKafkaTopic+")")
	fl.StringVar(&f.advertisedURL, "advertised-url", "", "with --store kafka: the URL other replicas forward writes to (default $"+registryAdvertisedEnv+", else http:// and the listen address, with the host name for an unspecified host)")
	fl.BoolVar(&f.leaderEligible, "leader-eligible", true, "with --store kafka: may this replica be elected leader (false: always a follower)")
	fl.StringVar(&f.usersFile, "users-file", "", "basic auth users file (one name:password per line; # comments); default $"+registry.UsersEnv)
	fl.Int64Var(&f.maxBytes, "max-request-bytes", registry.DefaultMaxRequestBytes, "largest accepted request body (a schema request over it gets 42209)")
	fl.BoolVar(&f.readOnly, "read-only", false, "refuse every write (42205); GET /mode answers READONLY")
	fl.DurationVar(&f.timeouts.ReadHeaderTimeout, "read-header-timeout", registry.DefaultReadHeaderTimeout, "cut off a client that has not sent its request headers within this")
	fl.DurationVar(&f.timeouts.ReadTimeout, "read-timeout", registry.DefaultReadTimeout, "cut off a client that has not sent its whole request within this")
	fl.DurationVar(&f.timeouts.WriteTimeout, "write-timeout", registry.DefaultWriteTimeout, "cut off a request not answered within this after its headers")
	fl.DurationVar(&f.timeouts.IdleTimeout, "idle-timeout", registry.DefaultIdleTimeout, "close a keep-alive connection idle for this long")
	fl.Float64Var(&f.authFailRate, "auth-failures-per-second", registry.DefaultAuthFailuresPerSecond, "failed basic auth attempts allowed per client address and second after the burst (0: no limit)")
	fl.IntVar(&f.authFailBurst, "auth-failure-burst", registry.DefaultAuthFailureBurst, "failed basic auth attempts a client address may make in a row before it gets 429")
	return cmd
}

// registryUsers reads the users file, else $CONTRAIL_REGISTRY_USERS. Entries
// are one per line; earlier releases also split the variable on commas, so
// a one-line value with a comma gets a warning (naming no secret).
func registryUsers(file string, stderr io.Writer) (map[string]string, error) {
	if file != "" {
		return registry.LoadUsersFile(file)
	}
	v := os.Getenv(registry.UsersEnv)
	if v == "" {
		return nil, nil
	}
	users, err := registry.ParseUsers(v)
	if err != nil {
		return nil, fmt.Errorf("%w (in $%s)", err, registry.UsersEnv)
	}
	if !strings.Contains(strings.TrimSpace(v), "\n") && strings.Contains(v, ",") {
		fmt.Fprintf(stderr, "contrail registry: $%s holds one user whose password contains a comma: entries are one per line, commas no longer separate them\n", registry.UsersEnv)
	}
	return users, nil
}

type registryPushFlags struct {
	url        string
	schemasDir string
	dryRun     bool
	user, pass string
}

func newRegistryPushCmd(env *cliEnv) *cobra.Command {
	var f registryPushFlags
	cmd := &cobra.Command{
		Use:   "push",
		Short: "Register schemas/ with a registry, in dependency order, and set compatibility levels",
		Long: "push registers every schema in --schemas with the registry at --registry: shared types\n" +
			"under their full name (RecordName) at the manifest's types_compatibility, events under\n" +
			"their manifest subject at their level, with references, in dependency order. It is\n" +
			"idempotent. --dry-run prints the plan without writing. An incompatible schema exits 100.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := loadPushSchemas(f.schemasDir, cmd.Flags().Changed("schemas"))
			if err != nil {
				return withCode(exitInvalid, err)
			}
			var opts []regclient.Opt
			if f.user != "" {
				opts = append(opts, regclient.WithCredentials(f.user, f.pass))
			}
			cl, _, err := regclient.New(f.url, opts...)
			if err != nil {
				return withCode(exitError, fmt.Errorf("registry: --registry: %w", err))
			}
			_, err = registry.Push(cmd.Context(), cl, set, f.dryRun, env.stdout)
			if errors.Is(err, registry.ErrPushIncompatible) {
				return withCode(exitBreaking, err)
			}
			if err != nil {
				return withCode(exitError, err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.url, "registry", defaultRegistryURL, "schema registry URL; http(s)://user:password@host overrides --user and --password")
	fl.StringVar(&f.schemasDir, "schemas", "schemas", "schema tree (manifest.yaml + .avsc); the built-in schemas when the default is absent")
	fl.BoolVar(&f.dryRun, "dry-run", false, "print what would change without writing")
	fl.StringVar(&f.user, "user", "", "basic auth user (default $CONTRAIL_REGISTRY_USER, else the user of $SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO)")
	fl.StringVar(&f.pass, "password", "", "basic auth password (default $CONTRAIL_REGISTRY_PASSWORD)")
	return cmd
}

// loadPushSchemas loads dir; when dir is the default and absent, the
// schemas built into the binary.
func loadPushSchemas(dir string, explicit bool) (*schemas.Set, error) {
	if st, err := os.Stat(dir); err == nil && st.IsDir() || explicit {
		return schemas.Load(dir)
	}
	return schemas.Default()
}

// Environment equivalents of registry serve's --store and --topic; the
// brokers come from KAFKA_BROKERS as for every service.
const (
	registryStoreEnv = "CONTRAIL_REGISTRY_STORE"
	registryTopicEnv = "CONTRAIL_REGISTRY_TOPIC"
	// registryAdvertisedEnv is --advertised-url's environment equivalent.
	registryAdvertisedEnv = "CONTRAIL_REGISTRY_ADVERTISED_URL"
)

// startReplica starts the leader election of a Kafka-backed registry
// listening on addr.
func startReplica(ks *registry.KafkaStore, f registryServeFlags, addr net.Addr) (*registry.Replica, error) {
	self := f.advertisedURL
	if self == "" {
		self = os.Getenv(registryAdvertisedEnv)
	}
	if self == "" {
		host, port, _ := net.SplitHostPort(addr.String())
		if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
			if h, err := os.Hostname(); err == nil {
				host = h
			}
		}
		self = "http://" + net.JoinHostPort(host, port)
	}
	return registry.NewReplica(ks, self, f.leaderEligible)
}

// readOnlyReplica keeps a --read-only replica from forwarding writes: they
// go to srv, which refuses them (42205); everything else goes to h.
func readOnlyReplica(srv, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			srv.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// awaitElection waits until rep is leader or follower, or for at most d,
// so a client that sees the "listening" line can write at once.
func awaitElection(ctx context.Context, rep *registry.Replica, d time.Duration) (registry.Role, string) {
	deadline := time.Now().Add(d)
	for {
		role, leader := rep.Role()
		if role == registry.RoleLeader || role == registry.RoleFollower || time.Now().After(deadline) || ctx.Err() != nil {
			return role, leader
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// openRegistryStore opens the store registry serve's flags (then the
// environment) pick. The caller closes it.
func openRegistryStore(ctx context.Context, f registryServeFlags, stderr io.Writer) (registry.Store, error) {
	kind := f.store
	if kind == "" {
		kind = os.Getenv(registryStoreEnv)
	}
	if kind == "" {
		kind = "memory"
		if f.dataDir != "" {
			kind = "bolt"
		}
	}
	switch kind {
	case "memory":
		fmt.Fprintln(stderr, "contrail registry: no --data-dir: schemas live in memory and are lost on exit")
		return registry.NewMemoryStore(), nil
	case "bolt":
		if f.dataDir == "" {
			return nil, errors.New("registry: --store bolt needs --data-dir DIR")
		}
		return registry.OpenBoltStore(f.dataDir)
	case "kafka":
		kc := host.FromEnv("registry", nil)
		if f.brokers != "" {
			kc.Brokers = host.SplitList(f.brokers)
		}
		if len(kc.Brokers) == 0 {
			return nil, errors.New("registry: --store kafka needs --brokers host:port[,host:port] or KAFKA_BROKERS")
		}
		kc.InstanceID = "none"
		if err := kc.Validate(); err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		kopts, err := kc.KafkaOpts()
		if err != nil {
			return nil, fmt.Errorf("registry: %w", err)
		}
		topic := f.topic
		if topic == "" {
			topic = os.Getenv(registryTopicEnv)
		}
		opts := []registry.KafkaOpt{registry.KafkaBrokers(kc.Brokers...), registry.KafkaClientOpts(kopts...), registry.KafkaFollow(true)}
		if topic != "" {
			opts = append(opts, registry.KafkaTopic(topic))
		}
		return registry.OpenKafkaStore(ctx, opts...)
	default:
		return nil, fmt.Errorf("registry: unknown --store %q: use bolt, memory or kafka", kind)
	}
}
