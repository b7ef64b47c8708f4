package tracingtest_test

import (
	"testing"

	"github.com/contrail-events/contrail/tracing/jaegerapi"
	"github.com/contrail-events/contrail/tracing/tracingtest"
)

func TestCheckAfter(t *testing.T) {
	tr := jaegerapi.Trace{TraceID: "t", Processes: map[string]jaegerapi.Process{
		"i": {ServiceName: "inventory"}, "p": {ServiceName: "payment"}, "s": {ServiceName: "shipping"}}}
	span := func(proc, op string, start, dur int64) jaegerapi.Span {
		return jaegerapi.Span{SpanID: op, OperationName: op, ProcessID: proc, StartTime: start, Duration: dur}
	}
	inv, pay := tracingtest.Op{Service: "inventory", Operation: "process orders"}, tracingtest.Op{Service: "payment", Operation: "process orders"}
	ship := tracingtest.Op{Service: "shipping", Operation: "process inventory"}
	tests := []struct {
		name  string
		spans []jaegerapi.Span
		ok    bool
	}{
		{name: "after both", spans: []jaegerapi.Span{span("i", "process orders", 0, 10), span("p", "process orders", 5, 10), span("s", "process inventory", 20, 1)}, ok: true},
		{name: "before payment ended", spans: []jaegerapi.Span{span("i", "process orders", 0, 10), span("p", "process orders", 5, 30), span("s", "process inventory", 20, 1)}},
		{name: "payment missing", spans: []jaegerapi.Span{span("i", "process orders", 0, 10), span("s", "process inventory", 20, 1)}},
		{name: "shipping missing", spans: []jaegerapi.Span{span("i", "process orders", 0, 10), span("p", "process orders", 5, 10)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr.Spans = tc.spans
			if err := tracingtest.CheckAfter(tr, ship, inv, pay); (err == nil) != tc.ok {
				t.Fatalf("CheckAfter = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
