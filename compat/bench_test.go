package compat_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
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

// wideRecord returns the text of bench.Wide, a record of n fields, one per
// line (about 40 bytes a field: 4 MB for 100k fields). The reader version
// lists the fields in reverse order (the worst case for a scan of the
// writer's fields), renames every tenth field with an alias to its old name,
// widens int fields to long, and adds three fields at the end: two with
// defaults and one without (one finding). One string field becomes a
// boolean (a second finding), so findings are located too.
func wideRecord(n int, reader bool) []byte {
	types := []string{`"string"`, `"long"`, `"int"`, `"double"`, `["null","string"],"default":null`}
	var b strings.Builder
	b.WriteString("{\"type\":\"record\",\"name\":\"Wide\",\"namespace\":\"bench\",\"fields\":[\n")
	field := func(name, aliases, typ string) {
		fmt.Fprintf(&b, "{\"name\":%q%s,\"type\":%s},\n", name, aliases, typ)
	}
	for k := range n {
		i := k
		if reader {
			i = n - 1 - k
		}
		name, aliases, typ := fmt.Sprintf("f%06d", i), "", types[i%len(types)]
		if reader {
			if i%10 == 3 {
				name, aliases = fmt.Sprintf("g%06d", i), fmt.Sprintf(",\"aliases\":[\"f%06d\"]", i)
			}
			if typ == `"int"` {
				typ = `"long"`
			}
			if i == n/2 {
				typ = `"boolean"`
			}
		}
		field(name, aliases, typ)
	}
	if reader {
		field("added1", "", `"string","default":""`)
		field("added2", "", `["null","long"],"default":null`)
		field("added3", "", `"long"`)
	}
	s := strings.TrimSuffix(b.String(), ",\n") + "\n]}\n"
	return []byte(s)
}

func wideSchema(tb testing.TB, n int, reader bool, label string) compat.Schema {
	text := wideRecord(n, reader)
	sch, err := avro.ParseBytesWithCache(text, "", &avro.SchemaCache{})
	if err != nil {
		tb.Fatal(err)
	}
	loc, err := compat.TextLocator("bench/Wide.avsc", text)
	if err != nil {
		tb.Fatal(err)
	}
	return compat.Schema{Schema: sch, Label: label, Source: loc}
}

// BenchmarkCheckWideRecord checks one record of 1k, 10k and 100k fields
// (the reader reversed, with aliases, promotions and two findings, see
// wideRecord) with file positions. The time per op must grow linearly with
// the number of fields: ns/field stays flat. Run with -benchtime 3x.
func BenchmarkCheckWideRecord(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) {
			r, w := wideSchema(b, n, true, "v2"), wideSchema(b, n, false, "v1")
			if fs := compat.Check(r, w); len(fs) != 2 {
				b.Fatalf("%d findings, want 2: %+v", len(fs), fs)
			}
			for b.Loop() {
				compat.Check(r, w)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/field")
		})
	}
}

// BenchmarkWideRecordRead only reads what a check of BenchmarkCheckWideRecord
// must read of every field (its name's bytes, its type) in both records,
// with no matching: the floor that memory sets, whose time per field grows
// once the schemas outgrow the caches.
func BenchmarkWideRecordRead(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("fields=%d", n), func(b *testing.B) {
			r, w := wideSchema(b, n, true, "v2"), wideSchema(b, n, false, "v1")
			sum := 0
			for b.Loop() {
				for _, s := range []avro.Schema{r.Schema, w.Schema} {
					for _, f := range s.(*avro.RecordSchema).Fields() {
						sum += int(f.Name()[0]) + len(f.Type().Type())
					}
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/field")
			runtime.KeepAlive(sum)
		})
	}
}
