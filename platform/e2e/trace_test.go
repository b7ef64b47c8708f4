package e2e_test

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/tracing"
	"github.com/contrail-events/contrail/tracing/jaegerapi"
	"github.com/contrail-events/contrail/tracing/tracingtest"
)

// causes is the reference flow's causality (issue 7): the event types whose
// handling emits each event type; "" is the HTTP request. The relay must
// publish each event inside the trace context of the span that wrote it.
var causes = map[string][]string{
	"contrail.orders.OrderPlaced":          {""},
	"contrail.inventory.InventoryReserved": {"contrail.orders.OrderPlaced"},
	"contrail.payments.PaymentConfirmed":   {"contrail.orders.OrderPlaced"},
	"contrail.orders.OrderReady":           {"contrail.inventory.InventoryReserved", "contrail.payments.PaymentConfirmed"},
	"contrail.shipping.OrderShipped":       {"contrail.orders.OrderReady"},
}

// TestOrderTraceEndToEnd places one order through the four reference
// services (the platform `contrail up` runs, services as subprocesses)
// exporting to a real Jaeger, and checks through Jaeger's HTTP API that the
// order is one connected trace: started by the HTTP span, every consumer
// span a child of the send span of the very event it handled, every send
// span inside the span that wrote the event, shipping starting only after
// the order service handled both InventoryReserved and PaymentConfirmed,
// and no span missing or duplicated. Then `contrail trace <order-id>` must
// draw it.
func TestOrderTraceEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with Jaeger and the platform: slow, runs in make test")
	}
	began := time.Now()
	s := startStack(t)
	j := s.jaeger
	base := s.p.ServiceURLs["order"]

	pl := placeOrder(t, base, platform.SampleOrder)
	v := waitShipped(t, base, pl.OrderID, 30*time.Second)
	if v.TraceID != pl.TraceID {
		t.Errorf("GET /orders/%s says trace %s, POST /orders said %s", pl.OrderID, v.TraceID, pl.TraceID)
	}
	want, evType := expectedSpans(t, v)
	total := 0
	for _, n := range want {
		total += n
	}
	if len(v.History) != len(causes) {
		t.Fatalf("order history has %d events, want the %d of a shipped order: %+v", len(v.History), len(causes), v.History)
	}

	// The batch exporters deliver while the services run (no shutdown
	// needed)...
	if got := waitSpans(j, pl.TraceID, total, 15*time.Second); len(got.Spans) < total {
		t.Errorf("only %d of %d spans reached Jaeger within 15s while the services ran", len(got.Spans), total)
	}
	// ...and stopping the services (SIGINT: drain, flush spans) adds none:
	// the trace is then final.
	if err := s.p.Close(); err != nil {
		t.Errorf("stop the platform: %v", err)
	}
	tr := finalTrace(t, j, pl.TraceID)
	byID := map[string]jaegerapi.Span{}
	for _, sp := range tr.Spans {
		byID[sp.SpanID] = sp
	}

	t.Run("one trace holds all four services", func(t *testing.T) {
		if got := tr.Services(); !slices.Equal(got, []string{"inventory", "order", "payment", "shipping"}) {
			t.Errorf("trace %s has spans from %v, want inventory, order, payment and shipping", pl.TraceID, got)
		}
		// Every trace Jaeger holds for any service: exactly one spans all four.
		all := map[string]jaegerapi.Trace{}
		for _, svc := range platform.Services {
			ts, err := j.API.Find(context.Background(), jaegerapi.Query{Service: svc, Limit: 10000, Lookback: time.Hour})
			if err != nil {
				t.Fatalf("search traces of %s: %v", svc, err)
			}
			for _, x := range ts {
				all[x.TraceID] = x
			}
		}
		var full []string
		for id, x := range all {
			if len(x.Services()) == 4 {
				full = append(full, id)
			}
		}
		if len(full) != 1 || full[0] != pl.TraceID {
			t.Errorf("traces spanning all four services: %v, want exactly [%s]", full, pl.TraceID)
		}
		// No part of the order broke off into a trace of its own.
		keyed, err := j.API.FindAnyService(context.Background(), jaegerapi.Query{Tags: map[string]string{"messaging.kafka.message.key": pl.OrderID}, Limit: 100, Lookback: time.Hour})
		if err != nil {
			t.Fatalf("search spans keyed by the order id: %v", err)
		}
		for _, x := range keyed {
			if x.TraceID != pl.TraceID {
				t.Errorf("trace %s also holds spans of order %s (services %v): the trace context was lost on the way", x.TraceID, pl.OrderID, x.Services())
			}
		}
	})

	t.Run("the HTTP request starts it", func(t *testing.T) {
		var roots []string
		for _, sp := range tr.Spans {
			if sp.Parent() == "" {
				roots = append(roots, tr.Service(sp)+" "+sp.OperationName)
				if tr.Service(sp) != "order" || sp.OperationName != "POST /orders" || sp.Kind() != "server" || sp.Tag("http.response.status_code") != "202" {
					t.Errorf("root span is %s %q kind %q status %q, want order's server span POST /orders answering 202",
						tr.Service(sp), sp.OperationName, sp.Kind(), sp.Tag("http.response.status_code"))
				}
			} else if _, ok := byID[sp.Parent()]; !ok {
				t.Errorf("span %s %q has parent %s, which is not in the trace", tr.Service(sp), sp.OperationName, sp.Parent())
			}
		}
		if len(roots) != 1 {
			t.Errorf("trace has %d root spans %v, want one (POST /orders)", len(roots), roots)
		}
	})

	t.Run("no span dropped or duplicated", func(t *testing.T) {
		got := map[spanKey]int{}
		for _, sp := range tr.Spans {
			got[spanKey{tr.Service(sp), sp.OperationName, sp.Tag("messaging.message.id")}]++
		}
		for _, k := range sortedKeys(want) {
			if got[k] < want[k] {
				t.Errorf("missing span %s (%s): dropped, or never emitted", k, evType[k.EventID])
			}
		}
		for _, k := range sortedKeys(got) {
			if got[k] > want[k] {
				t.Errorf("unexpected span %s (%s): %d, want %d", k, evType[k.EventID], got[k], want[k])
			}
		}
		// The processor counts drops and failed exports and logs the first
		// of each, naming the metric.
		for _, svc := range platform.Services {
			if lines := logMentions(s.serviceLog(t, svc), tracing.MetricDroppedSpans, tracing.MetricFailedSpans); len(lines) > 0 {
				t.Errorf("%s lost spans:\n%s", svc, strings.Join(lines, "\n"))
			}
		}
	})

	t.Run("every consumer span is a child of its event's send span", func(t *testing.T) {
		consumers := 0
		for k, n := range want {
			if strings.HasPrefix(k.Operation, "process ") {
				consumers += n
			}
		}
		// Parents and links as the API v3 keeps them apart, same topic.
		if n := j.AssertConsumersFollowProducers(t, pl.TraceID); n != consumers {
			t.Errorf("%d consumer spans checked, want %d", n, consumers)
		}
		// The very event: the parent send span carries the same event id.
		for _, sp := range tr.Spans {
			if sp.Kind() != "consumer" {
				continue
			}
			parent, ok := byID[sp.Parent()]
			id := sp.Tag("messaging.message.id")
			if !ok || parent.Kind() != "producer" || parent.Tag("messaging.message.id") != id {
				t.Errorf("%s %q handling %s (event %s): parent is %s %q of event %q, want the send span of the same event",
					tr.Service(sp), sp.OperationName, evType[id], id, tr.Service(parent), parent.OperationName, parent.Tag("messaging.message.id"))
			}
		}
	})

	t.Run("every send span is inside the span that wrote the event", func(t *testing.T) {
		for _, sp := range tr.Spans {
			if sp.Kind() != "producer" {
				continue
			}
			typ := evType[sp.Tag("messaging.message.id")]
			parent, ok := byID[sp.Parent()]
			cause := "?"
			if ok {
				cause = evType[parent.Tag("messaging.message.id")]
			}
			if !ok || tr.Service(parent) != tr.Service(sp) || !slices.Contains(causes[typ], cause) {
				t.Errorf("%s %q of %s: parent is %s %q (handling %q), want a span of the same service handling one of %q (the outbox relay must continue the writer's trace context)",
					tr.Service(sp), sp.OperationName, typ, tr.Service(parent), parent.OperationName, cause, causes[typ])
			}
		}
	})

	t.Run("shipping starts after inventory and payment were handled", func(t *testing.T) {
		tracingtest.AssertAfter(t, tr, tracingtest.Op{Service: "shipping"},
			tracingtest.Op{Service: "order", Operation: "process inventory"},
			tracingtest.Op{Service: "order", Operation: "process payments"})
	})

	t.Run("contrail trace draws it", func(t *testing.T) {
		for _, ref := range []string{pl.OrderID, pl.TraceID} {
			stdout, stderr := runContrail(t, "trace", ref, "--jaeger", j.QueryURL)
			if strings.TrimSpace(stderr) != "" {
				t.Errorf("contrail trace %s wrote to stderr: %s", ref, stderr)
			}
			checkWaterfall(t, ref, stdout, pl.TraceID, total, want)
		}
	})
	t.Logf("order %s: trace %s, %d spans; test took %v", pl.OrderID, pl.TraceID, len(tr.Spans), time.Since(began).Round(time.Millisecond))
}

