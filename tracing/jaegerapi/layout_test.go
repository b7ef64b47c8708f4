package jaegerapi_test

import (
	"io"
	"testing"

	"github.com/contrail-events/contrail/tracing/jaegerapi"
)

func span(id, parent string, start int64) jaegerapi.Span {
	s := jaegerapi.Span{TraceID: "t", SpanID: id, StartTime: start, Duration: 10}
	if parent != "" {
		s.References = []jaegerapi.Reference{{RefType: jaegerapi.RefChildOf, TraceID: "t", SpanID: parent}}
	}
	return s
}

func TestLayout(t *testing.T) {
	tests := []struct {
		name  string
		spans []jaegerapi.Span
		want  []string // span id@depth in order
	}{
		{"tree by start", []jaegerapi.Span{span("c2", "r", 30), span("r", "", 0), span("c1", "r", 20), span("g", "c1", 25)},
			[]string{"r@0", "c1@1", "g@2", "c2@1"}},
		{"unknown parent is a root", []jaegerapi.Span{span("a", "gone", 5), span("b", "", 1)}, []string{"b@0", "a@0"}},
		{"self parent is a root", []jaegerapi.Span{span("a", "a", 0)}, []string{"a@0"}},
		{"cycle is cut", []jaegerapi.Span{span("r", "", 0), span("a", "b", 1), span("b", "a", 2)}, []string{"r@0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := jaegerapi.Trace{TraceID: "t", Spans: tt.spans}
			rows, _, _ := tr.Layout()
			var got []string
			for _, r := range rows {
				got = append(got, r.Span.SpanID+"@"+string(rune('0'+r.Depth)))
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Layout = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("Layout = %v, want %v", got, tt.want)
				}
			}
			// The terminal waterfall draws from the same layout and
			// returns on a broken trace.
			if err := jaegerapi.Waterfall(io.Discard, tr, jaegerapi.WaterfallOptions{}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
