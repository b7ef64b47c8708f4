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
	"unicode"
	"unicode/utf8"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events/money"
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/trace"
)

// Limits of POST /orders. They keep every accepted order's OrderPlaced far
// below the broker's 1 MiB record limit: with every field at its limit and
// every character four bytes of UTF-8, the event encodes to about 31 KiB
// (MaxPlacedBytes bounds it; TestLargestOrder checks). A body over
// MaxBodyBytes is 413; a field over its limit is 422 naming the field and
// the limit. Text limits count characters (Unicode code points), not bytes.
const (
	// MaxBodyBytes bounds the JSON body: about twice the largest order the
	// field limits allow, written as plain UTF-8.
	MaxBodyBytes = 64 << 10
	// MaxItems bounds the line items of one order.
	MaxItems = 100
	// MaxQuantity bounds one line's quantity.
	MaxQuantity = 10_000

	MaxCustomerIDLen     = 64  // customer_id
	MaxSKULen            = 64  // items[].sku
	MaxNameLen           = 200 // shipping_address.name, line1 and line2
	MaxCityLen           = 100 // shipping_address.city
	MaxPostalCodeLen     = 20  // shipping_address.postal_code
	MaxCardTokenLen      = 128 // payment.card_token
	MaxPurchaseOrderLen  = 64  // payment.invoice.purchase_order
	MaxCouponCodeLen     = 64  // coupon_code
	MaxIdempotencyKeyLen = 200 // the Idempotency-Key header (stored, never in an event)

	// MaxPlacedBytes bounds the Avro encoding of the OrderPlaced an
	// accepted order produces (record value without the 5-byte wire
	// header; the trace headers a request can carry are bounded by
	// OpenTelemetry's own limits and the server's MaxHeaderBytes).
	MaxPlacedBytes = 40 << 10
)

// MinTotal is the smallest order total POST /orders accepts: 0.01. Single
// lines may be free (unit_price "0.00"), but the payment service charges
// the total, and there is no such thing as charging nothing.
const MinTotal money.Cents = 1

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

// echo quotes a client's value for an error message, cut to 40
// characters: an answer never repeats a huge field back.
func echo(v string) string {
	if utf8.RuneCountInString(v) <= 40 {
		return strconv.Quote(v)
	}
	r := []rune(v)
	return strconv.Quote(string(r[:40])) + fmt.Sprintf("... (%d characters)", len(r))
}

