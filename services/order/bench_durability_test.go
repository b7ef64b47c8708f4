package order_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/eventing/statedb"
)

const (
	durabilityPairs  = 11  // back-to-back FULL/NORMAL pairs per benchmark iteration
	durabilityOrders = 300 // orders (4 commits each) per run
)

// BenchmarkOrderLifecycleDurability prices statedb.DurabilityFull against
// the default DurabilityNormal on BenchmarkOrderLifecycle's work: one
// store per durability (each in its own file, on the same disk), runs of
// durabilityOrders orders alternating between them, which goes first
// swapped every pair. It reports the median FULL/NORMAL time per order
// over the pairs (x_full_per_normal) with min and max, and each setting's
// median time per order. Run it with -benchtime 1x: one iteration is all
// the pairs. The ratio depends on the disk's fsync latency, so it holds
// for the disk it ran on only.
func BenchmarkOrderLifecycleDurability(b *testing.B) {
	normal := newLifecycle(b, statedb.DurabilityNormal)
	full := newLifecycle(b, statedb.DurabilityFull)
	next := 0
	run := func(lc *lifecycle) time.Duration {
		start := time.Now()
		for range durabilityOrders {
			lc.order(b, next)
			next++
		}
		return time.Since(start) / durabilityOrders
	}
	run(normal) // warm-up: statements, page cache, file growth
	run(full)
	b.ResetTimer()
	for range b.N {
		var ratio, fullT, normalT []float64
		var pairs []string
		for i := range durabilityPairs {
			var f, n time.Duration
			if i%2 == 0 {
				f, n = run(full), run(normal)
			} else {
				n, f = run(normal), run(full)
			}
			ratio = append(ratio, float64(f)/float64(n))
			fullT, normalT = append(fullT, float64(f)), append(normalT, float64(n))
			pairs = append(pairs, fmt.Sprintf("pair %d: full %v/order, normal %v/order, %.2fx", i+1, f, n, float64(f)/float64(n)))
		}
		slices.Sort(ratio)
		b.Logf("FULL/NORMAL time per order, %d pairs of %d orders: median %.2fx (min %.2fx, max %.2fx); median full %v, normal %v per order\n%s",
			durabilityPairs, durabilityOrders, median(ratio), ratio[0], ratio[len(ratio)-1],
			time.Duration(median(fullT)), time.Duration(median(normalT)), strings.Join(pairs, "\n"))
		b.ReportMetric(median(ratio), "x_full_per_normal")
		b.ReportMetric(ratio[0], "x_min")
		b.ReportMetric(ratio[len(ratio)-1], "x_max")
		b.ReportMetric(median(fullT)/1e6, "ms_full/order")
		b.ReportMetric(median(normalT)/1e6, "ms_normal/order")
	}
}

// median returns the middle of v (the mean of the two middle values for an
// even length); it sorts a copy.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
