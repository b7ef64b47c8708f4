package console

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"
)

// TestMasking: a listed path and a field marked "contrail.sensitive" are
// masked wherever they are (inside a union branch, an array), nothing else.
func TestMasking(t *testing.T) {
	s := avro.MustParse(`{"type":"record","name":"R","namespace":"n","fields":[
 {"name":"id","type":"string"},
 {"name":"pay","type":["null",{"type":"record","name":"Card","fields":[
   {"name":"token","type":"string"},{"name":"last4","type":"string"}]}]},
 {"name":"people","type":{"type":"array","items":{"type":"record","name":"P","fields":[
   {"name":"email","type":"string","contrail.sensitive":true},{"name":"name","type":"string"}]}}},
 {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}}]}`)
	v := map[string]any{"id": "o-1", "pay": map[string]any{"n.Card": map[string]any{"token": "tok_visa", "last4": "4242"}},
		"people": []any{map[string]any{"email": "ada@example.com", "name": "Ada"}}, "amount": big.NewRat(329, 10)}
	body, err := genericAPI.Marshal(s, v)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBody(s, body)
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(newMasker([]string{"pay.token"}).jsonValue(s, got, ""))
	if err != nil {
		t.Fatal(err)
	}
	js := string(out)
	for _, secret := range []string{"tok_visa", "ada@example.com"} {
		if strings.Contains(js, secret) {
			t.Errorf("%s not masked: %s", secret, js)
		}
	}
	for _, shown := range []string{`"last4":"4242"`, `"name":"Ada"`, `"id":"o-1"`, `"amount":"32.90"`, `{"n.Card":{"token":"` + maskedValue} {
		if !strings.Contains(js, shown) {
			t.Errorf("%s missing: %s", shown, js)
		}
	}
	if !strings.HasPrefix(js, `{"id":`) {
		t.Errorf("fields out of schema order: %s", js)
	}
	// A body that ends early or has bytes left over does not decode.
	if _, err := decodeBody(s, body[:len(body)-1]); err == nil {
		t.Error("short body decoded")
	}
	if _, err := decodeBody(s, append(body, 0)); err == nil {
		t.Error("body with a trailing byte decoded")
	}
}
