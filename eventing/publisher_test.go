package eventing_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/wire"
)

// sampleOrder returns a distinct, fully populated OrderPlaced.
func sampleOrder(i int) *orders.OrderPlaced {
	price := common.Money{Amount: big.NewRat(int64(1000+i), 100), Currency: common.CurrencyEur}
	return &orders.OrderPlaced{
		Metadata:   common.EventMetadata{OccurredAt: time.UnixMilli(1_700_000_000_000 + int64(i)).UTC(), Producer: "order", Attributes: map[string]string{}},
		OrderID:    fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		CustomerID: fmt.Sprintf("customer-%d", i%97),
		Items: []common.LineItem{
			{Sku: fmt.Sprintf("SKU-%d", i%13), Quantity: int32(1 + i%5), UnitPrice: price},
			{Sku: fmt.Sprintf("SKU-%d", i%7+100), Quantity: 1, UnitPrice: price},
		},
		Total:           common.Money{Amount: big.NewRat(int64(1000+i)*int64(2+i%5), 100), Currency: common.CurrencyEur}, // the sum of the lines (rule totalIsSumOfLines)
		ShippingAddress: common.Address{Name: fmt.Sprintf("Customer %d", i), Line1: fmt.Sprintf("%d Main St", i), City: "Lyon", PostalCode: fmt.Sprintf("69%03d", i%1000), Country: "FR"},
		Payment:         orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: fmt.Sprintf("tok_%d", i), Last4: fmt.Sprintf("%04d", i%10000)}),
		Channel:         orders.SalesChannelWeb,
	}
}

