package contract_test

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	inventorysvc "github.com/contrail-events/contrail/services/inventory"
	ordersvc "github.com/contrail-events/contrail/services/order"
	paymentsvc "github.com/contrail-events/contrail/services/payment"
	shippingsvc "github.com/contrail-events/contrail/services/shipping"
)

var update = flag.Bool("update", false, "rewrite the committed contracts/ files from the services' routers")

var meta = []string{"metadata.eventId", "metadata.occurredAt"}

func fields(fs ...string) []string { return append(fs, meta...) }

// services are the reference services: each one's Register function fills
// a router, and the router's Types are the events it handles (no broker:
// NewRouter does not connect, and handlers only use the store when they
// run, so a nil store is fine). fields says what each handler reads (see
// services/<name>/service.go); a router cannot know that. Add a handler and
// the test fails until its type has a fields entry and a committed contract
// (go test ./contract -run TestServiceContracts -update).
var services = []struct {
	consumer string
	register func(*eventing.Router)
	fields   map[string][]string
}{
	{"inventory", func(r *eventing.Router) { inventorysvc.Register(r, nil) }, map[string][]string{
		"contrail.orders.OrderPlaced":    fields("orderId", "items.sku", "items.quantity"),
		"contrail.orders.OrderCancelled": fields("orderId"),
		"contrail.orders.OrderReady":     fields("orderId"),
	}},
	{"payment", func(r *eventing.Router) { paymentsvc.Register(r, nil) }, map[string][]string{
		"contrail.orders.OrderPlaced":    fields("orderId", "total.amount", "total.currency", "payment.cardToken"),
		"contrail.orders.OrderCancelled": fields("orderId"),
	}},
	{"shipping", func(r *eventing.Router) { shippingsvc.Register(r, nil) }, map[string][]string{
		"contrail.orders.OrderReady": fields("orderId"),
	}},
	{"order", func(r *eventing.Router) { ordersvc.Register(r, nil) }, map[string][]string{
		"contrail.inventory.InventoryReserved": fields("orderId", "reservationId"),
		"contrail.inventory.InventoryRejected": fields("orderId", "shortLines.sku", "shortLines.requested", "shortLines.available"),
		"contrail.inventory.InventoryReleased": fields("orderId"),
		"contrail.payments.PaymentConfirmed":   fields("orderId", "paymentId"),
		"contrail.payments.PaymentFailed":      fields("orderId", "code", "message"),
		"contrail.payments.PaymentRefunded":    fields("orderId"),
		"contrail.shipping.OrderShipped":       fields("orderId", "carrier", "trackingNumber"),
	}},
}

// neverCodec satisfies eventing.Codec for routers that never run.
type neverCodec struct{}

func (neverCodec) Encode(context.Context, events.Type, any) ([]byte, error) {
	return nil, errors.New("contract test: the router never runs")
}

func (neverCodec) Decode(context.Context, []byte, events.Type, any) error {
	return errors.New("contract test: the router never runs")
}

// serviceContracts derives every reference service's contracts from its
// router.
func serviceContracts(t *testing.T) []*contract.Contract {
	t.Helper()
	var out []*contract.Contract
	for _, svc := range services {
		r, err := eventing.NewRouter(eventing.Group(svc.consumer), eventing.WithCodec(neverCodec{}))
		if err != nil {
			t.Fatal(err)
		}
		svc.register(r)
		cs, err := contract.FromRouter(svc.consumer, r, svc.fields)
		if err != nil {
			t.Fatalf("services/%s: %v", svc.consumer, err)
		}
		out = append(out, cs...)
	}
	return out
}

// TestServiceContracts derives each reference service's contracts from the
// router its Register function fills and checks that the committed files
// under contracts/ are exactly those (run with -update to rewrite them), and
// that every consumer the manifest names has one.
func TestServiceContracts(t *testing.T) {
	derived := serviceContracts(t)
	dir := filepath.Join("..", contract.DefaultDir)
	if *update {
		if err := os.RemoveAll(dir); err != nil {
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
		byKey[c.Key()] = c
	}
	for _, c := range derived {
		got := byKey[c.Key()]
		if got == nil {
			t.Errorf("no committed contract %s: run go test ./contract -run TestServiceContracts -update", c.Key())
			continue
		}
		want, _ := contract.Marshal(c)
		have, _ := contract.Marshal(got)
		if string(want) != string(have) {
			t.Errorf("committed contract %s differs from the one derived from %s: run go test ./contract -run TestServiceContracts -update", contract.FileName(c), c.Source)
		}
		delete(byKey, c.Key())
	}
	for k := range byKey {
		t.Errorf("committed contract %s has no handler in its service's router: delete the file or run -update", k)
	}

	set, _ := defaultContracts(t)
	have := map[string]bool{}
	for _, c := range derived {
		have[c.Consumer+"/"+c.Event] = true
	}
	var notInManifest []string
	inManifest := map[string]bool{}
	for _, ev := range set.Events {
		for _, consumer := range ev.Consumers {
			inManifest[consumer+"/"+ev.Type.FullName] = true
			if !have[consumer+"/"+ev.Type.FullName] {
				t.Errorf("manifest says %s consumes %s, but no handler contract exists", consumer, ev.Type.FullName)
			}
		}
	}
	for k := range have {
		if !inManifest[k] {
			notInManifest = append(notInManifest, k)
		}
	}
	if len(notInManifest) > 0 {
		// Not a failure: the manifest's consumers lists are documentation;
		// the handler contracts are what is verified.
		t.Logf("handled but not listed as consumers in manifest.yaml: %s", strings.Join(notInManifest, ", "))
	}
}

// staticHandlers is a fake router for FromRouter's unit test.
type staticHandlers []events.Type

func (h staticHandlers) Types() []events.Type { return h }

func TestFromRouter(t *testing.T) {
	tests := []struct {
		name    string
		types   staticHandlers
		fields  map[string][]string
		want    []string // contract events, in order
		wantErr string   // part of the error
	}{
		{name: "one contract per handled type", types: staticHandlers{orders.OrderCancelledBinding, orders.OrderPlacedBinding},
			fields: map[string][]string{"contrail.orders.OrderCancelled": nil, "contrail.orders.OrderPlaced": {"orderId"}},
			want:   []string{"contrail.orders.OrderCancelled", "contrail.orders.OrderPlaced"}},
		{name: "handled type without a fields entry", types: staticHandlers{orders.OrderPlacedBinding},
			fields: map[string][]string{}, wantErr: "handles contrail.orders.OrderPlaced but the fields list has no entry"},
		{name: "stale fields entry", types: staticHandlers{orders.OrderPlacedBinding},
			fields: map[string][]string{"contrail.orders.OrderPlaced": nil, "contrail.orders.OrderReady": nil}, wantErr: "names contrail.orders.OrderReady, but svc has no handler"},
		{name: "unknown field", types: staticHandlers{orders.OrderPlacedBinding},
			fields: map[string][]string{"contrail.orders.OrderPlaced": {"nope"}}, wantErr: `relied-on field "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := contract.FromRouter("svc", tt.types, tt.fields)
			if tt.wantErr != "" {
				if !errors.Is(err, contract.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromRouter error %v, want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Event)
				if c.Consumer != "svc" {
					t.Errorf("contract %s consumer %q", c.Key(), c.Consumer)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("contracts for %v, want %v", got, tt.want)
			}
		})
	}
}
