package order_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events/money"
	"github.com/contrail-events/contrail/services/order"
)

// wide is a character of four UTF-8 bytes, the most one character costs
// in an event.
const wide = "\U0001D11E"

// orderBody is a POST /orders body; the test cases change its fields.
type orderBody struct {
	CustomerID string `json:"customer_id"`
	Currency   string `json:"currency"`
	Items      []struct {
		SKU       string `json:"sku"`
		Quantity  int    `json:"quantity"`
		UnitPrice string `json:"unit_price"`
	} `json:"items"`
	ShippingAddress map[string]string `json:"shipping_address"`
	Payment         map[string]any    `json:"payment"`
	Channel         string            `json:"channel,omitempty"`
	CouponCode      string            `json:"coupon_code,omitempty"`
}

func (b orderBody) item(sku string, qty int, price string) orderBody {
	b.Items = append(b.Items, struct {
		SKU       string `json:"sku"`
		Quantity  int    `json:"quantity"`
		UnitPrice string `json:"unit_price"`
	}{sku, qty, price})
	return b
}

func (b orderBody) json(t testing.TB) string {
	t.Helper()
	out, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// baseBody is a valid order without items.
func baseBody() orderBody {
	return orderBody{CustomerID: "c-1", Currency: "USD",
		ShippingAddress: map[string]string{"name": "Ada", "line1": "1 Loop Rd", "city": "Berlin", "postal_code": "10115", "country": "DE"},
		Payment:         map[string]any{"card_token": "tok_visa", "last4": "4242"}, Channel: "WEB"}
}

// largestBody is the largest order the limits allow: every text field at
// its limit in four-byte characters, MaxItems lines of MaxQuantity, and a
// total of 18 digits.
func largestBody() orderBody {
	w := func(n int) string { return strings.Repeat(wide, n) }
	b := orderBody{CustomerID: w(order.MaxCustomerIDLen), Currency: "USD", CouponCode: w(order.MaxCouponCodeLen), Channel: "MOBILE",
		ShippingAddress: map[string]string{"name": w(order.MaxNameLen), "line1": w(order.MaxNameLen), "line2": w(order.MaxNameLen),
			"city": w(order.MaxCityLen), "postal_code": w(order.MaxPostalCodeLen), "country": "DE"},
		Payment: map[string]any{"card_token": w(order.MaxCardTokenLen), "last4": "4242"}}
	for i := 0; i < order.MaxItems; i++ {
		// 999999999999 cents x 10000 x 100 lines = 999999999999000000 cents.
		b = b.item(w(order.MaxSKULen), order.MaxQuantity, "9999999999.99")
	}
	return b
}

// TestLargestOrder places the largest order the limits allow: it is
// accepted, its body fits MaxBodyBytes and its OrderPlaced encodes to at
// most MaxPlacedBytes. One character more in any field is 422 naming the
// field and its limit.
func TestLargestOrder(t *testing.T) {
	r, _, ob := newAPI(t)
	body := largestBody().json(t)
	if len(body) > order.MaxBodyBytes {
		t.Fatalf("the largest order's body is %d bytes, over MaxBodyBytes %d", len(body), order.MaxBodyBytes)
	}
	w := do(r, "POST", "/orders", body)
	var pr order.PlaceResponse
	if w.Code != http.StatusAccepted || json.Unmarshal(w.Body.Bytes(), &pr) != nil {
		t.Fatalf("largest order: %d %.500s", w.Code, w.Body)
	}
	size := ob.placedSize(pr.OrderID)
	if size == 0 || size > order.MaxPlacedBytes {
		t.Fatalf("the largest order's OrderPlaced encodes to %d bytes, want 1..%d", size, order.MaxPlacedBytes)
	}
	t.Logf("largest order: body %d bytes, OrderPlaced %d bytes (bound %d)", len(body), size, order.MaxPlacedBytes)

	more := func(s string) string { return s + "x" }
	tests := []struct {
		field string
		limit int
		edit  func(b *orderBody)
	}{
		{"customer_id", order.MaxCustomerIDLen, func(b *orderBody) { b.CustomerID = more(b.CustomerID) }},
		{"items[99].sku", order.MaxSKULen, func(b *orderBody) { b.Items[99].SKU = more(b.Items[99].SKU) }},
		{"shipping_address.name", order.MaxNameLen, func(b *orderBody) { b.ShippingAddress["name"] = more(b.ShippingAddress["name"]) }},
		{"shipping_address.line1", order.MaxNameLen, func(b *orderBody) { b.ShippingAddress["line1"] = more(b.ShippingAddress["line1"]) }},
		{"shipping_address.line2", order.MaxNameLen, func(b *orderBody) { b.ShippingAddress["line2"] = more(b.ShippingAddress["line2"]) }},
		{"shipping_address.city", order.MaxCityLen, func(b *orderBody) { b.ShippingAddress["city"] = more(b.ShippingAddress["city"]) }},
		{"shipping_address.postal_code", order.MaxPostalCodeLen, func(b *orderBody) {
			b.ShippingAddress["postal_code"] = more(b.ShippingAddress["postal_code"])
		}},
		{"payment.card_token", order.MaxCardTokenLen, func(b *orderBody) { b.Payment["card_token"] = more(b.Payment["card_token"].(string)) }},
		{"payment.invoice.purchase_order", order.MaxPurchaseOrderLen, func(b *orderBody) {
			b.Payment = map[string]any{"invoice": map[string]any{"purchase_order": strings.Repeat(wide, order.MaxPurchaseOrderLen+1)}}
		}},
		{"coupon_code", order.MaxCouponCodeLen, func(b *orderBody) { b.CouponCode = more(b.CouponCode) }},
		{"items", order.MaxItems, func(b *orderBody) { *b = b.item("SKU-1", 1, "0.01") }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			b := largestBody()
			tt.edit(&b)
			w := do(r, "POST", "/orders", b.json(t))
			var e order.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("%d %.300s", w.Code, w.Body)
			}
			if e.Field != tt.field || !strings.Contains(e.Fields[0].Message, fmt.Sprintf("at most %d", tt.limit)) {
				t.Fatalf("field %q message %q, want %q naming the limit %d", e.Field, e.Fields[0].Message, tt.field, tt.limit)
			}
			if len(e.Error) > 2000 {
				t.Errorf("the error repeats the input back: %d bytes", len(e.Error))
			}
		})
	}
}

