package console_test

import (
	"context"
	"encoding/json"
	"github.com/contrail-events/contrail/registry/regclient"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/console"
	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/tracing/jaegerapi"
	"github.com/contrail-events/contrail/wire"
)

// stack is a console on real parts over loopback: the embedded broker over
// TCP and our registry over HTTP with the repository's schemas pushed, plus
// small fakes of Jaeger's query API and the order service's read API.
type stack struct {
	broker string
	reg    string
	sr     *sr.Client
	kcl    *kgo.Client
	set    *schemas.Set
	url    string // the console
	c      *console.Console
}

// fakeOrder is the order the fake order service knows.
const fakeOrder = "0a6f6a34-8d0e-4c8a-9d56-2d4f3c1b7e11"

// fakeToken is the fake order service's admin token.
const fakeToken = "console-test-admin-token"

// fakeTrace is the trace the fake Jaeger knows, of fakeOrder.
const fakeTrace = "4bf92f3577b34da6a3ce929d0e0e4736"

// startStack starts the parts and a console on them with opts. Every
// test with a broker is an integration test: it skips in -short mode.
func startStack(t *testing.T, opts ...console.Opt) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a broker and a registry: runs in make test")
	}
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	var topics []broker.Topic
	for _, tp := range set.Topics {
		topics = append(topics, broker.Topic{Name: tp.Name, Partitions: tp.Partitions})
	}
	b := brokertest.Start(t, broker.Topics(topics...))
	regURL := registrytest.Serve(t)
	cl, err := sr.NewClient(sr.URLs(regURL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Push(context.Background(), cl, set, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	kcl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(kcl.Close)
	jaeger := httptest.NewServer(fakeJaeger())
	t.Cleanup(jaeger.Close)
	orders := httptest.NewServer(fakeOrders())
	t.Cleanup(orders.Close)
	all := append([]console.Opt{
		console.Brokers(b.Addr()), console.Registry(regURL), console.Jaeger(jaeger.URL),
		console.OrderService(orders.URL), console.OrderServiceToken(fakeToken), console.ContractsDir("../contracts"), console.Timeout(10 * time.Second),
	}, opts...)
	c, err := console.New(all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	srv := httptest.NewServer(c.Handler())
	t.Cleanup(srv.Close)
	return &stack{broker: b.Addr(), reg: regURL, sr: cl, kcl: kcl, set: set, url: srv.URL, c: c}
}

// get GETs path from the console and returns the status and body.
func get(t *testing.T, base, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// post POSTs form to the console without following a redirect.
func post(t *testing.T, base, path string, form url.Values) (*http.Response, string) {
	t.Helper()
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.PostForm(base+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// csrf reads the form token from a confirmation page.
func csrf(t *testing.T, body string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf token in the page:\n%s", body)
	}
	return m[1]
}

// example returns the committed example of event encoded in the wire
// format under the schema id the registry gave it.
func (s *stack) example(t *testing.T, event string) []byte {
	t.Helper()
	exs, err := contract.LoadExamples("../"+contract.ExamplesDir, s.set)
	if err != nil {
		t.Fatal(err)
	}
	ev := s.set.Event(event)
	for _, e := range exs {
		if e.Event != event {
			continue
		}
		body, err := e.Encode(ev.Type.Schema)
		if err != nil {
			t.Fatal(err)
		}
		// Examples are major 1's; the subject may hold later majors too.
		return append(wire.AppendFrame(nil, s.majorVersion(t, ev.Subject, ev.Type.Major).ID), body...)
	}
	t.Fatalf("no example of %s", event)
	return nil
}

// majorVersion returns the latest version of subject registered for major
// (by its metadata's major_version; a version without one is major 1).
func (s *stack) majorVersion(t *testing.T, subject string, major int) sr.SubjectSchema {
	t.Helper()
	all, err := s.sr.Schemas(context.Background(), subject)
	if err != nil {
		t.Fatal(err)
	}
	var out sr.SubjectSchema
	for _, v := range all {
		md, _ := regclient.ContractFromSR(v.Schema)
		if m, ok := md.Major(); (ok && m == major) || (!ok && major == 1) {
			out = v
		}
	}
	if out.ID == 0 {
		t.Fatalf("subject %s has no version of major %d", subject, major)
	}
	return out
}

// produce writes records and fails t on error.
func (s *stack) produce(t *testing.T, rs ...*kgo.Record) []*kgo.Record {
	t.Helper()
	res := s.kcl.ProduceSync(context.Background(), rs...)
	if err := res.FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	out := make([]*kgo.Record, len(res))
	for i, r := range res {
		out[i] = r.Record
	}
	return out
}

// jaegerSearches counts the fake Jaeger's tag searches (GET /api/traces).
var jaegerSearches atomic.Int64

// fakeJaeger answers the query API for fakeTrace: four services, one
// failed span with a retry event.
func fakeJaeger() http.Handler {
	svc := func(name string) jaegerapi.Process { return jaegerapi.Process{ServiceName: name} }
	tag := func(k, v string) jaegerapi.KeyValue { return jaegerapi.KeyValue{Key: k, Type: "string", Value: v} }
	now := time.Now().UnixMicro()
	child := func(id, parent, op, proc string, start, dur int64, tags ...jaegerapi.KeyValue) jaegerapi.Span {
		s := jaegerapi.Span{TraceID: fakeTrace, SpanID: id, OperationName: op, ProcessID: proc, StartTime: now + start, Duration: dur, Tags: tags}
		if parent != "" {
			s.References = []jaegerapi.Reference{{RefType: jaegerapi.RefChildOf, TraceID: fakeTrace, SpanID: parent}}
		}
		return s
	}
	failed := child("5", "3", "process orders", "p3", 4000, 900, tag("span.kind", "consumer"), tag("error.type", "transient"), jaegerapi.KeyValue{Key: "error", Type: "bool", Value: true})
	failed.Logs = []jaegerapi.Log{{Timestamp: now + 4500, Fields: []jaegerapi.KeyValue{tag("event", "retry"), tag("contrail.retry.attempt", "1"), tag("error.type", "transient")}}}
	tr := jaegerapi.Trace{TraceID: fakeTrace,
		Processes: map[string]jaegerapi.Process{"p1": svc("order"), "p2": svc("inventory"), "p3": svc("payment"), "p4": svc("shipping")},
		Spans: []jaegerapi.Span{
			child("1", "", "POST /orders", "p1", 0, 10000, tag("span.kind", "server"), tag("contrail.order.id", fakeOrder)),
			child("2", "1", "send orders", "p1", 1000, 500, tag("span.kind", "producer")),
			child("3", "2", "process orders", "p2", 2000, 1500, tag("span.kind", "consumer")),
			child("4", "2", "process orders", "p3", 2100, 1200, tag("span.kind", "consumer")),
			failed,
			child("6", "3", "send shipments", "p4", 8000, 300, tag("span.kind", "producer")),
		}}
	env := func(w http.ResponseWriter, data any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": data})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/services", func(w http.ResponseWriter, r *http.Request) {
		env(w, []string{"order", "inventory", "payment", "shipping"})
	})
	mux.HandleFunc("GET /api/traces/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != fakeTrace {
			http.Error(w, `{"data":null,"errors":[{"code":404,"msg":"trace not found"}]}`, http.StatusNotFound)
			return
		}
		env(w, []jaegerapi.Trace{tr})
	})
	mux.HandleFunc("GET /api/traces", func(w http.ResponseWriter, r *http.Request) {
		jaegerSearches.Add(1)
		if strings.Contains(r.URL.Query().Get("tags"), fakeOrder) {
			env(w, []jaegerapi.Trace{tr})
			return
		}
		env(w, []jaegerapi.Trace{})
	})
	return mux
}

// fakeOrders answers the order service's read API with fakeOrder; the
// list needs fakeToken, as the real one needs its admin token.
func fakeOrders() http.Handler {
	created := time.Now().Add(-time.Minute).UTC()
	o := map[string]any{
		"order_id": fakeOrder, "status": "SHIPPED", "customer_id": "cust-42", "currency": "EUR", "total": "39.98",
		"items": []map[string]any{{"sku": "SKU-0001", "quantity": 2, "unit_price_cents": 1999}}, "trace_id": fakeTrace,
		"created_at": created, "updated_at": created.Add(time.Second),
		"history": []map[string]any{
			{"type": "contrail.orders.OrderPlaced", "direction": "out", "event_id": "e-1", "time": created, "topic": "orders", "partition": 1, "offset": 0, "schema_id": 12, "subject": "orders-contrail.orders.OrderPlaced", "schema_version": 1},
			{"type": "contrail.shipping.OrderShipped", "direction": "in", "event_id": "e-5", "time": created.Add(time.Second), "topic": "shipments", "partition": 0, "offset": 0, "schema_id": 20, "subject": "shipments-value", "schema_version": 1},
		},
	}
	admin := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+fakeToken {
				w.WriteHeader(http.StatusUnauthorized)
				_ = json.NewEncoder(w).Encode(map[string]string{"error": "admin endpoint: send the admin token"})
				return
			}
			h(w, r)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /orders/count", admin(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]int{"count": 1})
	}))
	mux.HandleFunc("GET /orders", admin(func(w http.ResponseWriter, r *http.Request) {
		if l := r.URL.Query().Get("limit"); l == "0" {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "limit must be between 1 and 1000"})
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"orders": []any{o}})
	}))
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != fakeOrder {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "no order"})
			return
		}
		_ = json.NewEncoder(w).Encode(o)
	})
	return mux
}

func itoa(n int32) string   { return strconv.Itoa(int(n)) }
func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// httptestServer serves h on loopback for the test and returns its URL.
func httptestServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
