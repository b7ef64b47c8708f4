package main

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/wire"
)

func init() { register(newUpCmd) }

func newUpCmd(env *cliEnv) *cobra.Command {
	var cfg platform.Config
	var noConsole bool
	addrs := map[string]*string{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Run the whole reference order flow on this machine until Ctrl-C",
		Long: "up starts the embedded broker, the schema registry, Jaeger (unless --no-jaeger), registers the\n" +
			"schemas and starts the order, inventory, payment and shipping services as subprocesses\n" +
			"(`contrail service <name>`, restarted if one crashes). It prints what runs where and a curl\n" +
			"line that places an order, and serves the web console (--console-addr; see docs/console.md).\nState lives in --data-dir and survives a restart. Jaeger is built\n" +
			"from the checkout's tools/ module the first time, which takes a few minutes.\n\n" +
			"With --postgres URL the services keep their state in that PostgreSQL database (a schema per\n" +
			"service) instead of SQLite files, and --replicas N runs N processes of each service in one\n" +
			"consumer group; the first replica of a service listens on its address, the others on free\n" +
			"ports, all printed. See docs/postgres.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.ServiceAddrs = map[string]string{}
			for name, p := range addrs {
				cfg.ServiceAddrs[name] = *p
			}
			if noConsole {
				cfg.ConsoleAddr = ""
			}
			cfg.Out = env.stdout
			cfg.Logger = slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			fmt.Fprintln(env.stdout, "starting contrail...")
			p, err := platform.Start(cmd.Context(), cfg)
			if err != nil {
				return withCode(exitError, err)
			}
			p.PrintSummary(env.stdout)
			<-cmd.Context().Done()
			fmt.Fprintln(env.stdout, "\n"+p.StopMessage())
			if err := p.Close(); err != nil {
				return withCode(exitError, err)
			}
			fmt.Fprintln(env.stdout, "stopped.")
			return nil
		},
	}
	// The flags show platform.Config's defaults, which live in SetDefaults.
	var def platform.Config
	def.SetDefaults()
	fl := cmd.Flags()
	fl.StringVar(&cfg.DataDir, "data-dir", def.DataDir, "directory for all state (broker, registry, service databases, logs)")
	fl.BoolVar(&cfg.NoJaeger, "no-jaeger", false, "do not start Jaeger; services record spans without exporting them")
	fl.StringVar(&cfg.ConsoleAddr, "console-addr", wire.DefaultConsoleAddr, "web console listen address")
	fl.BoolVar(&noConsole, "no-console", false, "do not serve the web console")
	fl.StringVar(&cfg.PostgresURL, "postgres", "", "keep the services' state in this PostgreSQL database (postgres://user:password@host:5432/dbname) instead of SQLite files")
	fl.IntVar(&cfg.Replicas, "replicas", def.Replicas, "processes of each service (more than 1 needs --postgres)")
	fl.StringVar(&cfg.BrokerAddr, "broker-addr", def.BrokerAddr, "embedded broker address")
	fl.StringVar(&cfg.RegistryAddr, "registry-addr", def.RegistryAddr, "schema registry address")
	fl.StringVar(&cfg.JaegerUIAddr, "jaeger-addr", def.JaegerUIAddr, "Jaeger query API / UI address")
	fl.StringVar(&cfg.JaegerOTLPHTTPAddr, "otlp-http-addr", def.JaegerOTLPHTTPAddr, "Jaeger OTLP/HTTP receiver address")
	fl.StringVar(&cfg.JaegerOTLPGRPCAddr, "otlp-grpc-addr", def.JaegerOTLPGRPCAddr, "Jaeger OTLP/gRPC receiver address")
	for _, name := range platform.Services {
		v := new(string)
		addrs[name] = v
		fl.StringVar(v, name+"-addr", def.ServiceAddrs[name], name+" service HTTP address")
	}
	return cmd
}
