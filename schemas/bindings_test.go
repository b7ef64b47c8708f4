package schemas_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"
	"github.com/contrail-events/contrail/schemas"
)

// TestBindingsMatchManifest checks every generated binding against the
// loaded schema tree: names, topic, subject, strategy, key, the exact
// schema text, the references, and that KeyOf reads the manifest's key
// field. It lives here, above events, because it needs the loader.
func TestBindingsMatchManifest(t *testing.T) {
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]events.Type{}
	for _, b := range []events.Type{
		orders.OrderPlacedBinding, orders.OrderReadyBinding, orders.OrderCancelledBinding,
		inventory.InventoryReservedBinding, inventory.InventoryRejectedBinding, inventory.InventoryReleasedBinding,
		payments.PaymentConfirmedBinding, payments.PaymentFailedBinding, payments.PaymentRefundedBinding,
		shipping.OrderShippedBinding,
	} {
		bound[b.FullName()] = b
	}
	if len(bound) != len(set.Events) {
		t.Fatalf("%d bindings tested, manifest has %d events", len(bound), len(set.Events))
	}
	const orderID = "6c0e7a52-3b1d-4f7e-9a8c-2d5b4e6f7a8b"
	for _, e := range set.Events {
		b, ok := bound[e.Type.FullName]
		if !ok {
			t.Errorf("no binding tested for %s", e.Type.FullName)
			continue
		}
		if b.Topic() != e.Topic || b.Subject() != e.Subject || b.Strategy() != e.Strategy || b.KeyField() != e.Key {
			t.Errorf("%s: binding (%s, %s, %s, %s) != manifest (%s, %s, %s, %s)", e.Type.FullName,
				b.Topic(), b.Subject(), b.Strategy(), b.KeyField(), e.Topic, e.Subject, e.Strategy, e.Key)
		}
		if b.SchemaText() != e.Type.Text {
			t.Errorf("%s: SchemaText is not the .avsc text", e.Type.FullName)
		}
		var refs []string
		for _, r := range b.References() {
			refs = append(refs, r.Name)
			if r.Subject != r.Name || r.Version != -1 {
				t.Errorf("%s: reference %+v, want subject = name and version -1", e.Type.FullName, r)
			}
			nt, ok := events.LookupNamedType(r.Name)
			if !ok || nt.Text != set.Types[r.Name].Text {
				t.Errorf("%s: reference %s not registered with its .avsc text", e.Type.FullName, r.Name)
			}
		}
		if strings.Join(refs, ",") != strings.Join(e.Type.References, ",") {
			t.Errorf("%s: references %v, want %v", e.Type.FullName, refs, e.Type.References)
		}
		if got, want := b.Schema().Fingerprint(), e.Type.Schema.Fingerprint(); got != want {
			t.Errorf("%s: binding schema fingerprint differs from the loaded schema", e.Type.FullName)
		}
		v := b.New()
		if v == nil {
			t.Fatalf("%s: New returned nil", e.Type.FullName)
		}
		// Every event of the order flow is keyed by its order id.
		f := reflect.ValueOf(v).Elem().FieldByName("OrderID")
		if !f.IsValid() {
			t.Fatalf("%s: generated type has no OrderID field", e.Type.FullName)
		}
		f.SetString(orderID)
		key, err := b.KeyOf(v)
		if err != nil || string(key) != orderID {
			t.Errorf("%s: KeyOf = %q, %v; want the order id", e.Type.FullName, key, err)
		}
		if _, err := b.KeyOf(struct{}{}); err == nil {
			t.Errorf("%s: KeyOf accepted a foreign type", e.Type.FullName)
		}
	}
}
