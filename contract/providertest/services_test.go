package providertest_test

import (
	"context"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"

	"github.com/contrail-events/contrail/platform"
	inventorysvc "github.com/contrail-events/contrail/services/inventory"
	ordersvc "github.com/contrail-events/contrail/services/order"
	paymentsvc "github.com/contrail-events/contrail/services/payment"
	shippingsvc "github.com/contrail-events/contrail/services/shipping"
)

var quiet = host.HostOpts{LogOutput: io.Discard}

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

func checkOutputs(t *testing.T, env *providertest.Env, min int) {
	t.Helper()
	if n := env.VerifyOutputs(t); n < min {
		t.Fatalf("verified %d outputs, want at least %d", n, min)
	}
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

func TestProviderPayment(t *testing.T) {
	env := providertest.Start(t)
	env.Run(t, "payment", func(ctx context.Context, cfg host.Config) error { return paymentsvc.Run(ctx, cfg, quiet) })

	ok := providertest.Example(t, env, orders.OrderPlacedBinding, "card-web")
	env.Publish(t, orders.OrderPlacedBinding, ok)
	conf := providertest.Await(t, env, payments.PaymentConfirmedBinding, func(e *payments.PaymentConfirmed) bool { return e.OrderID == ok.OrderID })
	if conf.Amount.Amount.Cmp(ok.Total.Amount) != 0 || conf.Amount.Currency != ok.Total.Currency {
		t.Errorf("charged %s %s, want the order total %s %s", conf.Amount.Amount.FloatString(2), conf.Amount.Currency, ok.Total.Amount.FloatString(2), ok.Total.Currency)
	}

	declined := providertest.Example(t, env, orders.OrderPlacedBinding, "card-web")
	id := fresh(&declined.Metadata.EventID, &declined.OrderID)
	declined.Payment = orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: paymentsvc.DeclineToken, Last4: "0002"})
	env.Publish(t, orders.OrderPlacedBinding, declined)
	failed := providertest.Await(t, env, payments.PaymentFailedBinding, func(e *payments.PaymentFailed) bool { return e.OrderID == id })
	if failed.Code != payments.DeclineCode(paymentsvc.CodeCardDeclined) || failed.Message == "" {
		t.Errorf("decline %+v, want %s with a message", failed, paymentsvc.CodeCardDeclined)
	}

	over := providertest.Example(t, env, orders.OrderPlacedBinding, "invoice-mobile-minimal")
	overID := fresh(&over.Metadata.EventID, &over.OrderID)
	over.Total.Amount = big.NewRat(1_000_001, 100) // 10,000.01
	env.Publish(t, orders.OrderPlacedBinding, over)
	limit := providertest.Await(t, env, payments.PaymentFailedBinding, func(e *payments.PaymentFailed) bool { return e.OrderID == overID })
	if string(limit.Code) != "LIMIT_EXCEEDED" {
		t.Errorf("over the limit: code %s, want LIMIT_EXCEEDED", limit.Code)
	}

	cancel := providertest.Example(t, env, orders.OrderCancelledBinding, "out-of-stock")
	fresh(&cancel.Metadata.EventID, nil)
	cancel.OrderID = ok.OrderID
	env.Publish(t, orders.OrderCancelledBinding, cancel)
	ref := providertest.Await(t, env, payments.PaymentRefundedBinding, func(e *payments.PaymentRefunded) bool { return e.OrderID == ok.OrderID })
	if ref.PaymentID != conf.PaymentID || ref.Amount.Amount.Cmp(conf.Amount.Amount) != 0 {
		t.Errorf("refund %+v does not refund payment %s", ref, conf.PaymentID)
	}
	checkOutputs(t, env, 4)
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

func TestProviderOrder(t *testing.T) {
	env := providertest.Start(t)
	cfg := env.Run(t, "order", func(ctx context.Context, cfg host.Config) error { return ordersvc.Run(ctx, cfg, quiet) })

	// The order service's input is its HTTP API.
	var resp *http.Response
	var err error
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err = http.Post("http://"+cfg.HTTPAddr+"/orders", "application/json", strings.NewReader(platform.SampleOrder))
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
