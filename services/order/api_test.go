package order_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/contrail-events/contrail/services/order"
	"github.com/contrail-events/contrail/tracing"
)

const validBody = `{"customer_id":"c-1","currency":"USD",
 "items":[{"sku":"SKU-1","quantity":2,"unit_price":"19.99"}],
 "shipping_address":{"name":"Ada","line1":"1 Loop Rd","city":"Berlin","postal_code":"10115","country":"DE"},
 "payment":{"card_token":"tok_visa","last4":"4242"},"channel":"WEB"}`

// newAPI serves the order API, the admin routes included and unguarded
// (the host guards them; TestAdminRoutesNeedToken checks that wiring).
func newAPI(t testing.TB) (*gin.Engine, *order.Store, *txOutbox) {
	gin.SetMode(gin.TestMode)
	s, ob := newStore(t)
	r := gin.New()
	order.Routes(r, s)
	order.AdminRoutes(r, s)
	return r, s, ob
}

func do(r http.Handler, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func TestPostOrdersRejectsBadInput(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		code  int
		field string
	}{
		{name: "not json", body: `{"customer_id":`, code: 400},
		{name: "wrong type", body: strings.Replace(validBody, `"quantity":2`, `"quantity":"2"`, 1), code: 400, field: "items.quantity"},
		{name: "unknown field", body: strings.Replace(validBody, `"channel"`, `"chanel"`, 1), code: 400, field: "chanel"},
		{name: "no customer", body: strings.Replace(validBody, `"c-1"`, `""`, 1), code: 422, field: "customer_id"},
		{name: "bad currency", body: strings.Replace(validBody, `"USD"`, `"XXX"`, 1), code: 422, field: "currency"},
		{name: "no items", body: strings.Replace(validBody, `[{"sku":"SKU-1","quantity":2,"unit_price":"19.99"}]`, `[]`, 1), code: 422, field: "items"},
		{name: "zero quantity", body: strings.Replace(validBody, `"quantity":2`, `"quantity":0`, 1), code: 422, field: "items[0].quantity"},
		{name: "negative quantity", body: strings.Replace(validBody, `"quantity":2`, `"quantity":-3`, 1), code: 422, field: "items[0].quantity"},
		{name: "bad price", body: strings.Replace(validBody, `"19.99"`, `"19.999"`, 1), code: 422, field: "items[0].unit_price"},
		{name: "empty sku", body: strings.Replace(validBody, `"SKU-1"`, `""`, 1), code: 422, field: "items[0].sku"},
		{name: "bad country", body: strings.Replace(validBody, `"DE"`, `"Germany"`, 1), code: 422, field: "shipping_address.country"},
		{name: "misspelt address key", body: strings.Replace(validBody, `"shipping_address"`, `"_x"`, 1), code: 400, field: "_x"},
		{name: "no payment", body: strings.Replace(validBody, `"payment":{"card_token":"tok_visa","last4":"4242"},`, ``, 1), code: 422, field: "payment"},
		{name: "bad last4", body: strings.Replace(validBody, `"4242"`, `"42"`, 1), code: 422, field: "payment.last4"},
		{name: "bad channel", body: strings.Replace(validBody, `"WEB"`, `"FAX"`, 1), code: 422, field: "channel"},
		{name: "control character", body: strings.Replace(validBody, `"Ada"`, `"Ada\u0000"`, 1), code: 422, field: "shipping_address.name"},
		{name: "long coupon", body: strings.Replace(validBody, `"channel":"WEB"`, `"channel":"WEB","coupon_code":"`+strings.Repeat("C", 65)+`"`, 1), code: 422, field: "coupon_code"},
		{name: "body over 64 KiB", body: strings.Replace(validBody, `"Ada"`, `"`+strings.Repeat("A", order.MaxBodyBytes)+`"`, 1), code: 413},
		{name: "too many items", body: strings.Replace(validBody, `{"sku":"SKU-1","quantity":2,"unit_price":"19.99"}`, strings.TrimSuffix(strings.Repeat(`{"sku":"S","quantity":1,"unit_price":"1"},`, 101), ","), 1), code: 422, field: "items"},
	}
	r, s, ob := newAPI(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(r, "POST", "/orders", tt.body)
			if w.Code != tt.code {
				t.Fatalf("code %d, want %d: %s", w.Code, tt.code, w.Body)
			}
			var e order.ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("body %s: %v", w.Body, err)
			}
			if tt.field != "" && e.Field != tt.field {
				t.Errorf("field %q, want %q (%s)", e.Field, tt.field, e.Error)
			}
		})
	}
	list, _, err := s.List(t.Context(), order.ListFilter{Limit: 10})
	if err != nil || len(list) != 0 {
		t.Fatalf("bad requests stored %d orders (%v)", len(list), err)
	}
	// Nothing published: the emitter (the outbox in production, which the
	// relay publishes from) received no event.
	if n := ob.count(t); n != 0 {
		t.Fatalf("bad requests emitted %d events", n)
	}
	// The same recorder sees a good order's event: the check above can fail.
	if w := do(r, "POST", "/orders", validBody); w.Code != http.StatusAccepted || ob.count(t) != 1 {
		t.Fatalf("good order: %d %s, %d events emitted", w.Code, w.Body, ob.count(t))
	}
}

