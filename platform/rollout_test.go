package platform_test

import (
	"bytes"
	"context"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/storetest"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/platform/loadgen"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/wire"
)

// TestBreakingChangeRollout is the rollout of OrderPlaced major 2 (a
// renamed field and a changed type) on the reference flow, as
// docs/making-a-breaking-change.md tells it: two order replicas on one
// PostgreSQL database, the first still publishing major 1 and the second
// major 2, while inventory (reading major 1) and payment (reading major 2)
// read both through the Go migrations. Then major 1 retires from the
// producers: the first replica is redeployed on major 2. Every order of
// both phases ends as the load generator expects, no record is
// dead-lettered, and both majors were really on the topic. Last, a raw
// client forges a major-1 OrderPlaced whose total is not the sum of its
// lines: the totalIsSumOfLines rule dead-letters it at both consumers.
func TestBreakingChangeRollout(t *testing.T) {
	if testing.Short() {
		t.Skip("rollout on the platform with replicas: slow, runs in make test")
	}
	cfg := testConfig(t.TempDir())
	cfg.PostgresURL = storetest.PostgresURL(t)
	cfg.Replicas = 2
	// services/order.EnvPlacedMajor (platform sits below services; the test
	// fails if the name drifts: no replica would publish major 1).
	const envPlacedMajor = "CONTRAIL_ORDER_PLACED_MAJOR"
	cfg.ReplicaEnv = func(service string, replica int) []string {
		if service == "order" && replica == 1 {
			return []string{envPlacedMajor + "=1"} // not upgraded yet
		}
		return nil
	}
	p := start(t, cfg)
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cl, _, err := regclient.New(p.RegistryURL)
	if err != nil {
		t.Fatal(err)
	}
	majorOf := map[int]int{} // schema id -> major
	majors := func(recs []*kgo.Record) map[int]int {
		n := map[int]int{}
		for _, r := range recs {
			if eventing.HeaderValue(r, wire.HeaderEventType) != orders.OrderPlacedBinding.FullName() {
				continue
			}
			id, err := wire.SchemaID(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := majorOf[id]; !ok {
				s, err := cl.SchemaByID(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				m := 1
				if s.SchemaMetadata != nil && s.SchemaMetadata.Properties[wire.PropertyMajorVersion] == "2" {
					m = 2
				}
				majorOf[id] = m
			}
			n[majorOf[id]]++
		}
		return n
	}
	load := func(phase string, orders int) {
		t.Helper()
		join := func(s string) string { return strings.Join(p.ReplicaURLs[s], ",") }
		rep, err := loadgen.Run(ctx, loadgen.Config{Orders: orders, Concurrency: 8,
			OrderURL: join("order"), InventoryURL: join("inventory"), PaymentURL: join("payment"), AdminToken: p.AdminToken,
			Seed: uint64(time.Now().UnixNano()), Timeout: 120 * time.Second})
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		var b bytes.Buffer
		rep.WriteText(&b)
		if !rep.OK {
			t.Fatalf("%s: invariants failed:\n%s", phase, b.String())
		}
		t.Logf("%s:\n%s", phase, b.String())
	}
	noDeadLetters := func(phase string) {
		t.Helper()
		for _, topic := range []string{"orders", "inventory", "payments", "shipments"} {
			if dl := readTopic(t, p.BrokerAddr, topic+wire.DLQSuffix); len(dl) > 0 {
				t.Fatalf("%s: %d dead letters on %s%s, the first: %s", phase, len(dl), topic, wire.DLQSuffix, eventing.HeaderValue(dl[0], wire.HeaderDLQError))
			}
		}
	}

	// Phase 1: both majors are published at once.
	load("rollout, order replicas on majors 1 and 2", 160)
	before := readTopic(t, p.BrokerAddr, "orders")
	mixed := majors(before)
	if mixed[1] == 0 || mixed[2] == 0 {
		t.Fatalf("OrderPlaced records by major %v: want both majors published during the rollout", mixed)
	}
	noDeadLetters("rollout")
	t.Logf("rollout: OrderPlaced by major %v", mixed)

	// Phase 2: major 1 retires from the producers.
	old := p.Replicas("order")[0]
	if _, err := old.Redeploy(envPlacedMajor + "=2"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for old.Exits() == 0 || !replicaReady(p, old) {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not back on major 2 within 60s", old.Name)
		}
		time.Sleep(50 * time.Millisecond)
	}
	load("after the rollout, every order replica on major 2", 120)
	after := readTopic(t, p.BrokerAddr, "orders")
	// Records past the phase-1 end, per partition, are all major 2.
	seen := map[int32]int64{}
	for _, r := range before {
		seen[r.Partition] = max(seen[r.Partition], r.Offset+1)
	}
	var newer []*kgo.Record
	for _, r := range after {
		if r.Offset >= seen[r.Partition] {
			newer = append(newer, r)
		}
	}
	if got := majors(newer); got[1] != 0 || got[2] == 0 {
		t.Fatalf("after the rollout, OrderPlaced by major %v: want major 2 only", got)
	}
	noDeadLetters("after the rollout")

	// A forged major-1 OrderPlaced from a raw client, under the schema id
	// the major-1 producer used: its total is not the sum of its lines.
	var v1ID int
	for id, m := range majorOf {
		if m == 1 {
			v1ID = id
		}
	}
	forged := forgedOrderPlaced()
	body, err := avro.Marshal(orders.OrderPlacedBinding.Schema(), forged)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := kgo.NewClient(kgo.SeedBrokers(p.BrokerAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rec := &kgo.Record{Topic: "orders", Key: []byte(forged.OrderID), Value: append(wire.AppendFrame(nil, v1ID), body...)}
	if err := raw.ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		var byRule []string
		for _, r := range readTopic(t, p.BrokerAddr, "orders"+wire.DLQSuffix) {
			if string(r.Key) == forged.OrderID && strings.Contains(eventing.HeaderValue(r, wire.HeaderDLQError), "totalIsSumOfLines") {
				byRule = append(byRule, eventing.HeaderValue(r, wire.HeaderDLQError))
			}
		}
		if len(byRule) >= 2 { // inventory's and payment's
			t.Logf("forged order dead-lettered: %s", byRule[0])
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the forged OrderPlaced was dead-lettered %d times by rule totalIsSumOfLines within 60s, want 2 (inventory, payment)", len(byRule))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// forgedOrderPlaced is a valid major-1 OrderPlaced whose total (99.00) is
// not the sum of its one line (2 x 10.00).
func forgedOrderPlaced() *orders.OrderPlaced {
	o := &orders.OrderPlaced{}
	o.Metadata.EventID = "5f3d6b1e-8c2a-4f4e-9b1d-0a7c3e2f1b00"
	o.Metadata.CorrelationID = o.Metadata.EventID
	o.Metadata.OccurredAt = time.Now().UTC().Truncate(time.Millisecond)
	o.Metadata.Producer = "forger"
	o.Metadata.Attributes = map[string]string{}
	o.OrderID = "5f3d6b1e-8c2a-4f4e-9b1d-0a7c3e2f1b01"
	o.CustomerID = "mallory"
	o.Items = []common.LineItem{{Sku: "SKU-0001", Quantity: 2, UnitPrice: common.Money{Amount: big.NewRat(1000, 100), Currency: common.CurrencyEur}}}
	o.Total = common.Money{Amount: big.NewRat(9900, 100), Currency: common.CurrencyEur}
	o.ShippingAddress = common.Address{Name: "M", Line1: "1 Side St", City: "X", PostalCode: "1", Country: "AT"}
	o.Payment = orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: "tok-forged", Last4: "0000"})
	o.Channel = orders.SalesChannelWeb
	return o
}
