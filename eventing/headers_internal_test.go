package eventing

import (
	"strings"
	"testing"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kgo"
)

// FuzzNewMessage feeds arbitrary header values to the header parser: it must
// never panic, and a trace id is either empty or the 32 hex digits of a
// well-formed traceparent.
func FuzzNewMessage(f *testing.F) {
	f.Add("ev-1", "contrail.orders.OrderPlaced", "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01")
	f.Add("", "", "00--")
	f.Add("x", "y", "00-zz-zz-zz")
	f.Fuzz(func(t *testing.T, id, typ, tp string) {
		r := &kgo.Record{Topic: "t", Key: []byte(id), Headers: []kgo.RecordHeader{
			{Key: wire.HeaderEventID, Value: []byte(id)}, {Key: wire.HeaderEventType, Value: []byte(typ)}, {Key: "traceparent", Value: []byte(tp)},
		}}
		m := new(Message)
		m.init(r, "g", nil)
		if m.EventID != id || m.EventType != typ || m.Key != id || m.Attempt != 1 {
			t.Fatalf("message %+v does not carry the headers", m)
		}
		if m.TraceID != "" && (len(m.TraceID) != 32 || strings.Trim(m.TraceID, "0123456789abcdef") != "") {
			t.Fatalf("trace id %q from %q", m.TraceID, tp)
		}
		// The byte-level parser agrees with the plain definition: four
		// dash-separated parts, the second 32 lower-case hex digits.
		want := ""
		if parts := strings.Split(tp, "-"); len(parts) == 4 && len(parts[1]) == 32 && strings.Trim(parts[1], "0123456789abcdef") == "" {
			want = parts[1]
		}
		if m.TraceID != want {
			t.Fatalf("trace id %q from %q, want %q", m.TraceID, tp, want)
		}
	})
}
