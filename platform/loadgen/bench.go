package loadgen

import (
	"context"
	"fmt"
	"io"
	"sort"
)

// BenchReport is `contrail load --bench`: the flow at saturation, its
// latency at half that rate, and the efficiency against raw franz-go
// through the same broker, as the median of back-to-back pairs.
type BenchReport struct {
	Pairs int `json:"pairs"`
	// Saturation is orders/s placed->final per pair's flow run.
	Saturation Spread `json:"saturation_orders_per_sec"`
	// Raw is raw durable records/s per pair's baseline run.
	Raw Spread `json:"raw_records_per_sec"`
	// Efficiency is orders/s x RecordsPerOrder / raw records/s per pair.
	Efficiency Spread `json:"efficiency"`
	// HalfRate is the run at half the median saturation rate.
	HalfRate *Report `json:"half_rate"`
	// Runs are the pairs' flow runs, in order.
	Runs []*Report `json:"runs"`
	// Hops is where the time went in the flow run of median throughput
	// (with Config.Brokers; HalfRate.Hops is the half-rate run's).
	Hops *Hops `json:"hops,omitempty"`
	// OK is true when every run's invariants held.
	OK bool `json:"ok"`
}

// Spread is the median, min and max of paired measurements.
type Spread struct {
	Median float64   `json:"median"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	All    []float64 `json:"all"`
}

func spread(xs []float64) Spread {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Spread{Median: s[len(s)/2], Min: s[0], Max: s[len(s)-1], All: xs}
}

// Bench runs pairs of (flow at cfg.Concurrency without a rate cap, raw
// baseline moving cfg.Orders x RecordsPerOrder records through brokers)
// back to back, then cfg.Orders at half the median saturation rate. The
// machine's noise hits both halves of a pair alike, which is why the ratio
// is taken per pair. Each flow run also reports its hops (Report.Hops),
// read from cfg.Brokers, or brokers when that is empty.
func Bench(ctx context.Context, cfg Config, brokers []string, pairs int) (*BenchReport, error) {
	if pairs < 1 {
		return nil, fmt.Errorf("%w: --pairs must be at least 1", ErrConfig)
	}
	cfg.Rate = 0
	if len(cfg.Brokers) == 0 {
		cfg.Brokers = brokers // the hops are read from the same brokers
	}
	br := &BenchReport{Pairs: pairs, OK: true}
	var sat, raw, eff []float64
	for i := 0; i < pairs; i++ {
		rep, err := Run(ctx, cfg)
		if err != nil {
			return nil, err
		}
		br.OK = br.OK && rep.OK
		b, err := Compare(ctx, brokers, cfg.Orders, rep.OrdersPerSec)
		if err != nil {
			return nil, err
		}
		br.Runs = append(br.Runs, rep)
		sat = append(sat, rep.OrdersPerSec)
		raw = append(raw, b.RecordsPerSec)
		eff = append(eff, b.Efficiency)
	}
	br.Saturation, br.Raw, br.Efficiency = spread(sat), spread(raw), spread(eff)
	for _, rep := range br.Runs {
		if rep.OrdersPerSec == br.Saturation.Median {
			br.Hops = rep.Hops
			break
		}
	}
	cfg.Rate = br.Saturation.Median / 2
	half, err := Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	br.HalfRate = half
	br.OK = br.OK && half.OK
	return br, nil
}

// WriteText prints the benchmark for humans.
func (b *BenchReport) WriteText(w io.Writer) {
	fmt.Fprintf(w, "saturation    %.1f orders/s placed->final (median of %d runs; min %.1f, max %.1f)\n", b.Saturation.Median, b.Pairs, b.Saturation.Min, b.Saturation.Max)
	if h := b.HalfRate; h != nil {
		fmt.Fprintf(w, "half rate     %.0f orders/s: placed->final p50 %.0fms  p95 %.0fms  p99 %.0fms\n", h.Rate, h.Latency.P50, h.Latency.P95, h.Latency.P99)
	}
	fmt.Fprintf(w, "raw franz-go  %.0f records/s through the same broker, same durability (min %.0f, max %.0f)\n", b.Raw.Median, b.Raw.Min, b.Raw.Max)
	fmt.Fprintf(w, "efficiency    %.3f = orders/s x %d / raw records/s, median of %d pairs (min %.3f, max %.3f; targets: >= 0.10 on SQLite, >= 0.05 on PostgreSQL)\n",
		b.Efficiency.Median, RecordsPerOrder, b.Pairs, b.Efficiency.Min, b.Efficiency.Max)
	fmt.Fprintf(w, "pairs         orders/s, raw records/s, efficiency:")
	for i := range b.Saturation.All {
		if i < len(b.Raw.All) && i < len(b.Efficiency.All) {
			fmt.Fprintf(w, "  %.0f %.0f %.3f", b.Saturation.All[i], b.Raw.All[i], b.Efficiency.All[i])
		}
	}
	fmt.Fprintln(w)
	if b.Hops != nil {
		fmt.Fprintf(w, "at saturation (the run of median throughput), ")
		b.Hops.WriteText(w)
	}
	if b.HalfRate != nil && b.HalfRate.Hops != nil {
		fmt.Fprintf(w, "at half rate, ")
		b.HalfRate.Hops.WriteText(w)
	}
	if b.OK {
		fmt.Fprintln(w, "invariants    ok in every run")
	} else {
		fmt.Fprintln(w, "invariants    FAILED in at least one run (run without --bench to see which)")
	}
}
