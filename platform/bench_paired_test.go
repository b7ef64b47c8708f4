package platform_test

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing/storetest"
	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/loadgen"
)

// BenchmarkOrderFlowPaired compares two builds of contrail on the order
// flow: it starts a stack with each (their own broker, registry and
// services, side by side), and runs 400-order saturation runs on them in
// turn, A then B then B then A..., CONTRAIL_BENCH_PAIRS pairs (default 11).
// It prints each pair's orders/s and B/A, their median with min and max,
// the median of each hop's mean for each build, and the p50 latency of
// five pairs of runs at the same rate (half of A's median). Alternating
// on the same machine state is what makes a small difference visible on a
// machine whose load swings.
//
// CONTRAIL_BENCH_A and CONTRAIL_BENCH_B name the two contrail binaries
// (it skips without them); CONTRAIL_BENCH_POSTGRES=1 keeps both stacks'
// state in PostgreSQL (storetest.PostgresURL), one replica per service.
//
// Run, e.g. the previous commit against the working tree:
//
//	git worktree add /tmp/before HEAD~1 && (cd /tmp/before && go build -o /tmp/contrail-before ./cmd/contrail)
//	go build -o /tmp/contrail-now ./cmd/contrail
//	CONTRAIL_BENCH_A=/tmp/contrail-before CONTRAIL_BENCH_B=/tmp/contrail-now go test ./platform -run '^$' -bench OrderFlowPaired -benchtime 1x
func BenchmarkOrderFlowPaired(b *testing.B) {
	bins := [2]string{os.Getenv("CONTRAIL_BENCH_A"), os.Getenv("CONTRAIL_BENCH_B")}
	if bins[0] == "" || bins[1] == "" {
		b.Skip("set CONTRAIL_BENCH_A and CONTRAIL_BENCH_B to the two contrail binaries to compare")
	}
	pairs := 11
	if v := os.Getenv("CONTRAIL_BENCH_PAIRS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("CONTRAIL_BENCH_PAIRS=%q: want a number of pairs, at least 1", v)
		}
		pairs = n
	}
	ctx := context.Background()
	var ps [2]*platform.Platform
	for i, bin := range bins {
		cfg := testConfig(b.TempDir())
		cfg.Executable = bin
		if os.Getenv("CONTRAIL_BENCH_POSTGRES") != "" {
			cfg.PostgresURL = storetest.PostgresURL(b)
		}
		p, err := platform.Start(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		defer p.Close()
		ps[i] = p
	}
	run := func(p *platform.Platform, orders, conc int, rate float64) *loadgen.Report {
		urls := func(s string) string { return strings.Join(p.ReplicaURLs[s], ",") }
		rep, err := loadgen.Run(ctx, loadgen.Config{Orders: orders, Concurrency: conc, Rate: rate, OrderURL: urls("order"),
			InventoryURL: urls("inventory"), PaymentURL: urls("payment"), AdminToken: p.AdminToken, Brokers: []string{p.BrokerAddr}})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK {
			b.Fatalf("invariants failed: %+v", rep.Invariants)
		}
		return rep
	}
	for _, p := range ps {
		run(p, 100, 16, 0) // warm up: connections, schema ids, database pages
	}
	var sat [2][]float64
	var hops [2][]*loadgen.Hops
	var ratios []float64
	for i := range pairs {
		order := [2]int{0, 1}
		if i%2 == 1 {
			order = [2]int{1, 0}
		}
		var got [2]float64
		for _, v := range order {
			rep := run(ps[v], 400, 64, 0)
			got[v] = rep.OrdersPerSec
			sat[v] = append(sat[v], rep.OrdersPerSec)
			hops[v] = append(hops[v], rep.Hops)
		}
		ratios = append(ratios, got[1]/got[0])
		fmt.Printf("pair %2d: A %6.0f  B %6.0f orders/s  B/A %.2f\n", i+1, got[0], got[1], got[1]/got[0])
	}
	median := func(xs []float64) float64 {
		s := append([]float64(nil), xs...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	lo, hi := ratios[0], ratios[0]
	for _, r := range ratios {
		lo, hi = min(lo, r), max(hi, r)
	}
	fmt.Printf("saturation    A %.0f, B %.0f orders/s (medians); B/A %.2f (min %.2f, max %.2f) over %d pairs\n",
		median(sat[0]), median(sat[1]), median(ratios), lo, hi, pairs)
	for v, name := range [2]string{"A", "B"} {
		fmt.Printf("hops of %s (median over the runs of each hop's mean), ms:\n", name)
		for si, stage := range loadgen.HopStages {
			var xs []float64
			for _, h := range hops[v] {
				xs = append(xs, h.Stages[si].Mean)
			}
			fmt.Printf("  %-82s %6.1f\n", stage, median(xs))
		}
		var xs []float64
		for _, h := range hops[v] {
			xs = append(xs, h.CriticalPath.Mean)
		}
		fmt.Printf("  %-82s %6.1f\n", "POST sent -> final", median(xs))
	}
	rate := median(sat[0]) / 2
	var p50 [2][]float64
	var lat []float64
	for i := range 5 {
		order := [2]int{0, 1}
		if i%2 == 1 {
			order = [2]int{1, 0}
		}
		var got [2]float64
		for _, v := range order {
			got[v] = run(ps[v], 400, 64, rate).Latency.P50
			p50[v] = append(p50[v], got[v])
		}
		lat = append(lat, got[1]/got[0])
	}
	fmt.Printf("same rate     %.0f orders/s (half of A's saturation), 5 pairs: placed->final p50 A %v ms, B %v ms; B/A median %.2f\n",
		rate, p50[0], p50[1], median(lat))
	b.ReportMetric(median(ratios), "B/A")
}
