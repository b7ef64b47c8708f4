package tracing_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
)

func TestCarrier(t *testing.T) {
	tests := []struct {
		name    string
		headers []kgo.RecordHeader
		set     [][2]string
		want    []kgo.RecordHeader
	}{
		{name: "append to empty", set: [][2]string{{"traceparent", "a"}},
			want: []kgo.RecordHeader{{Key: "traceparent", Value: []byte("a")}}},
		{name: "replace in place", headers: hs("x", "1", "traceparent", "old", "y", "2"), set: [][2]string{{"traceparent", "new"}},
			want: hs("x", "1", "traceparent", "new", "y", "2")},
		{name: "duplicates collapse to first position", headers: hs("traceparent", "a", "x", "1", "traceparent", "b"), set: [][2]string{{"traceparent", "c"}},
			want: hs("traceparent", "c", "x", "1")},
		{name: "case-insensitive replace", headers: hs("Uber-Trace-Id", "old"), set: [][2]string{{"uber-trace-id", "new"}},
			want: hs("uber-trace-id", "new")},
		{name: "other keys untouched", headers: hs("a", "1", "b", "2"), set: [][2]string{{"c", "3"}, {"a", "9"}},
			want: hs("a", "9", "b", "2", "c", "3")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &kgo.Record{Headers: tc.headers}
			c := tracing.RecordCarrier(r)
			for _, kv := range tc.set {
				c.Set(kv[0], kv[1])
				if got := c.Get(kv[0]); got != kv[1] {
					t.Fatalf("Get(%q) after Set = %q, want %q", kv[0], got, kv[1])
				}
			}
			if !equalHeaders(r.Headers, tc.want) {
				t.Fatalf("headers %s, want %s", show(r.Headers), show(tc.want))
			}
			if len(c.Keys()) != len(tc.want) {
				t.Fatalf("Keys %v, want %d keys", c.Keys(), len(tc.want))
			}
		})
	}
}

func TestCarrierGetLastAndDelete(t *testing.T) {
	h := hs("k", "first", "x", "1", "K", "last")
	c := tracing.HeadersCarrier(&h)
	if got := c.Get("k"); got != "last" {
		t.Fatalf("Get = %q, want the last header's value", got)
	}
	c.Delete("k", "missing")
	if !equalHeaders(h, hs("x", "1")) {
		t.Fatalf("after Delete: %s", show(h))
	}
	var zero tracing.Carrier
	zero.Set("a", "b")
	zero.Delete("a")
	if zero.Get("a") != "" || zero.Keys() != nil {
		t.Fatalf("zero carrier not empty")
	}
}

// TestCarrierRoundTrip injects with the full propagator into a record that
// already carries another trace's headers and extracts the new one back.
func TestCarrierRoundTrip(t *testing.T) {
	tp := sdktrace.NewTracerProvider()
	prop := tracing.NewPropagator()
	for range 3 {
		ctx, span := tp.Tracer("t").Start(context.Background(), "s")
		r := &kgo.Record{Headers: hs("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "uber-trace-id", "1:2:0:1", "app", "v")}
		c := tracing.RecordCarrier(r)
		c.Delete(prop.Fields()...)
		prop.Inject(ctx, c)
		got := trace.SpanContextFromContext(prop.Extract(context.Background(), c))
		if got.TraceID() != span.SpanContext().TraceID() || got.SpanID() != span.SpanContext().SpanID() {
			t.Fatalf("extracted %v/%v, want %v/%v", got.TraceID(), got.SpanID(), span.SpanContext().TraceID(), span.SpanContext().SpanID())
		}
		if c.Get("app") != "v" || len(r.Headers) != 3 {
			t.Fatalf("headers %s, want app + traceparent + uber-trace-id", show(r.Headers))
		}
		span.End()
	}
}

// FuzzCarrier checks the carrier's invariants on arbitrary headers: Set then
// Get returns the value, exactly one header of the key remains, other
// headers keep their order, and extraction never panics.
func FuzzCarrier(f *testing.F) {
	f.Add("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "uber-trace-id", "1:2:0:1", "traceparent", "x")
	f.Add("Uber-Trace-Id", "::::", "baggage", "a=%zz", "uber-trace-id", "")
	f.Add("", "", "tracestate", strings.Repeat("k=v,", 40), "TRACEPARENT", "00-")
	f.Add("s", "1", "a", "2", "\u017f", "x") // ſ folds to s but is longer: another key
	prop := tracing.NewPropagator()
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, setK, setV string) {
		h := hs(k1, v1, k2, v2, "keep", "me")
		_ = prop.Extract(context.Background(), tracing.HeadersCarrier(&h)) // must not panic
		c := tracing.HeadersCarrier(&h)
		var others []kgo.RecordHeader
		for _, x := range h {
			if !sameKey(x.Key, setK) {
				others = append(others, x)
			}
		}
		c.Set(setK, setV)
		if got := c.Get(setK); got != setV {
			t.Fatalf("Get(%q) = %q after Set %q", setK, got, setV)
		}
		n := 0
		var rest []kgo.RecordHeader
		for _, x := range h {
			if sameKey(x.Key, setK) {
				n++
			} else {
				rest = append(rest, x)
			}
		}
		if n != 1 {
			t.Fatalf("%d headers named %q after Set", n, setK)
		}
		if !equalHeaders(rest, others) {
			t.Fatalf("other headers changed: %s, want %s", show(rest), show(others))
		}
		c.Delete(setK)
		if c.Get(setK) != "" && setV != "" {
			t.Fatalf("Delete left %q", setK)
		}
	})
}

// sameKey is the carrier's key match: case-insensitive, between keys of
// the same length in bytes (so the Kelvin sign is not k, nor ſ s).
func sameKey(a, b string) bool { return len(a) == len(b) && strings.EqualFold(a, b) }

func hs(kv ...string) []kgo.RecordHeader {
	var out []kgo.RecordHeader
	for i := 0; i < len(kv); i += 2 {
		out = append(out, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
	}
	return out
}

func equalHeaders(a, b []kgo.RecordHeader) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || string(a[i].Value) != string(b[i].Value) {
			return false
		}
	}
	return true
}