// Validate checks r and returns the accepted Placement or a
// *ValidationError naming every bad field (JSON paths such as
// "items[2].quantity") and, for a field over its limit, the limit. Money
// is computed with checked arithmetic: a line total (unit_price ×
// quantity) or an order total over money.MaxCents (18 digits) is reported
// on the line's unit_price or on "total", as is a total under MinTotal.
func (r *PlaceRequest) Validate() (Placement, error) {
	var errs []FieldError
	bad := func(field, msg string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(msg, args...)})
	}
	// text checks a free-text field: required (not blank) when asked, at
	// most max characters, and no control characters (a newline in an
	// address line or a NUL in a name is never meant).
	text := func(field, v string, max int, required bool, example string) {
		switch n := utf8.RuneCountInString(v); {
		case required && strings.TrimSpace(v) == "":
			if example != "" {
				bad(field, "required: %s", example)
			} else {
				bad(field, "required")
			}
		case n > max:
			bad(field, "at most %d characters, got %d", max, n)
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			bad(field, "must not contain control characters such as newlines or tabs")
		}
	}
	p := Placement{CustomerID: strings.TrimSpace(r.CustomerID), Currency: r.Currency, CouponCode: r.CouponCode}
	text("customer_id", p.CustomerID, MaxCustomerIDLen, true, `the customer's id, e.g. "cust-42"`)
	okCur := false
	for _, c := range Currencies {
		okCur = okCur || c == r.Currency
	}
	if !okCur {
		bad("currency", "must be one of %s, got %s", strings.Join(Currencies, ", "), echo(r.Currency))
	}
	switch {
	case len(r.Items) == 0:
		bad("items", "at least one line item is required")
	case len(r.Items) > MaxItems:
		bad("items", "at most %d line items, got %d", MaxItems, len(r.Items))
	}
	totalOK := true
	for i, it := range r.Items {
		if i >= MaxItems {
			break
		}
		f := fmt.Sprintf("items[%d]", i)
		text(f+".sku", it.SKU, MaxSKULen, true, "")
		qtyOK := it.Quantity > 0 && it.Quantity <= MaxQuantity
		if !qtyOK {
			bad(f+".quantity", "must be between 1 and %d, got %d", MaxQuantity, it.Quantity)
		}
		price, err := money.ParseCents(it.UnitPrice)
		switch {
		case errors.Is(err, money.ErrOverflow):
			bad(f+".unit_price", "at most %s (18 digits), got %s", money.MaxCents, echo(it.UnitPrice))
		case err != nil:
			bad(f+".unit_price", "must be a decimal string with at most two fractional digits, e.g. \"19.99\", got %s", echo(it.UnitPrice))
		}
		p.Items = append(p.Items, Line{SKU: it.SKU, Quantity: it.Quantity, UnitPrice: price})
		if err != nil || !qtyOK {
			totalOK = false
			continue
		}
		line, err := price.Mul(int64(it.Quantity))
		if err != nil {
			bad(f+".unit_price", "unit_price × quantity (%s × %d) is over the largest amount %s (18 digits)", price, it.Quantity, money.MaxCents)
			totalOK = false
			continue
		}
		if totalOK {
			if p.Total, err = p.Total.Add(line); err != nil {
				bad("total", "the sum of the lines is over the largest amount %s (18 digits): split the order", money.MaxCents)
				totalOK = false
			}
		}
	}
	if totalOK && len(r.Items) > 0 && len(r.Items) <= MaxItems && p.Total < MinTotal {
		bad("total", "the order total must be at least %s: free lines are fine, but payment charges the total", MinTotal)
	}
	if a := r.ShippingAddress; a == nil {
		bad("shipping_address", "required: {name, line1, city, postal_code, country}")
	} else {
		text("shipping_address.name", a.Name, MaxNameLen, true, "")
		text("shipping_address.line1", a.Line1, MaxNameLen, true, "")
		text("shipping_address.line2", a.Line2, MaxNameLen, false, "")
		text("shipping_address.city", a.City, MaxCityLen, true, "")
		text("shipping_address.postal_code", a.PostalCode, MaxPostalCodeLen, true, "")
		if !countryRe.MatchString(a.Country) {
			bad("shipping_address.country", "must be an ISO 3166-1 alpha-2 code such as \"DE\" (2 capital letters), got %s", echo(a.Country))
		}
		p.Address = Address{Name: a.Name, Line1: a.Line1, Line2: a.Line2, City: a.City, PostalCode: a.PostalCode, Country: a.Country}
	}
	switch pay := r.Payment; {
	case pay == nil || (pay.CardToken == "" && pay.Invoice == nil):
		bad("payment", "required: {\"card_token\": \"tok_visa\", \"last4\": \"4242\"} or {\"invoice\": {\"purchase_order\": \"PO-1\"}}")
	case pay.CardToken != "" && pay.Invoice != nil:
		bad("payment", "give either card_token or invoice, not both")
	case pay.CardToken != "":
		text("payment.card_token", pay.CardToken, MaxCardTokenLen, true, "")
		if !last4Re.MatchString(pay.Last4) {
			bad("payment.last4", "must be the card's last 4 digits, got %s", echo(pay.Last4))
		}
		p.Payment = Payment{CardToken: pay.CardToken, Last4: pay.Last4}
	default:
		text("payment.invoice.purchase_order", pay.Invoice.PurchaseOrder, MaxPurchaseOrderLen, true, "")
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
		bad("channel", "must be WEB or MOBILE, got %s", echo(r.Channel))
	}
	text("coupon_code", r.CouponCode, MaxCouponCodeLen, false, "")
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

// Routes registers the order API a customer uses on r: POST /orders and
// GET /orders/{id}. The order id is a random UUID only its client is
// told, which is what keeps GET /orders/{id} safe to leave open;
// AdminRoutes holds the endpoints that list orders.
func Routes(r gin.IRouter, s *Store) {
	r.POST("/orders", func(c *gin.Context) { place(c, s) })
	r.GET("/orders/:id", func(c *gin.Context) {
		o, err := s.Get(c.Request.Context(), c.Param("id"), true)
		switch {
		case errors.Is(err, ErrUnknownOrder):
			c.JSON(http.StatusNotFound, ErrorBody{Error: fmt.Sprintf("no order %s: use the order_id POST /orders returned", echo(c.Param("id")))})
		case err != nil:
			c.JSON(http.StatusInternalServerError, ErrorBody{Error: err.Error()})
		default:
			c.JSON(http.StatusOK, o)
		}
	})
}

// AdminRoutes registers the endpoints that read every customer's orders on
// r, which the service host guards with the admin token
// (host.Service.AdminRoutes): GET /orders?after=&limit=&since=&open=
// (pages oldest first; since is an RFC 3339 time; open=true keeps orders
// that are not final yet) and GET /orders/count?since=&open= (how many
// such orders there are).
func AdminRoutes(r gin.IRouter, s *Store) {
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
	tooLarge := func() {
		c.JSON(http.StatusRequestEntityTooLarge, ErrorBody{Error: fmt.Sprintf(
			"request body over %d KiB: an order is at most %d items with short text fields (limits in docs/order-flow.md)", MaxBodyBytes>>10, MaxItems)})
	}
	if c.Request.ContentLength > MaxBodyBytes {
		tooLarge()
		return
	}
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, MaxBodyBytes+1))
	if err != nil {
		c.JSON(http.StatusBadRequest, ErrorBody{Error: "could not read the request body: " + err.Error()})
		return
	}
	if len(body) > MaxBodyBytes {
		tooLarge()
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
	if len(key) > MaxIdempotencyKeyLen {
		c.JSON(http.StatusBadRequest, ErrorBody{Error: fmt.Sprintf("Idempotency-Key is longer than %d characters", MaxIdempotencyKeyLen), Field: "Idempotency-Key"})
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
