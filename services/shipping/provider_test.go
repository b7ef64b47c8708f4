// Provider verification of the shipping service, beside it: its consumer
// contracts (derived from its router, committed under contracts/shipping) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package shipping_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/shipping"
	shippingsvc "github.com/contrail-events/contrail/services/shipping"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/shipping files from the service's router")

var meta = []string{"metadata.eventId", "metadata.occurredAt"}

func fields(fs ...string) []string { return append(fs, meta...) }

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/shipping -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.orders.OrderReady": fields("orderId"),
}

// neverCodec satisfies eventing.Codec for routers that never run.
type neverCodec struct{}

func (neverCodec) Encode(context.Context, events.Type, any) ([]byte, error) {
	return nil, errors.New("contract test: the router never runs")
}

func (neverCodec) Decode(context.Context, []byte, events.Type, any) error {
	return errors.New("contract test: the router never runs")
}

// TestConsumerContracts derives the shipping service's contracts from the
// router its Register function fills (no broker: NewRouter does not
// connect, and handlers only use the store when they run, so a nil store is
// fine) and checks that the committed files under contracts/shipping are
// exactly those (run with -update to rewrite them). That every consumer the
// manifest names has a contract is contract's
// TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	const consumer = "shipping"
	r, err := eventing.NewRouter(eventing.Group(consumer), eventing.WithCodec(neverCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	shippingsvc.Register(r, nil)
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

func TestProviderShipping(t *testing.T) {
	env := providertest.Start(t)
	env.Run(t, "shipping", func(ctx context.Context, cfg host.Config) error { return shippingsvc.Run(ctx, cfg, quiet) })
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
	checkOutputs(t, env, 2)
}
