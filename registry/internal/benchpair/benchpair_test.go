package benchpair_test

import (
	"testing"
	"time"

	"github.com/contrail-events/contrail/registry/internal/benchpair"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name string
		in   []float64
		want benchpair.Summary
	}{
		{"odd", []float64{3, 1, 2}, benchpair.Summary{Median: 2, Min: 1, Max: 3, N: 3}},
		{"even", []float64{4, 1, 3, 2}, benchpair.Summary{Median: 2.5, Min: 1, Max: 4, N: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := benchpair.Summarize(tt.in); got != tt.want {
				t.Fatalf("Summarize(%v) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestRatiosAlternateAndDivide(t *testing.T) {
	var order []string
	r := benchpair.Ratios(4,
		func() time.Duration { order = append(order, "c"); return 3 },
		func() time.Duration { order = append(order, "b"); return 2 })
	if len(r) != 4 || r[0] != 1.5 || benchpair.Invert(r)[0] != 1/1.5 {
		t.Fatalf("ratios = %v", r)
	}
	if got := order[0] + order[1] + order[2] + order[3]; got != "cbbc" {
		t.Fatalf("run order %v, want candidate and baseline alternating first", order)
	}
}
