package serde_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/registry/internal/benchpair"
)

// benchSetup returns a warm serde, the generated OrderPlaced binding (schemas
// pushed as `contrail registry push` does), a value and its framed and raw
// encodings.
func benchSetup(b *testing.B) (ctx context.Context, s interface {
	Encode(context.Context, events.Type, any) ([]byte, error)
	Decode(context.Context, []byte, events.Type, any) error
}, bind *events.Binding[orders.OrderPlaced], v *orders.OrderPlaced, framed, raw []byte) {
	ctx = context.Background()
	tr := newRegistry(b)
	pushRepoSchemas(b, tr)
	sd := newSerde(b, tr)
	bind = orders.OrderPlacedBinding
	v = fillGenerated(b)
	var err error
	if framed, err = sd.Encode(ctx, bind, v); err != nil {
		b.Fatal(err)
	}
	if raw, err = avro.Marshal(bind.Schema(), v); err != nil {
		b.Fatal(err)
	}
	var out orders.OrderPlaced
	if err := sd.Decode(ctx, framed, bind, &out); err != nil {
		b.Fatal(err)
	}
	return ctx, sd, bind, v, framed, raw
}

func BenchmarkEncode(b *testing.B) {
	ctx, s, bind, v, _, _ := benchSetup(b)
	schema := bind.Schema()
	b.Run("framed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Encode(ctx, bind, v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := avro.Marshal(schema, v); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	ctx, s, bind, _, framed, raw := benchSetup(b)
	schema := bind.Schema()
	b.Run("framed", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out orders.OrderPlaced
			if err := s.Decode(ctx, framed, bind, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var out orders.OrderPlaced
			if err := avro.Unmarshal(schema, raw, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSerdeVsRawPairs prints the framed/raw time ratio of encode and
// decode as the median of 15 back-to-back pairs (target <= 1.10), and the
// allocations per message of each (target: no extra). Run it with
// -benchtime=1x: one iteration is the whole paired measurement.
func BenchmarkSerdeVsRawPairs(b *testing.B) {
	ctx, s, bind, v, framed, raw := benchSetup(b)
	schema := bind.Schema()
	const perRun, pairs = 10000, 15
	timed := func(f func()) func() time.Duration {
		return func() time.Duration {
			runtime.GC() // fence: neither side pays for the other's garbage
			start := time.Now()
			for range perRun {
				f()
			}
			return time.Since(start)
		}
	}
	encFramed := func() { s.Encode(ctx, bind, v) }
	encRaw := func() { avro.Marshal(schema, v) }
	decFramed := func() { var out orders.OrderPlaced; s.Decode(ctx, framed, bind, &out) }
	decRaw := func() { var out orders.OrderPlaced; avro.Unmarshal(schema, raw, &out) }
	for range b.N {
		enc := benchpair.Summarize(benchpair.Ratios(pairs, timed(encFramed), timed(encRaw)))
		dec := benchpair.Summarize(benchpair.Ratios(pairs, timed(decFramed), timed(decRaw)))
		b.ReportMetric(enc.Median, "encode-ratio")
		b.ReportMetric(dec.Median, "decode-ratio")
		b.Logf("encode framed/raw time: %s; allocs/msg framed %.0f raw %.0f", enc,
			testing.AllocsPerRun(1000, encFramed), testing.AllocsPerRun(1000, encRaw))
		b.Logf("decode framed/raw time: %s; allocs/msg framed %.0f raw %.0f", dec,
			testing.AllocsPerRun(1000, decFramed), testing.AllocsPerRun(1000, decRaw))
	}
}
