package loadgen

import (
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/money"
	"github.com/contrail-events/contrail/events/orders"
)

// TestMetadataOfEveryMajor: the hops read an event's metadata from the
// start of its value, whichever major wrote it.
func TestMetadataOfEveryMajor(t *testing.T) {
	md := common.EventMetadata{EventID: "0190f3c2-7d1e-7b3a-9c4e-1234567890ab", OccurredAt: time.UnixMilli(1_700_000_000_123).UTC(),
		CorrelationID: "order-1", Producer: "order", Attributes: map[string]string{}}
	pay := orders.CardPayment{CardToken: "tok", Last4: "4242"}
	v1, err := avro.Marshal(orders.OrderPlacedBinding.Schema(), &orders.OrderPlaced{Metadata: md, OrderID: "order-1", Channel: "WEB", Total: money.Of(1999, "USD"),
		Payment: orders.NewOrderPlacedPaymentUnion(pay)})
	if err != nil {
		t.Fatal(err)
	}
	v2, err := avro.Marshal(orders.OrderPlacedV2Binding.Schema(), &orders.OrderPlacedV2{Metadata: md, OrderID: "order-1", Channel: "WEB",
		Currency: "USD", Payment: orders.NewOrderPlacedV2PaymentUnion(pay)})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{"major 1": v1, "major 2": v2} {
		got, err := metadataOf(v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.EventID != md.EventID || got.CorrelationID != md.CorrelationID || !got.OccurredAt.Equal(md.OccurredAt) {
			t.Fatalf("%s: metadata %+v, want %+v", name, got, md)
		}
	}
}

// TestHopsOfAShippedOrder: each stage is the difference of the two times
// it names, and only shipped orders with all five events count.
func TestHopsOfAShippedOrder(t *testing.T) {
	t0 := time.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	final := at(100)
	evs := map[string]map[string]hopEvent{"a": {
		"contrail.orders.OrderPlaced":          {occurred: at(10), produced: at(12)},
		"contrail.inventory.InventoryReserved": {occurred: at(20), produced: at(25)},
		"contrail.payments.PaymentConfirmed":   {occurred: at(30), produced: at(40)},
		"contrail.orders.OrderReady":           {occurred: at(50), produced: at(51)},
		"contrail.shipping.OrderShipped":       {occurred: at(60), produced: at(70)},
	}, "b": {"contrail.orders.OrderPlaced": {occurred: at(1), produced: at(2)}}}
	ps := []placed{{id: "a", sent: at(0), accepted: at(5)}, {id: "b", sent: at(0), accepted: at(5)}}
	views := map[string]*orderView{"a": {Status: "SHIPPED", FinalAt: &final}, "b": {Status: "CANCELLED", FinalAt: &final}}
	h := hops(evs, ps, views)
	if h.Orders != 1 {
		t.Fatalf("%d orders measured, want the one shipped order", h.Orders)
	}
	want := []float64{5, 2, 8, 5, 18, 10, 10, 1, 9, 10, 30}
	for i, s := range h.Stages {
		if s.Mean != want[i] {
			t.Errorf("stage %q = %v ms, want %v", s.Name, s.Mean, want[i])
		}
	}
	if h.CriticalPath.Mean != 100 {
		t.Errorf("critical path %v ms, want 100", h.CriticalPath.Mean)
	}
}
