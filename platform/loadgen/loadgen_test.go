package loadgen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail-events/contrail/platform/loadgen"
)

// fakeShop is an in-memory stand-in for the three services' HTTP APIs that
// completes every order at once, with a fault injected on purpose.
type fakeShop struct {
	mu      sync.Mutex
	fault   string
	n       int
	doubled bool
	orders  map[string]map[string]any
	pay     map[string]map[string]any
	shipped map[string]int64
}

func (f *fakeShop) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /orders", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Items []struct {
				SKU       string `json:"sku"`
				Quantity  int    `json:"quantity"`
				UnitPrice string `json:"unit_price"`
			} `json:"items"`
			Payment map[string]any `json:"payment"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.n++
		id := fmt.Sprintf("o%d", f.n)
		status, reason, charges, refunds := "SHIPPED", "", 1, 0
		for _, it := range body.Items {
			if it.SKU == "SKU-SCARCE" {
				status, reason, refunds = "CANCELLED", "OUT_OF_STOCK", 1
			}
			if strings.HasPrefix(it.UnitPrice, "10000") {
				status, reason, charges, refunds = "CANCELLED", "PAYMENT_FAILED", 0, 0
			}
		}
		if body.Payment["card_token"] == "tok_decline" {
			status, reason, charges, refunds = "CANCELLED", "PAYMENT_FAILED", 0, 0
		}
		finals := []map[string]any{{"type": "contrail.shipping.OrderShipped", "direction": "in", "event_id": id + "-f"}}
		if status == "CANCELLED" {
			finals = []map[string]any{{"type": "contrail.orders.OrderCancelled", "direction": "out", "event_id": id + "-f"}}
		} else {
			for _, it := range body.Items {
				f.shipped[it.SKU] += int64(it.Quantity)
			}
		}
		switch {
		case f.fault == "double charge" && !f.doubled && status == "SHIPPED":
			// A shipped order, so only the charge rule breaks (an order
			// cancelled after its charge would also lack a refund).
			charges, f.doubled = 2, true
		case f.fault == "missing refund" && refunds == 1:
			refunds = 0
		case f.fault == "final twice" && f.n == 2:
			finals = append(finals, map[string]any{"type": "contrail.orders.OrderCancelled", "direction": "out", "event_id": id + "-g"})
		}
		now := time.Now().UTC()
		f.orders[id] = map[string]any{"order_id": id, "status": status, "reason": reason, "created_at": now,
			"final_at": now.Add(10 * time.Millisecond), "history": finals}
		f.pay[id] = map[string]any{"order_id": id, "status": "X", "charges": charges, "refunds": refunds}
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]string{"order_id": id, "status": "PENDING"})
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		list := []map[string]any{}
		for _, o := range f.orders {
			if r.URL.Query().Get("open") != "true" || (o["status"] != "SHIPPED" && o["status"] != "CANCELLED") {
				list = append(list, o)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"orders": list})
	})
	mux.HandleFunc("GET /orders/count", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := 0
		for _, o := range f.orders {
			if o["status"] != "SHIPPED" && o["status"] != "CANCELLED" {
				n++
			}
		}
		json.NewEncoder(w).Encode(map[string]int{"count": n})
	})
	mux.HandleFunc("GET /orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		json.NewEncoder(w).Encode(f.orders[r.PathValue("id")])
	})
	mux.HandleFunc("GET /stock", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		skus := []map[string]any{}
		var total int64
		leaked := false
		for sku, n := range f.shipped {
			// One unit of one shipped SKU vanishes from the books. Which
			// SKUs ship depends on how the workers share the orders, so
			// the leak must not wait for a particular one.
			if f.fault == "stock leak" && n > 0 && !leaked {
				n--
				leaked = true
			}
			skus = append(skus, map[string]any{"sku": sku, "initial": 1000000, "available": 1000000 - n, "reserved": 0, "shipped": n})
			total += n
		}
		json.NewEncoder(w).Encode(map[string]any{"conserved": true, "skus": skus,
			"totals": map[string]any{"Reserved": 0, "Shipped": total}})
	})
	mux.HandleFunc("GET /payments", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		list := []map[string]any{}
		for _, p := range f.pay {
			list = append(list, p)
		}
		json.NewEncoder(w).Encode(map[string]any{"payments": list})
	})
	return mux
}

// TestInvariantsDetectFaults proves each invariant can fail: the fake shop
// breaks exactly one rule per case and only that invariant must report it.
func TestInvariantsDetectFaults(t *testing.T) {
	tests := []struct {
		fault, failing string
	}{
		{fault: "", failing: ""},
		{fault: "double charge", failing: "each charged order charged once"},
		{fault: "missing refund", failing: "each cancelled-after-charge order refunded"},
		{fault: "final twice", failing: "every order final exactly once"},
		{fault: "stock leak", failing: "stock conserved (initial = available + reserved + shipped)"},
	}
	for _, tt := range tests {
		name := tt.fault
		if name == "" {
			name = "healthy"
		}
		t.Run(name, func(t *testing.T) {
			shop := &fakeShop{fault: tt.fault, orders: map[string]map[string]any{}, pay: map[string]map[string]any{}, shipped: map[string]int64{}}
			srv := httptest.NewServer(shop.handler())
			defer srv.Close()
			rep, err := loadgen.Run(context.Background(), loadgen.Config{Orders: 60, Concurrency: 4, Seed: 7,
				OrderURL: srv.URL, InventoryURL: srv.URL, PaymentURL: srv.URL, Timeout: 2 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			for _, inv := range rep.Invariants {
				if inv.Name == "every order reached its expected outcome" {
					continue
				}
				if wantFail := inv.Name == tt.failing; inv.OK == wantFail {
					t.Errorf("%s: ok=%v (errors %v), want ok=%v", inv.Name, inv.OK, inv.Errors, !wantFail)
				}
			}
			if rep.OK != (tt.failing == "") {
				t.Errorf("report OK = %v", rep.OK)
			}
			if rep.Latency.P50 <= 0 || rep.OrdersPerSec <= 0 || rep.Kinds[loadgen.Good] == 0 {
				t.Errorf("figures missing: %+v", rep)
			}
		})
	}
}
