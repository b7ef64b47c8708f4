package contracttest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/contracttest"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

func TestRepositoryContracts(t *testing.T) {
	// The committed contracts hold for every generated producer type.
	contracttest.Verify(t, contracttest.Dir(t),
		orders.OrderPlacedBinding, orders.OrderPlacedV2Binding, orders.OrderReadyBinding, orders.OrderCancelledBinding,
		inventory.InventoryReservedBinding, inventory.InventoryRejectedBinding, inventory.InventoryReleasedBinding,
		payments.PaymentConfirmedBinding, payments.PaymentFailedBinding, payments.PaymentRefundedBinding,
		shipping.OrderShippedBinding)
}

func TestVerifyContractsFails(t *testing.T) {
	good, err := contract.FromType("inventory", orders.OrderPlacedBinding, contract.Fields("orderId"))
	if err != nil {
		t.Fatal(err)
	}
	// A consumer built from a schema with a required field the producer
	// never writes.
	needy := *good
	needy.Consumer = "auditor"
	needy.Schema = []byte(strings.Replace(string(good.Schema), `"fields":[`, `"fields":[{"name":"auditId","type":"string"},`, 1))
	if err := needy.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		contracts []*contract.Contract
		want      []string // substrings of the single failure; none = pass
	}{
		{"compatible", []*contract.Contract{good}, nil},
		{"breaking", []*contract.Contract{good, &needy}, []string{"READER_FIELD_MISSING_DEFAULT", "consumer auditor", "auditId", "contrail.orders.OrderPlaced"}},
		{"no contract", nil, []string{"no consumer contract for contrail.orders.OrderPlaced"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			contracttest.VerifyContracts(r, tt.contracts, orders.OrderPlacedBinding)
			if len(tt.want) == 0 {
				if len(r.errs) != 0 {
					t.Fatalf("unexpected failures: %v", r.errs)
				}
				return
			}
			if len(r.errs) != 1 {
				t.Fatalf("failures %d, want 1: %v", len(r.errs), r.errs)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.errs[0], w) {
					t.Errorf("failure lacks %q:\n%s", w, r.errs[0])
				}
			}
		})
	}
}
