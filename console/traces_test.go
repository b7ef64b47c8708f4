package console_test

import (
	"testing"

	"github.com/contrail-events/contrail/console"
	"github.com/contrail-events/contrail/tracing/jaegerapi"
)

// TestWaterfall: children under their parent by start time, bars on the
// trace's axis, orphans as roots, failures and retry events kept.
func TestWaterfall(t *testing.T) {
	ref := func(p string) []jaegerapi.Reference {
		return []jaegerapi.Reference{{RefType: jaegerapi.RefChildOf, TraceID: "t", SpanID: p}}
	}
	tr := jaegerapi.Trace{TraceID: "t", Processes: map[string]jaegerapi.Process{"a": {ServiceName: "order"}, "b": {ServiceName: "payment"}},
		Spans: []jaegerapi.Span{
			{SpanID: "c2", OperationName: "late child", ProcessID: "b", StartTime: 1600, Duration: 400, References: ref("root"),
				Tags: []jaegerapi.KeyValue{{Key: "error", Value: true}, {Key: "error.type", Value: "transient"}},
				Logs: []jaegerapi.Log{{Timestamp: 1700, Fields: []jaegerapi.KeyValue{{Key: "event", Value: "retry"}, {Key: "contrail.retry.attempt", Value: "2"}}}}},
			{SpanID: "root", OperationName: "POST /orders", ProcessID: "a", StartTime: 1000, Duration: 1000},
			{SpanID: "c1", OperationName: "early child", ProcessID: "a", StartTime: 1100, Duration: 100, References: ref("root")},
			{SpanID: "orphan", OperationName: "lost", ProcessID: "b", StartTime: 1500, Duration: 10, References: ref("gone")},
		}}
	w := console.NewWaterfall(tr)
	var ops []string
	for _, r := range w.Rows {
		ops = append(ops, r.Operation)
	}
	want := []string{"POST /orders", "early child", "late child", "lost"}
	if len(ops) != len(want) {
		t.Fatalf("rows %v, want %v", ops, want)
	}
	for i := range want {
		if ops[i] != want[i] {
			t.Fatalf("rows %v, want %v", ops, want)
		}
	}
	if r := w.Rows[2]; r.Depth != 1 || !r.Failed || r.ErrorType != "transient" || len(r.Events) != 1 || r.X != 600 || r.W != 400 {
		t.Fatalf("late child row %+v", r)
	}
	if w.Rows[0].X != 0 || w.Rows[0].W != 1000 || w.Failed != 1 || len(w.Services) != 2 || w.Total.Microseconds() != 1000 {
		t.Fatalf("waterfall %+v", w)
	}
}
