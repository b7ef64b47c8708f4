package serde_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// Three hand-written majors of one event, serdetest.majors.Order, with
// migrations v1 <-> v2 -> v3 (no v3 -> v2), and two majors of
// serdetest.majors.Shipment with none: what `contrail gen` will generate for
// schemas/<ns>/Order.avsc, Order.v2.avsc and Order.v3.avsc.

const (
	orderV1Text = `{"type":"record","name":"Order","namespace":"serdetest.majors","fields":[
		{"name":"orderId","type":"string"},{"name":"cents","type":"long"}]}`
	orderV2Text = `{"type":"record","name":"Order","namespace":"serdetest.majors","fields":[
		{"name":"orderId","type":"string"},
		{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}},
		{"name":"currency","type":"string"}]}`
	orderV3Text = `{"type":"record","name":"Order","namespace":"serdetest.majors","fields":[
		{"name":"orderId","type":"string"},
		{"name":"total","type":{"type":"record","name":"Total","fields":[
			{"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":18,"scale":2}},
			{"name":"currency","type":"string"}]}}]}`
	shipV1Text = `{"type":"record","name":"Shipment","namespace":"serdetest.majors","fields":[{"name":"id","type":"string"}]}`
	shipV2Text = `{"type":"record","name":"Shipment","namespace":"serdetest.majors","fields":[{"name":"id","type":"string"},{"name":"carrier","type":"string"}]}`
)

type OrderV1 struct {
	OrderID string `avro:"orderId"`
	Cents   int64  `avro:"cents"`
}

type OrderV2 struct {
	OrderID  string   `avro:"orderId"`
	Amount   *big.Rat `avro:"amount"`
	Currency string   `avro:"currency"`
}

type Total struct {
	Amount   *big.Rat `avro:"amount"`
	Currency string   `avro:"currency"`
}

type OrderV3 struct {
	OrderID string `avro:"orderId"`
	Total   Total  `avro:"total"`
}

type ShipmentV1 struct {
	ID string `avro:"id"`
}

type ShipmentV2 struct {
	ID      string `avro:"id"`
	Carrier string `avro:"carrier"`
}

func majorMeta(n int) *wire.Metadata {
	if n == 1 {
		return nil
	}
	return &wire.Metadata{Properties: map[string]string{wire.PropertyMajorVersion: fmt.Sprint(n)}}
}

func majorBinding[T any](name, text string, major int, key func(*T) string) *events.Binding[T] {
	return events.NewBinding(events.BindingConfig[T]{
		FullName: "serdetest.majors." + name, Topic: "majors", Subject: "majors-serdetest.majors." + name,
		Strategy: events.TopicRecordName, KeyField: "orderId", SchemaText: text,
		Key: key, Parse: func() (avro.Schema, error) { return avro.Parse(text) },
		Major: major, Metadata: majorMeta(major),
	})
}

var (
	orderV1B = majorBinding("Order", orderV1Text, 1, func(o *OrderV1) string { return o.OrderID })
	orderV2B = majorBinding("Order", orderV2Text, 2, func(o *OrderV2) string { return o.OrderID })
	orderV3B = majorBinding("Order", orderV3Text, 3, func(o *OrderV3) string { return o.OrderID })
	shipV1B  = majorBinding("Shipment", shipV1Text, 1, func(s *ShipmentV1) string { return s.ID })
	shipV2B  = majorBinding("Shipment", shipV2Text, 2, func(s *ShipmentV2) string { return s.ID })
)

// errNegative is what the v1 -> v2 migration returns for a negative amount.
var errNegative = errors.New("a negative amount cannot be migrated")

func init() {
	events.RegisterMigration(events.NewMigration(orderV1B, orderV2B, func(o *OrderV1) (*OrderV2, error) {
		if o.Cents < 0 {
			return nil, errNegative
		}
		return &OrderV2{OrderID: o.OrderID, Amount: big.NewRat(o.Cents, 100), Currency: "EUR"}, nil
	}))
	events.RegisterMigration(events.NewMigration(orderV2B, orderV1B, func(o *OrderV2) (*OrderV1, error) {
		c := new(big.Rat).Mul(o.Amount, big.NewRat(100, 1))
		return &OrderV1{OrderID: o.OrderID, Cents: c.Num().Int64()}, nil
	}))
	events.RegisterMigration(events.NewMigration(orderV2B, orderV3B, func(o *OrderV2) (*OrderV3, error) {
		return &OrderV3{OrderID: o.OrderID, Total: Total{Amount: o.Amount, Currency: o.Currency}}, nil
	}))
	events.RegisterMajor(shipV1B)
	events.RegisterMajor(shipV2B)
}