func show(h []kgo.RecordHeader) string {
	var b strings.Builder
	for _, x := range h {
		b.WriteString(x.Key + "=" + string(x.Value) + " ")
	}
	return "[" + strings.TrimSpace(b.String()) + "]"
}

// TestCarrierNeverWritesSharedHeaders: a record built from another record's
// headers may share their array; replacing or removing trace headers on
// one must not change the other.
func TestCarrierNeverWritesSharedHeaders(t *testing.T) {
	orig := make([]kgo.RecordHeader, 0, 8)
	orig = append(orig, hs("a", "1", "traceparent", "old", "b", "2", "tracestate", "s=1")...)
	snapshot := slices.Clone(orig)
	copyRec := &kgo.Record{Headers: orig[:len(orig)]}
	c := tracing.RecordCarrier(copyRec)
	c.Set("traceparent", "new")
	c.Delete("tracestate")
	_, finish := newMessaging(t).StartSend(context.Background(), copyRec)
	finish(nil)
	if !equalHeaders(orig, snapshot) {
		t.Fatalf("original headers changed: %s, want %s", show(orig), show(snapshot))
	}
	if got := tracing.RecordCarrier(copyRec).Get("a"); got != "1" {
		t.Fatalf("copy lost header a: %s", show(copyRec.Headers))
	}
}

func newMessaging(t *testing.T) *tracing.Messaging {
	_, _, m := newRecorder(sdktrace.AlwaysSample())
	return m
}

func TestCarriesContext(t *testing.T) {
	h := func(keys ...string) *kgo.Record {
		r := &kgo.Record{}
		for _, k := range keys {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte("v")})
		}
		return r
	}
	for _, tt := range []struct {
		name string
		r    *kgo.Record
		want bool
	}{
		{name: "no headers", r: h(), want: false},
		{name: "runtime headers only", r: h("contrail-event-id", "content-type", "contrail-event-type"), want: false},
		{name: "tracestate alone is no context", r: h("contrail-event-id", "tracestate"), want: false},
		{name: "traceparent", r: h("contrail-event-id", "traceparent"), want: true},
		{name: "uber-trace-id any case", r: h("Uber-Trace-Id"), want: true},
		{name: "baggage", r: h("content-type", "baggage"), want: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tracing.CarriesContext(tt.r); got != tt.want {
				t.Errorf("CarriesContext(%v) = %v, want %v", tt.r.Headers, got, tt.want)
			}
			if n := testing.AllocsPerRun(100, func() { tracing.CarriesContext(tt.r) }); n != 0 {
				t.Errorf("CarriesContext allocates %.0f times, want 0", n)
			}
		})
	}
}
