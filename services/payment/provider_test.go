// Provider verification of the payment service, beside it: its consumer
// contracts (derived from its router, committed under contracts/payment) and
// a run of the service for real under contract/providertest, whose outputs
// must be registered, valid and readable by every consumer's contract.

package payment_test

import (
	"context"
	"errors"
	"flag"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	paymentsvc "github.com/contrail-events/contrail/services/payment"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/payment files from the service's router")

var meta = []string{"metadata.eventId", "metadata.occurredAt"}

func fields(fs ...string) []string { return append(fs, meta...) }

// consumerFields says what each of the service's handlers reads (see
// service.go); a router cannot know that. Add a handler and
// TestConsumerContracts fails until its type has an entry here and a
// committed contract (go test ./services/payment -run TestConsumerContracts -update).
var consumerFields = map[string][]string{
	"contrail.orders.OrderPlaced":    fields("orderId", "total.amount", "total.currency", "payment.cardToken"),
	"contrail.orders.OrderCancelled": fields("orderId"),
}

// neverCodec satisfies eventing.Codec for routers that never run.
type neverCodec struct{}

func (neverCodec) Encode(context.Context, events.Type, any) ([]byte, error) {
	return nil, errors.New("contract test: the router never runs")
}

func (neverCodec) Decode(context.Context, []byte, events.Type, any) error {
	return errors.New("contract test: the router never runs")
}

// TestConsumerContracts derives the payment service's contracts from the
// router its Register function fills (no broker: NewRouter does not
// connect, and handlers only use the store when they run, so a nil store is
// fine) and checks that the committed files under contracts/payment are
// exactly those (run with -update to rewrite them). That every consumer the
// manifest names has a contract is contract's
// TestManifestConsumersHaveContracts.
func TestConsumerContracts(t *testing.T) {
	const consumer = "payment"
	r, err := eventing.NewRouter(eventing.Group(consumer), eventing.WithCodec(neverCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	paymentsvc.Register(r, nil)
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
