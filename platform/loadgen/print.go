package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
)

// WriteText prints the report for humans.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "orders        %d (concurrency %d", r.Orders, r.Concurrency)
	if r.Rate > 0 {
		fmt.Fprintf(w, ", rate %.0f/s", r.Rate)
	}
	fmt.Fprintf(w, "): %d good, %d out of stock, %d declined\n", r.Kinds[Good], r.Kinds[OutOfStock], r.Kinds[Declined])
	fmt.Fprintf(w, "placed        %.1f orders/s over HTTP (%.2fs)\n", r.PlacedPerSec, r.PlaceSeconds)
	fmt.Fprintf(w, "throughput    %.1f orders/s placed->final (%.2fs from first placed to last final)\n", r.OrdersPerSec, r.FlowSeconds)
	fmt.Fprintf(w, "latency       placed->final p50 %.0fms  p95 %.0fms  p99 %.0fms  max %.0fms\n", r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Latency.Max)
	states := make([]string, 0, len(r.Final))
	for s := range r.Final {
		states = append(states, s)
	}
	sort.Strings(states)
	fmt.Fprintf(w, "final states ")
	for _, s := range states {
		fmt.Fprintf(w, "  %s: %d", s, r.Final[s])
	}
	fmt.Fprintln(w)
	if b := r.Baseline; b != nil {
		fmt.Fprintf(w, "baseline      raw franz-go: %.0f records/s durable (%d records of %dB, SyncWrites broker)\n", b.RecordsPerSec, b.Records, b.RecordBytes)
		fmt.Fprintf(w, "efficiency    %.3f = %.1f orders/s x %d records/order / %.0f raw records/s (targets: >= 0.10 on SQLite, >= 0.05 on PostgreSQL)\n",
			b.Efficiency, r.OrdersPerSec, b.RecordsPerOrder, b.RecordsPerSec)
	}
	if r.Hops != nil {
		r.Hops.WriteText(w)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note          %s\n", n)
	}
	fmt.Fprintln(w, "invariants")
	for _, inv := range r.Invariants {
		mark := "ok  "
		if !inv.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, inv.Name, inv.Detail)
		for _, e := range inv.Errors {
			fmt.Fprintf(w, "         %s\n", e)
		}
	}
}

// WriteJSON prints the report as one JSON document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
