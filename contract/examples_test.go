package contract_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"
	"github.com/contrail-events/contrail/schemas"
)

// eventTypes are the generated types of every manifest event: the Go
// reader types consumers are built with.
var eventTypes = []events.Type{
	orders.OrderPlacedBinding, orders.OrderReadyBinding, orders.OrderCancelledBinding,
	inventory.InventoryReservedBinding, inventory.InventoryRejectedBinding, inventory.InventoryReleasedBinding,
	payments.PaymentConfirmedBinding, payments.PaymentFailedBinding, payments.PaymentRefundedBinding,
	shipping.OrderShippedBinding,
}

var examplesDir = filepath.Join("..", "schemas", "examples")

func loadExamples(t *testing.T) (*schemas.Set, []*contract.Example) {
	t.Helper()
	set, err := schemas.Load(filepath.Join("..", "schemas"))
	if err != nil {
		t.Fatal(err)
	}
	exs, err := contract.LoadExamples(examplesDir, set)
	if err != nil {
		t.Fatal(err)
	}
	return set, exs
}

// TestExamples validates every example against its schema, encodes it,
// and decodes it with the generated Go type and with every consumer
// contract's reader schema for the event.
func TestExamples(t *testing.T) {
	set, exs := loadExamples(t)
	cs, err := contract.Load(filepath.Join("..", contract.DefaultDir))
	if err != nil {
		t.Fatal(err)
	}
	goTypes := map[string]events.Type{}
	for _, et := range eventTypes {
		goTypes[et.FullName()] = et
	}
	count := map[string]int{}
	for _, ex := range exs {
		count[ex.Event]++
	}
	for _, ev := range set.Events {
		if count[ev.Type.FullName] < 2 {
			t.Errorf("%s has %d examples, want at least 2 in %s/%s/", ev.Type.FullName, count[ev.Type.FullName], contract.ExamplesDir, ev.Type.FullName)
		}
		if goTypes[ev.Type.FullName] == nil {
			t.Errorf("%s: no generated type in the test table", ev.Type.FullName)
		}
	}
	for _, ex := range exs {
		t.Run(ex.Event+"/"+ex.Name, func(t *testing.T) {
			writer := set.Types[ex.Event].Schema
			data, err := ex.Encode(writer)
			if err != nil {
				t.Fatal(err)
			}
			// Generic round trip: decoding and re-encoding gives the same bytes.
			var generic any
			if err := contract.DecodeAs(writer, writer, data, &generic); err != nil {
				t.Fatal(err)
			}
			again, err := avro.Marshal(writer, generic)
			if err != nil || !bytes.Equal(again, data) {
				t.Fatalf("generic round trip: %v, equal %v", err, bytes.Equal(again, data))
			}
			// The generated Go type reads it and writes the same bytes.
			gt := goTypes[ex.Event]
			if gt == nil {
				t.Fatalf("no generated type for %s", ex.Event)
			}
			v := gt.New()
			if err := contract.DecodeAs(gt.Schema(), writer, data, v); err != nil {
				t.Fatalf("generated type: %v", err)
			}
			fromGo, err := avro.Marshal(gt.Schema(), v)
			if err != nil || !bytes.Equal(fromGo, data) {
				t.Fatalf("generated type round trip: %v, equal %v", err, bytes.Equal(fromGo, data))
			}
			// Every consumer contract for the event reads it.
			readers := 0
			for _, c := range cs {
				if c.Event != ex.Event {
					continue
				}
				readers++
				if err := readAs(c, writer, data); err != nil {
					t.Errorf("consumer %s cannot read the example: %v", c.Consumer, err)
				}
			}
			if readers == 0 {
				t.Errorf("no consumer contract reads %s", ex.Event)
			}
		})
	}
}

