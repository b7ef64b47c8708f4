package shop_test

import (
	"errors"
	"math/big"
	"slices"
	"testing"

	"github.com/contrail-events/contrail/codegen/codegentest"
	"github.com/contrail-events/contrail/codegen/internal/golden/shared"
	"github.com/contrail-events/contrail/codegen/internal/golden/shop"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

const order = "fixture.shop.Order"

// TestMajorBindings: each major has its own Go type and binding, carrying
// its major and data contract, and init registered all three.
func TestMajorBindings(t *testing.T) {
	for _, tt := range []struct {
		b     events.Type
		major int
	}{{shop.OrderBinding, 1}, {shop.OrderV2Binding, 2}, {shop.OrderV3Binding, 3}} {
		if tt.b.Major() != tt.major || tt.b.FullName() != order || tt.b.Subject() != "orders-fixture.shop.Order" {
			t.Errorf("binding of major %d: major %d, %s under %s", tt.major, tt.b.Major(), tt.b.FullName(), tt.b.Subject())
		}
		if m, ok := tt.b.Metadata().Major(); !ok || m != tt.major {
			t.Errorf("major %d: metadata %+v", tt.major, tt.b.Metadata())
		}
		if got, ok := events.MajorOf(order, tt.major); !ok || got != tt.b {
			t.Errorf("MajorOf(%d) = %v, %v", tt.major, got, ok)
		}
		if tt.b.Schema() == nil {
			t.Errorf("major %d has no schema", tt.major)
		}
	}
	if got := events.Majors(order); !slices.Equal(got, []int{1, 2, 3}) {
		t.Errorf("Majors = %v", got)
	}
	if tags := shop.OrderBinding.Metadata().Tags["fixture.shop.Order.email"]; !slices.Equal(tags, []string{wire.TagPII}) {
		t.Errorf("major 1 tags %v", tags)
	}
	rs := shop.OrderV2Binding.RuleSet()
	if rs == nil || len(rs.DomainRules) != 1 || rs.DomainRules[0].Expr != "size(message.lines) > 0" || rs.DomainRules[0].OnFailure != wire.RuleActionDLQ ||
		rs.MigrationRules[0].Mode != wire.RuleModeUpDown || shop.OrderV2Binding.Metadata().Properties["owner"] != "shop-team" {
		t.Errorf("major 2 contract %+v %+v", shop.OrderV2Binding.Metadata(), rs)
	}
	if shop.OrderV3Binding.RuleSet().MigrationRules[0].Mode != wire.RuleModeUpgrade {
		t.Errorf("major 3 rule set %+v", shop.OrderV3Binding.RuleSet())
	}
}

func v1Order() *shop.OrderV1 {
	return &shop.OrderV1{OrderID: "o-1", Email: "ada@example.com", TotalCents: 2599, Payment: shop.NewOrderPaymentUnion(shop.OrderPaymentString("card"))}
}

// TestMigrate runs the filled-in migrations through events.Migrate, as the
// serde does for a record written in another major: up two majors, down
// one and back, and not down from 3 (its rule migrates up only).
func TestMigrate(t *testing.T) {
	got, err := events.Migrate(order, 1, 3, v1Order())
	if err != nil {
		t.Fatal(err)
	}
	want := &shop.OrderV3{OrderID: "o-1", Total: shared.Amount{Value: big.NewRat(2599, 100)}, Lines: []string{},
		Payment: shop.NewOrderV3PaymentUnion(shop.OrderV3PaymentString("card"))}
	if d := codegentest.Diff(want, got); d != "" {
		t.Errorf("v1 -> v3: %s", d)
	}

	v2, err := events.Migrate(order, 1, 2, v1Order())
	if err != nil {
		t.Fatal(err)
	}
	v2.(*shop.OrderV2).Payment = shop.NewOrderV2PaymentUnion(shop.Voucher{Code: "WELCOME"})
	back, err := events.Migrate(order, 2, 1, v2)
	if err != nil {
		t.Fatal(err)
	}
	wantBack := v1Order()
	wantBack.Payment = shop.NewOrderPaymentUnion(shop.Voucher{Code: "WELCOME"})
	if d := codegentest.Diff(wantBack, back); d != "" {
		t.Errorf("v1 -> v2 -> v1: %s", d)
	}

	// A migration's own error names the step; a missing direction is ErrNoMigration.
	_, err = events.Migrate(order, 2, 1, &shop.OrderV2{Total: shared.Amount{Value: big.NewRat(1, 1000)}})
	if err == nil || errors.Is(err, events.ErrNoMigration) {
		t.Errorf("a fraction of a cent downgraded: %v", err)
	}
	if _, err := events.Migrate(order, 3, 2, &shop.OrderV3{}); !errors.Is(err, events.ErrNoMigration) {
		t.Errorf("v3 -> v2: %v, want ErrNoMigration", err)
	}
	if _, err := events.Migrate(order, 1, 2, &shop.OrderV2{}); err == nil {
		t.Error("a value of the wrong major migrated")
	}
}

// TestMajorsRoundTrip encodes and decodes each major with its binding's
// schema: three Go types of one full name live in one program.
func TestMajorsRoundTrip(t *testing.T) {
	s1, err := shop.OrderBinding.ParseSchema()
	if err != nil {
		t.Fatal(err)
	}
	codegentest.RoundTrip(t, nil, s1, v1Order())
	v2, err := events.Migrate(order, 1, 2, v1Order())
	if err != nil {
		t.Fatal(err)
	}
	v2.(*shop.OrderV2).Lines = []string{"SKU-1"}
	s2, err := shop.OrderV2Binding.ParseSchema()
	if err != nil {
		t.Fatal(err)
	}
	codegentest.RoundTrip(t, nil, s2, v2.(*shop.OrderV2))
	v3, err := events.Migrate(order, 2, 3, v2)
	if err != nil {
		t.Fatal(err)
	}
	s3, err := shop.OrderV3Binding.ParseSchema()
	if err != nil {
		t.Fatal(err)
	}
	codegentest.RoundTrip(t, nil, s3, v3.(*shop.OrderV3))
}
