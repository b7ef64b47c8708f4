package orders_test

import (
	"errors"
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/orders"
)

func placedV1() *orders.OrderPlaced {
	coupon := "SPRING"
	return &orders.OrderPlaced{
		Metadata:   common.EventMetadata{EventID: "e-1", OccurredAt: time.UnixMilli(1).UTC(), Producer: "order", CorrelationID: "c-1"},
		OrderID:    "7f1c2a9e-0000-4000-8000-000000000001",
		CustomerID: "cust-42",
		Items: []common.LineItem{
			{Sku: "A", Quantity: 2, UnitPrice: common.Money{Amount: big.NewRat(1250, 100), Currency: common.CurrencyEur}},
			{Sku: "B", Quantity: 1, UnitPrice: common.Money{Amount: big.NewRat(99, 100), Currency: common.CurrencyEur}},
		},
		Total:           common.Money{Amount: big.NewRat(2599, 100), Currency: common.CurrencyEur},
		ShippingAddress: common.Address{Name: "Ada", Line1: "1 Loop", City: "Graz", PostalCode: "8010", Country: "AT"},
		Payment:         orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: "tok", Last4: "4242"}),
		Channel:         orders.SalesChannelWeb,
		CouponCode:      &coupon,
	}
}

// TestOrderPlacedMigrations: the registered migrations take major 1 to major
// 2 with the renamed and retyped fields, and back to an equal major 1, and
// both values encode under their major's schema.
func TestOrderPlacedMigrations(t *testing.T) {
	v1 := placedV1()
	up, err := events.Migrate("contrail.orders.OrderPlaced", 1, 2, v1)
	if err != nil {
		t.Fatal(err)
	}
	v2, ok := up.(*orders.OrderPlacedV2)
	if !ok {
		t.Fatalf("upgrade gave %T", up)
	}
	if v2.CustomerRef != "cust-42" || v2.TotalCents != 2599 || v2.Currency != common.CurrencyEur {
		t.Fatalf("upgrade: customerRef %q totalCents %d currency %q", v2.CustomerRef, v2.TotalCents, v2.Currency)
	}
	if _, ok := v2.Payment.Value.(orders.CardPayment); !ok {
		t.Fatalf("upgrade: payment %T", v2.Payment.Value)
	}
	if _, err := avro.Marshal(orders.OrderPlacedV2Binding.Schema(), v2); err != nil {
		t.Fatalf("encode v2: %v", err)
	}
	down, err := events.Migrate("contrail.orders.OrderPlaced", 2, 1, v2)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(down, v1) {
		t.Fatalf("v1 -> v2 -> v1 changed the event:\n got %+v\nwant %+v", down, v1)
	}
	if _, err := avro.Marshal(orders.OrderPlacedBinding.Schema(), down); err != nil {
		t.Fatalf("encode v1: %v", err)
	}
}

// TestOrderPlacedMigrationRefusesFractionalCents: a major-1 total that is
// not a whole number of cents has no major-2 form; the migration says so
// instead of rounding money.
func TestOrderPlacedMigrationRefusesFractionalCents(t *testing.T) {
	v1 := placedV1()
	v1.Total.Amount = big.NewRat(1, 1000)
	_, err := events.Migrate("contrail.orders.OrderPlaced", 1, 2, v1)
	if err == nil {
		t.Fatal("migrated a total of 0.001 to cents")
	}
	if errors.Is(err, events.ErrMigrationNotImplemented) {
		t.Fatalf("the stub is still in place: %v", err)
	}
}
