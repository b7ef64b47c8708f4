package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/console"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/wire"
)

// registerBreaking forces a breaking second version of shipments-value
// through: version 1 plus a field "deliveryWindow" without a default, which at
// BACKWARD is READER_FIELD_MISSING_DEFAULT. The subject's level is NONE
// for the registration, then BACKWARD again, as an operator who forced a
// change would leave it.
func registerBreaking(t *testing.T, s *stack) {
	t.Helper()
	ctx := context.Background()
	v1, err := s.sr.SchemaByVersion(ctx, "shipments-value", 1)
	if err != nil {
		t.Fatal(err)
	}
	// The registered text with one more field at the end of "fields".
	text := v1.Schema.Schema
	end := strings.LastIndex(text, "]")
	if end < 0 || !json.Valid([]byte(text)) {
		t.Fatalf("version 1 of shipments-value: %s", text)
	}
	v2 := text[:end] + `,
    {"name": "deliveryWindow", "type": "string"}
  ` + text[end:]
	for _, r := range s.sr.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, "shipments-value") {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	if _, err := s.sr.CreateSchema(ctx, "shipments-value", sr.Schema{Schema: string(v2), References: v1.References}); err != nil {
		t.Fatalf("register v2: %v", err)
	}
	for _, r := range s.sr.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatBackward}, "shipments-value") {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// TestPages renders every page on real parts and checks what each shows.
func TestPages(t *testing.T) {
	s := startStack(t, console.MaskFields("payment.cardToken"))
	registerBreaking(t, s)
	placed := s.produce(t, &kgo.Record{Topic: "orders", Key: []byte(fakeOrder), Value: s.example(t, "contrail.orders.OrderPlaced"),
		Headers: []kgo.RecordHeader{
			{Key: wire.HeaderEventType, Value: []byte("contrail.orders.OrderPlaced")},
			{Key: wire.HeaderEventID, Value: []byte("e-1")},
			{Key: wire.HeaderTraceParent, Value: []byte("00-" + fakeTrace + "-00f067aa0ba902b7-01")},
		}})[0]
	dead := eventing.DeadLetterRecord(placed, eventing.ClassPoison, errors.New("runtime: poison record: cannot decode"), time.Now().Add(-2*time.Minute))
	s.produce(t, dead)
	// A stopped consumer: committed at the start, so it lags by one.
	commit := make(kadm.Offsets)
	commit.AddOffset("orders", placed.Partition, placed.Offset, -1)
	if _, err := kadm.NewClient(s.kcl).CommitOffsets(context.Background(), "audit", commit); err != nil {
		t.Fatal(err)
	}
	msgs := "/topics/orders/messages?partition=" + itoa(placed.Partition) + "&offset=" + itoa64(placed.Offset)
	tests := []struct {
		name, path string
		want       []string
		not        []string
	}{
		{name: "home", path: "/", want: []string{"✓", "topics", "subjects", "Order service"}},
		{name: "schemas", path: "/schemas", want: []string{"orders-contrail.orders.OrderPlaced", "FULL_TRANSITIVE", "Shared types", "payment<sup"}},
		{name: "subject", path: "/schemas/orders-contrail.orders.OrderPlaced", want: []string{"Consumers", "metadata.eventId", "contrail.common.Money", "Latest version"}},
		{name: "subject with two versions", path: "/schemas/shipments-value", want: []string{"diff v1 → v2"}},
		{name: "diff", path: "/schemas/shipments-value/diff?from=1&to=2", want: []string{
			"READER_FIELD_MISSING_DEFAULT", "field added", `record contrail.shipping.OrderShipped field &#34;deliveryWindow&#34;`, "1 breaking", "Side by side"}},
		{name: "diff at NONE", path: "/schemas/shipments-value/diff?from=1&to=2&level=none", want: []string{"no breaking change", "allowed at NONE"}},
		{name: "topics", path: "/topics", want: []string{"orders.dlq", "audit (1)", "contrail.orders.OrderPlaced"}},
		{name: "topic", path: "/topics/orders", want: []string{"High watermark", "audit", "Committed offset"}},
		{name: "messages", path: msgs, want: []string{"contrail.orders.OrderPlaced", "orders-contrail.orders.OrderPlaced", "/traces/" + fakeTrace, "&#34;orderId&#34;", "••• masked •••", "&#34;amount&#34;: &#34;32.90&#34;"}},
		{name: "newest messages", path: "/topics/orders/messages", want: []string{"1 record from the newest records"}},
		{name: "messages from a time", path: "/topics/orders/messages?time=2000-01-01T00:00:00Z", want: []string{"1 record from time"}},
		{name: "dead letters", path: "/dlq", want: []string{"orders.dlq", "Replay all"}},
		{name: "dead letters of a topic", path: "/dlq/orders.dlq", want: []string{"poison", "cannot decode", "2m", "orders " + itoa(placed.Partition) + "@" + itoa64(placed.Offset), "Replay…"}},
		{name: "replay confirmation", path: "/dlq/orders.dlq/replay", want: []string{"Replay all <strong>1</strong>", `name="csrf"`}},
		{name: "orders", path: "/orders", want: []string{fakeOrder, "SHIPPED", "1 order"}},
		{name: "orders placed lately", path: "/orders?within=15m&open=true", want: []string{"placed since", "open only"}},
		{name: "order", path: "/orders/" + fakeOrder, want: []string{"SHIPPED", "contrail.orders.OrderPlaced", "/topics/orders/messages?limit=1&amp;offset=0&amp;partition=1", "/traces/" + fakeTrace}},
		{name: "trace by id", path: "/traces/" + fakeTrace, want: []string{"6 spans from 4 services", "inventory", "shipping", "POST /orders", "1 failed", "retry", "<rect"}},
		{name: "trace by order id", path: "/traces/" + fakeOrder, want: []string{"6 spans from 4 services"}},
		{name: "stylesheet", path: "/assets/console.css", want: []string{"focus-visible"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, s.url, tt.path)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", tt.path, code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: no %q in\n%s", tt.path, w, body)
				}
			}
			if strings.Contains(body, "tok_") && strings.Contains(tt.path, "messages") {
				t.Errorf("GET %s shows a card token although payment.cardToken is masked", tt.path)
			}
		})
	}
}

