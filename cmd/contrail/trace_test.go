package main

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/tracing"
	"github.com/contrail-events/contrail/tracing/jaegerapi"
	"github.com/contrail-events/contrail/tracing/tracingtest"
)

// tracing.Messaging is the runtime's Tracer.
var _ eventing.Tracer = (*tracing.Messaging)(nil)

// exportOrderTrace sends one order's spans to j from two services: an HTTP
// span, a publish, a handler that retries and dead-letters. It returns the
// trace id.
func exportOrderTrace(t *testing.T, j *tracingtest.Jaeger, orderID string) string {
	t.Helper()
	ctx := context.Background()
	order, err := tracing.Setup(ctx, tracing.Config{ServiceName: "order", Endpoint: j.OTLPHTTP})
	if err != nil {
		t.Fatal(err)
	}
	payment, err := tracing.Setup(ctx, tracing.Config{ServiceName: "payment", Endpoint: j.OTLPHTTP})
	if err != nil {
		t.Fatal(err)
	}
	hctx, http := order.TracerProvider().Tracer("test").Start(ctx, "POST /orders", trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(tracing.AttrOrderID.String(orderID)))
	r := &kgo.Record{Topic: "orders", Key: []byte(orderID), Partition: 0, Offset: 7}
	_, finish := order.Messaging().StartSend(hctx, r)
	time.Sleep(2 * time.Millisecond)
	finish(nil)
	http.End()

	pctx, done := payment.Messaging().StartProcess(ctx, r, "payment")
	payment.Messaging().Retry(pctx, 2, errors.New("card network down"))
	time.Sleep(3 * time.Millisecond)
	payment.Messaging().DeadLetter(pctx, "orders.dlq", errors.New("card network down"))
	done(nil)
	for _, p := range []*tracing.Provider{order, payment} {
		if err := p.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	id := trace.SpanContextFromContext(hctx).TraceID().String()
	j.WaitTrace(t, id, 3, 30*time.Second)
	return id
}

func TestTraceWaterfallFromJaeger(t *testing.T) {
	if testing.Short() {
		t.Skip("Jaeger end-to-end test: slow, runs in make test")
	}
	j := tracingtest.StartJaeger(t)
	id := exportOrderTrace(t, j, "o-77")

	for _, ref := range []string{"o-77", id} {
		t.Run(ref, func(t *testing.T) {
			code, out, errOut := runCLI(t, "trace", ref, "--jaeger", j.QueryURL, "--width", "20")
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := strings.Split(strings.TrimSpace(out), "\n")
			if !strings.HasPrefix(lines[0], "trace "+id+": 3 spans, 2 services") || !strings.Contains(lines[0], "1 failed") {
				t.Fatalf("summary line %q", lines[0])
			}
			// Causal order: the HTTP span, its publish indented under it, the handler under the publish.
			wantOrder := []string{"order    POST /orders", "order      send orders", "payment      process orders"}
			pos := -1
			for _, w := range wantOrder {
				i := strings.Index(out, w)
				if i < 0 || i < pos {
					t.Fatalf("want %q after position %d in:\n%s", w, pos, out)
				}
				pos = i
			}
			var failed string
			for _, l := range lines {
				if strings.Contains(l, "process orders") {
					failed = l
				}
			}
			if !strings.HasPrefix(failed, "✗") || !strings.Contains(failed, "_OTHER") || !strings.Contains(failed, "█") {
				t.Fatalf("failed span line %q lacks the mark, error type or bar", failed)
			}
			if !strings.Contains(out, "↳ retry attempt 2: _OTHER (card network down)") || !strings.Contains(out, "↳ dead_letter to orders.dlq") {
				t.Fatalf("retry/dead-letter events missing:\n%s", out)
			}
		})
	}

	code, out, _ := runCLI(t, "trace", "o-77", "--jaeger", j.QueryURL, "--format", "json")
	var tr jaegerapi.Trace
	if code != exitOK || json.Unmarshal([]byte(out), &tr) != nil || tr.TraceID != id || len(tr.Spans) != 3 {
		t.Fatalf("json: exit %d, trace %q with %d spans", code, tr.TraceID, len(tr.Spans))
	}

	code, _, errOut := runCLI(t, "trace", "o-does-not-exist", "--jaeger", j.QueryURL)
	if code != exitError || !strings.Contains(errOut, "no trace") || !strings.Contains(errOut, "o-does-not-exist") {
		t.Fatalf("unknown order: exit %d, stderr %q", code, errOut)
	}
}

func TestTraceErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "jaeger down", args: []string{"trace", "o-1", "--jaeger", dead}, want: "is Jaeger running"},
		{name: "bad format", args: []string{"trace", "o-1", "--format", "xml"}, want: "use text or json"},
		{name: "bad width", args: []string{"trace", "o-1", "--width", "2"}, want: "--width"},
		{name: "no argument", args: []string{"trace"}, want: "accepts 1 arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, tc.args...)
			if code != exitError || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want 1 and %q", code, errOut, tc.want)
			}
		})
	}
}
