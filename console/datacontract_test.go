package console_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/wire"
)

// TestPIIFromDataContractsIsMasked: fields the writer schema's contract
// tags PII (metadata.tags, with Confluent's path globs) are masked in the
// messages and dead-letter pages, and so is the record key when the key
// field is PII, without any MaskFields option.
func TestPIIFromDataContractsIsMasked(t *testing.T) {
	s := startStack(t)
	ctx := context.Background()
	const subject = "orders-contrail.orders.OrderPlaced"
	latest := s.majorVersion(t, subject, 1) // the example is major 1's
	tagged := latest.Schema
	tagged.SchemaMetadata = &sr.SchemaMetadata{Tags: map[string][]string{
		"contrail.orders.OrderPlaced.customerId": {wire.TagPII},
		"contrail.orders.OrderPlaced.orderId":    {wire.TagPII},
		"**.line1":                               {wire.TagPII},
	}}
	id, err := s.sr.RegisterSchema(ctx, subject, tagged, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	if id == latest.ID {
		t.Skip("the registry does not keep schema metadata yet (it gave the tagged schema the untagged one's id)")
	}
	body := s.example(t, "contrail.orders.OrderPlaced")[wire.FrameSize:]
	var v map[string]any
	if err := avro.Unmarshal(s.set.Event("contrail.orders.OrderPlaced").Type.Schema, body, &v); err != nil {
		t.Fatal(err)
	}
	orderID, customer := v["orderId"].(string), v["customerId"].(string)
	line1 := v["shippingAddress"].(map[string]any)["line1"].(string)
	city := v["shippingAddress"].(map[string]any)["city"].(string)
	placed := s.produce(t, &kgo.Record{Topic: "orders", Key: []byte(orderID), Value: append(wire.AppendFrame(nil, id), body...),
		Headers: []kgo.RecordHeader{{Key: wire.HeaderEventType, Value: []byte("contrail.orders.OrderPlaced")}, {Key: wire.HeaderEventID, Value: []byte("pii-1")}}})[0]
	s.produce(t, eventing.DeadLetterRecord(placed, eventing.ClassPermanent, errors.New(`rules: rule "x" failed on consume`), time.Now()))

	for _, path := range []string{
		"/topics/orders/messages?partition=" + strconv.Itoa(int(placed.Partition)) + "&offset=" + strconv.FormatInt(placed.Offset, 10),
		"/dlq/orders.dlq",
	} {
		code, page := get(t, s.url, path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, code, page)
		}
		// The example's correlationId is its orderId: only that field (not
		// PII) may show it, not the orderId field nor the record key.
		if n, corr := strings.Count(page, orderID), strings.Count(page, "&#34;correlationId&#34;: &#34;"+orderID); n != corr {
			t.Errorf("GET %s shows the PII order id (the key) %d times besides the correlation id", path, n-corr)
		}
		for _, secret := range []string{customer, line1} {
			if i := strings.Index(page, secret); i >= 0 {
				t.Errorf("GET %s shows PII %q: %s", path, secret, page[max(0, i-300):i+50])
			}
		}
		if !strings.Contains(page, "••• masked •••") || !strings.Contains(page, city) {
			t.Errorf("GET %s: want PII masked and the rest shown:\n%s", path, page)
		}
	}
}
