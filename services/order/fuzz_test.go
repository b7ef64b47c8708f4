package order_test

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/services/order"
	"github.com/gin-gonic/gin"
)

// FuzzPostOrders feeds arbitrary bodies to POST /orders: the API must
// answer 202, 400, 413 or 422 (never 5xx, never panic), always with a JSON
// body, and store an order exactly when it answered 202. Every accepted
// order's OrderPlaced must encode (the test outbox encodes it as the
// service's does; an encoding error would be a 503) to at most
// MaxPlacedBytes, far below the broker's 1 MiB record limit. An accepted
// order is read back through a second store on the same database file, as a
// restarted service would read it: a 202 means committed.
func FuzzPostOrders(f *testing.F) {
	f.Add(validBody)
	f.Add(`{}`)
	f.Add(`{"items":[{"sku":"A","quantity":1e99,"unit_price":"1"}]}`)
	f.Add(strings.Replace(validBody, `"19.99"`, `"-1"`, 1))
	f.Add(`[` + validBody + `]`)
	// The overflow: a line total that wraps int64.
	f.Add(strings.Replace(validBody, `{"sku":"SKU-1","quantity":2,"unit_price":"19.99"}`,
		`{"sku":"SKU-0008","quantity":10000,"unit_price":"18446744073709.55"},{"sku":"SKU-0009","quantity":1,"unit_price":"11.16"}`, 1))
	f.Add(strings.Replace(validBody, `"19.99"`, `"9999999999999999.99"`, 1))
	f.Add(strings.Replace(validBody, `"19.99"`, `"0.00"`, 1))
	f.Add(strings.Replace(validBody, `"Ada"`, `"`+strings.Repeat(wide, order.MaxNameLen)+`"`, 1))
	f.Add(largestBody().json(f))
	gin.SetMode(gin.TestMode)
	path := filepath.Join(f.TempDir(), "order.db")
	s, ob := newStoreAt(f, path)
	r := gin.New()
	order.Routes(r, s)
	order.AdminRoutes(r, s)
	restarted, _ := newStoreAt(f, path)
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
		case http.StatusAccepted, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
		default:
			t.Fatalf("code %d for %q: %s", w.Code, body, w.Body)
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("non-JSON answer %q", w.Body)
		}
		if stored := count() - before; (w.Code == http.StatusAccepted) != (stored == 1) {
			t.Fatalf("code %d but %d orders stored", w.Code, stored)
		}
		if w.Code != http.StatusAccepted {
			return
		}
		var pr order.PlaceResponse
		if err := json.Unmarshal(w.Body.Bytes(), &pr); err != nil {
			t.Fatal(err)
		}
		got, err := restarted.Get(t.Context(), pr.OrderID, false)
		if err != nil || got.ID != pr.OrderID {
			t.Fatalf("accepted order %s is not in the database file: %+v, %v", pr.OrderID, got, err)
		}
		if size := ob.placedSize(pr.OrderID); size == 0 || size > order.MaxPlacedBytes {
			t.Fatalf("accepted %q: its OrderPlaced encodes to %d bytes, want 1..%d", body, size, order.MaxPlacedBytes)
		}
	})
}