// TestBadInput: bad parameters, unknown things and refused actions are
// clear 4xx pages, never a 5xx.
func TestBadInput(t *testing.T) {
	s := startStack(t)
	ro := startStack(t, console.ReadOnly(true))
	for _, st := range []*stack{s, ro} {
		for _, v := range []string{"x", "y"} {
			st.produce(t, &kgo.Record{Topic: "orders.dlq", Partition: 0, Value: []byte(v),
				Headers: []kgo.RecordHeader{{Key: wire.HeaderDLQTopic, Value: []byte("orders")}}})
		}
	}
	tests := []struct {
		name, path string
		code       int
		want       string
	}{
		{name: "negative offset", path: "/topics/orders/messages?offset=-1", code: 400, want: "is not an offset"},
		{name: "offset not a number", path: "/topics/orders/messages?offset=ten", code: 400, want: "is not an offset"},
		{name: "offset and time", path: "/topics/orders/messages?offset=1&time=2026-01-01T00:00:00Z", code: 400, want: "not both"},
		{name: "bad time", path: "/topics/orders/messages?time=yesterday", code: 400, want: "is not a time"},
		{name: "bad partition", path: "/topics/orders/messages?partition=one", code: 400, want: "is not a partition number"},
		{name: "partition out of range", path: "/topics/orders/messages?partition=99", code: 404, want: "has no partition 99"},
		{name: "limit too big", path: "/topics/orders/messages?limit=100000", code: 400, want: "out of range"},
		{name: "offset past the end", path: "/topics/orders/messages?partition=0&offset=999999", code: 200, want: "No records in this range"},
		{name: "unknown topic", path: "/topics/no-such-topic/messages", code: 404, want: "no topic"},
		{name: "unknown topic page", path: "/topics/no-such-topic", code: 404, want: "no topic"},
		{name: "bad topic name", path: "/topics/a%20b", code: 400, want: "not a topic name"},
		{name: "unknown subject", path: "/schemas/no-such-subject", code: 404, want: "no subject"},
		{name: "diff of an unknown subject", path: "/schemas/no-such-subject/diff?from=1&to=2", code: 404, want: "no subject"},
		{name: "diff of an unknown version", path: "/schemas/shipments-value/diff?from=1&to=7", code: 404, want: "has no version 7"},
		{name: "diff with a bad version", path: "/schemas/shipments-value/diff?from=first&to=2", code: 400, want: "is not a version"},
		{name: "diff with one version", path: "/schemas/shipments-value/diff?from=1", code: 400, want: "give both versions"},
		{name: "diff with a bad level", path: "/schemas/shipments-value/diff?from=1&to=1&level=SOMETIMES", code: 400, want: "unknown compatibility level"},
		{name: "not a dead-letter topic", path: "/dlq/orders", code: 404, want: "not a dead-letter topic"},
		{name: "unknown dead-letter topic", path: "/dlq/nothing.dlq", code: 404, want: "no topic"},
		{name: "replay with half a record", path: "/dlq/orders.dlq/replay?partition=0", code: 400, want: "give its partition and offset"},
		{name: "replay out of order", path: "/dlq/orders.dlq/replay?partition=0&offset=1", code: 409, want: "replayed in order"},
		{name: "replay past the end", path: "/dlq/orders.dlq/replay?partition=0&offset=50", code: 404, want: "no dead letter at offset 50"},
		{name: "dead letters with a bad flag", path: "/dlq/orders.dlq?replayed=maybe", code: 400, want: "use true or false"},
		{name: "unknown order", path: "/orders/no-such-order", code: 404, want: "no order"},
		{name: "orders with a bad cursor", path: "/orders?after=abc", code: 400, want: "not a page cursor"},
		{name: "orders with a bad limit", path: "/orders?limit=0", code: 400, want: "out of range"},
		{name: "orders with a bad window", path: "/orders?within=forever", code: 400, want: "not a duration"},
		{name: "unknown trace", path: "/traces/ffffffffffffffffffffffffffffffff", code: 404, want: "has no trace"},
		{name: "search for nothing", path: "/search?q=", code: 400, want: "empty"},
		{name: "unknown page", path: "/nowhere", code: 404, want: "No such page"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := get(t, s.url, tt.path)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Fatalf("GET %s: %d, want %d with %q:\n%s", tt.path, code, tt.code, tt.want, body)
			}
		})
	}
	t.Run("replay without the form token", func(t *testing.T) {
		resp, body := post(t, s.url, "/dlq/orders.dlq/replay", url.Values{"csrf": {"forged"}})
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "stale") {
			t.Fatalf("POST without token: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("read-only refuses replay", func(t *testing.T) {
		code, body := get(t, ro.url, "/dlq/orders.dlq/replay")
		if code != http.StatusForbidden || !strings.Contains(body, "read-only") {
			t.Fatalf("GET confirm read-only: %d\n%s", code, body)
		}
		resp, _ := post(t, ro.url, "/dlq/orders.dlq/replay", url.Values{})
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("POST read-only: %d", resp.StatusCode)
		}
		_, page := get(t, ro.url, "/dlq/orders.dlq")
		if !strings.Contains(page, `disabled title="read-only"`) || strings.Contains(page, "/replay?") {
			t.Fatalf("read-only dead letters page offers replay:\n%s", page)
		}
	})
}