func TestPublishSetsKeyHeadersAndMetadata(t *testing.T) {
	e := newEnv(t, 3, "orders")
	ctx := context.Background()
	o := sampleOrder(1)
	if err := e.pub.Publish(ctx, orders.OrderPlacedBinding, o); err != nil {
		t.Fatal(err)
	}
	if o.Metadata.EventID == "" || o.Metadata.CorrelationID != o.Metadata.EventID || o.Metadata.CausationID != nil {
		t.Fatalf("metadata not filled as a flow's first event: %+v", o.Metadata)
	}
	rec := e.readAll("orders", 1)[0]
	want := map[string]string{
		wire.HeaderEventID: o.Metadata.EventID, wire.HeaderEventType: "contrail.orders.OrderPlaced",
		wire.HeaderContentType: wire.ContentTypeAvro, wire.HeaderCorrelationID: o.Metadata.EventID,
		wire.HeaderCausationID: "",
	}
	for k, v := range want {
		if got := eventing.HeaderValue(rec, k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if string(rec.Key) != o.OrderID {
		t.Errorf("key %q, want the order id %q", rec.Key, o.OrderID)
	}
	var back orders.OrderPlaced
	if err := e.codec.Decode(ctx, rec.Value, orders.OrderPlacedBinding, &back); err != nil {
		t.Fatal(err)
	}
	if back.Metadata.EventID != o.Metadata.EventID || back.Total.Amount.Cmp(o.Total.Amount) != 0 {
		t.Errorf("decoded %+v, want what was published", back.Metadata)
	}
	// Explicit ids win; a value of the wrong type is a clear error.
	o2 := sampleOrder(2)
	if err := e.pub.Publish(ctx, orders.OrderPlacedBinding, o2, eventing.EventID("e-2"), eventing.CorrelationID("flow-1"), eventing.CausationID("e-1")); err != nil {
		t.Fatal(err)
	}
	if o2.Metadata.EventID != "e-2" || o2.Metadata.CorrelationID != "flow-1" || *o2.Metadata.CausationID != "e-1" {
		t.Errorf("explicit ids not applied: %+v", o2.Metadata)
	}
	err := e.pub.Publish(ctx, orders.OrderPlacedBinding, &orders.OrderReady{})
	if err == nil || !strings.Contains(err.Error(), "want *orders.OrderPlaced") {
		t.Errorf("wrong type: err = %v", err)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestTracerHooksAndLogs(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	ft := &fakeTracer{}
	pub, err := eventing.NewPublisher(eventing.Brokers(e.addr), eventing.WithCodec(e.codec), eventing.WithTracer(ft))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Publish(context.Background(), tb, &Thing{OrderID: "order-9"}, eventing.EventID("ev-9")); err != nil {
		t.Fatal(err)
	}
	var logs syncBuf
	r := e.router("trace-test", eventing.WithTracer(ft), eventing.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	attempts := 0
	eventing.Handle(r, tb, func(context.Context, *Thing) error {
		attempts++
		if attempts == 1 {
			return errors.New("flaky")
		}
		return eventing.Permanent(errors.New("rejected"))
	})
	stop := run(t, r)
	waitFor(t, "the dead letter log line", func() bool { return strings.Contains(logs.String(), "event dead-lettered") })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(ft.processed) != 1 || len(ft.retries) != 1 || ft.retries[0] != 2 || len(ft.dead) != 1 || ft.dead[0] != "things.dlq" {
		t.Fatalf("hooks: process %v retries %v dead letters %v", ft.processed, ft.retries, ft.dead)
	}
	if len(ft.ended) != 1 || ft.ended[0] != nil {
		t.Fatalf("process span ended with %v, want nil (dead-lettered is an outcome)", ft.ended)
	}
	var line map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "event dead-lettered") {
			if err := json.Unmarshal([]byte(l), &line); err != nil {
				t.Fatal(err)
			}
		}
	}
	for k, v := range map[string]string{"event_id": "ev-9", "order_id": "order-9", "trace_id": "0123456789abcdef0123456789abcdef", "error_class": "permanent"} {
		if line[k] != v {
			t.Errorf("log %s = %v, want %q (line %v)", k, line[k], v, line)
		}
	}
}

func TestHealthHandler(t *testing.T) {
	e := newEnv(t, 1, "things")
	r := e.router("health-test")
	eventing.Handle(r, thingBinding("things"), func(context.Context, *Thing) error { return nil })
	srv := httptest.NewServer(eventing.HealthHandler(map[string]eventing.ReadyCheck{"consumer": r.Ready, "publisher": e.pub.Ready}))
	defer srv.Close()
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	if code, _ := get("/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	if code, body := get("/readyz"); code != 503 || !strings.Contains(body, "consumer") {
		t.Fatalf("/readyz before Run: %d %s, want 503 naming the consumer", code, body)
	}
	stop := run(t, r)
	waitFor(t, "ready", func() bool { code, _ := get("/readyz"); return code == 200 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if code, _ := get("/readyz"); code != 503 {
		t.Fatalf("/readyz after stop: %d", code)
	}
}

func TestRouterOptionErrors(t *testing.T) {
	codec, _ := startRegistry(t)
	for _, tc := range []struct {
		name string
		opts []eventing.RouterOpt
		want string
	}{
		{name: "no group", opts: []eventing.RouterOpt{eventing.WithCodec(codec)}, want: "no consumer group"},
		{name: "no codec", opts: []eventing.RouterOpt{eventing.Group("g")}, want: "no codec"},
		{name: "bad concurrency", opts: []eventing.RouterOpt{eventing.WithCodec(codec), eventing.Group("g"), eventing.Concurrency(0)}, want: "concurrency"},
		{name: "bad retry", opts: []eventing.RouterOpt{eventing.WithCodec(codec), eventing.Group("g"), eventing.Retry(eventing.RetryPolicy{})}, want: "retry policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := eventing.NewRouter(tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
	r, err := eventing.NewRouter(eventing.WithCodec(codec), eventing.Group("g"))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Run(context.Background()); err == nil || !strings.Contains(err.Error(), "no handlers") {
		t.Fatalf("Run without handlers: %v", err)
	}
}
