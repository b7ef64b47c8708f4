package order

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events/money"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
)

// Limits of POST /orders.
const (
	MaxItems    = 100
	MaxQuantity = 10_000
	maxBody     = 1 << 20
)

// Currencies are the currencies POST /orders accepts (the schema's Currency
// symbols without UNKNOWN).
var Currencies = []string{"USD", "EUR", "GBP", "JPY"}

// PlaceRequest is the JSON body of POST /orders.
type PlaceRequest struct {
	CustomerID      string          `json:"customer_id"`
	Currency        string          `json:"currency"`
	Items           []ItemRequest   `json:"items"`
	ShippingAddress *AddressRequest `json:"shipping_address"`
	Payment         *PaymentRequest `json:"payment"`
	// Channel is WEB, MOBILE or empty (UNKNOWN).
	Channel    string `json:"channel,omitempty"`
	CouponCode string `json:"coupon_code,omitempty"`
}

// ItemRequest is one line: unit_price is a decimal string such as "19.99".
type ItemRequest struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	UnitPrice string `json:"unit_price"`
}

// AddressRequest is the shipping address; line2 is optional.
type AddressRequest struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// PaymentRequest is either {"card_token": ..., "last4": ...} or
// {"invoice": {"purchase_order": ..., "due_days": 30}}.
type PaymentRequest struct {
	CardToken string          `json:"card_token,omitempty"`
	Last4     string          `json:"last4,omitempty"`
	Invoice   *InvoiceRequest `json:"invoice,omitempty"`
}

// InvoiceRequest pays by invoice; due_days defaults to 30.
type InvoiceRequest struct {
	PurchaseOrder string `json:"purchase_order"`
	DueDays       int    `json:"due_days,omitempty"`
}

// FieldError names one invalid field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field of a request.
type ValidationError struct{ Fields []FieldError }

// Error lists the invalid fields as "field: message" pairs.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "order: invalid order: " + strings.Join(parts, "; ")
}

var (
	countryRe = regexp.MustCompile(`^[A-Z]{2}$`)
	last4Re   = regexp.MustCompile(`^[0-9]{4}$`)
)

// Validate checks r and returns the accepted Placement or a
// *ValidationError naming every bad field (JSON paths such as
// "items[2].quantity").
func (r *PlaceRequest) Validate() (Placement, error) {
	var errs []FieldError
	bad := func(field, msg string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(msg, args...)})
	}
	p := Placement{CustomerID: strings.TrimSpace(r.CustomerID), Currency: r.Currency, CouponCode: r.CouponCode}
	switch {
	case p.CustomerID == "":
		bad("customer_id", "required: the customer's id, e.g. \"cust-42\"")
	case len(p.CustomerID) > 64:
		bad("customer_id", "at most 64 characters")
	}
	okCur := false
	for _, c := range Currencies {
		okCur = okCur || c == r.Currency
	}
	if !okCur {
		bad("currency", "must be one of %s, got %q", strings.Join(Currencies, ", "), r.Currency)
	}
	switch {
	case len(r.Items) == 0:
		bad("items", "at least one line item is required")
	case len(r.Items) > MaxItems:
		bad("items", "at most %d line items, got %d", MaxItems, len(r.Items))
	}
	for i, it := range r.Items {
		if i >= MaxItems {
			break
		}
		f := fmt.Sprintf("items[%d]", i)
		if strings.TrimSpace(it.SKU) == "" || len(it.SKU) > 64 {
			bad(f+".sku", "required, 1 to 64 characters")
		}
		if it.Quantity <= 0 || it.Quantity > MaxQuantity {
			bad(f+".quantity", "must be between 1 and %d, got %d", MaxQuantity, it.Quantity)
		}
		price, err := money.ParseCents(it.UnitPrice)
		if err != nil {
			bad(f+".unit_price", "must be a decimal string with at most two fractional digits, e.g. \"19.99\", got %q", it.UnitPrice)
		}
		p.Items = append(p.Items, Line{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: price})
		p.Total += price * money.Cents(it.Quantity)
	}
	if a := r.ShippingAddress; a == nil {
		bad("shipping_address", "required: {name, line1, city, postal_code, country}")
	} else {
		for _, f := range []struct{ name, v string }{{"name", a.Name}, {"line1", a.Line1}, {"city", a.City}, {"postal_code", a.PostalCode}} {
			if strings.TrimSpace(f.v) == "" {
				bad("shipping_address."+f.name, "required")
			}
		}
		if !countryRe.MatchString(a.Country) {
			bad("shipping_address.country", "must be an ISO 3166-1 alpha-2 code such as \"DE\", got %q", a.Country)
		}
		p.Address = Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, Country: a.Country}
	}
	switch pay := r.Payment; {
	case pay == nil || (pay.CardToken == "" && pay.Invoice == nil):
		bad("payment", "required: {\"card_token\": \"tok_visa\", \"last4\": \"4242\"} or {\"invoice\": {\"purchase_order\": \"PO-1\"}}")
	case pay.CardToken != "" && pay.Invoice != nil:
		bad("payment", "give either card_token or invoice, not both")
	case pay.CardToken != "":
		if !last4Re.MatchString(pay.Last4) {
			bad("payment.last4", "must be the card's last 4 digits, got %q", pay.Last4)
		}
		p.Payment = Payment{CardToken: pay.CardToken, Last4: pay.Last4}
	default:
		if strings.TrimSpace(pay.Invoice.PurchaseOrder) == "" {
			bad("payment.invoice.purchase_order", "required")
		}
		due := pay.Invoice.DueDays
		if due == 0 {
			due = 30
		}
		if due < 1 || due > 365 {
			bad("payment.invoice.due_days", "must be between 1 and 365, got %d", due)
		}
		p.Payment = Payment{PurchaseOrder: pay.Invoice.PurchaseOrder, DueDays: due}
	}
	switch strings.ToUpper(r.Channel) {
	case "", "UNKNOWN":
		p.Channel = "UNKNOWN"
	case "WEB", "MOBILE":
		p.Channel = strings.ToUpper(r.Channel)
	default:
		bad("channel", "must be WEB or MOBILE, got %q", r.Channel)
	}
	if len(errs) > 0 {
		return Placement{}, &ValidationError{Fields: errs}
	}
	return p, nil
}

