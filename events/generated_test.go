package events_test

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/codegen/codegentest"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"
)

func ptr[T any](v T) *T { return &v }

func money(s string, c common.Currency) common.Money {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return common.Money{Amount: r, Currency: c}
}

var (
	at   = time.Date(2026, 11, 25, 22, 31, 7, 123_000_000, time.UTC)
	meta = common.EventMetadata{
		EventID:       "4b3c1d0e-8f2a-4c1b-9d3e-5f6a7b8c9d0e",
		OccurredAt:    at,
		CorrelationID: "0f9e8d7c-6b5a-4c3d-2e1f-0a9b8c7d6e5f",
		CausationID:   ptr("11111111-2222-4333-8444-555555555555"),
		Producer:      "order",
		Attributes:    map[string]string{"tenant": "acme", "region": "eu-west-1"},
	}
	orderID = "6c0e7a52-3b1d-4f7e-9a8c-2d5b4e6f7a8b"
	items   = []common.LineItem{
		{Sku: "SKU-RED-MUG", Quantity: 2, UnitPrice: money("12.99", common.CurrencyEur)},
		{Sku: "SKU-TEAPOT", Quantity: 1, UnitPrice: money("1234567890123456.01", common.CurrencyEur)},
	}
	addr = common.Address{Name: "Ada Lovelace", Line1: "12 St James's Square", Line2: ptr("Flat 3"), City: "London", PostalCode: "SW1Y 4JH", Country: "GB"}
)

// boundEvent is one generated event value with its binding.
type boundEvent struct {
	name  string
	typ   events.Type
	value any
}

func orderFlow() []boundEvent {
	return []boundEvent{
		{name: "OrderPlaced card", typ: orders.OrderPlacedBinding, value: &orders.OrderPlaced{
			Metadata: meta, OrderID: orderID, CustomerID: "cust-42", Items: items,
			Total:           money("1234567890123482.99", common.CurrencyEur),
			ShippingAddress: addr,
			Payment:         orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: "tok_visa_4242", Last4: "4242"}),
			Channel:         orders.SalesChannelMobile, CouponCode: ptr("WINTER10"),
		}},
		{name: "OrderPlaced invoice", typ: orders.OrderPlacedBinding, value: &orders.OrderPlaced{
			Metadata: common.EventMetadata{EventID: "a", OccurredAt: at, CorrelationID: "b", Producer: "order"},
			OrderID:  orderID, Items: nil, Total: money("-0.01", common.CurrencyUnknown),
			Payment: orders.NewOrderPlacedPaymentUnion(orders.InvoicePayment{PurchaseOrder: "PO-7", DueDays: 45}),
			Channel: orders.SalesChannelWeb,
		}},
		{name: "OrderReady", typ: orders.OrderReadyBinding, value: &orders.OrderReady{
			Metadata: meta, OrderID: orderID, ReservationID: "r-1", PaymentID: "p-1", Items: items, ShippingAddress: addr,
		}},
		{name: "OrderCancelled", typ: orders.OrderCancelledBinding, value: &orders.OrderCancelled{
			Metadata: meta, OrderID: orderID, Reason: orders.CancelReasonOutOfStock, Detail: ptr("SKU-TEAPOT short by 1"),
		}},
		{name: "InventoryReserved", typ: inventory.InventoryReservedBinding, value: &inventory.InventoryReserved{
			Metadata: meta, OrderID: orderID, ReservationID: "r-1",
			Lines: []inventory.StockLine{{Sku: "SKU-RED-MUG", Quantity: 2}, {Sku: "SKU-TEAPOT", Quantity: 1}},
		}},
		{name: "InventoryRejected", typ: inventory.InventoryRejectedBinding, value: &inventory.InventoryRejected{
			Metadata: meta, OrderID: orderID, ShortLines: []inventory.ShortLine{{Sku: "SKU-TEAPOT", Requested: 1, Available: 0}},
		}},
		{name: "InventoryReleased", typ: inventory.InventoryReleasedBinding, value: &inventory.InventoryReleased{
			Metadata: meta, OrderID: orderID, ReservationID: "r-1", Lines: []inventory.StockLine{{Sku: "SKU-RED-MUG", Quantity: 2}},
		}},
		{name: "PaymentConfirmed", typ: payments.PaymentConfirmedBinding, value: &payments.PaymentConfirmed{
			Metadata: meta, OrderID: orderID, PaymentID: "p-1", Amount: money("25.98", common.CurrencyGbp),
		}},
		{name: "PaymentFailed", typ: payments.PaymentFailedBinding, value: &payments.PaymentFailed{
			Metadata: meta, OrderID: orderID, Code: payments.DeclineCodeLimitExceeded, Message: "limit exceeded",
		}},
		{name: "PaymentRefunded", typ: payments.PaymentRefundedBinding, value: &payments.PaymentRefunded{
			Metadata: meta, OrderID: orderID, PaymentID: "p-1", Amount: money("0.50", common.CurrencyJpy),
		}},
		{name: "OrderShipped", typ: shipping.OrderShippedBinding, value: &shipping.OrderShipped{
			Metadata: meta, OrderID: orderID, ShipmentID: "s-1", Carrier: "DHL", TrackingNumber: "JD0146000000",
			ShippedAt: at.Add(36 * time.Hour),
		}},
	}
}

