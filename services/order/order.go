// Package order is the order service of the reference flow: an HTTP API that
// takes orders and a state machine driven by the other services' events.
//
// An order starts PENDING when POST /orders commits it together with its
// OrderPlaced event (outbox). It becomes CONFIRMED, and OrderReady is
// emitted, once both InventoryReserved and PaymentConfirmed have arrived, in
// either order. InventoryRejected or PaymentFailed cancel a PENDING order
// with a reason and emit OrderCancelled exactly once; a second failure only
// adds to the history. OrderShipped makes a CONFIRMED order SHIPPED. Every
// applied event is a history row with its topic, partition, offset and
// schema id, and the inbox row, the state change and the emitted events
// commit in one SQLite transaction.
package order

import (
	"errors"
	"time"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events/money"
)

// Status is an order's state.
type Status string

// The order states. SHIPPED and CANCELLED are final.
const (
	Pending   Status = "PENDING"
	Confirmed Status = "CONFIRMED"
	Shipped   Status = "SHIPPED"
	Cancelled Status = "CANCELLED"
)

// Final reports whether s is a final state.
func (s Status) Final() bool { return s == Shipped || s == Cancelled }

// Cancel reasons, the schema's CancelReason symbols.
const (
	ReasonOutOfStock    = "OUT_OF_STOCK"
	ReasonPaymentFailed = "PAYMENT_FAILED"
)

// ErrUnknownOrder is returned when an event names an order this service
// never placed. The event cannot be applied; the runtime dead-letters it.
var ErrUnknownOrder = errors.New("order: unknown order id")

// ErrIdempotencyConflict is returned by Place when an Idempotency-Key is
// reused with a different request body.
var ErrIdempotencyConflict = errors.New("order: Idempotency-Key was already used with a different request body")

// Line is one order line.
type Line struct {
	SKU       string      `json:"sku"`
	Quantity  int         `json:"quantity"`
	UnitPrice money.Cents `json:"unit_price_cents"`
}

// Address is a shipping address.
type Address struct {
	Name       string `json:"name"`
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Payment is how the customer pays: a card (CardToken, Last4) or an invoice
// (PurchaseOrder, DueDays); exactly one is set.
type Payment struct {
	CardToken     string `json:"card_token,omitempty"`
	Last4         string `json:"last4,omitempty"`
	PurchaseOrder string `json:"purchase_order,omitempty"`
	DueDays       int    `json:"due_days,omitempty"`
}

// Placement is a validated order as the API accepted it.
type Placement struct {
	CustomerID string      `json:"customer_id"`
	Currency   string      `json:"currency"`
	Items      []Line      `json:"items"`
	Address    Address     `json:"shipping_address"`
	Payment    Payment     `json:"payment"`
	Channel    string      `json:"channel"`
	CouponCode string      `json:"coupon_code,omitempty"`
	Total      money.Cents `json:"total_cents"`
}

// Placed is the domain form of OrderPlaced.
type Placed struct {
	Meta    statedb.Meta
	OrderID string
	Placement
}

// Ready is the domain form of OrderReady.
type Ready struct {
	Meta          statedb.Meta
	OrderID       string
	ReservationID string
	PaymentID     string
	Items         []Line
	Currency      string
	Address       Address
}

// CancelledEvent is the domain form of OrderCancelled.
type CancelledEvent struct {
	Meta    statedb.Meta
	OrderID string
	Reason  string
	Detail  string
}

// HistoryEntry is one event of an order's life as this service saw it.
// Direction is "out" for events the service emitted (Partition and Offset
// are -1 until the outbox relay's publish is acknowledged) and "in" for
// events it consumed.
type HistoryEntry struct {
	Type      string    `json:"type"`
	Direction string    `json:"direction"`
	EventID   string    `json:"event_id"`
	Time      time.Time `json:"time"`
	Topic     string    `json:"topic"`
	Partition int32     `json:"partition"`
	Offset    int64     `json:"offset"`
	SchemaID  int       `json:"schema_id"`
	// Subject and SchemaVersion name the registered schema SchemaID is,
	// when the registry could tell.
	Subject       string `json:"subject,omitempty"`
	SchemaVersion int    `json:"schema_version,omitempty"`
	Detail        string `json:"detail,omitempty"`
}

// Order is an order with its current state.
type Order struct {
	seq           int64
	ID            string    `json:"order_id"`
	Status        Status    `json:"status"`
	Reason        string    `json:"reason,omitempty"`
	Detail        string    `json:"detail,omitempty"`
	CustomerID    string    `json:"customer_id"`
	Currency      string    `json:"currency"`
	Total         string    `json:"total"`
	Items         []Line    `json:"items"`
	TraceID       string    `json:"trace_id,omitempty"`
	ReservationID string    `json:"reservation_id,omitempty"`
	PaymentID     string    `json:"payment_id,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	// FinalAt is when the order reached SHIPPED or CANCELLED.
	FinalAt *time.Time     `json:"final_at,omitempty"`
	History []HistoryEntry `json:"history,omitempty"`
}
