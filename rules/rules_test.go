package rules_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// order returns a fully populated generated OrderPlaced: two lines of
// 19.99 EUR (2 + 1), total 59.97, paid by card, no coupon.
func order() *orders.OrderPlaced {
	price := common.Money{Amount: big.NewRat(1999, 100), Currency: common.CurrencyEur}
	return &orders.OrderPlaced{
		Metadata:   common.EventMetadata{EventID: "e-1", OccurredAt: time.UnixMilli(1_700_000_000_000).UTC(), CorrelationID: "e-1", Producer: "order"},
		OrderID:    "00000000-0000-4000-8000-000000000001",
		CustomerID: "customer-1",
		Items: []common.LineItem{
			{Sku: "SKU-1", Quantity: 2, UnitPrice: price},
			{Sku: "SKU-2", Quantity: 1, UnitPrice: price},
		},
		Total:           common.Money{Amount: big.NewRat(5997, 100), Currency: common.CurrencyEur},
		ShippingAddress: common.Address{Name: "Customer 1", Line1: "1 Main St", City: "Springfield", PostalCode: "69001", Country: "FR"},
		Payment:         orders.NewOrderPlacedPaymentUnion(orders.CardPayment{CardToken: "tok_1", Last4: "4242"}),
		Channel:         orders.SalesChannelWeb,
	}
}

var target = rules.Target{ID: 7, Subject: "orders-contrail.orders.OrderPlaced", Version: 3}

func cel(name, expr string) wire.Rule {
	return wire.Rule{Name: name, Kind: wire.RuleKindCondition, Mode: wire.RuleModeWriteRead, Type: wire.RuleTypeCEL, Expr: expr}
}

func plan(t *testing.T, e *rules.Engine, dir rules.Direction, rs ...wire.Rule) *rules.Plan {
	t.Helper()
	p, err := e.Plan(target, orders.OrderPlacedBinding.Schema(), reflect.TypeFor[orders.OrderPlaced](), &wire.RuleSet{DomainRules: rs}, dir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConditionsOnGeneratedValues evaluates conditions on the generated
// OrderPlaced: strings, ints, enums, nested records, lists, decimals
// (exact), the payment union, the couponCode optional.
func TestConditionsOnGeneratedValues(t *testing.T) {
	coupon := "SPRING"
	withCoupon := order()
	withCoupon.CouponCode = &coupon
	invoice := order()
	invoice.Payment = orders.NewOrderPlacedPaymentUnion(orders.InvoicePayment{PurchaseOrder: "PO-1", DueDays: 30})
	wrongTotal := order()
	wrongTotal.Total.Amount = big.NewRat(5996, 100)
	thirds := order() // 3 x 0.10 = 0.30 exactly, which binary floats miss
	thirds.Items = []common.LineItem{{Sku: "A", Quantity: 3, UnitPrice: common.Money{Amount: big.NewRat(1, 10)}}}
	thirds.Total.Amount = big.NewRat(3, 10)

	tests := []struct {
		name string
		expr string
		v    *orders.OrderPlaced
		want bool
	}{
		{"string size", "size(message.customerId) > 0", order(), true},
		{"string method", `message.orderId.startsWith("0000")`, order(), true},
		{"nested record", `message.shippingAddress.country == "FR"`, order(), true},
		{"enum as string", `message.channel == "WEB"`, order(), true},
		{"enum in list", `message.channel in ["WEB", "MOBILE"]`, order(), true},
		{"int field in list", "message.items.all(i, i.quantity > 0)", order(), true},
		{"list size", "size(message.items) == 2", order(), true},
		{"timestamp", `message.metadata.occurredAt > timestamp("2020-01-01T00:00:00Z")`, order(), true},
		{"decimal > int", "message.total.amount > 0", order(), true},
		{"decimal < int", "message.total.amount < 59", order(), false},
		{"decimal == decimal string", `message.total.amount == decimal("59.970")`, order(), true},
		{"decimal vs double", "message.total.amount > 59.96", order(), true},
		{"decimal arithmetic", `message.total.amount - message.items[0].unitPrice.amount * 3 == decimal("0")`, order(), true},
		{"total is the sum of the lines", "message.total.amount == decimals.sum(message.items.map(i, i.unitPrice.amount * i.quantity))", order(), true},
		{"wrong total", "message.total.amount == decimals.sum(message.items.map(i, i.unitPrice.amount * i.quantity))", wrongTotal, false},
		{"exact tenths", "message.total.amount == decimals.sum(message.items.map(i, i.unitPrice.amount * i.quantity))", thirds, true},
		{"confluent decimals functions", `decimals.gt(message.total.amount, decimal("59.96")) && decimals.eq(decimals.mul(message.items[1].unitPrice.amount, 3), message.total.amount)`, order(), true},
		{"decimal string", `string(message.total.amount) == "59.97"`, order(), true},
		{"decimal round", `decimals.round(message.total.amount, 1) == decimal("60.0")`, order(), true},
		{"optional null", "message.couponCode == null", order(), true},
		{"optional set", "message.couponCode == null", withCoupon, false},
		{"optional value", `message.couponCode != null && message.couponCode.startsWith("SPR")`, withCoupon, true},
		{"optional has", "has(message.couponCode)", withCoupon, true},
		{"optional has null", "has(message.couponCode)", order(), false},
		{"optional nested", "message.shippingAddress.line2 == null", order(), true},
		{"union branch field", `message.payment.last4 == "4242"`, order(), true},
		{"union branch test", "has(message.payment.cardToken)", invoice, false},
		{"union other branch", "message.payment.dueDays == 30", invoice, true},
		{"union type", "type(message.payment) == contrail.orders.CardPayment", order(), true},
		{"guard false skips", `message.channel == "STORE"; message.total.amount < 0`, order(), true},
		{"guard true checks", `message.channel == "WEB"; message.total.amount < 0`, order(), false},
		{"confluent validators", `message.orderId.isUuid() && !message.customerId.isEmail()`, order(), true},
	}
	e := rules.NewEngine()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cel("r", tt.expr)
			r.OnFailure = wire.RuleActionDLQ
			err := plan(t, e, rules.Write, r).Run(context.Background(), tt.v)
			if got := err == nil; got != tt.want {
				t.Fatalf("%s = %v, want %v (err %v)", tt.expr, got, tt.want, err)
			}
			var re *rules.Error
			if err != nil && (!errors.As(err, &re) || re.Err != nil) {
				t.Fatalf("want a false condition, got %v", err)
			}
		})
	}
}

