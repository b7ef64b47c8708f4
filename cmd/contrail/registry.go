package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

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
	addr          string
	dataDir       string
	usersFile     string
	maxBytes      int64
	readOnly      bool
	timeouts      registry.ServeConfig
	authFailRate  float64
	authFailBurst int
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
			"allowed). Limits and timeouts: docs/registry.md, \"Limits and hardening\".",
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
			var store registry.Store
			if f.dataDir == "" {
				fmt.Fprintln(env.stderr, "contrail registry: no --data-dir: schemas live in memory and are lost on exit")
				store = registry.NewMemoryStore()
			} else {
				bs, err := registry.OpenBoltStore(f.dataDir)
				if err != nil {
					return withCode(exitError, err)
				}
				defer bs.Close()
				store = bs
			}
			reg, err := registry.Open(cmd.Context(), store)
			if err != nil {
				return withCode(exitError, err)
			}
			srv, err := registry.NewServer(reg, opts...)
			if err != nil {
				return withCode(exitError, err)
			}
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return withCode(exitError, fmt.Errorf("registry: listen on %s: %w (is another registry running? pick another --addr)", f.addr, err))
			}
			fmt.Fprintf(env.stdout, "registry listening on http://%s\n", ln.Addr())
			return f.timeouts.Serve(cmd.Context(), ln, srv)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", defaultRegistryAddr, "address to listen on (port 0 picks a free port)")
	fl.StringVar(&f.dataDir, "data-dir", "", "directory to keep the registry in (empty: memory only)")
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
