package rules_test

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// FuzzCondition compiles and runs arbitrary rule text (it comes from the
// registry) against a generated OrderPlaced: whatever the text, Plan and
// Run return (a rule that does not compile or evaluate is a *rules.Error),
// they never panic or hang.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		"message.total.amount > 0",
		"message.total.amount == decimals.sum(message.items.map(i, i.unitPrice.amount * i.quantity))",
		`has(message.payment.cardToken) && message.payment.last4.size() == 4`,
		`decimal("1e1000") * decimal("1e1000") > 0`,
		`message.couponCode == null; size(message.couponCode) > 0`,
		`decimals.round(message.total.amount, -3) / 0 > 1`,
		`message.items.exists(i, i.sku.matches("^SKU-[0-9]+$"))`,
	} {
		f.Add(s)
	}
	e := rules.NewEngine()
	f.Fuzz(func(t *testing.T, expr string) {
		rs := &wire.RuleSet{DomainRules: []wire.Rule{{Name: "fuzz", Kind: wire.RuleKindCondition, Mode: wire.RuleModeWrite, Type: wire.RuleTypeCEL, Expr: expr}}}
		p, err := e.Plan(target, orders.OrderPlacedBinding.Schema(), reflect.TypeFor[orders.OrderPlaced](), rs, rules.Write)
		if err != nil {
			t.Fatalf("Plan: %v", err)
		}
		if err := p.Run(context.Background(), order()); err != nil && !errors.Is(err, rules.ErrRuleFailed) {
			t.Fatalf("Run = %v, want nil or a rules.Error", err)
		}
	})
}

// FuzzDecimalFromData runs decimal() on a string field: event data is
// untrusted, so a huge or malformed number must fail the rule, not the
// consumer.
func FuzzDecimalFromData(f *testing.F) {
	for _, s := range []string{"12.50", "-1e3", "1e100000000", "1/3", "NaN", "0x10", "", ".5", "5."} {
		f.Add(s)
	}
	e := rules.NewEngine()
	rs := &wire.RuleSet{DomainRules: []wire.Rule{{Name: "num", Kind: wire.RuleKindCondition, Mode: wire.RuleModeWrite, Type: wire.RuleTypeCEL,
		Expr: `decimal(message.customerId) * 2 >= decimal(message.customerId)`}}}
	p, err := e.Plan(target, orders.OrderPlacedBinding.Schema(), reflect.TypeFor[orders.OrderPlaced](), rs, rules.Write)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o := order()
		o.CustomerID = s
		if err := p.Run(context.Background(), o); err != nil && !errors.Is(err, rules.ErrRuleFailed) {
			t.Fatalf("Run = %v", err)
		}
	})
}