// PlaceResponse is the 202 body of POST /orders.
type PlaceResponse struct {
	OrderID string `json:"order_id"`
	Status  Status `json:"status"`
	TraceID string `json:"trace_id,omitempty"`
}

// ListResponse is the body of GET /orders.
type ListResponse struct {
	Orders []Order `json:"orders"`
	// Next is the cursor for the following page ("" = last page): pass it
	// as ?after=.
	Next string `json:"next,omitempty"`
}

// ErrorBody is every error response: a message, and for validation errors
// the first bad field and the full list.
type ErrorBody struct {
	Error  string       `json:"error"`
	Field  string       `json:"field,omitempty"`
	Fields []FieldError `json:"fields,omitempty"`
}

// Routes registers the order API on r: POST /orders, GET /orders/:id,
// GET /orders?after=&limit=&since=&open= (pages oldest first; since is an
// RFC 3339 time; open=true keeps orders that are not final yet) and
// GET /orders/count?since=&open= (how many such orders there are).
func Routes(r gin.IRouter, s *Store) {
	r.POST("/orders", func(c *gin.Context) { place(c, s) })
	r.GET("/orders/:id", func(c *gin.Context) {
		o, err := s.Get(c.Request.Context(), c.Param("id"), true)
		switch {
		case errors.Is(err, ErrUnknownOrder):
			c.JSON(http.StatusNotFound, ErrorBody{Error: fmt.Sprintf("no order %q: use the order_id POST /orders returned", c.Param("id"))})
		case err != nil:
			c.JSON(http.StatusInternalServerError, ErrorBody{Error: err.Error()})
		default:
			c.JSON(http.StatusOK, o)
		}
	})
	r.GET("/orders", func(c *gin.Context) {
		f, ok := listFilter(c)
		if !ok {
			return
		}
		list, next, err := s.List(c.Request.Context(), f)
		if err != nil {
			c.JSON(http.StatusInternalServerError, ErrorBody{Error: err.Error()})
			return
		}
		resp := ListResponse{Orders: list}
		if resp.Orders == nil {
			resp.Orders = []Order{}
		}
		if next > 0 {
			resp.Next = strconv.FormatInt(next, 10)
		}
		c.JSON(http.StatusOK, resp)
	})
	r.GET("/orders/count", func(c *gin.Context) {
		f, ok := listFilter(c)
		if !ok {
			return
		}
		n, err := s.Count(c.Request.Context(), f)
		if err != nil {
			c.JSON(http.StatusInternalServerError, ErrorBody{Error: err.Error()})
			return
		}
		c.JSON(http.StatusOK, CountResponse{Count: n})
	})
}

