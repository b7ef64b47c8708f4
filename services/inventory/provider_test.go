// Provider verification of the inventory service, beside it: its consumer
// contracts (derived from its router, committed under contracts/inventory) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package inventory_test

import (
	"context"
	"flag"
	"math/big"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	inventorysvc "github.com/contrail-events/contrail/services/inventory"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/inventory files from the service's router")

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/inventory -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.orders.OrderPlaced":    providertest.Fields("orderId", "items.sku", "items.quantity"),
	"contrail.orders.OrderCancelled": providertest.Fields("orderId"),
	"contrail.orders.OrderReady":     providertest.Fields("orderId"),
}

// TestConsumerContracts checks that the committed contracts under
// contracts/inventory are exactly those derived from the service's router (run
// with -update to rewrite them). That every consumer the manifest names has
// a contract is contract's TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	providertest.CheckConsumerContracts(t, "inventory", filepath.Join("..", "..", contract.DefaultDir),
		func(r *eventing.Router) { inventorysvc.Register(r, nil) }, consumerFields, *update)
}

func TestProviderInventory(t *testing.T) {
	env := providertest.Start(t)
	env.Run(t, "inventory", func(ctx context.Context, cfg host.Config) error {
		return inventorysvc.Run(ctx, cfg, providertest.Quiet)
	})

	// The card-web example orders SKUs the seeded stock does not have.
	rejected := providertest.Example(t, env, orders.OrderPlacedBinding, "card-web")
	env.Publish(t, orders.OrderPlacedBinding, rejected)
	rej := providertest.Await(t, env, inventory.InventoryRejectedBinding, func(e *inventory.InventoryRejected) bool { return e.OrderID == rejected.OrderID })
	if len(rej.ShortLines) != 2 || rej.ShortLines[0].Available != 0 {
		t.Errorf("rejection short lines %+v, want both lines short with 0 available", rej.ShortLines)
	}
	if rej.Metadata.CausationID == nil || *rej.Metadata.CausationID != rejected.Metadata.EventID {
		t.Errorf("rejection causation %v, want the OrderPlaced event id %s", rej.Metadata.CausationID, rejected.Metadata.EventID)
	}

	// The same order shape with seeded SKUs is reserved, then released on cancel.
	placed := providertest.Example(t, env, orders.OrderPlacedBinding, "invoice-mobile-minimal")
	id := providertest.Fresh(&placed.Metadata.EventID, &placed.OrderID)
	placed.Items[0].Sku = "SKU-0001"
	placed.Items[0].Quantity = 3
	placed.Total.Amount = new(big.Rat).Mul(placed.Items[0].UnitPrice.Amount, big.NewRat(3, 1)) // rule totalIsSumOfLines
	env.Publish(t, orders.OrderPlacedBinding, placed)
	res := providertest.Await(t, env, inventory.InventoryReservedBinding, func(e *inventory.InventoryReserved) bool { return e.OrderID == id })
	if len(res.Lines) != 1 || res.Lines[0].Sku != "SKU-0001" || res.Lines[0].Quantity != 3 || res.ReservationID == "" {
		t.Errorf("reservation %+v", res)
	}
	cancel := providertest.Example(t, env, orders.OrderCancelledBinding, "payment-failed-no-detail")
	providertest.Fresh(&cancel.Metadata.EventID, nil)
	cancel.OrderID = id
	env.Publish(t, orders.OrderCancelledBinding, cancel)
	rel := providertest.Await(t, env, inventory.InventoryReleasedBinding, func(e *inventory.InventoryReleased) bool { return e.OrderID == id })
	if rel.ReservationID != res.ReservationID || len(rel.Lines) != 1 || rel.Lines[0].Quantity != 3 {
		t.Errorf("release %+v does not release reservation %s", rel, res.ReservationID)
	}
	env.CheckOutputs(t, 3)
}
