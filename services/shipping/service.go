package shipping

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	eship "github.com/contrail-events/contrail/events/shipping"

	"github.com/contrail-events/contrail/eventing"
)

// Name is the service name: consumer group "contrail-shipping", database
// shipping.db, default HTTP address 127.0.0.1:8093.
const Name = "shipping"

// Config is the shipping service's configuration; see host.Config.
type Config = host.Config

// Run runs the shipping service until ctx ends.
func Run(ctx context.Context, cfg Config, o host.HostOpts) error { return service.Run(ctx, cfg, o) }

var service = host.Service[*Store]{Name: Name, Events: toEvent, Open: NewStore, Handlers: Register, Routes: Routes}

// Register adds the OrderReady handler to r.
func Register(r *eventing.Router, s *Store) {
	eventing.Handle(r, orders.OrderReadyBinding, func(ctx context.Context, e *orders.OrderReady) error {
		return s.Apply(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error {
			return t.OrderReady(ctx, rec, e.OrderID)
		})
	})
}

// Routes registers GET /shipments/:order_id.
func Routes(r gin.IRouter, s *Store) {
	r.GET("/shipments/:order_id", func(c *gin.Context) {
		sh, ok, err := s.Get(c.Request.Context(), c.Param("order_id"))
		switch {
		case err != nil:
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		case !ok:
			c.JSON(http.StatusNotFound, gin.H{"error": "no shipment for order " + c.Param("order_id")})
		default:
			c.JSON(http.StatusOK, sh)
		}
	})
}

func toEvent(ev any) (events.Type, any, error) {
	if e, ok := ev.(ShippedEvent); ok {
		return eship.OrderShippedBinding, &eship.OrderShipped{Metadata: statedb.Metadata(e.Meta, Name), OrderID: e.OrderID,
			ShipmentID: e.ShipmentID, Carrier: e.Carrier, TrackingNumber: e.TrackingNumber, ShippedAt: e.ShippedAt}, nil
	}
	return nil, nil, fmt.Errorf("shipping: no event type for %T", ev)
}