// CountResponse is the body of GET /orders/count.
type CountResponse struct {
	Count int `json:"count"`
}

// listFilter reads after, limit, since and open from the query; on a bad
// value it answers 400 naming the parameter and returns false.
func listFilter(c *gin.Context) (ListFilter, bool) {
	f := ListFilter{Limit: 50}
	bad := func(field, msg string) (ListFilter, bool) {
		c.JSON(http.StatusBadRequest, ErrorBody{Error: msg, Field: field})
		return ListFilter{}, false
	}
	if a := c.Query("after"); a != "" {
		v, err := strconv.ParseInt(a, 10, 64)
		if err != nil || v < 0 {
			return bad("after", "after must be the next cursor of a previous page")
		}
		f.After = v
	}
	if l := c.Query("limit"); l != "" {
		v, err := strconv.Atoi(l)
		if err != nil || v < 1 || v > 1000 {
			return bad("limit", "limit must be between 1 and 1000")
		}
		f.Limit = v
	}
	if v := c.Query("since"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return bad("since", "since must be an RFC 3339 time such as 2026-01-02T15:04:05Z")
		}
		f.Since = t
	}
	switch v := c.Query("open"); v {
	case "", "false":
	case "true":
		f.Open = true
	default:
		return bad("open", "open must be true or false")
	}
	return f, true
}

func place(c *gin.Context, s *Store) {
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxBody+1))
	if err != nil {
		c.JSON(http.StatusBadRequest, ErrorBody{Error: "could not read the request body: " + err.Error()})
		return
	}
	if len(body) > maxBody {
		c.JSON(http.StatusRequestEntityTooLarge, ErrorBody{Error: "request body over 1 MiB"})
		return
	}
	var req PlaceRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		c.JSON(http.StatusBadRequest, jsonError(err))
		return
	}
	if dec.More() {
		c.JSON(http.StatusBadRequest, ErrorBody{Error: "the body holds more than one JSON value: send one order object"})
		return
	}
	p, err := req.Validate()
	var ve *ValidationError
	if errors.As(err, &ve) {
		c.JSON(http.StatusUnprocessableEntity, ErrorBody{Error: ve.Error(), Field: ve.Fields[0].Field, Fields: ve.Fields})
		return
	}
	key := c.GetHeader("Idempotency-Key")
	if len(key) > 200 {
		c.JSON(http.StatusBadRequest, ErrorBody{Error: "Idempotency-Key is longer than 200 characters", Field: "Idempotency-Key"})
		return
	}
	canon, _ := json.Marshal(p)
	sum := sha256.Sum256(canon)
	traceID := ""
	if sc := trace.SpanContextFromContext(c.Request.Context()); sc.HasTraceID() {
		traceID = sc.TraceID().String()
	}
	o, created, err := s.place(c.Request.Context(), p, canon, key, hex.EncodeToString(sum[:]), traceID)
	switch {
	case errors.Is(err, ErrIdempotencyConflict):
		c.JSON(http.StatusUnprocessableEntity, ErrorBody{Error: err.Error() + ": use a new key for a new order", Field: "Idempotency-Key"})
		return
	case err != nil:
		c.JSON(http.StatusServiceUnavailable, ErrorBody{Error: "order not stored, nothing published: " + err.Error() + "; retry with the same Idempotency-Key"})
		return
	}
	// The root span of the order's trace: tag it so a Jaeger search by
	// order id finds it (a replay tags its own request span).
	statedb.TagOrder(c.Request.Context(), o.ID)
	if !created {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusAccepted, PlaceResponse{OrderID: o.ID, Status: o.Status, TraceID: o.TraceID})
}

func jsonError(err error) ErrorBody {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return ErrorBody{Error: fmt.Sprintf("field %s must be a JSON %s", te.Field, te.Type.Kind()), Field: te.Field}
	}
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return ErrorBody{Error: fmt.Sprintf("unknown field %q: see the order API in docs/order-flow.md", f), Field: f}
	}
	return ErrorBody{Error: "the body is not a valid JSON order: " + err.Error()}
}