// TestOrderTotalsAreChecked places orders over a real HTTP server: line
// and order totals use checked money arithmetic, so an amount beyond 18
// digits is 422 naming the field (not a wrapped-around total, not 503),
// the largest total is accepted and encodes, and a total of 0.00 is
// refused while a free line is not.
func TestOrderTotalsAreChecked(t *testing.T) {
	r, s, ob := newAPI(t)
	srv := httptest.NewServer(r)
	defer srv.Close()
	hundredMax := baseBody()
	for i := 0; i < order.MaxItems; i++ {
		hundredMax = hundredMax.item(fmt.Sprintf("SKU-%04d", i), 1, money.MaxCents.String())
	}
	tests := []struct {
		name  string
		body  orderBody
		code  int
		field string // for 422
		total string // for 202
	}{
		// The report: 18446744073709.55 x 10000 wrapped around in
		// int64 and, plus 11.16, made a total of -5.00 that shipped.
		{name: "line total wraps int64", body: baseBody().item("SKU-0008", 10000, "18446744073709.55").item("SKU-0009", 1, "11.16"),
			code: 422, field: "items[0].unit_price"},
		{name: "line total over 18 digits", body: baseBody().item("SKU-1", 2, money.MaxCents.String()), code: 422, field: "items[0].unit_price"},
		{name: "sum of lines over 18 digits", body: hundredMax, code: 422, field: "total"},
		{name: "two lines over 18 digits", body: baseBody().item("SKU-1", 1, money.MaxCents.String()).item("SKU-2", 1, "0.01"), code: 422, field: "total"},
		{name: "unit price of 17 digits", body: baseBody().item("SKU-1", 1, "12345678901234567"), code: 422, field: "items[0].unit_price"},
		{name: "unit price of 19 digits", body: baseBody().item("SKU-1", 1, "1234567890123456789.00"), code: 422, field: "items[0].unit_price"},
		{name: "total of 0.00", body: baseBody().item("SKU-1", 3, "0.00"), code: 422, field: "total"},
		{name: "free line beside a paid one", body: baseBody().item("GIFT", 1, "0.00").item("SKU-1", 2, "0.50"), code: 202, total: "1.00"},
		{name: "the largest total", body: baseBody().item("SKU-1", 1, money.MaxCents.String()), code: 202, total: "9999999999999999.99"},
		{name: "the largest total in lines", body: baseBody().item("SKU-1", 9, "1111111111111111.11"), code: 202, total: "9999999999999999.99"},
		{name: "the smallest total", body: baseBody().item("SKU-1", 1, "0.01"), code: 202, total: "0.01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := s.Count(t.Context(), order.ListFilter{})
			resp, err := http.Post(srv.URL+"/orders", "application/json", strings.NewReader(tt.body.json(t)))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.code {
				t.Fatalf("code %d, want %d: %s", resp.StatusCode, tt.code, b)
			}
			after, _ := s.Count(t.Context(), order.ListFilter{})
			if tt.code != 202 {
				var e order.ErrorBody
				if err := json.Unmarshal(b, &e); err != nil || e.Field != tt.field {
					t.Fatalf("field %q, want %q: %s", e.Field, tt.field, b)
				}
				if after != before {
					t.Fatalf("a refused order was stored")
				}
				return
			}
			var pr order.PlaceResponse
			json.Unmarshal(b, &pr)
			o, err := s.Get(t.Context(), pr.OrderID, false)
			if err != nil || o.Total != tt.total {
				t.Fatalf("stored total %q (%v), want %q", o.Total, err, tt.total)
			}
			if ob.placedSize(pr.OrderID) == 0 {
				t.Fatal("no OrderPlaced was encoded")
			}
		})
	}
}

