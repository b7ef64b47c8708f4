// Package benchpair runs paired measurements for Contrail's benchmarks: a
// candidate and its baseline back to back, several times, so the noise of a
// shared machine hits both sides of every ratio alike. Only benchmarks use it.
package benchpair

import (
	"fmt"
	"slices"
	"time"
)

// Ratios runs pairs rounds; each round times candidate and baseline once
// (alternating which goes first) and records candidate/baseline. A run
// function does a fixed amount of work and returns how long it took.
func Ratios(pairs int, candidate, baseline func() time.Duration) []float64 {
	out := make([]float64, 0, pairs)
	for i := range pairs {
		var c, b time.Duration
		if i%2 == 0 {
			c, b = candidate(), baseline()
		} else {
			b, c = baseline(), candidate()
		}
		out = append(out, float64(c)/float64(b))
	}
	return out
}

// Summary is the median, minimum and maximum of a set of ratios.
type Summary struct {
	Median, Min, Max float64
	N                int
}

// Summarize returns r's summary; r must not be empty.
func Summarize(r []float64) Summary {
	s := slices.Clone(r)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Summary{Median: m, Min: s[0], Max: s[len(s)-1], N: len(s)}
}

// Invert returns 1/x for every ratio (time ratio <-> throughput ratio).
func Invert(r []float64) []float64 {
	out := make([]float64, len(r))
	for i, x := range r {
		out[i] = 1 / x
	}
	return out
}

// String formats the summary as "median 1.03 (min 0.98, max 1.10, 11 pairs)".
func (s Summary) String() string {
	return fmt.Sprintf("median %.3f (min %.3f, max %.3f, %d pairs)", s.Median, s.Min, s.Max, s.N)
}