func roundTrip(t *testing.T, api avro.API, typ events.Type, v any) []byte {
	t.Helper()
	switch v := v.(type) {
	case *orders.OrderPlaced:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *orders.OrderReady:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *orders.OrderCancelled:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *inventory.InventoryReserved:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *inventory.InventoryRejected:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *inventory.InventoryReleased:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *payments.PaymentConfirmed:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *payments.PaymentFailed:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *payments.PaymentRefunded:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	case *shipping.OrderShipped:
		return codegentest.RoundTrip(t, api, typ.Schema(), v)
	}
	t.Fatalf("no round trip for %T", v)
	return nil
}

// TestOrderFlowRoundTrip marshals every order-flow event, unmarshals it and
// compares, with hamba's default API (union branches resolved by the types
// generated code registers) and with a fresh API that knows no types (union
// branches arrive generic and convert).
func TestOrderFlowRoundTrip(t *testing.T) {
	apis := map[string]avro.API{"default": avro.DefaultConfig, "fresh": avro.Config{}.Freeze()}
	for _, ev := range orderFlow() {
		for apiName, api := range apis {
			t.Run(ev.name+"/"+apiName, func(t *testing.T) {
				data := roundTrip(t, api, ev.typ, ev.value)
				if len(data) == 0 {
					t.Fatal("empty encoding")
				}
			})
		}
	}
}

// TestUnionWireFormat pins the branch index of the payment union, so the
// sealed-interface mapping writes what any other Avro implementation reads.
func TestUnionWireFormat(t *testing.T) {
	s := orders.OrderPlacedBinding.Schema()
	for _, tt := range []struct {
		name  string
		value orders.OrderPlacedPayment
	}{
		{"contrail.orders.CardPayment", orders.CardPayment{CardToken: "t", Last4: "1"}},
		{"contrail.orders.InvoicePayment", orders.InvoicePayment{PurchaseOrder: "po", DueDays: 3}},
	} {
		v := &orders.OrderPlaced{OrderID: "o", Channel: orders.SalesChannelWeb, Total: money("1", common.CurrencyEur), Payment: orders.NewOrderPlacedPaymentUnion(tt.value)}
		data, err := avro.Marshal(s, v)
		if err != nil {
			t.Fatal(err)
		}
		var generic map[string]any
		if err := avro.Unmarshal(s, data, &generic); err != nil {
			t.Fatal(err)
		}
		got := generic["payment"]
		// The default API resolves registered names to the generated types;
		// hamba's generic decoding keys the branch by name instead.
		switch g := got.(type) {
		case map[string]any:
			if _, ok := g[tt.name]; !ok {
				t.Errorf("payment decoded as %v, want branch %s", g, tt.name)
			}
		default:
			if d := codegentest.Diff(tt.value, got); d != "" {
				t.Errorf("payment decoded as %#v, want %#v", got, tt.value)
			}
		}
	}
	empty := orders.OrderPlaced{Channel: orders.SalesChannelWeb, Total: money("1", common.CurrencyEur)}
	if _, err := avro.Marshal(s, &empty); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("marshal with nil payment: err = %v, want an error about nil", err)
	}
	bad := &orders.OrderPlaced{Channel: orders.SalesChannelWeb, Total: money("1", common.CurrencyEur), Payment: &orders.OrderPlacedPaymentUnion{}}
	if _, err := avro.Marshal(s, bad); err == nil {
		t.Error("marshal with a nil union value succeeded")
	}
}

func TestUnionJSON(t *testing.T) {
	in := &orders.OrderPlaced{OrderID: "o", Total: money("1", common.CurrencyEur), Payment: orders.NewOrderPlacedPaymentUnion(orders.InvoicePayment{PurchaseOrder: "PO-1", DueDays: 30})}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `"payment":{"contrail.orders.InvoicePayment":{"purchaseOrder":"PO-1","dueDays":30}}`) {
		t.Errorf("JSON = %s", data)
	}
	var out orders.OrderPlaced
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	if _, ok := out.Payment.Value.(orders.InvoicePayment); !ok {
		t.Errorf("payment decoded as %T", out.Payment.Value)
	}
}

