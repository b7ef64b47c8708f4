// Migrations of contrail.orders.OrderPlaced between majors 1 and 2 (OrderPlacedV2),
// declared in schemas/contrail/orders/OrderPlaced.v2.contract.yaml.
//
// `contrail gen` wrote this file once, with stubs, and never changes or
// deletes it: it is yours. Fill in each function; the generated code
// registers them (events.RegisterMigration), and a consumer of one major
// reads data written in the other through them. Delete the file when major
// 1 is retired.

package orders

import (
	"fmt"

	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/money"
)

// upgradeOrderPlacedV1ToV2 is the upgrade of contrail.orders.OrderPlaced from major 1 to
// major 2 (migration rule orderPlacedV1ToV2, mode UPDOWN): customerId becomes
// customerRef, and the total (a Money) becomes totalCents and currency. A total
// that is not a whole number of cents within 18 digits has no major-2 form.
func upgradeOrderPlacedV1ToV2(v *OrderPlacedV1) (*OrderPlacedV2, error) {
	cents, err := money.CentsFromRat(v.Total.Amount)
	if err != nil {
		return nil, fmt.Errorf("total: %w", err)
	}
	out := &OrderPlacedV2{
		Metadata: v.Metadata, OrderID: v.OrderID, CustomerRef: v.CustomerID, Items: v.Items,
		TotalCents: int64(cents), Currency: v.Total.Currency, ShippingAddress: v.ShippingAddress,
		Channel: v.Channel, CouponCode: v.CouponCode,
	}
	if v.Payment != nil {
		p, ok := v.Payment.Value.(OrderPlacedV2Payment)
		if !ok {
			return nil, fmt.Errorf("payment: %T has no major-2 branch", v.Payment.Value)
		}
		out.Payment = NewOrderPlacedV2PaymentUnion(p)
	}
	return out, nil
}

// downgradeOrderPlacedV2ToV1 is the downgrade of contrail.orders.OrderPlaced from major 2 to
// major 1 (migration rule orderPlacedV1ToV2, mode UPDOWN): the reverse of the
// upgrade, exact both ways.
func downgradeOrderPlacedV2ToV1(v *OrderPlacedV2) (*OrderPlacedV1, error) {
	cents := money.Cents(v.TotalCents)
	if !cents.Valid() {
		return nil, fmt.Errorf("totalCents: %d is more than 18 digits", v.TotalCents)
	}
	out := &OrderPlacedV1{
		Metadata: v.Metadata, OrderID: v.OrderID, CustomerID: v.CustomerRef, Items: v.Items,
		Total:           common.Money{Amount: cents.Rat(), Currency: v.Currency},
		ShippingAddress: v.ShippingAddress, Channel: v.Channel, CouponCode: v.CouponCode,
	}
	if v.Payment != nil {
		p, ok := v.Payment.Value.(OrderPlacedPayment)
		if !ok {
			return nil, fmt.Errorf("payment: %T has no major-1 branch", v.Payment.Value)
		}
		out.Payment = NewOrderPlacedPaymentUnion(p)
	}
	return out, nil
}
