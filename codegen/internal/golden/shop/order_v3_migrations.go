// Migrations of fixture.shop.Order between majors 2 and 3 (OrderV3),
// declared in codegen/testdata/schemas/fixture/shop/Order.v3.contract.yaml.
//
// `contrail gen` wrote this file once, with stubs, and never changes or
// deletes it: it is yours. Fill in each function; the generated code
// registers them (events.RegisterMigration), and a consumer of one major
// reads data written in the other through them. Delete the file when major
// 2 is retired.
//
// (Filled in by hand for the golden tests: migrate_test.go runs them.)

package shop

// upgradeOrderV2ToV3 is the upgrade of fixture.shop.Order from major 2 to
// major 3 (migration rule orderV2ToV3, mode UPGRADE).
func upgradeOrderV2ToV3(v *OrderV2) (*OrderV3, error) {
	out := &OrderV3{OrderID: v.OrderID, Total: v.Total, Lines: v.Lines}
	if v.Payment != nil {
		switch p := v.Payment.Value.(type) {
		case Voucher:
			out.Payment = NewOrderV3PaymentUnion(p)
		case OrderV2PaymentString:
			out.Payment = NewOrderV3PaymentUnion(OrderV3PaymentString(p))
		}
	}
	return out, nil
}
