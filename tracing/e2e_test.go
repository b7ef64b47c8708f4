package tracing_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/trace"

	"github.com/contrail-events/contrail/tracing"
	"github.com/contrail-events/contrail/tracing/jaegerapi"
	"github.com/contrail-events/contrail/tracing/tracingtest"
	"github.com/contrail-events/contrail/wire"
)

// TestEndToEndJaeger runs two small services against a real Jaeger and an
// in-process Kafka (kfake over TCP): "checkout" takes POST /orders/:id
// (gin + otelgin), publishes to orders; "fulfillment" handles orders
// (failing once, so a retry shows), publishes to shipments; checkout
// handles shipments. The spans go over OTLP/HTTP (checkout) and OTLP/gRPC
// (fulfillment). Jaeger must then hold exactly one trace for the order with
// spans from both services, each consumer a child of its producer.
func TestEndToEndJaeger(t *testing.T) {
	if testing.Short() {
		t.Skip("Jaeger end-to-end test: slow, runs in make test")
	}
	j := tracingtest.StartJaeger(t)
	addrs := startKfake(t, "orders", "shipments")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	setup := func(name, endpoint, proto string) *tracing.Provider {
		// A long export timeout: on a loaded machine an export to a
		// starved Jaeger can take seconds, and a failed export is lost.
		p, err := tracing.Setup(ctx, tracing.Config{ServiceName: name, Endpoint: endpoint, Protocol: proto, BatchTimeout: 100 * time.Millisecond,
			ExportTimeout: 45 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	checkout := setup("checkout", j.OTLPHTTP, tracing.ProtocolHTTP)
	fulfillment := setup("fulfillment", j.OTLPGRPC, tracing.ProtocolGRPC)

	client := func(opts ...kgo.Opt) *kgo.Client {
		c, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addrs...)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return c
	}
	produce := func(ctx context.Context, m *tracing.Messaging, cl *kgo.Client, r *kgo.Record) error {
		ctx, finish := m.StartSend(ctx, r)
		err := cl.ProduceSync(ctx, r).FirstErr()
		finish(err)
		return err
	}
	// consume runs handle for every record of topic in group until ctx ends;
	// once a record's process span has ended its key goes to processed (if
	// not nil).
	consume := func(p *tracing.Provider, group, topic string, handle func(context.Context, *kgo.Record) error, processed chan<- string) {
		cl := client(kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		go func() {
			for ctx.Err() == nil {
				cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
					hctx, finish := p.Messaging().StartProcess(ctx, r, group)
					var err error
					for attempt := 1; ; attempt++ {
						if err = handle(hctx, r); err == nil || attempt == 3 {
							break
						}
						p.Messaging().Retry(hctx, attempt+1, err) // the attempt about to start, as the runtime calls it
					}
					finish(err)
					if processed != nil {
						select {
						case processed <- string(r.Key):
						case <-ctx.Done():
						}
					}
				})
			}
		}()
	}

	// checkout: HTTP -> orders; shipments -> done.
	checkoutKafka := client()
	gin.SetMode(gin.TestMode)
	e := gin.New()
	e.Use(checkout.GinMiddleware("checkout"))
	e.POST("/orders/:id", func(c *gin.Context) {
		id := c.Param("id")
		trace.SpanFromContext(c.Request.Context()).SetAttributes(tracing.AttrOrderID.String(id))
		r := &kgo.Record{Topic: "orders", Key: []byte(id), Value: []byte(`{"order":"` + id + `"}`),
			Headers: []kgo.RecordHeader{{Key: wire.HeaderEventID, Value: []byte("ev-placed-" + id)}}}
		if err := produce(c.Request.Context(), checkout.Messaging(), checkoutKafka, r); err != nil {
			c.String(http.StatusServiceUnavailable, err.Error())
			return
		}
		c.String(http.StatusAccepted, trace.SpanContextFromContext(c.Request.Context()).TraceID().String())
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	shipped := make(chan string, 1)
	consume(checkout, "checkout", "shipments", func(ctx context.Context, r *kgo.Record) error {
		return nil
	}, shipped)

	// fulfillment: orders -> shipments, failing the first attempt.
	fulfillmentKafka := client()
	failedOnce := false
	consume(fulfillment, "fulfillment", "orders", func(ctx context.Context, r *kgo.Record) error {
		if !failedOnce {
			failedOnce = true
			return errors.New("warehouse busy")
		}
		return produce(ctx, fulfillment.Messaging(), fulfillmentKafka, &kgo.Record{Topic: "shipments", Key: r.Key, Value: []byte("{}"),
			Headers: []kgo.RecordHeader{{Key: wire.HeaderEventID, Value: []byte("ev-shipped-" + string(r.Key))}}})
	}, nil)

	resp, err := http.Post(srv.URL+"/orders/o-1001", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /orders: %d %s", resp.StatusCode, body)
	}
	traceID := string(body)
	select {
	case key := <-shipped:
		if key != "o-1001" {
			t.Fatalf("shipped %q", key)
		}
	case <-ctx.Done():
		t.Fatal("the order never reached shipments")
	}
	// The shipment's process span has ended (consume reports it after
	// finish): flush both services.
	for _, p := range []struct {
		name string
		p    *tracing.Provider
		want uint64 // spans it ends: checkout 3, fulfillment 2
	}{{"checkout", checkout, 3}, {"fulfillment", fulfillment, 2}} {
		if err := p.p.Shutdown(ctx); err != nil {
			t.Fatalf("shutdown: %v", err)
		}
		if n := p.p.DroppedSpans(); n != 0 {
			t.Errorf("%s: %d spans dropped", p.name, n)
		}
		if n := p.p.FailedSpans(); n != 0 {
			t.Errorf("%s: %d spans failed to export (the warning above says why)", p.name, n)
		}
		if n := p.p.ExportedSpans(); n != p.want {
			t.Errorf("%s: Jaeger accepted %d spans, want %d", p.name, n, p.want)
		}
	}
	if t.Failed() {
		t.FailNow() // Jaeger cannot show what it never got
	}

	tr := j.WaitTrace(t, traceID, 5, 30*time.Second)
	if got := tr.Services(); !slices.Equal(got, []string{"checkout", "fulfillment"}) {
		t.Errorf("services %v, want checkout and fulfillment", got)
	}
	if n := j.AssertConsumersFollowProducers(t, traceID); n != 2 {
		t.Errorf("%d consumer spans, want 2", n)
	}
	wantOps := map[string]string{ // operation -> service
		"POST /orders/:id": "checkout", "send orders": "checkout", "process orders": "fulfillment",
		"send shipments": "fulfillment", "process shipments": "checkout",
	}
	for op, svc := range wantOps {
		ss := tr.Find(op)
		if len(ss) != 1 || tr.Service(ss[0]) != svc {
			t.Errorf("operation %q: %d spans, want 1 from %s", op, len(ss), svc)
		}
	}
	if len(tr.Spans) != len(wantOps) {
		t.Errorf("%d spans, want %d", len(tr.Spans), len(wantOps))
	}
	if send := tr.Find("send orders"); len(send) == 1 {
		if http := tr.Find("POST /orders/:id"); len(http) == 1 && send[0].Parent() != http[0].SpanID {
			t.Errorf("send orders is not a child of the HTTP span")
		}
		if send[0].Tag("messaging.system") != "kafka" || send[0].Tag("messaging.message.id") != "ev-placed-o-1001" ||
			send[0].Tag("messaging.kafka.message.key") != "o-1001" {
			t.Errorf("send span tags %+v", send[0].Tags)
		}
	}
	if proc := tr.Find("process orders"); len(proc) == 1 {
		var retries int
		for _, l := range proc[0].Logs {
			if l.Event() == tracing.EventRetry && l.Field("error.type") == "_OTHER" && strings.Contains(l.Field("exception.message"), "warehouse busy") {
				retries++
			}
		}
		if retries != 1 || proc[0].Failed() || proc[0].Tag("messaging.consumer.group.name") != "fulfillment" {
			t.Errorf("process orders: %d retry events, failed=%v, tags %+v", retries, proc[0].Failed(), proc[0].Tags)
		}
	}
	// The order id finds exactly this trace.
	found := j.WaitFind(t, jaegerapi.Query{Service: "checkout", Tags: map[string]string{"messaging.kafka.message.key": "o-1001"}}, 10*time.Second)
	if len(found) != 1 || found[0].TraceID != traceID {
		t.Errorf("search by order id found %d traces, want exactly %s", len(found), traceID)
	}
}