// TestUndecodableRecords: every kind of value a topic may hold is shown,
// decoded or saying why not; none breaks the page.
func TestUndecodableRecords(t *testing.T) {
	s := startStack(t)
	good := s.example(t, "contrail.orders.OrderPlaced")
	values := []struct {
		name  string
		value []byte
		want  string
	}{
		{"json", []byte(`{"orderId":"x"}`), "bad magic byte"},
		{"truncated", []byte{0, 0}, "truncated"},
		{"unknown schema id", append(wire.AppendFrame(nil, 99999), 1, 2, 3), "schema id 99999"},
		{"garbage body", append(good[:wire.FrameSize:wire.FrameSize], 0xff, 0xff, 0xff), "does not decode"},
		{"tombstone", nil, "tombstone"},
		{"good", good, "&#34;customerId&#34;"},
	}
	for _, v := range values {
		s.produce(t, &kgo.Record{Topic: "inventory", Partition: 0, Key: []byte(v.name), Value: v.value})
	}
	code, body := get(t, s.url, "/topics/inventory/messages?partition=0&offset=0")
	if code != http.StatusOK {
		t.Fatalf("messages: %d\n%s", code, body)
	}
	for _, v := range values {
		if !strings.Contains(body, v.want) {
			t.Errorf("record %s: no %q on the page", v.name, v.want)
		}
	}
	if n := strings.Count(body, "Not decoded"); n != 5 {
		t.Errorf("%d records marked not decoded, want 5", n)
	}
	if t.Failed() {
		t.Log(body)
	}
}

