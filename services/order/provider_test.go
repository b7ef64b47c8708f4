// Provider verification of the order service, beside it: its consumer
// contracts (derived from its router, committed under contracts/order) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package order_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	ordersvc "github.com/contrail-events/contrail/services/order"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/order files from the service's router")

var meta = []string{"metadata.eventId", "metadata.occurredAt"}

func fields(fs ...string) []string { return append(fs, meta...) }

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/order -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.inventory.InventoryReserved": fields("orderId", "reservationId"),
	"contrail.inventory.InventoryRejected": fields("orderId", "shortLines.sku", "shortLines.requested", "shortLines.available"),
	"contrail.inventory.InventoryReleased": fields("orderId"),
	"contrail.payments.PaymentConfirmed":   fields("orderId", "paymentId"),
	"contrail.payments.PaymentFailed":      fields("orderId", "code", "message"),
	"contrail.payments.PaymentRefunded":    fields("orderId"),
	"contrail.shipping.OrderShipped":       fields("orderId", "carrier", "trackingNumber"),
}

// neverCodec satisfies eventing.Codec for routers that never run.
type neverCodec struct{}

func (neverCodec) Encode(context.Context, events.Type, any) ([]byte, error) {
	return nil, errors.New("contract test: the router never runs")
}

func (neverCodec) Decode(context.Context, []byte, events.Type, any) error {
	return errors.New("contract test: the router never runs")
}

// TestConsumerContracts derives the order service's contracts from the
// router its Register function fills (no broker: NewRouter does not
// connect, and handlers only use the store when they run, so a nil store is
// fine) and checks that the committed files under contracts/order are
// exactly those (run with -update to rewrite them). That every consumer the
// manifest names has a contract is contract's
// TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	const consumer = "order"
	r, err := eventing.NewRouter(eventing.Group(consumer), eventing.WithCodec(neverCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	ordersvc.Register(r, nil)
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

// sampleOrder is the POST /orders body TestProviderOrder places: two units
// of a seeded SKU (platform.SampleOrder, which a service's tests may not
// import: the platform sits above the services).
const sampleOrder = `{"customer_id":"cust-1","currency":"USD","items":[{"sku":"SKU-0001","quantity":2,"unit_price":"19.99"}],"shipping_address":{"name":"Ada Lovelace","line1":"1 Analytical Way","city":"London","postal_code":"N1 9GU","country":"GB"},"payment":{"card_token":"tok_visa","last4":"4242"},"channel":"WEB"}`

func TestProviderOrder(t *testing.T) {
	env := providertest.Start(t)
	cfg := env.Run(t, "order", func(ctx context.Context, cfg host.Config) error { return ordersvc.Run(ctx, cfg, quiet) })

	// The order service's input is its HTTP API.
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err = http.Post("http://"+cfg.HTTPAddr+"/orders", "application/json", strings.NewReader(sampleOrder))
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("POST /orders: %v", err)
	}
	var placed struct {
		OrderID string `json:"order_id"`
	}
	err = json.NewDecoder(resp.Body).Decode(&placed)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST /orders: %d %v", resp.StatusCode, err)
	}
	op := providertest.Await(t, env, orders.OrderPlacedBinding, func(e *orders.OrderPlaced) bool { return e.OrderID == placed.OrderID })
	if op.CustomerID != "cust-1" || len(op.Items) != 1 || op.Items[0].Sku != "SKU-0001" || op.Total.Amount.FloatString(2) != "39.98" || op.Channel != orders.SalesChannelWeb {
		t.Errorf("OrderPlaced %+v does not match the request", op)
	}

	// Reserved + confirmed make the order ready.
	res := providertest.Example(t, env, inventory.InventoryReservedBinding, "one-line")
	fresh(&res.Metadata.EventID, nil)
	res.OrderID, res.Metadata.CorrelationID = op.OrderID, op.Metadata.CorrelationID
	env.Publish(t, inventory.InventoryReservedBinding, res)
	pay := providertest.Example(t, env, payments.PaymentConfirmedBinding, "usd-large")
	fresh(&pay.Metadata.EventID, nil)
	pay.OrderID, pay.Metadata.CorrelationID = op.OrderID, op.Metadata.CorrelationID
	env.Publish(t, payments.PaymentConfirmedBinding, pay)
	ready := providertest.Await(t, env, orders.OrderReadyBinding, func(e *orders.OrderReady) bool { return e.OrderID == op.OrderID })
	if ready.ReservationID != res.ReservationID || ready.PaymentID != pay.PaymentID || len(ready.Items) != 1 {
		t.Errorf("OrderReady %+v, want reservation %s and payment %s", ready, res.ReservationID, pay.PaymentID)
	}
	checkOutputs(t, env, 2)
}
