package kitchen_test

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/codegen/codegentest"
	"github.com/contrail-events/contrail/codegen/internal/golden/kitchen"
	"github.com/contrail-events/contrail/codegen/internal/golden/shared"
)

func ptr[T any](v T) *T { return &v }

func rat(s string) *big.Rat {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		panic(s)
	}
	return r
}

func sink(payment kitchen.SinkPayment, anything kitchen.SinkAnything) *kitchen.Sink {
	return sinkScalar(payment, anything, kitchen.SinkScalarInt(7))
}

func sinkScalar(payment kitchen.SinkPayment, anything kitchen.SinkAnything, scalar kitchen.SinkScalar) *kitchen.Sink {
	s := &kitchen.Sink{
		ID: "9b2e4c1a-0d3f-4e5a-8b6c-7d8e9f0a1b2c", Flag: true, Small: -7, Big: 1 << 40,
		Ratio: 0.25, Exact: 3.141592653589793, Blob: []byte{0, 1, 0xfe, 0xff}, Text: "héllo",
		When:       time.Date(2026, 1, 2, 3, 4, 5, 6_000_000, time.UTC),
		WhenMicros: time.Date(2026, 1, 2, 3, 4, 5, 6_007_000, time.UTC),
		Day:        time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC),
		TimeOfDay:  13*time.Hour + 37*time.Minute + 500*time.Millisecond,
		Price:      rat("-9999999999999999.99"), FixedPrice: rat("1234567890.12"),
		Hash: shared.Hash{0xde, 0xad, 0xbe, 0xef}, Color: shared.ColorDarkGreen, MaybeColor: ptr(shared.ColorRed),
		OptText: ptr(""), OptAmount: &shared.Amount{Value: rat("-0.5")}, Prices: []*big.Rat{rat("0.125"), rat("-1")}, OptWhen: ptr(time.UnixMilli(0).UTC()),
		Tags: []string{"a", "b"}, Counts: map[string]int64{"x": 1, "y": -2},
		Points:       []shared.Point{{X: 1, Y: 2, Color: shared.ColorRed, Label: ptr("p")}, {X: -1, Y: 0, Color: shared.ColorUnknown}},
		PointsByName: map[string]shared.Point{"origin": {Color: shared.ColorUnknown}},
		OptList:      ptr([]int32{3, 2, 1}),
		Payment:      kitchen.NewSinkPaymentUnion(payment),
		Scalar:       kitchen.NewSinkScalarUnion(scalar),
		History: []*kitchen.SinkHistoryItemUnion{
			kitchen.NewSinkHistoryItemUnion(kitchen.Card{Number: "4111", Expires: time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC)}),
			kitchen.NewSinkHistoryItemUnion(kitchen.Cash{Amount: shared.Amount{Value: rat("0.0001")}}),
		},
		Tree: kitchen.Tree{Depth: 0, Children: []kitchen.Tree{{Depth: 1}, {Depth: 1, Next: &kitchen.Tree{Depth: 2}}}},
	}
	if anything != nil {
		s.Anything = kitchen.NewSinkAnythingUnion(anything)
	}
	return s
}

// TestSinkRoundTrip covers every mapping in the fixture: each union branch
// kind (local record, record and enum of another package, primitives,
// null), logical types, optionals, collections and recursion, through
// hamba's default API (registered branch types) and a fresh one (generic
// branches converted).
func TestSinkRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		payment  kitchen.SinkPayment
		anything kitchen.SinkAnything
	}{
		{"cash and null", kitchen.Cash{Amount: shared.Amount{Value: rat("12.3456")}}, nil},
		{"card and string", kitchen.Card{Number: "5500", Expires: time.Date(2029, 5, 1, 0, 0, 0, 0, time.UTC)}, kitchen.SinkAnythingString("any")},
		{"long", kitchen.Cash{Amount: shared.Amount{Value: rat("0")}}, kitchen.SinkAnythingLong(-42)},
		{"point of another package", kitchen.Cash{Amount: shared.Amount{Value: rat("1")}}, kitchen.SinkAnythingPoint{X: 1.5, Color: shared.ColorRed}},
		{"enum of another package", kitchen.Cash{Amount: shared.Amount{Value: rat("1")}}, kitchen.SinkAnythingColor(shared.ColorDarkGreen)},
	}
	schema := kitchen.SinkBinding.Schema()
	for _, scalar := range []kitchen.SinkScalar{
		kitchen.SinkScalarBoolean(true), kitchen.SinkScalarInt(-3), kitchen.SinkScalarBytes{1, 2},
		kitchen.SinkScalarFloat(1.5), kitchen.SinkScalarDouble(-2.25),
	} {
		for apiName, api := range map[string]avro.API{"default": avro.DefaultConfig, "fresh": avro.Config{}.Freeze()} {
			t.Run(fmt.Sprintf("scalar %T/%s", scalar, apiName), func(t *testing.T) {
				codegentest.RoundTrip(t, api, schema, sinkScalar(kitchen.Card{Number: "1"}, nil, scalar))
			})
		}
	}
	for _, tc := range cases {
		for apiName, api := range map[string]avro.API{"default": avro.DefaultConfig, "fresh": avro.Config{}.Freeze()} {
			t.Run(tc.name+"/"+apiName, func(t *testing.T) {
				codegentest.RoundTrip(t, api, schema, sink(tc.payment, tc.anything))
			})
		}
	}
}

