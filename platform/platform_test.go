package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/loadgen"
	"github.com/contrail-events/contrail/platform/platformtest"
)

func testConfig(dataDir string) platform.Config {
	return platformtest.Config(contrailBin, dataDir, "OTEL_SDK_DISABLED=true")
}

func start(t *testing.T, cfg platform.Config) *platform.Platform {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var out bytes.Buffer
	cfg.Out = &out
	p, err := platform.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start platform: %v\n%s", err, out.String())
	}
	return p
}

// place places body and returns the new order's id; the order must be
// PENDING.
func place(t *testing.T, base, body string) string {
	t.Helper()
	p := platformtest.Place(t, base, body)
	if p.Status != "PENDING" {
		t.Fatalf("POST /orders: order %s is %q, want PENDING", p.OrderID, p.Status)
	}
	return p.OrderID
}

// waitFinal waits up to 30s for order id to be SHIPPED or CANCELLED.
func waitFinal(t *testing.T, base, id string) platformtest.Order {
	t.Helper()
	return platformtest.WaitOrder(t, base, id, 30*time.Second, "final", func(v platformtest.Order) bool {
		return v.Status == "SHIPPED" || v.Status == "CANCELLED"
	})
}

func orderBody(sku string, qty int, price, token string) string {
	s := strings.Replace(platform.SampleOrder, `"sku":"SKU-0001","quantity":2,"unit_price":"19.99"`,
		`"sku":"`+sku+`","quantity":`+itoa(qty)+`,"unit_price":"`+price+`"`, 1)
	return strings.Replace(s, `"tok_visa"`, `"`+token+`"`, 1)
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestFlowEndToEnd runs the platform with real subprocess services on free
// ports, places orders over HTTP, checks each reaches its final state with
// its history, runs a small load with every invariant, then restarts the
// platform on the same data directory and checks nothing was lost.
func TestFlowEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("platform end-to-end test (subprocess services): slow, runs in make test")
	}
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.ConsoleAddr = "127.0.0.1:0"
	p := start(t, cfg)
	base := p.ServiceURLs["order"]

	tests := []struct {
		name, body     string
		status, reason string
		types          []string
	}{
		{name: "good order ships", body: platform.SampleOrder, status: "SHIPPED",
			types: []string{"contrail.orders.OrderPlaced", "contrail.inventory.InventoryReserved", "contrail.payments.PaymentConfirmed", "contrail.orders.OrderReady", "contrail.shipping.OrderShipped"}},
		{name: "out of stock", body: orderBody("SKU-SCARCE", 6, "1.00", "tok_visa"), status: "CANCELLED", reason: "OUT_OF_STOCK",
			types: []string{"contrail.orders.OrderPlaced", "contrail.inventory.InventoryRejected", "contrail.payments.PaymentConfirmed", "contrail.orders.OrderCancelled", "contrail.payments.PaymentRefunded"}},
		{name: "card declined", body: orderBody("SKU-0002", 1, "5.00", "tok_decline"), status: "CANCELLED", reason: "PAYMENT_FAILED",
			types: []string{"contrail.orders.OrderPlaced", "contrail.inventory.InventoryReserved", "contrail.payments.PaymentFailed", "contrail.orders.OrderCancelled", "contrail.inventory.InventoryReleased"}},
		{name: "over the limit", body: orderBody("SKU-0003", 2, "5000.01", "tok_visa"), status: "CANCELLED", reason: "PAYMENT_FAILED"},
	}
	ids := map[string]string{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := place(t, base, tt.body)
			ids[tt.name] = id
			v := waitFinal(t, base, id)
			if v.Status != tt.status || v.Reason != tt.reason {
				t.Fatalf("order %s: %s %s, want %s %s", id, v.Status, v.Reason, tt.status, tt.reason)
			}
			if tt.types == nil {
				return
			}
			// Releases and refunds follow the final state; wait for them.
			// Emitted events get their offsets once the relay's publish is
			// acknowledged; wait for those too.
			located := func() bool {
				for _, h := range v.History {
					if h.Offset < 0 {
						return false
					}
				}
				return len(v.History) >= len(tt.types)
			}
			deadline := time.Now().Add(10 * time.Second)
			for !located() && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				v = waitFinal(t, base, id)
			}
			got := map[string]bool{}
			for _, h := range v.History {
				got[h.Type] = true
				if h.Offset < 0 || h.Partition < 0 || h.SchemaID <= 0 || h.Version <= 0 || h.Subject == "" || h.Topic == "" {
					t.Errorf("history entry without its record or schema version: %+v", h)
				}
			}
			for _, typ := range tt.types {
				if !got[typ] {
					t.Errorf("history lacks %s: %+v", typ, v.History)
				}
			}
			if len(v.History) != len(tt.types) {
				t.Errorf("history has %d entries, want %d: %+v", len(v.History), len(tt.types), v.History)
			}
		})
	}

	// contrail up serves the console over the same parts.
	t.Run("console", func(t *testing.T) {
		id := ids["good order ships"]
		if id == "" {
			t.Skip("needs the good order placed above")
		}
		for path, want := range map[string]string{
			"/schemas":      "orders-contrail.orders.OrderPlaced",
			"/topics":       "orders",
			"/orders/" + id: id,
		} {
			resp, err := http.Get(p.ConsoleURL + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
				t.Fatalf("console %s: HTTP %d, want 200 showing %q", path, resp.StatusCode, want)
			}
		}
	})

	rep, err := loadgen.Run(context.Background(), loadgen.Config{Orders: 60, Concurrency: 8, OrderURL: base,
		InventoryURL: p.ServiceURLs["inventory"], PaymentURL: p.ServiceURLs["payment"], Seed: 42, Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Final["SHIPPED"] == 0 || rep.Final["CANCELLED OUT_OF_STOCK"] == 0 {
		var b bytes.Buffer
		rep.WriteText(&b)
		t.Fatalf("load run failed:\n%s", b.String())
	}

	if err := p.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	// State survives a restart: the same data directory, new ports.
	p2 := start(t, testConfig(dir))
	defer p2.Close()
	base2 := p2.ServiceURLs["order"]
	if v := waitFinal(t, base2, ids["good order ships"]); v.Status != "SHIPPED" || len(v.History) != 5 {
		t.Fatalf("after restart: %+v", v)
	}
	if v := waitFinal(t, base2, place(t, base2, platform.SampleOrder)); v.Status != "SHIPPED" {
		t.Fatalf("new order after restart: %+v", v)
	}
}
