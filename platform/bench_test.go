package platform_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail-events/contrail/eventing/storetest"
	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/loadgen"
)

// BenchmarkOrderFlow measures the reference flow on the embedded stack
// (in-process broker with SyncWrites, subprocess services) against raw
// franz-go through the same broker in the same run:
//
//   - saturation: orders/s placed->final with 64 requests in flight;
//   - latency: placed->final p50/p95/p99 at half the saturation rate;
//   - efficiency: orders/s x 6 records/order / raw durable records/s, as
//     the median of 9 back-to-back (flow, raw) pairs with min and max;
//   - where the time goes: a CPU profile of each service during a
//     saturation run, summarized with `go tool pprof -top`.
//
// It runs in three modes, each a sub-benchmark on a fresh stack: sqlite
// (the default: a SQLite file per service), postgres (the services' state
// in PostgreSQL, one replica each) and postgres-2replicas (two replicas of
// each service, placements spread over both order replicas). The
// PostgreSQL modes need a server (storetest.PostgresURL: they skip
// without one) and add the CPU time of its processes per order.
//
// Run: go test ./platform -run '^$' -bench OrderFlow -benchtime 1x
// (one mode: -bench 'OrderFlow/postgres-2replicas')
func BenchmarkOrderFlow(b *testing.B) {
	if testing.Short() {
		b.Skip("platform benchmark: needs the contrail binary, which -short mode does not build")
	}
	for _, mode := range []struct {
		name     string
		postgres bool
		replicas int
	}{{"sqlite", false, 1}, {"postgres", true, 1}, {"postgres-2replicas", true, 2}} {
		b.Run(mode.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				cfg := testConfig(b.TempDir())
				if mode.postgres {
					cfg.PostgresURL = storetest.PostgresURL(b)
					cfg.Replicas = mode.replicas
				}
				benchOnce(b, cfg)
			}
		})
	}
}

