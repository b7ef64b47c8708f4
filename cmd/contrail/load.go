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

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/platform/loadgen"
)

func init() { register(newLoadCmd) }

type loadFlags struct {
	cfg      loadgen.Config
	format   string
	baseline bool
	bench    bool
	pairs    int
	brokers  string
}

func newLoadCmd(env *cliEnv) *cobra.Command {
	var f loadFlags
	cmd := &cobra.Command{
		Use:   "load",
		Short: "Place orders against a running platform and check the flow's invariants",
		Long: "load places --orders orders (a mix of good, out-of-stock and declined ones) at --concurrency\n" +
			"(or capped at --rate per second), waits until every order is final, and prints orders/s,\n" +
			"placed->final latency percentiles, counts per final state and the invariant checks: every\n" +
			"order final exactly once, stock conserved, each charged order charged once, each order\n" +
			"cancelled after a charge refunded. It exits 1 when an invariant fails. With --baseline it\n" +
			"also moves the same number of raw records through the broker with plain franz-go and\n" +
			"reports the efficiency ratio; --bench measures saturation, latency at half that rate and the\n" +
			"efficiency as the median of --pairs back-to-back pairs. Run it against `contrail up` with no\n" +
			"other traffic.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.format != "text" && f.format != "json" {
				return withCode(exitError, fmt.Errorf("load: --format must be text or json, got %q", f.format))
			}
			if f.cfg.Orders < 1 {
				return withCode(exitError, errors.New("load: --orders must be at least 1"))
			}
			if f.bench {
				return runBench(cmd, env, f)
			}
			if fl, ok := env.stderr.(*os.File); ok && f.format == "text" && isatty.IsTerminal(fl.Fd()) {
				f.cfg.Progress = progressBar(env, time.Now())
			}
			rep, err := loadgen.Run(cmd.Context(), f.cfg)
			if f.cfg.Progress != nil {
				fmt.Fprint(env.stderr, "\r\033[K")
			}
			if err != nil {
				return withCode(exitError, err)
			}
			if f.baseline {
				b, err := loadgen.Compare(cmd.Context(), host.SplitList(f.brokers), f.cfg.Orders, rep.OrdersPerSec)
				if err != nil {
					return withCode(exitError, err)
				}
				rep.Baseline = b
			}
			if f.format == "json" {
				if err := rep.WriteJSON(env.stdout); err != nil {
					return withCode(exitError, err)
				}
			} else {
				rep.WriteText(env.stdout)
			}
			if !rep.OK {
				return withCode(exitError, errors.New("load: invariants failed (see above)"))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.cfg.Orders, "orders", 100, "orders to place")
	fl.IntVar(&f.cfg.Concurrency, "concurrency", 16, "requests in flight")
	fl.Float64Var(&f.cfg.Rate, "rate", 0, "cap on orders placed per second (0: as fast as --concurrency allows)")
	fl.Float64Var(&f.cfg.OutOfStock, "out-of-stock", 0.1, "fraction of out-of-stock orders")
	fl.Float64Var(&f.cfg.Declined, "declined", 0.1, "fraction of orders the payment provider declines")
	fl.DurationVar(&f.cfg.Timeout, "timeout", 2*time.Minute, "how long to wait for every order to become final")
	fl.Uint64Var(&f.cfg.Seed, "seed", 0, "seed of the order mix (0: time-based)")
	fl.StringVar(&f.cfg.OrderURL, "order-url", "http://127.0.0.1:8080", "order service base URL")
	fl.StringVar(&f.cfg.InventoryURL, "inventory-url", "http://127.0.0.1:8091", "inventory service base URL")
	fl.StringVar(&f.cfg.PaymentURL, "payment-url", "http://127.0.0.1:8092", "payment service base URL")
	fl.StringVar(&f.format, "format", "text", "output format: text or json")
	fl.BoolVar(&f.baseline, "baseline", false, "also measure raw franz-go through the broker and print the efficiency ratio")
	fl.StringVar(&f.brokers, "brokers", "127.0.0.1:9092", "broker list for --baseline and --bench")
	fl.BoolVar(&f.bench, "bench", false, "benchmark: --pairs runs at saturation each paired with a raw franz-go run, then one at half the saturation rate")
	fl.IntVar(&f.pairs, "pairs", 9, "back-to-back (flow, raw) pairs for --bench")
	return cmd
}

func runBench(cmd *cobra.Command, env *cliEnv, f loadFlags) error {
	br, err := loadgen.Bench(cmd.Context(), f.cfg, host.SplitList(f.brokers), f.pairs)
	if err != nil {
		return withCode(exitError, err)
	}
	if f.format == "json" {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(br); err != nil {
			return withCode(exitError, err)
		}
	} else {
		br.WriteText(env.stdout)
	}
	if !br.OK {
		return withCode(exitError, errors.New("load: invariants failed during the benchmark"))
	}
	return nil
}

// progressBar draws one line on the terminal: placed and final counts.
func progressBar(env *cliEnv, start time.Time) func(placed, final, total int) {
	return func(placed, final, total int) {
		const width = 30
		done := final
		phase := "final "
		if final == 0 {
			done, phase = placed, "placed"
		}
		n := done * width / total
		fmt.Fprintf(env.stderr, "\r%s [%s%s] %d/%d  %.0fs", phase, strings.Repeat("#", n), strings.Repeat(".", width-n), done, total, time.Since(start).Seconds())
	}
}
