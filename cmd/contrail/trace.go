package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/tracing/jaegerapi"
)

func init() { register(newTraceCmd) }

// traceFlags are `contrail trace`'s flags.
type traceFlags struct {
	jaeger   string
	format   string
	width    int
	lookback time.Duration
}

func newTraceCmd(env *cliEnv) *cobra.Command {
	var f traceFlags
	cmd := &cobra.Command{
		Use:   "trace ORDER-ID|TRACE-ID",
		Short: "Draw one order's trace from Jaeger as a terminal waterfall",
		Long: `trace fetches a trace from Jaeger's HTTP API and draws it as a waterfall: one line per
span in causal order, with its service, operation, duration and a bar on the trace's time
axis. Failed spans are marked ✗ with their error.type; retries and dead letters are listed
under the span they happened in.

The argument is a trace id (16 or 32 hex digits) or an order id; an order id is found by
searching every service for spans tagged contrail.order.id or messaging.kafka.message.key.`,
		Example: `  contrail trace 0a6f6a34-8d0e-4c8a-9d56-2d4f3c1b7e11
  contrail trace 4bf92f3577b34da6a3ce929d0e0e4736 --jaeger http://127.0.0.1:16686
  contrail trace o-1001 --format json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTrace(cmd, env, f, args[0])
		},
	}
	def := os.Getenv("CONTRAIL_JAEGER_URL")
	if def == "" {
		def = "http://127.0.0.1:16686"
	}
	cmd.Flags().StringVar(&f.jaeger, "jaeger", def, "Jaeger query URL (env CONTRAIL_JAEGER_URL)")
	cmd.Flags().StringVar(&f.format, "format", "text", "output format: text (waterfall) or json (Jaeger's trace JSON)")
	cmd.Flags().IntVar(&f.width, "width", 48, "width of the duration bars in columns")
	cmd.Flags().DurationVar(&f.lookback, "lookback", 48*time.Hour, "how far back to search for an order id")
	return cmd
}

func runTrace(cmd *cobra.Command, env *cliEnv, f traceFlags, ref string) error {
	if f.format != "text" && f.format != "json" {
		return withCode(exitError, fmt.Errorf("trace: unknown --format %q: use text or json", f.format))
	}
	if f.width < 10 || f.width > 400 {
		return withCode(exitError, fmt.Errorf("trace: --width %d is out of range: use 10 to 400", f.width))
	}
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return withCode(exitError, errors.New("trace: empty order or trace id"))
	}
	api := &jaegerapi.Client{BaseURL: f.jaeger}
	tr, others, err := api.Lookup(cmd.Context(), ref, f.lookback)
	if errors.Is(err, jaegerapi.ErrNotFound) {
		return withCode(exitError, fmt.Errorf("trace: %w in Jaeger at %s (Jaeger keeps traces in memory: were the services exporting to it, and has it restarted since?)", err, f.jaeger))
	}
	if err != nil {
		return withCode(exitError, fmt.Errorf("trace: %w", err))
	}
	if f.format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(tr)
	}
	color := false
	if fd, ok := env.stdout.(*os.File); ok {
		color = isatty.IsTerminal(fd.Fd())
	}
	if err := jaegerapi.Waterfall(env.stdout, tr, jaegerapi.WaterfallOptions{Width: f.width, Color: color}); err != nil {
		return withCode(exitError, fmt.Errorf("trace: %w", err))
	}
	if len(others) > 0 {
		fmt.Fprintf(env.stderr, "note: %d older trace(s) also match %q: %s\n", len(others), ref, strings.Join(others, " "))
	}
	return nil
}