func benchOnce(b *testing.B, cfg platform.Config) {
	ctx := context.Background()
	p, err := platform.Start(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	urls := func(s string) string { return strings.Join(p.ReplicaURLs[s], ",") }
	load := func(orders, conc int, rate float64) *loadgen.Report {
		rep, err := loadgen.Run(ctx, loadgen.Config{Orders: orders, Concurrency: conc, Rate: rate, OrderURL: urls("order"),
			InventoryURL: urls("inventory"), PaymentURL: urls("payment"), AdminToken: p.AdminToken, Seed: uint64(time.Now().UnixNano())})
		if err != nil {
			b.Fatal(err)
		}
		if !rep.OK {
			b.Fatalf("invariants failed: %+v", rep.Invariants)
		}
		return rep
	}
	load(100, 16, 0) // warm up: connections, schema ids, SQLite pages

	// The CPU each part uses while the flow runs at saturation.
	procs := map[string][]int{"self": nil}
	if cfg.PostgresURL != "" {
		procs["postgres"] = nil
	}
	for _, svc := range platform.Services {
		for _, r := range p.Replicas(svc) {
			procs[svc] = append(procs[svc], r.Pid())
		}
	}
	sampler := startCPUSampler(procs, 50*time.Millisecond)
	if cfg.PostgresURL != "" {
		// Which backends serve which service: their application_name is
		// contrail:contrail_<service> (eventing.OpenPostgres).
		pg, err := sql.Open("pgx", cfg.PostgresURL)
		if err != nil {
			b.Fatal(err)
		}
		defer pg.Close()
		pg.SetMaxOpenConns(1)
		sampler.setBackends(func() map[int]string {
			rows, err := pg.Query(`SELECT pid, application_name FROM pg_stat_activity WHERE datname = current_database()`)
			if err != nil {
				return nil
			}
			defer rows.Close()
			out := map[int]string{}
			for rows.Next() {
				var pid int
				var app string
				if rows.Scan(&pid, &app) == nil && strings.HasPrefix(app, "contrail:contrail_") {
					out[pid] = strings.TrimPrefix(app, "contrail:contrail_")
				}
			}
			return out
		})
	}

	// pairs runs loadgen.Bench with n-order runs: 9 (flow, raw) pairs and a
	// run at half the saturation rate; it fails the benchmark on an error
	// or a broken invariant.
	pairs := func(n int, what string) *loadgen.BenchReport {
		br, err := loadgen.Bench(ctx, loadgen.Config{Orders: n, Concurrency: 64, OrderURL: urls("order"),
			InventoryURL: urls("inventory"), PaymentURL: urls("payment"), AdminToken: p.AdminToken, Brokers: []string{p.BrokerAddr}},
			[]string{p.BrokerAddr}, 9)
		if err != nil {
			sampler.Stop()
			b.Fatal(err)
		}
		if !br.OK {
			sampler.Stop()
			b.Fatalf("invariants failed during the %s benchmark", what)
		}
		return br
	}
	const orders = 400
	br := pairs(orders, "burst")
	// Sustained: the same pairs with runs long enough (sustainedOrders)
	// that filling and draining the flow's eleven hops, and the raw
	// client's group join, are a small part of each run.
	var sustained *loadgen.BenchReport
	if n := sustainedOrders(b); n > 0 {
		sustained = pairs(n, "sustained")
	}
	sampler.Stop()
	windowsOf := func(br *loadgen.BenchReport) (ws [][2]time.Time, n int) {
		for _, r := range br.Runs {
			ws = append(ws, [2]time.Time{r.FirstPlaced, r.LastFinal})
			n += r.Orders
		}
		return ws, n
	}
	windows, burstOrders := windowsOf(br)
	cpuAtSaturation := sampler.within(windows)
	sat, half := br.Saturation.Median, br.HalfRate

	// Where the time goes: profile every service during one saturation run.
	// CONTRAIL_BENCH_PROFILE_DIR keeps the profiles, and adds an execution
	// trace of each service during the same run.
	profDir := os.Getenv("CONTRAIL_BENCH_PROFILE_DIR")
	traceDir := profDir
	if profDir == "" {
		profDir = b.TempDir()
	}
	done := make(chan struct{})
	var pgCPU time.Duration
	var profiled *loadgen.Report
	pg0 := postgresCPU()
	before := map[string]map[string]float64{}
	for _, svc := range platform.Services {
		before[svc], _ = scrape(p.ServiceURLs[svc])
	}
	go func() { profiled = load(orders*2, 64, 0); pgCPU = postgresCPU() - pg0; close(done) }()
	var (
		profiles []string
		mu       sync.Mutex
		wg       sync.WaitGroup
	)
	for _, svc := range platform.Services {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := filepath.Join(profDir, svc+".pprof")
			if err := fetch(p.ServiceURLs[svc]+"/debug/pprof/profile?seconds=2", p.AdminToken, f); err == nil {
				mu.Lock()
				profiles = append(profiles, svc)
				mu.Unlock()
			}
		}()
		if traceDir != "" {
			// Execution traces of the same run: off-CPU time by cause with
			// go tool trace -pprof=sync|net|syscall|sched <file>.
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fetch(p.ServiceURLs[svc]+"/debug/pprof/trace?seconds=1", p.AdminToken, filepath.Join(traceDir, svc+".trace")); err != nil {
					b.Logf("trace of %s: %v", svc, err)
				}
			}()
		}
	}
	wg.Wait()
	<-done
	sort.Strings(profiles)
	after := map[string]map[string]float64{}
	for _, svc := range platform.Services {
		after[svc], _ = scrape(p.ServiceURLs[svc])
	}

	b.ReportMetric(sat, "orders/s")
	b.ReportMetric(half.Latency.P50, "p50-ms@half")
	b.ReportMetric(half.Latency.P95, "p95-ms@half")
	b.ReportMetric(half.Latency.P99, "p99-ms@half")
	b.ReportMetric(br.Raw.Median, "raw-records/s")
	b.ReportMetric(br.Efficiency.Median, "efficiency")
	// b.Logf truncates long benchmark logs: print directly.
	br.WriteText(os.Stdout)
	cpuAtSaturation.write(os.Stdout, "CPU share at saturation", platform.Services)
	if ceil := cpuAtSaturation.writeCeiling(os.Stdout, burstOrders, br.Raw.Median); ceil > 0 {
		b.ReportMetric(ceil, "efficiency-ceiling")
	}
	if sustained != nil {
		ws, n := windowsOf(sustained)
		cpu := sampler.within(ws)
		writeSustained(os.Stdout, sustained, cpu, n)
		b.ReportMetric(sustained.Saturation.Median, "sustained-orders/s")
		b.ReportMetric(sustained.Efficiency.Median, "sustained-efficiency")
		if cpu.cpu[machineTotal] > 0 {
			b.ReportMetric(100*(cpu.cpu[machineTotal]-cpu.cpu[machineBusy])/cpu.cpu[machineTotal], "sustained-idle-%")
		}
	}
	b.ReportMetric(100*(cpuAtSaturation.cpu["order"]+cpuAtSaturation.cpu["inventory"]+cpuAtSaturation.cpu["payment"]+cpuAtSaturation.cpu["shipping"])/max(cpuAtSaturation.cpu[machineTotal], 1e-9), "services-cpu-%")
	if cfg.PostgresURL != "" && pgCPU > 0 {
		// The whole profiled run's orders, placed to final: the server's
		// CPU per order (all its processes, so other databases' work on
		// the machine counts too).
		fmt.Printf("PostgreSQL server CPU: %.2f ms per order over the %d-order saturation run (%.1f orders/s)\n",
			float64(pgCPU.Microseconds())/1000/float64(orders*2), orders*2, profiled.OrdersPerSec)
		b.ReportMetric(float64(pgCPU.Microseconds())/1000/float64(orders*2), "pg-cpu-ms/order")
	}
	for _, svc := range platform.Services {
		if before[svc] != nil && after[svc] != nil {
			writeStages(os.Stdout, svc, before[svc], after[svc])
		}
	}
	for _, svc := range profiles {
		out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=100000", filepath.Join(profDir, svc+".pprof")).CombinedOutput()
		if err != nil {
			b.Logf("pprof %s: %v", svc, err)
			continue
		}
		// b.Logf truncates long benchmark logs: print directly.
		fmt.Printf("CPU profile of %s during saturation (flat time by area): %s\n", svc, byArea(string(out)))
	}
}

