// Provider verification of the order service, beside it: its consumer
// contracts (derived from its router, committed under contracts/order) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package order_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	ordersvc "github.com/contrail-events/contrail/services/order"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/order files from the service's router")

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/order -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.inventory.InventoryReserved": providertest.Fields("orderId", "reservationId"),
	"contrail.inventory.InventoryRejected": providertest.Fields("orderId", "shortLines.sku", "shortLines.requested", "shortLines.available"),
	"contrail.inventory.InventoryReleased": providertest.Fields("orderId"),
	"contrail.payments.PaymentConfirmed":   providertest.Fields("orderId", "paymentId"),
	"contrail.payments.PaymentFailed":      providertest.Fields("orderId", "code", "message"),
	"contrail.payments.PaymentRefunded":    providertest.Fields("orderId"),
	"contrail.shipping.OrderShipped":       providertest.Fields("orderId", "carrier", "trackingNumber"),
}

// TestConsumerContracts checks that the committed contracts under
// contracts/order are exactly those derived from the service's router (run
// with -update to rewrite them). That every consumer the manifest names has
// a contract is contract's TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	providertest.CheckConsumerContracts(t, "order", filepath.Join("..", "..", contract.DefaultDir),
		func(r *eventing.Router) { ordersvc.Register(r, nil) }, consumerFields, *update)
}

// sampleOrder is the POST /orders body TestProviderOrder places: two units
// of a seeded SKU (platform.SampleOrder, which a service's tests may not
// import: the platform sits above the services).
const sampleOrder = `{"customer_id":"cust-1","currency":"USD","items":[{"sku":"SKU-0001","quantity":2,"unit_price":"19.99"}],"shipping_address":{"name":"Ada Lovelace","line1":"1 Analytical Way","city":"London","postal_code":"N1 9GU","country":"GB"},"payment":{"card_token":"tok_visa","last4":"4242"},"channel":"WEB"}`

func TestProviderOrder(t *testing.T) {
	env := providertest.Start(t)
	cfg := env.Run(t, "order", func(ctx context.Context, cfg host.Config) error { return ordersvc.Run(ctx, cfg, providertest.Quiet) })

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
	// The service publishes major 2 (order.DefaultPlacedMajor); VerifyOutputs
	// below reads it as inventory does too, through the migration to major 1.
	op := providertest.Await(t, env, orders.OrderPlacedV2Binding, func(e *orders.OrderPlacedV2) bool { return e.OrderID == placed.OrderID })
	if op.CustomerRef != "cust-1" || len(op.Items) != 1 || op.Items[0].Sku != "SKU-0001" || op.TotalCents != 3998 || op.Channel != orders.SalesChannelWeb {
		t.Errorf("OrderPlaced %+v does not match the request", op)
	}

	// Reserved + confirmed make the order ready.
	res := providertest.Example(t, env, inventory.InventoryReservedBinding, "one-line")
	providertest.Fresh(&res.Metadata.EventID, nil)
	res.OrderID, res.Metadata.CorrelationID = op.OrderID, op.Metadata.CorrelationID
	env.Publish(t, inventory.InventoryReservedBinding, res)
	pay := providertest.Example(t, env, payments.PaymentConfirmedBinding, "usd-large")
	providertest.Fresh(&pay.Metadata.EventID, nil)
	pay.OrderID, pay.Metadata.CorrelationID = op.OrderID, op.Metadata.CorrelationID
	env.Publish(t, payments.PaymentConfirmedBinding, pay)
	ready := providertest.Await(t, env, orders.OrderReadyBinding, func(e *orders.OrderReady) bool { return e.OrderID == op.OrderID })
	if ready.ReservationID != res.ReservationID || ready.PaymentID != pay.PaymentID || len(ready.Items) != 1 {
		t.Errorf("OrderReady %+v, want reservation %s and payment %s", ready, res.ReservationID, pay.PaymentID)
	}
	env.CheckOutputs(t, 2)
}
