package order_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/services/order"
)

// FuzzPostOrders feeds arbitrary bodies to POST /orders: the API must
// answer 202, 400 or 422 (never 5xx, never panic), always with a JSON body,
// and store an order exactly when it answered 202.
func FuzzPostOrders(f *testing.F) {
	f.Add(validBody)
	f.Add(`{}`)
	f.Add(`{"items":[{"sku":"A","quantity":1e99,"unit_price":"1"}]}`)
	f.Add(strings.Replace(validBody, `"19.99"`, `"-1"`, 1))
	f.Add(`[` + validBody + `]`)
	r, s, _ := newAPI(f)
	f.Fuzz(func(t *testing.T, body string) {
		// Count, not a List page: a page stops at 1000 orders, and a long
		// fuzz run stores more than that.
		count := func() int {
			n, err := s.Count(t.Context(), order.ListFilter{})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := count()
		w := do(r, "POST", "/orders", body)
		switch w.Code {
		case http.StatusAccepted, http.StatusBadRequest, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("code %d for %q: %s", w.Code, body, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("non-JSON answer %q", w.Body)
		}
		if stored := count() - before; (w.Code == http.StatusAccepted) != (stored == 1) {
			t.Fatalf("code %d but %d orders stored", w.Code, stored)
		}
	})
}
