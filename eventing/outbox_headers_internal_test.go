package eventing

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/wire"
)

func headersEqual(a, b []kgo.RecordHeader) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || (a[i].Value == nil) != (b[i].Value == nil) || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

// jsonHeaders is the headers column as encoding/json writes it: what
// Enqueue wrote before appendHeaders, and what rows written then hold.
func jsonHeaders(t testing.TB, hs []kgo.RecordHeader) string {
	list := make([]storedHeader, len(hs))
	for i, h := range hs {
		list[i] = storedHeader{h.Key, h.Value}
	}
	b, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOutboxHeadersMatchJSON: the headers column holds the same text
// whether appendHeaders or encoding/json wrote it, and parseHeaders reads
// either back to the same headers, for the runtime's own headers, empty
// and nil values, no headers, and keys that need escaping.
func TestOutboxHeadersMatchJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	random := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	cases := []struct {
		name string
		hs   []kgo.RecordHeader
	}{
		{"none", nil},
		{"empty", []kgo.RecordHeader{}},
		{"runtime", []kgo.RecordHeader{{Key: wire.HeaderEventID, Value: []byte("0190f3c2-7d1e-7b3a-9c4e-1234567890ab")},
			{Key: wire.HeaderEventType, Value: []byte("contrail.orders.OrderPlaced")}, {Key: wire.HeaderContentType, Value: []byte(wire.ContentTypeAvro)},
			{Key: wire.HeaderTraceParent, Value: []byte("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")}}},
		{"nil and empty values", []kgo.RecordHeader{{Key: "a", Value: nil}, {Key: "b", Value: []byte{}}, {Key: "", Value: []byte("x")}}},
		{"binary values", []kgo.RecordHeader{{Key: "bin", Value: random(1)}, {Key: "bin2", Value: random(2)}, {Key: "bin3", Value: random(300)}}},
		{"keys json escapes", []kgo.RecordHeader{{Key: `q"uote`, Value: []byte("1")}, {Key: "a<b>&c", Value: []byte("2")}, {Key: "tab\there", Value: nil},
			{Key: "ünïcode", Value: []byte("3")}, {Key: "bad\xffutf8", Value: []byte("4")}, {Key: `back\slash`, Value: []byte("5")}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := jsonHeaders(t, c.hs)
			if got := string(appendHeaders(nil, c.hs)); got != want {
				t.Fatalf("appendHeaders wrote %s\nencoding/json writes %s", got, want)
			}
			got, err := parseHeaders(want)
			if err != nil {
				t.Fatal(err)
			}
			var list []storedHeader
			if err := json.Unmarshal([]byte(want), &list); err != nil {
				t.Fatal(err)
			}
			wantHs := make([]kgo.RecordHeader, len(list))
			for i, h := range list {
				wantHs[i] = kgo.RecordHeader{Key: h.K, Value: h.V}
			}
			if !headersEqual(got, wantHs) {
				t.Fatalf("parseHeaders(%s) = %q, encoding/json reads %q", want, got, wantHs)
			}
		})
	}
}

// FuzzParseHeaders: parseHeaders never panics, and whatever it reads
// encoding/json reads alike (and what it refuses, encoding/json refuses).
func FuzzParseHeaders(f *testing.F) {
	f.Add(`[]`)
	f.Add(`null`)
	f.Add(`[{"k":"contrail-event-id","v":"YWJj"},{"k":"x","v":null}]`)
	f.Add(`[{"k":"a\"b","v":""}]`)
	f.Add(`[{"k":"a","v":"YW="}]`)
	f.Add(`[{"k":"a","v":"YWJj"} ]`)
	f.Add("[{\"k\":\"a\",\"v\":\"YW\nJj\"}]")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseHeaders(s)
		var list []storedHeader
		jerr := json.Unmarshal([]byte(s), &list)
		if (err == nil) != (jerr == nil) {
			t.Fatalf("parseHeaders(%q) error %v, encoding/json %v", s, err, jerr)
		}
		if err != nil {
			return
		}
		want := make([]kgo.RecordHeader, len(list))
		for i, h := range list {
			want[i] = kgo.RecordHeader{Key: h.K, Value: h.V}
		}
		if !headersEqual(got, want) {
			t.Fatalf("parseHeaders(%q) = %q, encoding/json reads %q", s, got, want)
		}
	})
}
