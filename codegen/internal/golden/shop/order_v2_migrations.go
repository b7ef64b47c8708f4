// Migrations of fixture.shop.Order between majors 1 and 2 (OrderV2),
// declared in codegen/testdata/schemas/fixture/shop/Order.v2.contract.yaml.
//
// `contrail gen` wrote this file once, with stubs, and never changes or
// deletes it: it is yours. Fill in each function; the generated code
// registers them (events.RegisterMigration), and a consumer of one major
// reads data written in the other through them. Delete the file when major
// 1 is retired.
//
// (Filled in by hand for the golden tests: migrate_test.go runs them.)

package shop

import (
	"fmt"
	"math/big"

	"github.com/contrail-events/contrail/codegen/internal/golden/shared"
)

// upgradeOrderV1ToV2 is the upgrade of fixture.shop.Order from major 1 to
// major 2 (migration rule orderV1ToV2, mode UPDOWN).
func upgradeOrderV1ToV2(v *OrderV1) (*OrderV2, error) {
	out := &OrderV2{
		OrderID: v.OrderID, Email: v.Email,
		Total: shared.Amount{Value: big.NewRat(v.TotalCents, 100)},
		Lines: []string{},
	}
	if v.Payment != nil {
		switch p := v.Payment.Value.(type) {
		case Voucher:
			out.Payment = NewOrderV2PaymentUnion(p)
		case OrderPaymentString:
			out.Payment = NewOrderV2PaymentUnion(OrderV2PaymentString(p))
		}
	}
	return out, nil
}

// downgradeOrderV2ToV1 is the downgrade of fixture.shop.Order from major 2 to
// major 1 (migration rule orderV1ToV2, mode UPDOWN). Major 1 counts whole
// cents, so a total with a fraction of a cent does not migrate.
func downgradeOrderV2ToV1(v *OrderV2) (*OrderV1, error) {
	cents := new(big.Rat).Mul(v.Total.Value, big.NewRat(100, 1))
	if !cents.IsInt() || !cents.Num().IsInt64() {
		return nil, fmt.Errorf("total %s is not a whole number of cents", v.Total.Value.FloatString(4))
	}
	out := &OrderV1{OrderID: v.OrderID, Email: v.Email, TotalCents: cents.Num().Int64()}
	if v.Payment != nil {
		switch p := v.Payment.Value.(type) {
		case Voucher:
			out.Payment = NewOrderPaymentUnion(p)
		case OrderV2PaymentString:
			out.Payment = NewOrderPaymentUnion(OrderPaymentString(p))
		}
	}
	return out, nil
}