// waitSpans polls Jaeger until the trace has at least n spans or timeout
// passes, and returns it as it then is.
func waitSpans(j *tracingtest.Jaeger, traceID string, n int, timeout time.Duration) jaegerapi.Trace {
	deadline := time.Now().Add(timeout)
	var tr jaegerapi.Trace
	for {
		got, err := j.API.Trace(context.Background(), traceID)
		if err == nil {
			tr = got
		}
		if len(tr.Spans) >= n || time.Now().After(deadline) {
			return tr
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// finalTrace returns the trace once Jaeger has stored every span it
// accepted before the call, late and extra ones included: it exports a
// marker span (a trace of its own, from service "e2e-marker") to the same
// OTLP endpoint, waits until Jaeger serves it, then reads the trace. Jaeger
// stores spans in the order it accepted them (the OTLP receiver hands them
// to one batch processor, whose single loop exports each batch to the
// memory storage synchronously: the storage exporter has no queue), so the
// marker is stored after every span the services exported before it.
func finalTrace(t *testing.T, j *tracingtest.Jaeger, traceID string) jaegerapi.Trace {
	t.Helper()
	ctx := context.Background()
	p, err := tracing.Setup(ctx, tracing.Config{ServiceName: "e2e-marker", Endpoint: j.OTLPHTTP, Protocol: tracing.ProtocolHTTP})
	if err != nil {
		t.Fatalf("marker span: %v", err)
	}
	_, span := p.TracerProvider().Tracer("e2e").Start(ctx, "processed-up-to marker")
	marker := span.SpanContext().TraceID().String()
	span.End()
	if err := p.Shutdown(ctx); err != nil { // returns once Jaeger accepted the export
		t.Fatalf("marker span: export: %v", err)
	}
	if got := waitSpans(j, marker, 1, 30*time.Second); len(got.Spans) == 0 {
		t.Fatalf("Jaeger did not store the marker span (trace %s) within 30s", marker)
	}
	tr, err := j.API.Trace(ctx, traceID)
	if err != nil {
		t.Fatalf("read trace %s: %v", traceID, err)
	}
	return tr
}

// runContrail runs the contrail binary and fails the test on a non-zero exit.
func runContrail(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var o, e bytes.Buffer
	cmd := exec.CommandContext(ctx, contrailBin, args...)
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("contrail %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, o.String(), e.String())
	}
	return o.String(), e.String()
}

// checkWaterfall checks `contrail trace`'s drawing: the trace id in the
// title, one row per span, rows from all four services with the flow's
// operations.
func checkWaterfall(t *testing.T, ref, out, traceID string, total int, want map[spanKey]int) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) < 2 || !strings.Contains(lines[0], traceID) {
		t.Fatalf("contrail trace %s: want a title naming trace %s, got:\n%s", ref, traceID, out)
	}
	head := -1
	for i, l := range lines {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "SERVICE" && f[1] == "OPERATION" {
			head = i
			break
		}
	}
	if head < 0 {
		t.Fatalf("contrail trace %s: no SERVICE OPERATION header:\n%s", ref, out)
	}
	rows := map[spanKey]int{}
	n := 0
	for _, l := range lines[head+1:] {
		f := strings.Fields(l)
		if len(f) < 3 || !slices.Contains(platform.Services, f[0]) {
			continue // retry/dead-letter annotations
		}
		n++
		op := f[1]
		if (op == "POST" || op == "send" || op == "process") && len(f) > 2 {
			op += " " + f[2]
		}
		rows[spanKey{Service: f[0], Operation: op}]++
	}
	if n != total {
		t.Errorf("contrail trace %s drew %d span rows, want %d:\n%s", ref, n, total, out)
	}
	wantRows := map[spanKey]int{}
	for k, c := range want {
		wantRows[spanKey{Service: k.Service, Operation: k.Operation}] += c
	}
	for _, k := range sortedKeys(wantRows) {
		if rows[k] != wantRows[k] {
			t.Errorf("contrail trace %s: %d rows %q, want %d:\n%s", ref, rows[k], k.String(), wantRows[k], out)
		}
	}
}
