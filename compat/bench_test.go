package compat_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
)

const (
	benchSubjects = 1000
	benchVersions = 10
)

var (
	corpusOnce sync.Once
	corpus     [][]compat.Schema // subject -> versions, oldest first
)

// benchCorpus returns the benchmark corpus, built once.
func benchCorpus(tb testing.TB) [][]compat.Schema {
	corpusOnce.Do(func() { corpus = buildCorpus(benchSubjects) })
	return corpus
}

// buildCorpus builds n subjects with 10 versions each: a record of ten
// random fields, each version one random edit of the one before (some
// compatible, some not), every version with a text locator so findings carry
// file:line:col.
func buildCorpus(n int) [][]compat.Schema {
	var out [][]compat.Schema
	for s := range n {
		g := &gen{r: rand.New(rand.NewPCG(uint64(s), 7))}
		name := g.fresh("Event")
		var good any
		var versions []compat.Schema
		for attempt := 0; len(versions) < benchVersions; attempt++ {
			if attempt > 500 {
				panic("benchmark generator stuck")
			}
			var cand any
			if good == nil {
				var fields []any
				for range 10 {
					fields = append(fields, g.field(g.typ()))
				}
				cand = map[string]any{"type": "record", "name": name, "namespace": "bench", "fields": fields}
			} else {
				cand = g.mutate(clone(good))
			}
			text, _ := json.MarshalIndent(cand, "", "  ")
			sch, err := avro.ParseBytesWithCache(text, "", &avro.SchemaCache{})
			if err != nil {
				continue // an invalid edit: try another
			}
			loc, err := compat.TextLocator(fmt.Sprintf("bench/%s.avsc", name), text)
			if err != nil {
				panic(err)
			}
			good = cand
			versions = append(versions, compat.Schema{Schema: sch, Label: fmt.Sprintf("v%d", len(versions)+1), Source: loc})
		}
		out = append(out, versions)
	}
	return out
}

func runContrail(c [][]compat.Schema) (findings int) {
	for _, vs := range c {
		fs, _ := compat.CheckLevel(compat.BackwardTransitive, vs[len(vs)-1], vs[:len(vs)-1])
		findings += len(fs)
	}
	return findings
}

func runHamba(c [][]compat.Schema) (incompatible int) {
	for _, vs := range c {
		next := vs[len(vs)-1].Schema
		for _, prev := range vs[:len(vs)-1] {
			// A fresh instance per pair: a shared one would answer repeats
			// from its cache, which CheckLevel does not have.
			if avro.NewSchemaCompatibility().Compatible(next, prev.Schema) != nil {
				incompatible++
			}
		}
	}
	return incompatible
}

const benchPairs = benchSubjects * (benchVersions - 1)

// BenchmarkTransitive checks 1,000 subjects x 10 versions at
// BACKWARD_TRANSITIVE (9,000 reader/writer pairs per op), with contrail
// (every finding, with locations) and with hamba's Compatible (verdict only).
func BenchmarkTransitive(b *testing.B) {
	c := benchCorpus(b)
	b.Run("contrail", func(b *testing.B) {
		for b.Loop() {
			runContrail(c)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPairs), "ns/pair")
	})
	b.Run("contrail-verdict", func(b *testing.B) {
		for b.Loop() {
			for _, vs := range c {
				next := vs[len(vs)-1].Schema
				for _, prev := range vs[:len(vs)-1] {
					compat.Compatible(next, prev.Schema)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPairs), "ns/pair")
	})
	b.Run("hamba", func(b *testing.B) {
		for b.Loop() {
			runHamba(c)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchPairs), "ns/pair")
	})
}

// BenchmarkTransitiveRatio runs contrail and hamba back to back over the
// whole corpus 9 times per op and reports the median, min and max of the
// time ratios contrail/hamba (below 1 is faster than hamba). Run with
// -benchtime=1x.
func BenchmarkTransitiveRatio(b *testing.B) {
	c := benchCorpus(b)
	runContrail(c) // warm both (hamba caches fingerprints in the schemas)
	runHamba(c)
	for b.Loop() {
		var ratios []float64
		var tc, th time.Duration
		for range 9 {
			runtime.GC() // the corpus is big: start each half with a clean heap
			t0 := time.Now()
			runContrail(c)
			t1 := time.Now()
			runtime.GC()
			t1b := time.Now()
			runHamba(c)
			t2 := t1.Add(time.Since(t1b)) // hamba's time without the GC pause
			tc, th = tc+t1.Sub(t0), th+t2.Sub(t1)
			ratios = append(ratios, float64(t1.Sub(t0))/float64(t2.Sub(t1)))
		}
		slices.Sort(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "ratio-median")
		b.ReportMetric(ratios[0], "ratio-min")
		b.ReportMetric(ratios[len(ratios)-1], "ratio-max")
		b.ReportMetric(float64(tc.Nanoseconds())/float64(9*benchPairs), "contrail-ns/pair")
		b.ReportMetric(float64(th.Nanoseconds())/float64(9*benchPairs), "hamba-ns/pair")
	}
}

// TestBenchCorpus keeps the benchmark honest: the corpus (its first 200
// subjects, built the same way) has the promised shape, both engines agree
// on which subjects break, and every finding has a file position.
func TestBenchCorpus(t *testing.T) {
	c := buildCorpus(200)
	breaking := 0
	for _, vs := range c {
		if len(vs) != benchVersions {
			t.Fatalf("%d versions", len(vs))
		}
		fs := compat.CheckSpecOnly(vs[len(vs)-1].Schema, vs[0].Schema)
		h := avro.NewSchemaCompatibility().Compatible(vs[len(vs)-1].Schema, vs[0].Schema)
		if (len(fs) == 0) != (h == nil) {
			t.Fatalf("disagreement on %s", vs[0].Schema)
		}
		if len(fs) > 0 {
			breaking++
			full := compat.Check(vs[len(vs)-1], vs[0])
			if len(full) == 0 {
				t.Fatal("Check found nothing where the spec-only check did")
			}
			for _, f := range full {
				if f.Reader.Line == 0 || f.Writer.Line == 0 {
					t.Fatalf("finding without a file position: %+v", f)
				}
			}
		}
	}
	if breaking == 0 || breaking == len(c) {
		t.Fatalf("%d of %d subjects break v1: want a mix", breaking, len(c))
	}
	t.Logf("%d of %d subjects break v1", breaking, len(c))
}
