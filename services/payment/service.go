package payment

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/money"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"

	"github.com/contrail-events/contrail/eventing"
)

// Name is the service name: consumer group "contrail-payment", database
// payment.db, default HTTP address 127.0.0.1:8092.
const Name = "payment"

// Config is the payment service's configuration; see host.Config.
type Config = host.Config

// Run runs the payment service until ctx ends.
func Run(ctx context.Context, cfg Config, o host.HostOpts) error { return service.Run(ctx, cfg, o) }

var service = host.Service[*Store]{Name: Name, Events: toEvent, Open: NewStore, Handlers: Register,
	Routes: Routes, AdminRoutes: AdminRoutes}

// Register adds the payment handlers (OrderPlaced, OrderCancelled) to r.
func Register(r *eventing.Router, s *Store) {
	// Payment reads OrderPlaced major 2 (totalCents); records written in
	// major 1 reach it through the migration in events/orders.
	eventing.Handle(r, orders.OrderPlacedV2Binding, func(ctx context.Context, e *orders.OrderPlacedV2) error {
		total := money.Cents(e.TotalCents)
		if !total.Valid() {
			return eventing.Permanent(fmt.Errorf("payment: order %s: totalCents %d is more than 18 digits", e.OrderID, e.TotalCents))
		}
		c := Charge{OrderID: e.OrderID, Total: total, Currency: string(e.Currency)}
		if e.Payment != nil {
			if card, ok := e.Payment.Value.(orders.CardPayment); ok {
				c.CardToken = card.CardToken
			}
		}
		return s.Apply(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error { return t.OrderPlaced(ctx, rec, c) })
	})
	eventing.Handle(r, orders.OrderCancelledBinding, func(ctx context.Context, e *orders.OrderCancelled) error {
		return s.Apply(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error { return t.OrderCancelled(ctx, rec, e.OrderID) })
	})
}

// Page is the body of GET /payments.
type Page struct {
	Payments []Account `json:"payments"`
	// Next is the ?after= cursor of the next page; empty on the last.
	Next string `json:"next,omitempty"`
}

// Routes registers the read-only API by order id: GET
// /payments/:order_id. The order id is the random UUID the order service
// handed its client; AdminRoutes holds the list, which would hand out every
// order id.
func Routes(r gin.IRouter, s *Store) {
	r.GET("/payments/:order_id", func(c *gin.Context) {
		a, ok, err := s.Get(c.Request.Context(), c.Param("order_id"))
		switch {
		case err != nil:
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		case !ok:
			c.JSON(http.StatusNotFound, gin.H{"error": fmt.Sprintf("no payment for order %.64q", c.Param("order_id"))})
		default:
			c.JSON(http.StatusOK, a)
		}
	})
}

// AdminRoutes registers GET /payments?after=&limit= (pages of accounts
// ordered by order id) on r, which the service host guards with the admin
// token (host.Service.AdminRoutes).
func AdminRoutes(r gin.IRouter, s *Store) {
	r.GET("/payments", func(c *gin.Context) {
		limit := 100
		if l := c.Query("limit"); l != "" {
			v, err := strconv.Atoi(l)
			if err != nil || v < 1 || v > 1000 {
				c.JSON(http.StatusBadRequest, gin.H{"error": "limit must be between 1 and 1000", "field": "limit"})
				return
			}
			limit = v
		}
		list, err := s.Accounts(c.Request.Context(), c.Query("after"), limit+1)
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		p := Page{Payments: list}
		if len(list) > limit {
			p.Payments = list[:limit]
			p.Next = list[limit-1].OrderID
		}
		if p.Payments == nil {
			p.Payments = []Account{}
		}
		c.JSON(http.StatusOK, p)
	})
}

func toEvent(ev any) (events.Type, any, error) {
	switch e := ev.(type) {
	case Confirmed:
		return payments.PaymentConfirmedBinding, &payments.PaymentConfirmed{Metadata: statedb.Metadata(e.Meta, Name),
			OrderID: e.OrderID, PaymentID: e.PaymentID, Amount: money.Of(e.Amount, e.Currency)}, nil
	case Failed:
		return payments.PaymentFailedBinding, &payments.PaymentFailed{Metadata: statedb.Metadata(e.Meta, Name),
			OrderID: e.OrderID, Code: payments.DeclineCode(e.Code), Message: e.Message}, nil
	case Refunded:
		return payments.PaymentRefundedBinding, &payments.PaymentRefunded{Metadata: statedb.Metadata(e.Meta, Name),
			OrderID: e.OrderID, PaymentID: e.PaymentID, Amount: money.Of(e.Amount, e.Currency)}, nil
	}
	return nil, nil, fmt.Errorf("payment: no event type for %T", ev)
}
