// Provider verification of the inventory service, beside it: its consumer
// contracts (derived from its router, committed under contracts/inventory) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package inventory_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	inventorysvc "github.com/contrail-events/contrail/services/inventory"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/inventory files from the service's router")

var meta = []string{"metadata.eventId", "metadata.occurredAt"}

func fields(fs ...string) []string { return append(fs, meta...) }

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/inventory -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.orders.OrderPlaced":    fields("orderId", "items.sku", "items.quantity"),
	"contrail.orders.OrderCancelled": fields("orderId"),
	"contrail.orders.OrderReady":     fields("orderId"),
}

// neverCodec satisfies eventing.Codec for routers that never run.
type neverCodec struct{}

func (neverCodec) Encode(context.Context, events.Type, any) ([]byte, error) {
	return nil, errors.New("contract test: the router never runs")
}

func (neverCodec) Decode(context.Context, []byte, events.Type, any) error {
	return errors.New("contract test: the router never runs")
}

// TestConsumerContracts derives the inventory service's contracts from the
// router its Register function fills (no broker: NewRouter does not
// connect, and handlers only use the store when they run, so a nil store is
// fine) and checks that the committed files under contracts/inventory are
// exactly those (run with -update to rewrite them). That every consumer the
// manifest names has a contract is contract's
// TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	const consumer = "inventory"
	r, err := eventing.NewRouter(eventing.Group(consumer), eventing.WithCodec(neverCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	inventorysvc.Register(r, nil)
	derived, err := contract.FromRouter(consumer, r, consumerFields)
	if err != nil {
		t.Fatalf("services/%s: %v", consumer, err)
	}
	dir := filepath.Join("..", "..", contract.DefaultDir)
	if *update {
		if err := os.RemoveAll(filepath.Join(dir, consumer)); err != nil {
			t.Fatal(err)
		}
		if _, err := contract.Write(dir, derived); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := contract.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*contract.Contract{}
	for _, c := range committed {
		if c.Consumer == consumer {
			byKey[c.Key()] = c
		}
	}
	for _, c := range derived {
		got := byKey[c.Key()]
		if got == nil {
			t.Errorf("no committed contract %s: run go test ./services/%s -run TestConsumerContracts -update", c.Key(), consumer)
			continue
		}
		want, _ := contract.Marshal(c)
		have, _ := contract.Marshal(got)
		if string(want) != string(have) {
			t.Errorf("committed contract %s differs from the one derived from %s: run go test ./services/%s -run TestConsumerContracts -update", contract.FileName(c), c.Source, consumer)
		}
		delete(byKey, c.Key())
	}
	for k := range byKey {
		t.Errorf("committed contract %s has no handler in its service's router: delete the file or run -update", k)
	}
}

var quiet = host.HostOpts{LogOutput: io.Discard}

func checkOutputs(t *testing.T, env *providertest.Env, min int) {
	t.Helper()
	if n := env.VerifyOutputs(t); n < min {
		t.Fatalf("verified %d outputs, want at least %d", n, min)
	}
}

// fresh gives an example a new order and event id, so one example can feed
// several cases without the service's inbox dropping it as a duplicate.
func fresh(md *string, order *string) string {
	*md = uuid.NewString()
	if order != nil {
		*order = uuid.NewString()
		return *order
	}
	return ""
}

func TestProviderInventory(t *testing.T) {
	env := providertest.Start(t)
	env.Run(t, "inventory", func(ctx context.Context, cfg host.Config) error { return inventorysvc.Run(ctx, cfg, quiet) })

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
	id := fresh(&placed.Metadata.EventID, &placed.OrderID)
	placed.Items[0].Sku = "SKU-0001"
	placed.Items[0].Quantity = 3
	env.Publish(t, orders.OrderPlacedBinding, placed)
	res := providertest.Await(t, env, inventory.InventoryReservedBinding, func(e *inventory.InventoryReserved) bool { return e.OrderID == id })
	if len(res.Lines) != 1 || res.Lines[0].Sku != "SKU-0001" || res.Lines[0].Quantity != 3 || res.ReservationID == "" {
		t.Errorf("reservation %+v", res)
	}
	cancel := providertest.Example(t, env, orders.OrderCancelledBinding, "payment-failed-no-detail")
	fresh(&cancel.Metadata.EventID, nil)
	cancel.OrderID = id
	env.Publish(t, orders.OrderCancelledBinding, cancel)
	rel := providertest.Await(t, env, inventory.InventoryReleasedBinding, func(e *inventory.InventoryReleased) bool { return e.OrderID == id })
	if rel.ReservationID != res.ReservationID || len(rel.Lines) != 1 || rel.Lines[0].Quantity != 3 {
		t.Errorf("release %+v does not release reservation %s", rel, res.ReservationID)
	}
	checkOutputs(t, env, 3)
}