func TestSinkJSONRoundTrip(t *testing.T) {
	in := sink(kitchen.Card{Number: "1"}, kitchen.SinkAnythingPoint{X: 2, Color: shared.ColorRed})
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out kitchen.Sink
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	if d := codegentest.Diff(in.Anything, out.Anything); d != "" {
		t.Errorf("anything: %s", d)
	}
	if d := codegentest.Diff(in.Payment, out.Payment); d != "" {
		t.Errorf("payment: %s", d)
	}
}

func TestOtherBindings(t *testing.T) {
	tree := &kitchen.Tree{Depth: 3, Children: []kitchen.Tree{{Depth: 4}}}
	codegentest.RoundTrip(t, nil, kitchen.TreeBinding.Schema(), tree)
	if k, _ := kitchen.TreeBinding.KeyOf(tree); string(k) != "3" {
		t.Errorf("Tree key = %q, want 3", k)
	}
	p := &shared.Point{X: 1, Color: shared.ColorDarkGreen}
	codegentest.RoundTrip(t, nil, shared.PointBinding.Schema(), p)
	if k, _ := shared.PointBinding.KeyOf(p); string(k) != "DARK_GREEN" {
		t.Errorf("Point key = %q", k)
	}
	if shared.PointBinding.Subject() != "fixture.shared.Point" || kitchen.TreeBinding.Subject() != "trees-fixture.kitchen.Tree" {
		t.Error("subjects do not follow the manifest strategies")
	}
}

// TestSealedUnionExhaustive shows the type switch a consumer writes.
func TestSealedUnionExhaustive(t *testing.T) {
	describe := func(v kitchen.SinkAnything) string {
		switch v.(type) {
		case kitchen.SinkAnythingString:
			return "string"
		case kitchen.SinkAnythingLong:
			return "long"
		case kitchen.SinkAnythingPoint:
			return "point"
		case kitchen.SinkAnythingColor:
			return "color"
		}
		return "impossible"
	}
	for want, v := range map[string]kitchen.SinkAnything{
		"string": kitchen.SinkAnythingString("s"), "long": kitchen.SinkAnythingLong(1),
		"point": kitchen.SinkAnythingPoint{}, "color": kitchen.SinkAnythingColor(shared.ColorRed),
	} {
		if got := describe(v); got != want {
			t.Errorf("describe(%T) = %s", v, got)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := sink(kitchen.Card{Number: "1"}, kitchen.SinkAnythingColor(shared.ColorRed))
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid sink: %v", err)
	}
	bad := sink(kitchen.Cash{Amount: shared.Amount{}}, kitchen.SinkAnythingPoint{Color: "PURPLE"})
	bad.Price = nil
	bad.Color = ""
	bad.Points[1].Color = "BLUE"
	bad.PointsByName = map[string]shared.Point{"o": {Color: "X"}}
	bad.History = append(bad.History, nil, &kitchen.SinkHistoryItemUnion{})
	bad.Prices = []*big.Rat{rat("1"), nil}
	bad.Tree.Children[1].Next = nil
	err := bad.Validate()
	if err == nil {
		t.Fatal("Validate accepted a sink hamba cannot encode")
	}
	for _, want := range []string{
		"price: nil decimal",
		`color: "" is not a symbol of fixture.shared.Color`,
		"prices[1]: nil decimal",
		`points[1]: color: "BLUE" is not a symbol of fixture.shared.Color`,
		`pointsByName["o"]: color: "X" is not a symbol`,
		"payment: amount: value: nil decimal",
		`anything: color: "PURPLE" is not a symbol`,
		"history[2]: nil union: set it with NewSinkHistoryItemUnion",
		"history[3]: the union holds no value",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
	// What Validate rejects, hamba indeed cannot encode (or panics on).
	func() {
		defer func() { recover() }()
		if _, err := avro.Marshal(kitchen.SinkBinding.Schema(), bad); err == nil {
			t.Error("hamba encoded an invalid sink")
		}
	}()
}
