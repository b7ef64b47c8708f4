// Command app is the OrderPlaced v1 producer and consumer of the schema
// evolution test (cmd/contrail/contract_evolution_test.go), built from the
// v1 generated types in ../events.
package main

import (
	"fmt"
	"math/big"
	"time"

	"github.com/contrail-events/contrail/contract/internal/evolutionapp"
	"github.com/contrail-events/contrail/contract/testdata/evolution/v1/events/common"
	"github.com/contrail-events/contrail/contract/testdata/evolution/v1/events/orders"
)

func main() {
	evolutionapp.Main(orders.OrderPlacedBinding, func(i int) *orders.OrderPlaced {
		id := fmt.Sprintf("10000000-0000-4000-8000-%012d", i)
		price := common.Money{Amount: big.NewRat(1250, 100), Currency: common.CurrencyEur}
		return &orders.OrderPlaced{
			Metadata: common.EventMetadata{EventID: fmt.Sprintf("10000000-0000-4000-9000-%012d", i), OccurredAt: time.UnixMilli(1767225600000 + int64(i)).UTC(),
				CorrelationID: id, Producer: "order-v1", Attributes: map[string]string{}},
			OrderID: id, CustomerID: fmt.Sprintf("v1-customer-%d", i),
			Items:           []common.LineItem{{Sku: "SKU-RED-MUG", Quantity: 2, UnitPrice: price}},
			Total:           common.Money{Amount: big.NewRat(2500, 100), Currency: common.CurrencyEur},
			ShippingAddress: common.Address{Name: "Ada", Line1: "12 Analytical Row", City: "London", PostalCode: "N1 9GU", Country: "GB"},
			Payment:         orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: "tok_visa", Last4: "4242"}),
			Channel:         orders.SalesChannelWeb,
		}
	})
}