// sustainedOrders is the size of the sustained runs:
// CONTRAIL_BENCH_SUSTAINED_ORDERS, default 3000 (0 skips them).
func sustainedOrders(b *testing.B) int {
	v := os.Getenv("CONTRAIL_BENCH_SUSTAINED_ORDERS")
	if v == "" {
		return 3000
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		b.Fatalf("CONTRAIL_BENCH_SUSTAINED_ORDERS=%q: want a number of orders (0: no sustained runs)", v)
	}
	return n
}

// writeSustained prints the sustained pairs: throughput, the raw baseline
// moving as many records, the efficiency, the latency at half rate, the
// CPU share and each part's CPU time per order.
func writeSustained(w io.Writer, br *loadgen.BenchReport, u usage, orders int) {
	n := 0
	if len(br.Runs) > 0 {
		n = br.Runs[0].Orders
	}
	fmt.Fprintf(w, "sustained     %d-order runs, %d pairs; raw franz-go moves %d records a run\n", n, br.Pairs, n*loadgen.RecordsPerOrder)
	fmt.Fprintf(w, "  throughput  %.1f orders/s placed->final (min %.1f, max %.1f)\n", br.Saturation.Median, br.Saturation.Min, br.Saturation.Max)
	if h := br.HalfRate; h != nil {
		fmt.Fprintf(w, "  half rate   %.0f orders/s: placed->final p50 %.0fms  p95 %.0fms  p99 %.0fms\n", h.Rate, h.Latency.P50, h.Latency.P95, h.Latency.P99)
	}
	fmt.Fprintf(w, "  raw         %.0f records/s (min %.0f, max %.0f)\n", br.Raw.Median, br.Raw.Min, br.Raw.Max)
	fmt.Fprintf(w, "  efficiency  %.3f, median of %d pairs (min %.3f, max %.3f)\n", br.Efficiency.Median, br.Pairs, br.Efficiency.Min, br.Efficiency.Max)
	u.write(w, "CPU share, sustained", platform.Services)
	u.writePerOrder(w, orders)
	u.writeCeiling(w, orders, br.Raw.Median)
}

func fetch(url, token, path string) error {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(f, resp.Body)
	return err
}

// areas groups functions by where their time goes, first match wins.
var areas = []struct{ name, prefix string }{
	{"sqlite", "modernc.org/"}, {"pgx", "github.com/jackc/"}, {"syscalls", "internal/runtime/syscall"}, {"syscalls", "syscall."},
	{"franz-go", "github.com/twmb/"}, {"avro", "github.com/hamba/"}, {"json", "encoding/json"},
	{"http+gin", "net/http"}, {"http+gin", "github.com/gin-gonic"}, {"contrail", "github.com/contrail-events/"},
	{"database/sql", "database/sql"}, {"go runtime (gc, sched)", "runtime."}, {"go runtime (gc, sched)", "internal/runtime"},
}

// byArea sums pprof -top's flat column by area: "sqlite 31%, syscalls 20%, ...".
func byArea(top string) string {
	sum := map[string]float64{}
	var total float64
	for _, l := range strings.Split(top, "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err != nil {
			continue
		}
		name := strings.Join(f[5:], " ")
		area := "other"
		for _, a := range areas {
			if strings.HasPrefix(name, a.prefix) {
				area = a.name
				break
			}
		}
		sum[area] += pct
		total += pct
	}
	type kv struct {
		k string
		v float64
	}
	var list []kv
	for k, v := range sum {
		list = append(list, kv{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].v > list[j].v })
	var parts []string
	for _, e := range list {
		parts = append(parts, fmt.Sprintf("%s %.0f%%", e.k, e.v))
	}
	head := ""
	for _, l := range strings.Split(top, "\n") {
		if strings.HasPrefix(l, "Duration:") {
			head = strings.TrimSpace(l) + "; "
		}
	}
	return head + strings.Join(parts, ", ")
}

// postgresCPU returns the CPU time (user + system) the processes named
// postgres on this machine have used so far, 0 where /proc cannot tell.
func postgresCPU() time.Duration {
	var ticks int64
	for _, t := range postgresTicks() {
		ticks += t
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}
