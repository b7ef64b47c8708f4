package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/console"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/platform/loadgen"
	"github.com/contrail-events/contrail/registry/regclient"
)

func init() { register(newConsoleCmd) }

// consoleFlags are `contrail console`'s flags.
type consoleFlags struct {
	addr         string
	brokers      string
	registry     string
	user, pass   string
	jaeger       string
	orders       string
	adminToken   string
	schemasDir   string
	contractsDir string
	readOnly     bool
	mask         []string
	replayGroup  string
}

func newConsoleCmd(env *cliEnv) *cobra.Command {
	var f consoleFlags
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Serve the web console: schemas, topics and lag, messages, dead letters, orders and traces",
		Long: `console serves web pages over a Contrail deployment: every subject with its versions, levels,
producers and consumers and a semantic diff between versions; topics, partitions and each consumer
group's lag; messages decoded through the registry; dead letters, with replay; orders from the order
service and their traces from Jaeger. Point it at any brokers, registry and Jaeger; the defaults are
what ` + "`contrail up`" + ` runs. --read-only turns replaying off.

Kafka TLS and SASL come from the environment, as for ` + "`contrail service`" + `:
  KAFKA_TLS, KAFKA_TLS_CA_FILE, KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE, KAFKA_TLS_SERVER_NAME
  KAFKA_SASL_MECHANISM (SCRAM-SHA-256|SCRAM-SHA-512|PLAIN), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD
Registry credentials: https://user:password@host in --registry, --user and --password, or
CONTRAIL_REGISTRY_USER / CONTRAIL_REGISTRY_PASSWORD (SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO).
Listing orders is an admin endpoint of the order service: --admin-token, else
$CONTRAIL_ADMIN_TOKEN, else the token ` + "`contrail up`" + ` wrote to .contrail/admin-token.`,
		Example: `  contrail console
  contrail console --addr 0.0.0.0:8088 --read-only --brokers kafka-1:9093 --registry https://sr.example.com
  contrail console --mask payment.cardToken --mask shippingAddress.line1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := consoleOptions(f, env)
			if err != nil {
				return withCode(exitError, err)
			}
			c, err := console.New(opts...)
			if err != nil {
				return withCode(exitError, err)
			}
			defer c.Close()
			ln, err := net.Listen("tcp", f.addr)
			if err != nil {
				return withCode(exitError, fmt.Errorf("console: listen on %s (use --addr for another port): %w", f.addr, err))
			}
			mode := ""
			if f.readOnly {
				mode = " (read-only)"
			}
			fmt.Fprintf(env.stdout, "console    http://%s%s\n", ln.Addr(), mode)
			if err := c.Serve(cmd.Context(), ln); err != nil {
				return withCode(exitError, fmt.Errorf("console: %w", err))
			}
			return nil
		},
	}
	jaeger := os.Getenv("CONTRAIL_JAEGER_URL")
	if jaeger == "" {
		jaeger = "http://127.0.0.1:16686"
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", console.DefaultAddr, "listen address")
	fl.StringVar(&f.brokers, "brokers", defaultBrokers(), "comma-separated seed brokers (env KAFKA_BROKERS)")
	fl.StringVar(&f.registry, "registry", regclient.URLFromEnv(nil), "schema registry URL (env "+regclient.EnvURL+"); http(s)://user:password@host overrides --user and --password")
	fl.StringVar(&f.user, "user", "", "registry basic auth user (default $CONTRAIL_REGISTRY_USER, else the user of $SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO)")
	fl.StringVar(&f.pass, "password", "", "registry basic auth password (default $CONTRAIL_REGISTRY_PASSWORD)")
	fl.StringVar(&f.jaeger, "jaeger", jaeger, "Jaeger query URL (env CONTRAIL_JAEGER_URL)")
	fl.StringVar(&f.orders, "orders", "http://"+host.DefaultHTTPAddr("order"), "order service URL")
	fl.StringVar(&f.adminToken, "admin-token", "", "the services' admin token, to list orders (default $"+loadgen.EnvAdminToken+", else "+loadgen.DefaultAdminTokenFile+")")
	fl.StringVar(&f.schemasDir, "schemas", "schemas", "schema tree naming producers, consumers and levels; the built-in schemas when the default is absent")
	fl.StringVar(&f.contractsDir, "contracts", "contracts", "consumer contracts shown with each subject (none when absent)")
	fl.BoolVar(&f.readOnly, "read-only", false, "turn off replaying dead letters")
	fl.StringArrayVar(&f.mask, "mask", nil, "mask this field path in decoded values, e.g. payment.cardToken (repeatable)")
	fl.StringVar(&f.replayGroup, "replay-group", console.DefaultReplayGroup, "consumer group keeping dead-letter replay progress (the one `contrail dlq replay --group` uses)")
	return cmd
}

// consoleOptions turns the flags and the Kafka environment into console
// options.
func consoleOptions(f consoleFlags, env *cliEnv) ([]console.Opt, error) {
	kc := host.FromEnv("console", nil)
	kc.Brokers = host.SplitList(f.brokers)
	kc.InstanceID = "none" // the console's clients join no group but the replay's, briefly
	if err := kc.Validate(); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	kopts, err := kc.KafkaOpts()
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	token := f.adminToken
	if token == "" {
		token = os.Getenv(loadgen.EnvAdminToken)
	}
	if token == "" {
		if b, err := os.ReadFile(loadgen.DefaultAdminTokenFile); err == nil {
			token = strings.TrimSpace(string(b))
		}
	}
	var regOpts []regclient.Opt
	if f.user != "" {
		regOpts = append(regOpts, regclient.WithCredentials(f.user, f.pass))
	}
	opts := []console.Opt{
		console.Brokers(kc.Brokers...),
		console.KafkaOpts(kopts...),
		console.Registry(f.registry, regOpts...),
		console.Jaeger(f.jaeger),
		console.OrderService(f.orders),
		console.OrderServiceToken(token),
		console.ContractsDir(f.contractsDir),
		console.ReadOnly(f.readOnly),
		console.MaskFields(f.mask...),
		console.ReplayGroup(f.replayGroup),
		console.Logger(slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))),
	}
	if st, err := os.Stat(f.schemasDir); err == nil && st.IsDir() {
		opts = append(opts, console.SchemaDir(f.schemasDir))
	} else if f.schemasDir != "schemas" {
		return nil, fmt.Errorf("console: --schemas %s is not a directory", f.schemasDir)
	}
	return opts, nil
}
