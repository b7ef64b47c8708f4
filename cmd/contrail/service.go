package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"sort"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/services/inventory"
	"github.com/contrail-events/contrail/services/order"
	"github.com/contrail-events/contrail/services/payment"
	"github.com/contrail-events/contrail/services/shipping"
)

func init() { register(newServiceCmd) }

// serviceRunners maps a reference service's name to its Run.
var serviceRunners = map[string]func(context.Context, host.Config, host.HostOpts) error{
	order.Name:     order.Run,
	inventory.Name: inventory.Run,
	payment.Name:   payment.Run,
	shipping.Name:  shipping.Run,
}

func newServiceCmd(env *cliEnv) *cobra.Command {
	names := make([]string, 0, len(serviceRunners))
	for n := range serviceRunners {
		names = append(names, n)
	}
	sort.Strings(names)
	return &cobra.Command{
		Use:       "service <" + fmt.Sprint(names) + ">",
		Short:     "Run one reference service (order, inventory, payment or shipping) until interrupted",
		ValidArgs: names,
		Long: "service runs one service of the reference order flow, configured only by environment variables:\n" +
			"  KAFKA_BROKERS (or CONTRAIL_BROKERS)   broker list, default 127.0.0.1:9092\n" +
			"  KAFKA_TLS, KAFKA_TLS_CA_FILE, KAFKA_TLS_CERT_FILE, KAFKA_TLS_KEY_FILE, KAFKA_TLS_SERVER_NAME\n" +
			"  KAFKA_SASL_MECHANISM (SCRAM-SHA-256|SCRAM-SHA-512|PLAIN), KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD\n" +
			"  SCHEMA_REGISTRY_URL                   default http://127.0.0.1:8081\n" +
			"  CONTRAIL_REGISTRY_USER, CONTRAIL_REGISTRY_PASSWORD  registry basic auth\n" +
			"  SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO  user:password (alias, read when CONTRAIL_REGISTRY_USER is unset)\n" +
			"  CONTRAIL_DATA_DIR                     SQLite state, default ./.contrail (<dir>/<service>.db)\n" +
			"  CONTRAIL_SQLITE_SYNC                  normal (default: a commit survives a process kill) or\n" +
			"                                        full (an fsync per commit: it also survives a power loss)\n" +
			"  CONTRAIL_DATABASE_URL                 postgres://user:password@host:5432/dbname: state in PostgreSQL\n" +
			"                                        instead of SQLite, shared by every replica of the service\n" +
			"  CONTRAIL_DATABASE_SCHEMA              its PostgreSQL schema, default contrail_<service>\n" +
			"  CONTRAIL_HTTP_ADDR                    /healthz /readyz /metrics and the API\n" +
			"                                        (defaults: order :8080, inventory :8091, payment :8092, shipping :8093)\n" +
			"  CONTRAIL_GROUP                        consumer group, default contrail-<service>\n" +
			"  CONTRAIL_INSTANCE_ID                  static member id, default <group>-<hostname>; one per replica\n" +
			"  CONTRAIL_ADMIN_TOKEN                  bearer token of the admin API (/debug/pprof, GET /orders,\n" +
			"                                        GET /orders/count, GET /payments); unset: those answer 403\n" +
			"  CONTRAIL_HTTP_READ_HEADER_TIMEOUT     default 5s    CONTRAIL_HTTP_READ_TIMEOUT   default 30s (body included)\n" +
			"  CONTRAIL_HTTP_WRITE_TIMEOUT           default 60s   CONTRAIL_HTTP_IDLE_TIMEOUT   default 120s\n" +
			"  CONTRAIL_HTTP_MAX_HEADER_BYTES        default 32768\n" +
			"  OTEL_SERVICE_NAME, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED\n" +
			"  GOGC                                  Go GC target, default 400 here (Go's own default is 100)\n" +
			"Logs are JSON on stderr. SIGINT/SIGTERM drain in-flight events, commit and exit.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			runFn, ok := serviceRunners[args[0]]
			if !ok {
				return withCode(exitError, fmt.Errorf("service: unknown service %q: use one of %v", args[0], names))
			}
			if os.Getenv("GOGC") == "" {
				// A service's live heap is a few MiB: collecting at 5x instead
				// of 2x it costs little memory and a large share of GC CPU.
				debug.SetGCPercent(400)
			}
			cfg := host.FromEnv(args[0], nil)
			if err := runFn(cmd.Context(), cfg, host.HostOpts{LogOutput: env.stderr}); err != nil {
				return withCode(exitError, err)
			}
			return nil
		},
	}
}
