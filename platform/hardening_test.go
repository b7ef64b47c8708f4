package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/loadgen"
	"github.com/contrail-events/contrail/platform/platformtest"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/wire"
)

// oversizedName is a shipping_address.name that brings platform.SampleOrder
// just under the order API's 1 MiB body limit, and its OrderPlaced over the
// broker's (and the producer's) record limit.
const oversizedName = 1_047_976

// TestOversizedOrderDoesNotStopTheFlow: one order whose OrderPlaced is
// larger than the broker accepts used to stop the order service's outbox
// for good (the relay resent its batch every 200 ms, duplicating what it
// had sent, and never moved past the row). Now the row is parked, and a
// load run after it finishes every order with every invariant holding and
// nothing published twice.
//
// The order API may refuse such a body (per-field limits, 422); the
// oversized event is then put in the order service's outbox directly, as
// the API would have.
func TestOversizedOrderDoesNotStopTheFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("platform end-to-end test (subprocess services): slow, runs in make test")
	}
	dir := t.TempDir()
	p := start(t, testConfig(dir))
	defer p.Close()
	base := p.ServiceURLs["order"]
	ctx := context.Background()

	name := strings.Repeat("x", oversizedName)
	body := strings.Replace(platform.SampleOrder, `"name":"Ada Lovelace"`, `"name":"`+name+`"`, 1)
	if len(body) >= 1<<20 || !strings.Contains(body, name) {
		t.Fatalf("the oversized body is %d bytes, want just under 1 MiB with the long name", len(body))
	}
	resp, err := http.Post(base+"/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var bigOrder string
	switch resp.StatusCode {
	case http.StatusAccepted:
		var placed platformtest.Placed
		if err := json.Unmarshal(answer, &placed); err != nil || placed.OrderID == "" {
			t.Fatalf("POST /orders: 202 %s, want an order_id", answer)
		}
		bigOrder = placed.OrderID
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		t.Logf("the order API refuses the body (%s); enqueueing an oversized OrderPlaced in the order service's outbox directly", resp.Status)
		enqueueOversizedOrderPlaced(t, p, filepath.Join(dir, "order.db"), name)
	default:
		t.Fatalf("POST /orders with a %d-byte body: %s %.300s", len(body), resp.Status, answer)
	}

	st, err := eventing.OpenStore(ctx, filepath.Join(dir, "order.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, err := st.Parked(ctx)
		if err == nil && n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the order service parked %d rows (%v) within 30s, want the oversized OrderPlaced", n, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var typ, msg string
	if err := st.DB().QueryRowContext(ctx, `SELECT event_type, error FROM contrail_outbox_parked`).Scan(&typ, &msg); err != nil {
		t.Fatal(err)
	}
	if typ != orders.OrderPlacedBinding.FullName() || !strings.Contains(msg, "MESSAGE_TOO_LARGE") {
		t.Errorf("parked a %s because %q, want the OrderPlaced with MESSAGE_TOO_LARGE", typ, msg)
	}

	const n = 300
	rep, err := loadgen.Run(ctx, loadgen.Config{Orders: n, Concurrency: 16, OrderURL: base,
		InventoryURL: p.ServiceURLs["inventory"], PaymentURL: p.ServiceURLs["payment"], Seed: 7, Timeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("load run: %v", err)
	}
	final := 0
	for _, c := range rep.Final {
		final += c
	}
	if !rep.OK || rep.PlaceErrors != 0 || final != n {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("load run after the oversized order: %d of %d orders final:\n%s", final, n, b.String())
	}

	if pending, err := st.Pending(ctx); err != nil || pending != 0 {
		t.Errorf("the order service's outbox holds %d rows (%v) after the run, want 0", pending, err)
	}
	if parked, _ := st.Parked(ctx); parked != 1 {
		t.Errorf("%d rows parked after the run, want still the 1", parked)
	}
	if dups := duplicateEvents(t, p.BrokerAddr, orders.OrderPlacedBinding.Topic()); len(dups) > 0 {
		t.Errorf("%d events on %q were published more than once, e.g. %v", len(dups), orders.OrderPlacedBinding.Topic(), dups[:min(3, len(dups))])
	}
	if bigOrder != "" {
		// Its OrderPlaced never left the service: nothing else happened to it.
		if v, err := platformtest.GetOrder(base, bigOrder); err != nil || v.Status != "PENDING" {
			t.Errorf("the oversized order is %q (%v), want still PENDING", v.Status, err)
		}
	}
}

// enqueueOversizedOrderPlaced puts an OrderPlaced whose shipping name is
// name into the outbox of the order service's database at path, as the
// service does when it accepts an order.
func enqueueOversizedOrderPlaced(t *testing.T, p *platform.Platform, path, name string) {
	t.Helper()
	ctx := context.Background()
	cl, err := sr.NewClient(sr.URLs(p.RegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := serde.New(cl)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := eventing.NewPublisher(eventing.Brokers(p.BrokerAddr), eventing.WithCodec(codec))
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	st, err := eventing.OpenStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	price := common.Money{Amount: big.NewRat(1999, 100), Currency: common.CurrencyUsd}
	v := &orders.OrderPlaced{
		Metadata:        common.EventMetadata{OccurredAt: time.Now().UTC().Truncate(time.Millisecond), Producer: "order", Attributes: map[string]string{}},
		OrderID:         "00000000-0000-4000-8000-00000000b16e",
		CustomerID:      "cust-1",
		Items:           []common.LineItem{{Sku: "SKU-0001", Quantity: 2, UnitPrice: price}},
		Total:           common.Money{Amount: big.NewRat(3998, 100), Currency: common.CurrencyUsd},
		ShippingAddress: common.Address{Name: name, Line1: "1 Analytical Way", City: "London", PostalCode: "N1 9GU", Country: "GB"},
		Payment:         orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: "tok_visa", Last4: "4242"}),
		Channel:         orders.SalesChannelWeb,
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddEvent(ctx, tx, pub, orders.OrderPlacedBinding, v); err != nil {
		tx.Rollback()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// duplicateEvents returns the event ids that occur more than once on topic.
func duplicateEvents(t *testing.T, brokerAddr, topic string) []string {
	t.Helper()
	seen := map[string]int{}
	var dups []string
	for _, r := range readTopic(t, brokerAddr, topic) {
		id := eventing.HeaderValue(r, wire.HeaderEventID)
		if seen[id]++; seen[id] == 2 {
			dups = append(dups, id)
		}
	}
	return dups
}

// readTopic returns every committed record of topic, up to the end offsets
// it had when called, in partition order.
func readTopic(t *testing.T, brokerAddr, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokerAddr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords()) // to see how far a partition was read
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	next := map[int32]int64{}
	var out []*kgo.Record
	for {
		behind := false
		for p, end := range want {
			behind = behind || next[p] < end
		}
		if !behind {
			return out
		}
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %s: partitions at %v, want %v", topic, next, want)
		}
		fs.EachRecord(func(r *kgo.Record) {
			next[r.Partition] = r.Offset + 1
			if !r.Attrs.IsControl() && r.Offset < want[r.Partition] {
				out = append(out, r)
			}
		})
	}
}