// TestReplay replays one dead letter, then the rest, and checks what
// arrives on the original topic.
func TestReplay(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	orig := &kgo.Record{Topic: "payments", Partition: 2, Offset: 7, Key: []byte("k"), Value: []byte("v"),
		Headers: []kgo.RecordHeader{{Key: wire.HeaderEventID, Value: []byte("e-7")}}}
	var dls []*kgo.Record
	for i := range 3 {
		dl := eventing.DeadLetterRecord(orig, eventing.ClassPermanent, errors.New("order: unknown order id"), time.Now())
		dl.Partition = 0
		dl.Key = []byte{'k', byte('0' + i)}
		dls = append(dls, dl)
	}
	dls = s.produce(t, dls...)

	_, confirm := get(t, s.url, "/dlq/payments.dlq/replay?partition=0&offset="+itoa64(dls[0].Offset))
	resp, body := post(t, s.url, "/dlq/payments.dlq/replay", url.Values{"csrf": {csrf(t, confirm)}, "partition": {"0"}, "offset": {itoa64(dls[0].Offset)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=1") {
		t.Fatalf("replay one: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, page := get(t, s.url, "/dlq/payments.dlq?done=1")
	if !strings.Contains(page, "Replayed 1 dead letter") || strings.Contains(page, ">0@"+itoa64(dls[0].Offset)+"<") || !strings.Contains(page, "2 waiting") {
		t.Fatalf("after replaying one:\n%s", page)
	}
	// Replaying it again is refused.
	resp, _ = post(t, s.url, "/dlq/payments.dlq/replay", url.Values{"csrf": {csrf(t, confirm)}, "partition": {"0"}, "offset": {itoa64(dls[0].Offset)}})
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("replay one twice: %d, want 409", resp.StatusCode)
	}

	_, confirm = get(t, s.url, "/dlq/payments.dlq/replay")
	resp, body = post(t, s.url, "/dlq/payments.dlq/replay", url.Values{"csrf": {csrf(t, confirm)}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "done=2") {
		t.Fatalf("replay all: %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	_, page = get(t, s.url, "/dlq/payments.dlq")
	if !strings.Contains(page, "0 waiting, 3 in all") || !strings.Contains(page, "No dead letters wait") {
		t.Fatalf("after replaying all:\n%s", page)
	}

	// Three records arrived on payments, with the original headers only.
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.broker), kgo.ConsumeTopics("payments"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []*kgo.Record
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < 3 && time.Now().Before(deadline) {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got = append(got, r) })
		cancel()
	}
	if len(got) != 3 {
		t.Fatalf("%d records replayed to payments, want 3", len(got))
	}
	for _, r := range got {
		if eventing.HeaderValue(r, wire.HeaderDLQTopic) != "" || eventing.HeaderValue(r, wire.HeaderEventID) != "e-7" || string(r.Value) != "v" {
			t.Errorf("replayed record %s: headers %v value %q", r.Key, r.Headers, r.Value)
		}
	}
}

// TestBackendsDown: with nothing to talk to, every page says which
// backend failed with a 502 or 504, and the home page still renders.
func TestBackendsDown(t *testing.T) {
	dead := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	c, err := console.New(console.Brokers(dead()), console.Registry("http://"+dead()), console.Jaeger("http://"+dead()),
		console.OrderService("http://"+dead()), console.Timeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	srv := httptestServer(t, c.Handler())
	for _, p := range []string{"/schemas", "/schemas/x", "/schemas/x/diff?from=1&to=2", "/topics", "/topics/orders", "/topics/orders/messages",
		"/dlq", "/dlq/orders.dlq", "/orders", "/orders/x", "/traces/x"} {
		code, body := get(t, srv, p)
		if code != http.StatusBadGateway && code != http.StatusGatewayTimeout {
			t.Errorf("GET %s: %d, want 502 or 504:\n%s", p, code, body)
		}
		if !strings.Contains(body, "is it running") && !strings.Contains(body, "are the brokers up") {
			t.Errorf("GET %s does not say what to check:\n%s", p, body)
		}
	}
	if code, body := get(t, srv, "/"); code != http.StatusOK || strings.Count(body, "✗") != 4 {
		t.Errorf("home: %d, want 200 with four backends down:\n%s", code, body)
	}
}

// TestOrdersWithoutAdminToken: the order service lists orders only with
// its admin token; without one the console says so and still opens an
// order by id.
func TestOrdersWithoutAdminToken(t *testing.T) {
	s := startStack(t, console.OrderServiceToken(""))
	code, body := get(t, s.url, "/orders")
	if code != http.StatusOK || !strings.Contains(body, "admin endpoint") || !strings.Contains(body, "--admin-token") || !strings.Contains(body, `name="id"`) {
		t.Fatalf("orders without the token: %d\n%s", code, body)
	}
	if code, body := get(t, s.url, "/orders/"+fakeOrder); code != http.StatusOK || !strings.Contains(body, "SHIPPED") {
		t.Fatalf("order by id without the token: %d\n%s", code, body)
	}
	if _, body := get(t, s.url, "/"); !strings.Contains(body, "needs its admin token") {
		t.Fatalf("home does not say the order list needs the token:\n%s", body)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  console.Opt
		want string
	}{
		{"broker without port", console.Brokers("localhost"), "not host:port"},
		{"registry not http", console.Registry("ftp://x"), "registry"},
		{"jaeger not a URL", console.Jaeger("127.0.0.1:16686"), "Jaeger URL"},
		{"order service not a URL", console.OrderService("::"), "order service URL"},
		{"empty mask path", console.MaskFields("payment..cardToken"), "masked field path"},
		{"missing schema dir", console.SchemaDir("/no/such/dir"), "schemas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := console.New(tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error naming %q", err, tt.want)
			}
		})
	}
}

// TestTraceOfOrderUsesItsTraceID: the order service knows the trace id an
// order was placed under, so the trace page of an order id reads that trace
// by id instead of searching every trace's tags in Jaeger (which takes
// hundreds of milliseconds once Jaeger holds thousands of traces).
func TestTraceOfOrderUsesItsTraceID(t *testing.T) {
	s := startStack(t)
	before := jaegerSearches.Load()
	code, body := get(t, s.url, "/traces/"+fakeOrder)
	if code != 200 || !strings.Contains(body, "6 spans from 4 services") {
		t.Fatalf("HTTP %d: %s", code, body)
	}
	if n := jaegerSearches.Load() - before; n != 0 {
		t.Fatalf("the trace of a known order cost %d tag searches in Jaeger, want 0", n)
	}
}