func TestPostGetOrder(t *testing.T) {
	r, _, ob := newAPI(t)
	w := do(r, "POST", "/orders", validBody, "Idempotency-Key", "abc")
	if w.Code != http.StatusAccepted {
		t.Fatalf("code %d: %s", w.Code, w.Body)
	}
	var pr order.PlaceResponse
	if err := json.Unmarshal(w.Body.Bytes(), &pr); err != nil || pr.OrderID == "" || pr.Status != order.Pending {
		t.Fatalf("response %s: %v", w.Body, err)
	}
	w2 := do(r, "POST", "/orders", validBody, "Idempotency-Key", "abc")
	var pr2 order.PlaceResponse
	json.Unmarshal(w2.Body.Bytes(), &pr2)
	if w2.Code != http.StatusAccepted || pr2.OrderID != pr.OrderID || w2.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", w2.Code, w2.Body)
	}
	w3 := do(r, "POST", "/orders", strings.Replace(validBody, `"quantity":2`, `"quantity":3`, 1), "Idempotency-Key", "abc")
	if w3.Code != http.StatusUnprocessableEntity || !strings.Contains(w3.Body.String(), "Idempotency-Key") {
		t.Fatalf("conflict: %d %s", w3.Code, w3.Body)
	}
	if e := ob.emitted(t, pr.OrderID); len(e) != 1 {
		t.Fatalf("emitted %v, want one OrderPlaced", e)
	}
	g := do(r, "GET", "/orders/"+pr.OrderID, "")
	var o order.Order
	if err := json.Unmarshal(g.Body.Bytes(), &o); err != nil || g.Code != 200 {
		t.Fatalf("get: %d %s", g.Code, g.Body)
	}
	if o.Total != "39.98" || o.Status != order.Pending || len(o.History) != 1 || o.History[0].Type != order.TypeOrderPlaced {
		t.Fatalf("order %+v", o)
	}
	if nf := do(r, "GET", "/orders/nope", ""); nf.Code != 404 {
		t.Fatalf("unknown order: %d", nf.Code)
	}
	l := do(r, "GET", "/orders?limit=1", "")
	var lr order.ListResponse
	if err := json.Unmarshal(l.Body.Bytes(), &lr); err != nil || len(lr.Orders) != 1 || lr.Next != "" {
		t.Fatalf("list: %s", l.Body)
	}
	if bad := do(r, "GET", "/orders?limit=0", ""); bad.Code != 400 {
		t.Fatalf("limit=0: %d", bad.Code)
	}
	var cr order.CountResponse
	if c := do(r, "GET", "/orders/count?open=true", ""); c.Code != 200 || json.Unmarshal(c.Body.Bytes(), &cr) != nil || cr.Count != 1 {
		t.Fatalf("count of open orders: %d %s", c.Code, c.Body)
	}
	if bad := do(r, "GET", "/orders/count?open=yes", ""); bad.Code != 400 || !strings.Contains(bad.Body.String(), `"field":"open"`) {
		t.Fatalf("open=yes: %d %s", bad.Code, bad.Body)
	}
}

// TestPostOrderTagsServerSpan checks that POST /orders puts the new order's
// id on its HTTP server span (the root of the order's trace), so a Jaeger
// search by contrail.order.id finds it, and that GET does not (a poll would
// otherwise be the newest trace tagged with the id).
func TestPostOrderTagsServerSpan(t *testing.T) {
	gin.SetMode(gin.TestMode)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	s, _ := newStore(t)
	r := gin.New()
	r.Use(otelgin.Middleware("order", otelgin.WithTracerProvider(tp)))
	order.Routes(r, s)

	w := do(r, "POST", "/orders", validBody)
	var pr order.PlaceResponse
	if err := json.Unmarshal(w.Body.Bytes(), &pr); err != nil || w.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
	do(r, "GET", "/orders/"+pr.OrderID, "")
	do(r, "POST", "/orders", `{"customer_id":`)

	ended := rec.Ended()
	if len(ended) != 3 {
		t.Fatalf("%d spans ended, want 3", len(ended))
	}
	tagged := func(i int) string {
		for _, a := range ended[i].Attributes() {
			if a.Key == tracing.AttrOrderID {
				return a.Value.AsString()
			}
		}
		return ""
	}
	if got := tagged(0); got != pr.OrderID {
		t.Errorf("POST span %q: %s = %q, want %q", ended[0].Name(), tracing.AttrOrderID, got, pr.OrderID)
	}
	if got := ended[0].SpanContext().TraceID().String(); got != pr.TraceID {
		t.Errorf("response trace_id %q, span's %q", pr.TraceID, got)
	}
	if got := tagged(1); got != "" {
		t.Errorf("GET span tagged %q", got)
	}
	if got := tagged(2); got != "" {
		t.Errorf("rejected POST span tagged %q", got)
	}
}
