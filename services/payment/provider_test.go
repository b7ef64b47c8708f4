// Provider verification of the payment service, beside it: its consumer
// contracts (derived from its router, committed under contracts/payment) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package payment_test

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
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	paymentsvc "github.com/contrail-events/contrail/services/payment"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/payment files from the service's router")

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/payment -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.orders.OrderPlaced":    providertest.Fields("orderId", "totalCents", "currency", "payment.cardToken"),
	"contrail.orders.OrderCancelled": providertest.Fields("orderId"),
}

// TestConsumerContracts checks that the committed contracts under
// contracts/payment are exactly those derived from the service's router (run
// with -update to rewrite them). That every consumer the manifest names has
// a contract is contract's TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	providertest.CheckConsumerContracts(t, "payment", filepath.Join("..", "..", contract.DefaultDir),
		func(r *eventing.Router) { paymentsvc.Register(r, nil) }, consumerFields, *update)
}

func TestProviderPayment(t *testing.T) {
	env := providertest.Start(t)
	env.Run(t, "payment", func(ctx context.Context, cfg host.Config) error { return paymentsvc.Run(ctx, cfg, providertest.Quiet) })

	ok := providertest.Example(t, env, orders.OrderPlacedBinding, "card-web")
	env.Publish(t, orders.OrderPlacedBinding, ok)
	conf := providertest.Await(t, env, payments.PaymentConfirmedBinding, func(e *payments.PaymentConfirmed) bool { return e.OrderID == ok.OrderID })
	if conf.Amount.Amount.Cmp(ok.Total.Amount) != 0 || conf.Amount.Currency != ok.Total.Currency {
		t.Errorf("charged %s %s, want the order total %s %s", conf.Amount.Amount.FloatString(2), conf.Amount.Currency, ok.Total.Amount.FloatString(2), ok.Total.Currency)
	}

	declined := providertest.Example(t, env, orders.OrderPlacedBinding, "card-web")
	id := providertest.Fresh(&declined.Metadata.EventID, &declined.OrderID)
	declined.Payment = orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: paymentsvc.DeclineToken, Last4: "0002"})
	env.Publish(t, orders.OrderPlacedBinding, declined)
	failed := providertest.Await(t, env, payments.PaymentFailedBinding, func(e *payments.PaymentFailed) bool { return e.OrderID == id })
	if failed.Code != payments.DeclineCode(paymentsvc.CodeCardDeclined) || failed.Message == "" {
		t.Errorf("decline %+v, want %s with a message", failed, paymentsvc.CodeCardDeclined)
	}

	over := providertest.Example(t, env, orders.OrderPlacedBinding, "invoice-mobile-minimal")
	overID := providertest.Fresh(&over.Metadata.EventID, &over.OrderID)
	over.Items = over.Items[:1]
	over.Items[0].Quantity = 1
	over.Items[0].UnitPrice.Amount = big.NewRat(1_000_001, 100)
	over.Total.Amount = big.NewRat(1_000_001, 100) // 10,000.01, the sum of the lines (rule totalIsSumOfLines)
	env.Publish(t, orders.OrderPlacedBinding, over)
	limit := providertest.Await(t, env, payments.PaymentFailedBinding, func(e *payments.PaymentFailed) bool { return e.OrderID == overID })
	if string(limit.Code) != "LIMIT_EXCEEDED" {
		t.Errorf("over the limit: code %s, want LIMIT_EXCEEDED", limit.Code)
	}

	cancel := providertest.Example(t, env, orders.OrderCancelledBinding, "out-of-stock")
	providertest.Fresh(&cancel.Metadata.EventID, nil)
	cancel.OrderID = ok.OrderID
	env.Publish(t, orders.OrderCancelledBinding, cancel)
	ref := providertest.Await(t, env, payments.PaymentRefundedBinding, func(e *payments.PaymentRefunded) bool { return e.OrderID == ok.OrderID })
	if ref.PaymentID != conf.PaymentID || ref.Amount.Amount.Cmp(conf.Amount.Amount) != 0 {
		t.Errorf("refund %+v does not refund payment %s", ref, conf.PaymentID)
	}
	env.CheckOutputs(t, 4)
}
