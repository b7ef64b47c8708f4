package serde_test

import (
	"context"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/twmb/franz-go/pkg/sr"
	"math/big"
	"testing"
	"time"

	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// pushRepoSchemas registers the repository's schemas as `contrail registry
// push` does.
func pushRepoSchemas(t testing.TB, tr *testRegistry) {
	t.Helper()
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Push(context.Background(), tr.client, set, false, nil); err != nil {
		t.Fatal(err)
	}
}

// fillGenerated returns a fully populated generated OrderPlaced.
func fillGenerated(t testing.TB) *orders.OrderPlaced {
	t.Helper()
	price := common.Money{Amount: big.NewRat(1999, 100), Currency: common.CurrencyEur}
	return &orders.OrderPlaced{
		Metadata:   common.EventMetadata{EventID: "e-1", OccurredAt: time.UnixMilli(1_700_000_000_000).UTC(), CorrelationID: "e-1", Producer: "order", Attributes: map[string]string{}},
		OrderID:    "00000000-0000-4000-8000-000000000001",
		CustomerID: "customer-1",
		Items: []common.LineItem{
			{Sku: "SKU-1", Quantity: 2, UnitPrice: price},
			{Sku: "SKU-2", Quantity: 1, UnitPrice: price},
		},
		Total:           common.Money{Amount: big.NewRat(5997, 100), Currency: common.CurrencyEur},
		ShippingAddress: common.Address{Name: "Customer 1", Line1: "1 Main St", City: "Springfield", PostalCode: "69001", Country: "FR"},
		Payment:         orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: "tok_1", Last4: "4242"}),
		Channel:         orders.SalesChannelWeb,
	}
}

func serdeID(data []byte) (int, error) { return wire.SchemaID(data) }

// TestGeneratedOrderPlacedAfterPush: a serde registering the generated
// binding after `contrail registry push` finds the pushed schema (same ID,
// no new version), and the value round-trips.
func TestGeneratedOrderPlacedAfterPush(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	pushRepoSchemas(t, tr)
	// The subject holds one version per major (OrderPlaced.avsc and
	// OrderPlaced.v2.avsc); the binding is major 1's.
	all, err := tr.client.Schemas(ctx, orders.OrderPlacedBinding.Subject())
	if err != nil {
		t.Fatal(err)
	}
	var pushed sr.SubjectSchema
	for _, v := range all {
		if md, _ := regclient.ContractFromSR(v.Schema); md != nil && md.Properties[wire.PropertyMajorVersion] == "1" {
			pushed = v
		}
	}
	if pushed.ID == 0 {
		t.Fatalf("no pushed version of major 1 among %d versions", len(all))
	}
	s := newSerde(t, tr)
	in := fillGenerated(t)
	data, err := s.Encode(ctx, orders.OrderPlacedBinding, in)
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := serdeID(data); id != pushed.ID {
		t.Fatalf("serde used id %d, push registered %d", id, pushed.ID)
	}
	vs, err := tr.client.SubjectVersions(ctx, orders.OrderPlacedBinding.Subject())
	if err != nil || len(vs) != len(all) {
		t.Fatalf("versions after serde registration = %v, %v; want the %d pushed ones only", vs, err, len(all))
	}
	var out orders.OrderPlaced
	if err := newSerde(t, tr).Decode(ctx, data, orders.OrderPlacedBinding, &out); err != nil {
		t.Fatal(err)
	}
	if out.OrderID != in.OrderID || len(out.Items) != 2 || out.ShippingAddress.City != "Springfield" {
		t.Fatalf("round trip = %+v", out)
	}
}