// allowBreaking lets subject take a new major (as the manifest's
// compatibility_group: major_version does for `registry push`).
func allowBreaking(t testing.TB, tr *testRegistry, subjects ...string) {
	t.Helper()
	for _, r := range tr.client.SetCompatibility(context.Background(), sr.SetCompatibility{Level: sr.CompatNone}, subjects...) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
}

// TestMigrationsBetweenMajors: a reader of major M gets records of every
// other major migrated, step by step; a missing step or a failing
// migration is a permanent *MigrationError that says what to do.
func TestMigrationsBetweenMajors(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	allowBreaking(t, tr, orderV1B.Subject(), shipV1B.Subject())
	s := newSerde(t, tr)
	enc := func(b events.Type, v any) []byte {
		t.Helper()
		data, err := s.Encode(ctx, b, v)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	v1 := enc(orderV1B, &OrderV1{OrderID: "o-1", Cents: 1250})
	v2 := enc(orderV2B, &OrderV2{OrderID: "o-2", Amount: big.NewRat(399, 100), Currency: "USD"})
	v3 := enc(orderV3B, &OrderV3{OrderID: "o-3", Total: Total{Amount: big.NewRat(1, 1), Currency: "GBP"}})

	var got3 OrderV3
	if err := s.Decode(ctx, v1, orderV3B, &got3); err != nil {
		t.Fatalf("v1 record read as v3: %v", err)
	}
	if got3.OrderID != "o-1" || got3.Total.Amount.Cmp(big.NewRat(1250, 100)) != 0 || got3.Total.Currency != "EUR" {
		t.Fatalf("v1 -> v2 -> v3 = %+v", got3)
	}
	if err := s.Decode(ctx, v2, orderV3B, &got3); err != nil || got3.OrderID != "o-2" || got3.Total.Currency != "USD" {
		t.Fatalf("v2 record read as v3: %+v, %v", got3, err)
	}
	if err := s.Decode(ctx, v3, orderV3B, &got3); err != nil || got3.Total.Currency != "GBP" {
		t.Fatalf("v3 record read as v3: %+v, %v", got3, err)
	}
	var got1 OrderV1
	if err := s.Decode(ctx, v2, orderV1B, &got1); err != nil || got1.Cents != 399 {
		t.Fatalf("v2 record read as v1 (downgrade): %+v, %v", got1, err)
	}

	permanent := func(name string, err error, want ...string) {
		t.Helper()
		var me *serde.MigrationError
		if !errors.As(err, &me) || !me.Permanent() {
			t.Fatalf("%s: %v, want a permanent *serde.MigrationError", name, err)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q does not say %q", name, err, w)
			}
		}
	}
	err := s.Decode(ctx, v3, orderV1B, &got1)
	permanent("no v3 -> v2", err, "major 3", "reads major 1", "v3 -> v2", "contrail gen")
	if !errors.Is(err, events.ErrNoMigration) {
		t.Errorf("missing step: %v does not wrap events.ErrNoMigration", err)
	}
	negative := enc(orderV1B, &OrderV1{OrderID: "o-4", Cents: -5})
	err = s.Decode(ctx, negative, orderV2B, new(OrderV2))
	permanent("failing migration", err, "major 1", "reads major 2")
	if !errors.Is(err, errNegative) {
		t.Errorf("a failing migration's error is lost: %v", err)
	}
	ship := enc(shipV1B, &ShipmentV1{ID: "s-1"})
	permanent("no migration at all", s.Decode(ctx, ship, shipV2B, new(ShipmentV2)), "v1 -> v2")
}

