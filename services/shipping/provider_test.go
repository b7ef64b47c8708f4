// Provider verification of the shipping service, beside it: its consumer
// contracts (derived from its router, committed under contracts/shipping) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package shipping_test

import (
	"context"
	"flag"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/shipping"
	shippingsvc "github.com/contrail-events/contrail/services/shipping"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/shipping files from the service's router")

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/shipping -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.orders.OrderReady": providertest.Fields("orderId"),
}

// TestConsumerContracts checks that the committed contracts under
// contracts/shipping are exactly those derived from the service's router (run
// with -update to rewrite them). That every consumer the manifest names has
// a contract is contract's TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	providertest.CheckConsumerContracts(t, "shipping", filepath.Join("..", "..", contract.DefaultDir),
		func(r *eventing.Router) { shippingsvc.Register(r, nil) }, consumerFields, *update)
}

func TestProviderShipping(t *testing.T) {
	env := providertest.Start(t)
	env.Run(t, "shipping", func(ctx context.Context, cfg host.Config) error { return shippingsvc.Run(ctx, cfg, providertest.Quiet) })
	for _, name := range []string{"card-order", "many-lines"} {
		ready := providertest.Example(t, env, orders.OrderReadyBinding, name)
		env.Publish(t, orders.OrderReadyBinding, ready)
		shipped := providertest.Await(t, env, shipping.OrderShippedBinding, func(e *shipping.OrderShipped) bool { return e.OrderID == ready.OrderID })
		if shipped.Carrier != shippingsvc.Carrier || shipped.TrackingNumber != shippingsvc.TrackingNumber(ready.OrderID) || shipped.ShippedAt.IsZero() {
			t.Errorf("%s: shipment %+v", name, shipped)
		}
		if shipped.Metadata.CorrelationID != ready.Metadata.CorrelationID {
			t.Errorf("%s: correlation id %s, want the flow's %s", name, shipped.Metadata.CorrelationID, ready.Metadata.CorrelationID)
		}
	}
	env.CheckOutputs(t, 2)
}