// TestCompileErrors: a rule that does not compile names the rule, the
// subject and version, and what is wrong; it fails every value with the
// rule's onFailure action.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name, expr, want string
	}{
		{"unknown field", "message.totl > 0", "undefined field 'totl'"},
		{"not a bool", "message.orderId", "not a bool"},
		{"syntax", "message.total.amount >", "Syntax error"},
		{"int == decimal", "0 == message.total.amount", "no matching overload"},
		{"decimal == int", "message.total.amount == 60", "no matching overload"},
		{"int * decimal", "3 * message.total.amount > 0", "no matching overload"},
		{"decimal plus double", "message.total.amount + 1.5 > 0", "no matching overload"},
	}
	e := rules.NewEngine()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := plan(t, e, rules.Write, cel("bad-rule", tt.expr)).Run(context.Background(), order())
			var re *rules.Error
			if !errors.As(err, &re) || re.Err == nil || re.Action != wire.RuleActionError {
				t.Fatalf("Run = %v, want a compile *rules.Error with action ERROR", err)
			}
			for _, w := range []string{`rule "bad-rule"`, `subject "orders-contrail.orders.OrderPlaced" version 3`, "does not compile", tt.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestCompileOncePerSchemaIDAndRule: plans built again for the same schema
// id and rules reuse the compiled programs; another id compiles again.
func TestCompileOncePerSchemaIDAndRule(t *testing.T) {
	e := rules.NewEngine()
	r1, r2 := cel("a", "message.total.amount > 0"), cel("b", "size(message.items) > 0")
	for range 5 {
		plan(t, e, rules.Write, r1, r2)
		plan(t, e, rules.Read, r1, r2) // WRITEREAD: the same programs
	}
	if got := e.Compiles(); got != 2 {
		t.Fatalf("compiled %d times, want 2", got)
	}
	other := target
	other.ID = 8
	if _, err := e.Plan(other, orders.OrderPlacedBinding.Schema(), reflect.TypeFor[orders.OrderPlaced](), &wire.RuleSet{DomainRules: []wire.Rule{r1}}, rules.Write); err != nil {
		t.Fatal(err)
	}
	if got := e.Compiles(); got != 3 {
		t.Fatalf("compiled %d times after a new schema id, want 3", got)
	}
}

// TestActions: onFailure ERROR and DLQ return an *Error (DLQ is
// permanent), NONE logs without the event's values and goes on, the
// "WRITE,READ" form picks by direction, onSuccess runs on success,
// disabled rules, other modes and migration rules are skipped, and an
// unsupported rule type fails closed.
func TestActions(t *testing.T) {
	var logs bytes.Buffer
	e := rules.NewEngine(rules.Logger(slog.New(slog.NewTextHandler(&logs, nil))))
	failing := cel("positive", "message.total.amount < 0")
	run := func(dir rules.Direction, rs ...wire.Rule) error {
		return plan(t, e, dir, rs...).Run(context.Background(), order())
	}
	check := func(name string, err error, action string, permanent bool) {
		t.Helper()
		var re *rules.Error
		if !errors.As(err, &re) || re.Action != action || re.Permanent() != permanent || !errors.Is(err, rules.ErrRuleFailed) {
			t.Fatalf("%s: Run = %v, want action %s permanent %v", name, err, action, permanent)
		}
	}
	check("default", run(rules.Write, failing), wire.RuleActionError, false)
	r := failing
	r.OnFailure = "DLQ"
	check("DLQ", run(rules.Read, r), wire.RuleActionDLQ, true)
	if !strings.Contains(run(rules.Read, r).Error(), "dead-lettered") {
		t.Error("a DLQ error does not say the record is dead-lettered")
	}
	r.OnFailure = "NONE,DLQ"
	if err := run(rules.Write, r); err != nil {
		t.Fatalf("WRITE action NONE: %v", err)
	}
	check("READ action of NONE,DLQ", run(rules.Read, r), wire.RuleActionDLQ, true)
	if !strings.Contains(logs.String(), "rule=positive") || !strings.Contains(logs.String(), "direction=publish") {
		t.Fatalf("NONE did not log the rule: %s", logs.String())
	}
	if strings.Contains(logs.String(), "59.97") || strings.Contains(logs.String(), "customer-1") {
		t.Fatalf("the log quotes the event's values: %s", logs.String())
	}
	r = failing
	r.OnFailure = "NONE"
	if err := run(rules.Read, r); err != nil {
		t.Fatalf("NONE: %v", err)
	}
	ok := cel("ok", "message.total.amount > 0")
	ok.OnSuccess = "ERROR"
	check("onSuccess ERROR", run(rules.Write, ok), wire.RuleActionError, false)

	skipped := []wire.Rule{failing, failing, failing}
	skipped[0].Disabled = true
	skipped[1].Mode = wire.RuleModeRead
	skipped[2].Mode = wire.RuleModeUpgrade
	if p, err := e.Plan(target, orders.OrderPlacedBinding.Schema(), reflect.TypeFor[orders.OrderPlaced](), &wire.RuleSet{DomainRules: skipped, MigrationRules: []wire.Rule{failing}}, rules.Write); err != nil || p.Len() != 0 {
		t.Fatalf("Plan of skipped rules = %d steps, %v; want none", p.Len(), err)
	}

	enc := wire.Rule{Name: "encrypt-pii", Kind: wire.RuleKindTransform, Mode: wire.RuleModeWriteRead, Type: "ENCRYPT", Tags: []string{"PII"}}
	err := run(rules.Write, enc)
	check("unsupported type", err, wire.RuleActionError, false)
	if !strings.Contains(err.Error(), `rule type "ENCRYPT" is not run`) {
		t.Fatalf("unsupported rule: %v", err)
	}
	bad := failing
	bad.OnFailure = "RETRY"
	if _, err := e.Plan(target, orders.OrderPlacedBinding.Schema(), reflect.TypeFor[orders.OrderPlaced](), &wire.RuleSet{DomainRules: []wire.Rule{bad}}, rules.Write); err == nil || !strings.Contains(err.Error(), `unknown action "RETRY"`) {
		t.Fatalf("Plan with an unknown action = %v", err)
	}
}

// TestEvalErrorIsFailure: an evaluation error (here a division by zero)
// fails the rule and says why.
func TestEvalErrorIsFailure(t *testing.T) {
	e := rules.NewEngine()
	err := plan(t, e, rules.Read, cel("div", "message.total.amount / (size(message.items) - 2) > 0")).Run(context.Background(), order())
	var re *rules.Error
	if !errors.As(err, &re) || re.Err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("Run = %v, want an evaluation error", err)
	}
}