// TestCheckReaders: the start-up check lists a subject's live majors and
// fails when one cannot reach the reader's major.
func TestCheckReaders(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	allowBreaking(t, tr, orderV1B.Subject(), shipV1B.Subject())
	s := newSerde(t, tr)
	for _, x := range []struct {
		b events.Type
		v any
	}{{orderV1B, &OrderV1{OrderID: "o"}}, {orderV2B, &OrderV2{OrderID: "o", Amount: new(big.Rat)}}, {shipV1B, &ShipmentV1{ID: "s"}}} {
		if _, err := s.Encode(ctx, x.b, x.v); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CheckReaders(ctx, []events.Type{orderV3B, orderV1B, orderV2B, shipV1B}); err != nil {
		t.Fatalf("readers that can read every live major: %v", err)
	}
	err := s.CheckReaders(ctx, []events.Type{orderV3B, shipV2B})
	if err == nil || !strings.Contains(err.Error(), `subject "majors-serdetest.majors.Shipment" has live major 1`) ||
		!strings.Contains(err.Error(), "v1 -> v2") || !strings.Contains(err.Error(), "contrail gen") || !errors.Is(err, events.ErrNoMigration) {
		t.Fatalf("CheckReaders with no v1 -> v2 migration for Shipment = %v", err)
	}
	if _, err := s.Encode(ctx, orderV3B, &OrderV3{OrderID: "o", Total: Total{Amount: new(big.Rat)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckReaders(ctx, []events.Type{orderV1B}); err == nil || !strings.Contains(err.Error(), "live major 3") {
		t.Fatalf("a v1 reader with v3 live and no v3 -> v2 migration: %v", err)
	}
	unwritten := majorBinding("Unwritten", shipV1Text, 1, func(s *ShipmentV1) string { return s.ID })
	if err := s.CheckReaders(ctx, []events.Type{unwritten}); err != nil {
		t.Fatalf("a subject the registry does not have: %v", err)
	}
	tr.down.Store(true)
	if err := s.CheckReaders(ctx, []events.Type{orderV3B}); !errors.Is(err, serde.ErrRegistryUnavailable) {
		t.Fatalf("CheckReaders with the registry down = %v, want ErrRegistryUnavailable", err)
	}
}

// rulesBinding is serdetest.rules.Order (orderId, amount, currency) with a
// data contract: a WRITE rule (ERROR), a READ rule (DLQ), a WRITEREAD rule
// (NONE) and a disabled one.
func rulesBinding() *events.Binding[OrderV2] {
	text := strings.ReplaceAll(orderV2Text, "serdetest.majors", "serdetest.rules")
	return events.NewBinding(events.BindingConfig[OrderV2]{
		FullName: "serdetest.rules.Order", Topic: "rules", Subject: "rules-serdetest.rules.Order",
		Strategy: events.TopicRecordName, KeyField: "orderId", SchemaText: text,
		Key: func(o *OrderV2) string { return o.OrderID }, Parse: func() (avro.Schema, error) { return avro.Parse(text) },
		Metadata: &wire.Metadata{Tags: map[string][]string{"serdetest.rules.Order.orderId": {wire.TagPII}}},
		RuleSet: &wire.RuleSet{DomainRules: []wire.Rule{
			{Name: "positive", Kind: wire.RuleKindCondition, Mode: wire.RuleModeWrite, Type: wire.RuleTypeCEL, Expr: "message.amount > 0", OnFailure: wire.RuleActionError},
			{Name: "euro", Kind: wire.RuleKindCondition, Mode: wire.RuleModeRead, Type: wire.RuleTypeCEL, Expr: `message.currency == "EUR"`, OnFailure: wire.RuleActionDLQ},
			{Name: "short-id", Kind: wire.RuleKindCondition, Mode: wire.RuleModeWriteRead, Type: wire.RuleTypeCEL, Expr: "size(message.orderId) < 4", OnFailure: wire.RuleActionNone},
			{Name: "off", Kind: wire.RuleKindCondition, Mode: wire.RuleModeWriteRead, Type: wire.RuleTypeCEL, Expr: "false", Disabled: true},
		}},
	})
}

// TestRegistersContract: the serde registers a type's schema with its
// metadata and rule set, so a lookup-only serde (after `registry push`
// registered the same contract) finds the same id, and a reader learns the
// contract by id.
func TestRegistersContract(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	b := rulesBinding()
	id, err := newSerde(t, tr).ID(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tr.client.SchemaByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.SchemaMetadata == nil || got.SchemaMetadata.Tags["serdetest.rules.Order.orderId"][0] != wire.TagPII ||
		got.SchemaRuleSet == nil || len(got.SchemaRuleSet.DomainRules) != 4 || got.SchemaRuleSet.DomainRules[1].Mode != sr.SchemaRuleModeRead {
		t.Fatalf("registered %+v %+v, want the binding's metadata and rule set", got.SchemaMetadata, got.SchemaRuleSet)
	}
	lookup, err := newSerde(t, tr, serde.AutoRegister(false)).ID(ctx, b)
	if err != nil || lookup != id {
		t.Fatalf("lookup-only id = %d, %v; want %d", lookup, err, id)
	}
	md, rs, err := newSerde(t, tr).WriterContract(ctx, id)
	if err != nil || md == nil || rs == nil || rs.DomainRules[0].Name != "positive" || rs.DomainRules[0].Kind != wire.RuleKindCondition {
		t.Fatalf("WriterContract = %+v, %+v, %v", md, rs, err)
	}
}

// TestRulesOnEncodeAndDecode: WRITE rules run in Encode (ERROR fails it),
// READ rules in Decode with the writer's rule set (DLQ is permanent), NONE
// logs without values and goes on, and each rule compiles once per schema
// id however many events pass.
func TestRulesOnEncodeAndDecode(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	var logs bytes.Buffer
	engine := rules.NewEngine(rules.Logger(slog.New(slog.NewTextHandler(&logs, nil))))
	s := newSerde(t, tr, serde.Rules(engine))
	b := rulesBinding()

	_, err := s.Encode(ctx, b, &OrderV2{OrderID: "o-1", Amount: big.NewRat(-1, 1), Currency: "EUR"})
	var re *rules.Error
	if !errors.As(err, &re) || re.Action != wire.RuleActionError || re.Permanent() {
		t.Fatalf("Encode of a negative amount = %v, want a rules.Error with action ERROR", err)
	}
	for _, w := range []string{`rule "positive"`, `subject "rules-serdetest.rules.Order" version 1`, "failed on publish", "`message.amount > 0` is false"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%q does not say %q", err, w)
		}
	}

	good, err := s.Encode(ctx, b, &OrderV2{OrderID: "o-2", Amount: big.NewRat(5, 1), Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	dollars, err := s.Encode(ctx, b, &OrderV2{OrderID: "o-3", Amount: big.NewRat(5, 1), Currency: "USD"})
	if err != nil {
		t.Fatalf("a READ rule ran on publish: %v", err)
	}
	long, err := s.Encode(ctx, b, &OrderV2{OrderID: "o-long-id", Amount: big.NewRat(5, 1), Currency: "EUR"})
	if err != nil {
		t.Fatalf("a NONE rule failed the publish: %v", err)
	}
	if !strings.Contains(logs.String(), "rule=short-id") || strings.Contains(logs.String(), "o-long-id") {
		t.Fatalf("NONE log = %q, want the rule named and no values", logs.String())
	}

	reader := newSerde(t, tr, serde.Rules(engine)) // a consumer: the rules come from the registry by id
	var out OrderV2
	if err := reader.Decode(ctx, good, b, &out); err != nil {
		t.Fatal(err)
	}
	err = reader.Decode(ctx, dollars, b, &out)
	if !errors.As(err, &re) || re.Action != wire.RuleActionDLQ || !re.Permanent() || re.Direction != rules.Read || !strings.Contains(err.Error(), `rule "euro"`) {
		t.Fatalf("Decode of USD = %v, want a permanent rules.Error naming euro", err)
	}
	if err := reader.Decode(ctx, long, b, &out); err != nil {
		t.Fatalf("a NONE rule failed the consume: %v", err)
	}

	before := engine.Compiles()
	for range 50 {
		_, _ = s.Encode(ctx, b, &OrderV2{OrderID: "o-5", Amount: big.NewRat(5, 1), Currency: "EUR"})
		_ = reader.Decode(ctx, good, b, &out)
		_ = newSerde(t, tr, serde.Rules(engine)).Decode(ctx, dollars, b, &out)
	}
	if before != 3 || engine.Compiles() != 3 {
		t.Fatalf("compiled %d then %d times, want 3 (positive, euro, short-id; the disabled rule never)", before, engine.Compiles())
	}
}

// TestTotalRuleOnGeneratedOrderPlaced: the rule "the total is the sum of
// the lines" on the generated OrderPlaced, with exact decimals, through
// Encode and Decode.
func TestTotalRuleOnGeneratedOrderPlaced(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	pushRepoSchemas(t, tr)
	// The generated binding carries the rule (totalIsSumOfLines in
	// schemas/contrail/orders/OrderPlaced.contract.yaml).
	b := orders.OrderPlacedBinding
	if rs := b.RuleSet(); rs == nil || len(rs.DomainRules) == 0 || rs.DomainRules[0].Name != "totalIsSumOfLines" {
		t.Fatalf("OrderPlacedBinding rule set %+v, want totalIsSumOfLines", rs)
	}
	s := newSerde(t, tr)
	v := fillGenerated(t)
	data, err := s.Encode(ctx, b, v)
	if err != nil {
		t.Fatal(err)
	}
	var out orders.OrderPlaced
	if err := s.Decode(ctx, data, b, &out); err != nil {
		t.Fatal(err)
	}
	v.Total.Amount = big.NewRat(5998, 100)
	if _, err := s.Encode(ctx, b, v); !errors.Is(err, rules.ErrRuleFailed) || !strings.Contains(err.Error(), "totalIsSumOfLines") {
		t.Fatalf("Encode with a wrong total = %v", err)
	}
}
