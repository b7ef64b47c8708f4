package contract_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/schemas"
)

// FuzzFromJSON feeds arbitrary documents to the example parser: it must
// return a value or an ErrBadExample, never panic, and a value it accepts
// must encode.
func FuzzFromJSON(f *testing.F) {
	for _, p := range []string{"contrail.orders.OrderPlaced/card-web.json", "contrail.orders.OrderPlaced/invoice-mobile-minimal.json"} {
		b, err := os.ReadFile(filepath.Join(examplesDir, p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"payment": {"x": 1}}`))
	f.Add([]byte(`null`))
	set, err := schemas.Default()
	if err != nil {
		f.Fatal(err)
	}
	s := set.Types["contrail.orders.OrderPlaced"].Schema
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := contract.FromJSON(s, data)
		if err != nil {
			if !errors.Is(err, contract.ErrBadExample) {
				t.Fatalf("error does not wrap ErrBadExample: %v", err)
			}
			return
		}
		ex := &contract.Example{Event: "contrail.orders.OrderPlaced", File: "fuzz", Value: v}
		if _, err := ex.Encode(s); err != nil {
			t.Fatalf("accepted example does not encode: %v\n%s", err, data)
		}
	})
}

// FuzzUnmarshal feeds arbitrary contract files to the contract parser.
func FuzzUnmarshal(f *testing.F) {
	b, err := os.ReadFile(filepath.Join("..", contract.DefaultDir, "payment", "orders-contrail.orders.OrderPlaced.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"consumer":"x"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := contract.Unmarshal("fuzz.json", data)
		if err != nil {
			if !errors.Is(err, contract.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if _, err := contract.Marshal(c); err != nil {
			t.Fatalf("accepted contract does not marshal: %v", err)
		}
	})
}