// TestAdminRoutesNeedToken mounts the API as the service host does (Routes
// on the engine, AdminRoutes behind host.RequireAdmin): the order lists
// need the admin token, GET /orders/{id} does not, and without a token
// configured the lists answer 403 saying how to turn them on.
func TestAdminRoutesNeedToken(t *testing.T) {
	const token = "order-admin-token-0123456789"
	mount := func(t *testing.T, token string) *gin.Engine {
		gin.SetMode(gin.TestMode)
		s, _ := newStore(t)
		r := gin.New()
		order.Routes(r, s)
		order.AdminRoutes(r.Group("/", host.RequireAdmin(token)), s)
		return r
	}
	r := mount(t, token)
	var pr order.PlaceResponse
	if w := do(r, "POST", "/orders", validBody); w.Code != http.StatusAccepted || json.Unmarshal(w.Body.Bytes(), &pr) != nil {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
	off := mount(t, "")
	tests := []struct {
		name   string
		r      *gin.Engine
		path   string
		header []string
		code   int
		want   string
	}{
		{name: "order by id is open", r: r, path: "/orders/" + pr.OrderID, code: 200},
		{name: "list without token", r: r, path: "/orders", code: 401, want: "Bearer"},
		{name: "count without token", r: r, path: "/orders/count", code: 401, want: "Bearer"},
		{name: "list with a wrong token", r: r, path: "/orders", header: []string{"Authorization", "Bearer " + token + "x"}, code: 401},
		{name: "list with basic auth", r: r, path: "/orders", header: []string{"Authorization", "Basic " + token}, code: 401},
		{name: "list with the token", r: r, path: "/orders", header: []string{"Authorization", "Bearer " + token}, code: 200, want: pr.OrderID},
		{name: "count with the token", r: r, path: "/orders/count", header: []string{"Authorization", "bearer " + token}, code: 200, want: `"count":1`},
		{name: "list with the admin API off", r: off, path: "/orders", header: []string{"Authorization", "Bearer " + token}, code: 403, want: "CONTRAIL_ADMIN_TOKEN"},
		{name: "count with the admin API off", r: off, path: "/orders/count", code: 403, want: "CONTRAIL_ADMIN_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(tt.r, "GET", tt.path, "", tt.header...)
			if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.want) || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("GET %s: %d %s; want %d containing %q", tt.path, w.Code, w.Body, tt.code, tt.want)
			}
		})
	}
}

// TestErrorsDoNotEchoHugeValues: a bad value is quoted back cut short.
func TestErrorsDoNotEchoHugeValues(t *testing.T) {
	r, _, _ := newAPI(t)
	b := baseBody().item("SKU-1", 1, strings.Repeat("9", 30_000))
	b.Channel = strings.Repeat("F", 20_000)
	w := do(r, "POST", "/orders", b.json(t))
	if w.Code != http.StatusUnprocessableEntity || w.Body.Len() > 2000 || !utf8.Valid(w.Body.Bytes()) {
		t.Fatalf("%d, %d bytes: %.300s", w.Code, w.Body.Len(), w.Body)
	}
}
