package serde_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/registry/internal/benchpair"
	"github.com/contrail-events/contrail/wire"
)

// Two majors of an OrderPlaced-sized event for the migration benchmark:
// serdetest.bench.OrderPlaced is the generated OrderPlaced's schema under
// another name (major 1, Go type orders.OrderPlaced); major 2 renames
// customerId to customer (benchOrderV2).

type benchOrderV2 struct {
	Metadata        common.EventMetadata            `avro:"metadata"`
	OrderID         string                          `avro:"orderId"`
	Customer        string                          `avro:"customer"`
	Items           []common.LineItem               `avro:"items"`
	Total           common.Money                    `avro:"total"`
	ShippingAddress common.Address                  `avro:"shippingAddress"`
	Payment         *orders.OrderPlacedPaymentUnion `avro:"payment"`
	Channel         orders.SalesChannel             `avro:"channel"`
	CouponCode      *string                         `avro:"couponCode"`
}

var (
	benchV1Text = strings.Replace(orders.OrderPlacedBinding.Schema().String(),
		`"name":"contrail.orders.OrderPlaced"`, `"name":"serdetest.bench.OrderPlaced"`, 1)
	benchV2Text = strings.Replace(benchV1Text, `{"name":"customerId","type":"string"}`, `{"name":"customer","type":"string"}`, 1)
	benchV1B    = benchBinding(benchV1Text, 1, func(o *orders.OrderPlaced) string { return o.OrderID })
	benchV2B    = benchBinding(benchV2Text, 2, func(o *benchOrderV2) string { return o.OrderID })
)

func benchBinding[T any](text string, major int, key func(*T) string) *events.Binding[T] {
	return events.NewBinding(events.BindingConfig[T]{
		FullName: "serdetest.bench.OrderPlaced", Topic: "bench", Subject: "bench-serdetest.bench.OrderPlaced",
		Strategy: events.TopicRecordName, KeyField: "orderId", SchemaText: text, Key: key,
		Parse: func() (avro.Schema, error) { return avro.Parse(text) }, Major: major, Metadata: majorMeta(major),
	})
}

func init() {
	events.RegisterMigration(events.NewMigration(benchV1B, benchV2B, func(o *orders.OrderPlaced) (*benchOrderV2, error) {
		return &benchOrderV2{Metadata: o.Metadata, OrderID: o.OrderID, Customer: o.CustomerID, Items: o.Items, Total: o.Total,
			ShippingAddress: o.ShippingAddress, Payment: o.Payment, Channel: o.Channel, CouponCode: o.CouponCode}, nil
	}))
}

// BenchmarkDataContractPairs prints two time ratios, each the median (with
// min and max) of 15 back-to-back pairs of 5000 decodes:
//
//   - migrated/plain: decoding a major-1 OrderPlaced-sized record as major
//     2 (decode into the v1 Go type, then the v1 -> v2 migration) over
//     decoding a major-2 record as major 2; target <= 2.
//   - rule/plain: decoding a generated OrderPlaced whose writer schema has
//     the READ rule `message.total.amount > 0` over decoding one whose
//     schema has none; target <= 1.5.
//
// Run it with -benchtime=1x: one iteration is the whole paired measurement.
func BenchmarkDataContractPairs(b *testing.B) {
	ctx := context.Background()
	tr := newRegistry(b)
	pushRepoSchemas(b, tr)
	allowBreaking(b, tr, benchV1B.Subject())
	s := newSerde(b, tr)
	v := fillGenerated(b)

	v1Data, err := s.Encode(ctx, benchV1B, v)
	if err != nil {
		b.Fatal(err)
	}
	v2Data, err := s.Encode(ctx, benchV2B, &benchOrderV2{Metadata: v.Metadata, OrderID: v.OrderID, Customer: v.CustomerID, Items: v.Items,
		Total: v.Total, ShippingAddress: v.ShippingAddress, Payment: v.Payment, Channel: v.Channel})
	if err != nil {
		b.Fatal(err)
	}
	g := orders.OrderPlacedBinding
	ruled := events.NewBinding(events.BindingConfig[orders.OrderPlaced]{
		FullName: g.FullName(), Topic: g.Topic(), Subject: g.Subject(), Strategy: g.Strategy(), KeyField: g.KeyField(),
		SchemaText: g.SchemaText(), References: g.References(), Key: g.Key, Parse: g.ParseSchema,
		RuleSet: &wire.RuleSet{DomainRules: []wire.Rule{{Name: "positive-total", Kind: wire.RuleKindCondition, Mode: wire.RuleModeRead,
			Type: wire.RuleTypeCEL, Expr: "message.total.amount > 0"}}},
	})
	plain, err := s.Encode(ctx, g, v)
	if err != nil {
		b.Fatal(err)
	}
	withRule, err := s.Encode(ctx, ruled, v)
	if err != nil {
		b.Fatal(err)
	}
	if plainID, _ := wire.SchemaID(plain); plainID == mustID(b, withRule) {
		b.Skip("the registry gave the schema with a rule set the id of the one without: it does not keep rule sets")
	}
	decMigrated := func() { var out benchOrderV2; must(b, s.Decode(ctx, v1Data, benchV2B, &out)) }
	decV2 := func() { var out benchOrderV2; must(b, s.Decode(ctx, v2Data, benchV2B, &out)) }
	decRule := func() { var out orders.OrderPlaced; must(b, s.Decode(ctx, withRule, g, &out)) }
	decPlain := func() { var out orders.OrderPlaced; must(b, s.Decode(ctx, plain, g, &out)) }
	for _, f := range []func(){decMigrated, decV2, decRule, decPlain} {
		f() // warm up: fetch the ids, compile the rule
	}
	const perRun, pairs = 5000, 15
	timed := func(f func()) func() time.Duration {
		return func() time.Duration {
			runtime.GC() // fence: neither side pays for the other's garbage
			start := time.Now()
			for range perRun {
				f()
			}
			return time.Since(start)
		}
	}
	for range b.N {
		mig := benchpair.Summarize(benchpair.Ratios(pairs, timed(decMigrated), timed(decV2)))
		rule := benchpair.Summarize(benchpair.Ratios(pairs, timed(decRule), timed(decPlain)))
		b.ReportMetric(mig.Median, "migrated-ratio")
		b.ReportMetric(rule.Median, "rule-ratio")
		b.Logf("decode migrated v1->v2 / plain v2: %s; allocs/msg %.0f vs %.0f", mig,
			testing.AllocsPerRun(1000, decMigrated), testing.AllocsPerRun(1000, decV2))
		b.Logf("decode + CEL rule / plain decode: %s; allocs/msg %.0f vs %.0f", rule,
			testing.AllocsPerRun(1000, decRule), testing.AllocsPerRun(1000, decPlain))
	}
}

func mustID(b *testing.B, data []byte) int {
	id, err := wire.SchemaID(data)
	if err != nil {
		b.Fatal(err)
	}
	return id
}

func must(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}