func TestEnums(t *testing.T) {
	if !common.CurrencyEur.Valid() || common.Currency("XYZ").Valid() {
		t.Error("Valid is wrong")
	}
	if common.CurrencyDefault != common.CurrencyUnknown || common.CurrencyGbp.String() != "GBP" {
		t.Error("default or String wrong")
	}
	if got := common.CurrencyValues(); len(got) != 5 || got[0] != common.CurrencyUnknown || got[4] != common.CurrencyJpy {
		t.Errorf("values = %v", got)
	}
	// An unknown symbol is an encoding error, not silent data loss.
	s := payments.PaymentFailedBinding.Schema()
	if _, err := avro.Marshal(s, &payments.PaymentFailed{Code: "NOPE"}); err == nil {
		t.Error("marshal with an unknown enum symbol succeeded")
	}
}

func TestValidate(t *testing.T) {
	for _, ev := range orderFlow() {
		v, ok := ev.value.(events.Validator)
		if !ok {
			t.Fatalf("%T does not implement events.Validator", ev.value)
		}
		if err := v.Validate(); err != nil {
			t.Errorf("%s: %v", ev.name, err)
		}
	}
	err := (&orders.OrderPlaced{Items: []common.LineItem{{Sku: "x", UnitPrice: money("1", "EURO")}}}).Validate()
	for _, want := range []string{
		`items[0]: unitPrice: currency: "EURO" is not a symbol of contrail.common.Currency`,
		"total: amount: nil decimal",
		"payment: nil union: set it with NewOrderPlacedPaymentUnion",
		`channel: "" is not a symbol of contrail.orders.SalesChannel`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate of an incomplete OrderPlaced lacks %q: %v", want, err)
		}
	}
}

// TestSchemaEvolution decodes data written with an older OrderPlaced (no
// channel, no couponCode) into today's generated type through hamba's
// schema resolution, as a consumer does after the schema evolved: the new
// fields get their defaults and the union still decodes.
func TestSchemaEvolution(t *testing.T) {
	reader := orders.OrderPlacedBinding.Schema()
	oldText := orders.OrderPlacedBinding.SchemaText()
	for _, line := range []string{
		`    {"name": "channel", "type": "contrail.orders.SalesChannel", "default": "UNKNOWN"},` + "\n",
		`,` + "\n" + `    {"name": "couponCode", "type": ["null", "string"], "default": null}`,
	} {
		if !strings.Contains(oldText, line) {
			t.Fatalf("test setup: OrderPlaced.avsc no longer has %q", line)
		}
		oldText = strings.Replace(oldText, line, "", 1)
	}
	if oldText == orders.OrderPlacedBinding.SchemaText() {
		t.Fatal("test setup: the old schema text equals the current one")
	}
	writer, err := events.ParseWithReferences(oldText, orders.OrderPlacedBinding.References())
	if err != nil {
		t.Fatal(err)
	}
	in := *orderFlow()[0].value.(*orders.OrderPlaced)
	data, err := avro.Marshal(writer, &in)
	if err != nil {
		t.Fatal(err)
	}
	resolved, err := avro.NewSchemaCompatibility().Resolve(reader, writer)
	if err != nil {
		t.Fatal(err)
	}
	var out orders.OrderPlaced
	if err := avro.Unmarshal(resolved, data, &out); err != nil {
		t.Fatal(err)
	}
	want := in
	want.Channel, want.CouponCode = orders.SalesChannelUnknown, nil
	if d := codegentest.Diff(want, out); d != "" {
		t.Errorf("decoded old data differs: %s ", d)
	}
}

// TestConcurrentDecode decodes from several goroutines at once through both
// APIs (the fresh one exercises the lazily parsed named-type schemas); run
// with -race to check the caches.
func TestConcurrentDecode(t *testing.T) {
	in := orderFlow()[0].value.(*orders.OrderPlaced)
	s := orders.OrderPlacedBinding.Schema()
	data, err := avro.Marshal(s, in)
	if err != nil {
		t.Fatal(err)
	}
	fresh := avro.Config{}.Freeze()
	errs := make(chan string, 16)
	for i := range 16 {
		go func() {
			api := avro.DefaultConfig
			if i%2 == 0 {
				api = fresh
			}
			var out orders.OrderPlaced
			if err := api.Unmarshal(s, data, &out); err != nil {
				errs <- err.Error()
				return
			}
			errs <- codegentest.Diff(*in, out)
		}()
	}
	for range 16 {
		if d := <-errs; d != "" {
			t.Error(d)
		}
	}
}