func TestFromJSONRejects(t *testing.T) {
	set, exs := loadExamples(t)
	var base string
	for _, ex := range exs {
		if ex.Event == "contrail.orders.OrderPlaced" && ex.Name == "card-web" {
			base = string(ex.JSON)
		}
	}
	if base == "" {
		t.Fatal("card-web example missing")
	}
	schema := set.Types["contrail.orders.OrderPlaced"].Schema
	tests := []struct {
		name     string
		old, new string
		want     string
	}{
		{"missing required field", `"customerId": "cust-1001",`, ``, `field "customerId" is missing`},
		{"unknown field", `"customerId": "cust-1001",`, `"customerId": "cust-1001", "vip": true,`, `no field "vip"`},
		{"unknown enum symbol", `"channel": "WEB"`, `"channel": "FAX"`, `/channel: enum contrail.orders.SalesChannel has no symbol "FAX"`},
		{"unknown union branch", `"contrail.orders.CardPayment"`, `"contrail.orders.CashPayment"`, `/payment: union has no branch`},
		{"bare union value", "\"couponCode\": {\n    \"string\": \"SPRING10\"\n  }", `"couponCode": "SPRING10"`, `/couponCode: a union value is null or`},
		{"decimal beyond scale", `"amount": "32.90"`, `"amount": "32.901"`, `/total/amount: decimal 32.901 has more than 2 fractional digits`},
		{"decimal not a number", `"amount": "32.90"`, `"amount": "lots"`, `decimal needs a decimal string`},
		{"int overflow", `"quantity": 2`, `"quantity": 3000000000`, `/items/0/quantity: 3000000000 does not fit an Avro int`},
		{"bad uuid", `"orderId": "3f1c2a9e-5b7d-4c1e-9a2f-1d2e3f4a5b6c"`, `"orderId": "order-1"`, `/orderId: uuid "order-1"`},
		{"bad timestamp", `"occurredAt": "2026-03-14T09:26:53Z"`, `"occurredAt": "yesterday"`, `/metadata/occurredAt: timestamp needs`},
		{"wrong type", `"customerId": "cust-1001"`, `"customerId": 1001`, `/customerId: string needs a JSON string, got a number`},
		{"trailing data", "  }\n}\n", "  }\n} {}\n", `more than one JSON value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(base, tt.old) {
				t.Fatalf("fixture lacks %q", tt.old)
			}
			_, err := contract.FromJSON(schema, []byte(strings.Replace(base, tt.old, tt.new, 1)))
			if !errors.Is(err, contract.ErrBadExample) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want ErrBadExample containing %q", err, tt.want)
			}
		})
	}
	// Defaults fill left-out fields: invoice-mobile-minimal leaves out couponCode and attributes.
	for _, ex := range exs {
		if ex.Name == "invoice-mobile-minimal" {
			m := ex.Value.(map[string]any)
			if _, ok := m["couponCode"]; !ok || m["couponCode"] != nil {
				t.Fatalf("couponCode default not filled: %#v", m["couponCode"])
			}
		}
	}
}

// readAs decodes data, written under writer in major 1 of c's event
// (examples and history snapshots are major 1's), as consumer c reads it:
// directly for a contract on major 1, else as the serde hands it over,
// through major 1's generated type and the registered migrations to c's
// major.
func readAs(c *contract.Contract, writer avro.Schema, data []byte) error {
	rs, err := c.ReaderSchema()
	if err != nil {
		return err
	}
	from, body := writer, data
	if m := max(c.Major, 1); m != 1 {
		src, ok1 := events.MajorOf(c.Event, 1)
		dst, ok2 := events.MajorOf(c.Event, m)
		if !ok1 || !ok2 {
			return errors.New("no generated type of major 1 or of the contract's major is linked in")
		}
		v := src.New()
		if err := contract.DecodeAs(src.Schema(), writer, data, v); err != nil {
			return err
		}
		out, err := events.Migrate(c.Event, 1, m, v)
		if err != nil {
			return err
		}
		if body, err = avro.Marshal(dst.Schema(), out); err != nil {
			return err
		}
		from = dst.Schema()
	}
	var got any
	return contract.DecodeAs(rs, from, body, &got)
}
