package loadgen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail-events/contrail/platform/loadgen"
)

// fakeShop is an in-memory stand-in for the three services' HTTP APIs that
// completes every order at once, with a fault injected on purpose. Like
// the services, it guards its list endpoints with an admin token.
type fakeShop struct {
	mu         sync.Mutex
	fault      string
	token      string // the services' admin token; "" = admin API off
	adminCalls int    // requests that reached an admin endpoint
	n          int
	doubled    bool
	orders     map[string]map[string]any
	pay        map[string]map[string]any
	shipped    map[string]int64
}

func newShop(fault, token string) *fakeShop {
	return &fakeShop{fault: fault, token: token, orders: map[string]map[string]any{}, pay: map[string]map[string]any{}, shipped: map[string]int64{}}
}

// admin wraps an admin endpoint the way host.RequireAdmin does: 403 with
// the admin API off, 401 without the right bearer token.
func (f *fakeShop) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case f.token == "":
			http.Error(w, `{"error":"the admin API is off"}`, http.StatusForbidden)
		case r.Header.Get("Authorization") != "Bearer "+f.token:
			http.Error(w, `{"error":"send the admin token"}`, http.StatusUnauthorized)
		default:
			f.mu.Lock()
			f.adminCalls++
			f.mu.Unlock()
			h(w, r)
		}
	}
}

// counts returns how many orders were placed and how many requests reached
// an admin endpoint.
func (f *fakeShop) counts() (placed, admin int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, f.adminCalls
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
	mux.HandleFunc("GET /orders", f.admin(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		list := []map[string]any{}
		for _, o := range f.orders {
			if r.URL.Query().Get("open") != "true" || (o["status"] != "SHIPPED" && o["status"] != "CANCELLED") {
				list = append(list, o)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"orders": list})
	}))
	mux.HandleFunc("GET /orders/count", f.admin(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		n := 0
		for _, o := range f.orders {
			if o["status"] != "SHIPPED" && o["status"] != "CANCELLED" {
				n++
			}
		}
		json.NewEncoder(w).Encode(map[string]int{"count": n})
	}))
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
	mux.HandleFunc("GET /payments", f.admin(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		list := []map[string]any{}
		for _, p := range f.pay {
			list = append(list, p)
		}
		json.NewEncoder(w).Encode(map[string]any{"payments": list})
	}))
	mux.HandleFunc("GET /payments/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		p, ok := f.pay[r.PathValue("id")]
		if !ok {
			http.Error(w, `{"error":"no payment"}`, http.StatusNotFound)
			return
		}
		json.NewEncoder(w).Encode(p)
	})
	return mux
}

const adminToken = "test-admin-token-0123456789"

// TestInvariantsDetectFaults proves each invariant can fail: the fake shop
// breaks exactly one rule per case and only that invariant must report it.
// Each case runs with the admin token (GET /orders/count, GET /payments)
// and without (each order and payment read by id).
func TestInvariantsDetectFaults(t *testing.T) {
	t.Setenv(loadgen.EnvAdminToken, "")
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
		for _, token := range []string{adminToken, ""} {
			name := tt.fault
			if name == "" {
				name = "healthy"
			}
			if token == "" {
				name += "/without admin token"
			}
			t.Run(name, func(t *testing.T) {
				shop := newShop(tt.fault, adminToken)
				srv := httptest.NewServer(shop.handler())
				defer srv.Close()
				rep, err := loadgen.Run(context.Background(), loadgen.Config{Orders: 60, Concurrency: 4, Seed: 7,
					OrderURL: srv.URL, InventoryURL: srv.URL, PaymentURL: srv.URL, Timeout: 2 * time.Second,
					AdminToken: token, AdminTokenFile: filepath.Join(t.TempDir(), "none")})
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
				if _, admin := shop.counts(); (admin > 0) != (token != "") {
					t.Errorf("%d calls to admin endpoints with token %q", admin, token)
				}
				if noted := len(rep.Notes) > 0; noted != (token == "") {
					t.Errorf("notes %q with token %q", rep.Notes, token)
				}
			})
		}
	}
}

// TestAdminToken checks where Run finds the admin token, and that a token
// the services refuse fails the run, saying why, before it places an
// order.
func TestAdminToken(t *testing.T) {
	t.Setenv(loadgen.EnvAdminToken, "")
	dir := t.TempDir()
	file := filepath.Join(dir, loadgen.AdminTokenFile)
	if err := os.WriteFile(file, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		serverToken string
		token, file string
		env         string // CONTRAIL_ADMIN_TOKEN
		want        string // substring of Run's error; "" for success with the admin endpoints
	}{
		{name: "token from the file up writes", serverToken: adminToken, file: file},
		{name: "token given wins over the file", serverToken: "another-token-0123456789", token: "another-token-0123456789", file: file},
		{name: "environment wins over the file", serverToken: "env-token-0123456789", env: "env-token-0123456789", file: file},
		{name: "wrong token", serverToken: "another-token-0123456789", file: file, want: "CONTRAIL_ADMIN_TOKEN"},
		{name: "admin API off on the services", serverToken: "", token: adminToken, want: "403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(loadgen.EnvAdminToken, tt.env)
			shop := newShop("", tt.serverToken)
			srv := httptest.NewServer(shop.handler())
			defer srv.Close()
			rep, err := loadgen.Run(context.Background(), loadgen.Config{Orders: 10, Concurrency: 2, Seed: 7,
				OrderURL: srv.URL, InventoryURL: srv.URL, PaymentURL: srv.URL, Timeout: time.Second,
				AdminToken: tt.token, AdminTokenFile: tt.file})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("Run = %v, want an error containing %q", err, tt.want)
				}
				if placed, _ := shop.counts(); placed != 0 {
					t.Fatalf("%d orders placed with a token the services refuse", placed)
				}
				return
			}
			if _, admin := shop.counts(); err != nil || !rep.OK || admin == 0 {
				t.Fatalf("Run = %v (ok %v), %d admin calls; want success through the admin endpoints", err, rep != nil && rep.OK, admin)
			}
		})
	}
}

// TestReplicaURLs gives every service two base URLs (two replicas of the
// same shop, as `contrail up --replicas 2` prints them) of which one is
// down: the run spreads placements over the order URLs, goes to the other
// replica whenever one cannot be reached, and every invariant holds.
func TestReplicaURLs(t *testing.T) {
	t.Setenv(loadgen.EnvAdminToken, "")
	shop := newShop("", adminToken)
	srv := httptest.NewServer(shop.handler())
	defer srv.Close()
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // connection refused
	urls := down.URL + "," + srv.URL + "/"
	rep, err := loadgen.Run(context.Background(), loadgen.Config{Orders: 40, Concurrency: 4, Seed: 7,
		OrderURL: urls, InventoryURL: urls, PaymentURL: urls, Timeout: 2 * time.Second, AdminToken: adminToken})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.PlaceErrors != 0 {
		t.Fatalf("report ok %v, %d placement errors: %+v", rep.OK, rep.PlaceErrors, rep.Invariants)
	}
	if placed, _ := shop.counts(); placed != 40 {
		t.Fatalf("%d orders reached the live replica, want 40", placed)
	}
}
