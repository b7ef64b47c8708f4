package jaegerapi_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/tracing/jaegerapi"
)

func sampleTrace() jaegerapi.Trace {
	kv := func(k string, v any) jaegerapi.KeyValue { return jaegerapi.KeyValue{Key: k, Value: v} }
	return jaegerapi.Trace{
		TraceID:   "t1",
		Processes: map[string]jaegerapi.Process{"p1": {ServiceName: "order"}, "p2": {ServiceName: "shipping"}},
		Spans: []jaegerapi.Span{
			// Out of order on purpose: Waterfall must sort causally.
			{TraceID: "t1", SpanID: "c", OperationName: "process orders", ProcessID: "p2", StartTime: 1_000_500, Duration: 500,
				References: []jaegerapi.Reference{{RefType: jaegerapi.RefFollowsFrom, TraceID: "t1", SpanID: "b"}},
				Tags:       []jaegerapi.KeyValue{kv("error", true), kv("error.type", "poison")},
				Logs: []jaegerapi.Log{{Timestamp: 1_000_700, Fields: []jaegerapi.KeyValue{kv("event", "dead_letter"),
					kv("contrail.dead_letter.topic", "orders.dlq"), kv("error.type", "poison"), kv("exception.message", "bad bytes")}}}},
			{TraceID: "t1", SpanID: "a", OperationName: "POST /orders", ProcessID: "p1", StartTime: 1_000_000, Duration: 400},
			{TraceID: "t1", SpanID: "b", OperationName: "send orders", ProcessID: "p1", StartTime: 1_000_100, Duration: 100,
				References: []jaegerapi.Reference{{RefType: jaegerapi.RefChildOf, TraceID: "t1", SpanID: "a"}}},
		},
	}
}

func TestWaterfall(t *testing.T) {
	var b bytes.Buffer
	if err := jaegerapi.Waterfall(&b, sampleTrace(), jaegerapi.WaterfallOptions{Width: 10}); err != nil {
		t.Fatal(err)
	}
	want := `trace t1: 3 spans, 2 services, 1.0ms, 1 failed
  SERVICE   OPERATION            DURATION  |0    1.0ms|
  order     POST /orders            400µs  |████      |
  order       send orders           100µs  | █        |
✗ shipping      process orders      500µs  |     █████| poison
                                   +700µs   ↳ dead_letter to orders.dlq: poison (bad bytes)
`
	if b.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	if err := jaegerapi.Waterfall(&b, jaegerapi.Trace{TraceID: "x"}, jaegerapi.WaterfallOptions{}); err == nil {
		t.Fatal("empty trace drew without error")
	}
}

func TestSpanHelpers(t *testing.T) {
	tr := sampleTrace()
	c, _ := tr.Span("c")
	if c.Parent() != "b" || !c.Failed() || tr.Service(c) != "shipping" || len(c.Links()) != 1 {
		t.Fatalf("parent %q failed %v service %q links %v", c.Parent(), c.Failed(), tr.Service(c), c.Links())
	}
	if a, _ := tr.Span("a"); a.Parent() != "" || a.Failed() {
		t.Fatalf("root span: parent %q failed %v", a.Parent(), a.Failed())
	}
	if got := tr.Find("send *"); len(got) != 1 || got[0].SpanID != "b" {
		t.Fatalf("Find = %+v", got)
	}
}

func TestClientErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/traces/404"):
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}`))
		case strings.HasPrefix(r.URL.Path, "/api/v3/traces/404"):
			w.WriteHeader(http.StatusNotFound)
		case strings.HasPrefix(r.URL.Path, "/api/v3/traces/500"):
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte("storage down\n"))
		case strings.HasPrefix(r.URL.Path, "/api/v3/traces/t1"):
			w.Write([]byte(`{"result":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"order"}}]},
				"scopeSpans":[{"spans":[{"traceId":"t1","spanId":"b","parentSpanId":"a","name":"send orders","kind":4,"links":[{"traceId":"t1","spanId":"a"}]}]}]}]}}`))
		case strings.HasPrefix(r.URL.Path, "/api/traces/500"):
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"data":null,"errors":[{"code":500,"msg":"storage down"}]}`))
		default:
			w.Write([]byte(`<html>not jaeger</html>`))
		}
	}))
	defer srv.Close()
	c := &jaegerapi.Client{BaseURL: srv.URL}
	ctx := context.Background()
	if _, err := c.Trace(ctx, "404"); !errors.Is(err, jaegerapi.ErrNotFound) {
		t.Errorf("404: %v", err)
	}
	var ae *jaegerapi.APIError
	if _, err := c.Trace(ctx, "500"); !errors.As(err, &ae) || ae.Status != 500 || ae.Msg != "storage down" {
		t.Errorf("500: %v", err)
	}
	if _, err := c.Trace(ctx, "abc"); !errors.As(err, &ae) || !strings.Contains(err.Error(), "16686") {
		t.Errorf("non-Jaeger answer: %v", err)
	}
	if _, err := c.TraceOTLP(ctx, "404"); !errors.Is(err, jaegerapi.ErrNotFound) {
		t.Errorf("v3 404: %v", err)
	}
	if _, err := c.TraceOTLP(ctx, "500"); !errors.As(err, &ae) || ae.Status != 500 || ae.Msg != "storage down" {
		t.Errorf("v3 500: %v", err)
	}
	if _, err := c.TraceOTLP(ctx, "abc"); !errors.As(err, &ae) || !strings.Contains(ae.Msg, "not an API v3 answer") {
		t.Errorf("v3 non-Jaeger answer: %v", err)
	}
	spans, err := c.TraceOTLP(ctx, "t1")
	if err != nil || len(spans) != 1 || spans[0].Service != "order" || spans[0].ParentSpanID != "a" ||
		spans[0].Kind != jaegerapi.KindProducer || len(spans[0].Links) != 1 || spans[0].Links[0].SpanID != "a" {
		t.Errorf("v3 trace: %+v, %v", spans, err)
	}
	down := &jaegerapi.Client{BaseURL: "http://127.0.0.1:1"}
	for name, call := range map[string]func() error{
		"Trace":     func() error { _, err := down.Trace(ctx, "t1"); return err },
		"TraceOTLP": func() error { _, err := down.TraceOTLP(ctx, "t1"); return err },
	} {
		if err := call(); !errors.Is(err, jaegerapi.ErrUnavailable) || !strings.Contains(err.Error(), "contrail up") {
			t.Errorf("%s with Jaeger down: %v", name, err)
		}
	}
	if _, err := c.Find(ctx, jaegerapi.Query{}); err == nil {
		t.Errorf("search without a service accepted")
	}
}
