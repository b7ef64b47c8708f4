package inventory

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events"
	einv "github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"

	"github.com/contrail-events/contrail/eventing"
)

// Name is the service name: consumer group "contrail-inventory", database
// inventory.db, default HTTP address 127.0.0.1:8091.
const Name = "inventory"

// Config is the inventory service's configuration; see host.Config.
type Config = host.Config

// Run runs the inventory service until ctx ends, seeding DefaultStock on
// first start.
func Run(ctx context.Context, cfg Config, o host.HostOpts) error { return service.Run(ctx, cfg, o) }

// service: its stock rows are shared by the orders of every partition
// (SharedRows: on PostgreSQL its transactions run one at a time across its
// replicas, so two batches never deadlock on SKUs).
var service = host.Service[*Store]{Name: Name, Events: toEvent, Open: NewStore, SharedRows: true,
	Start:    func(ctx context.Context, _ *host.Host, s *Store) error { return s.Seed(ctx, DefaultStock()) },
	Handlers: Register, Routes: Routes}

// Register adds the inventory handlers (OrderPlaced, OrderCancelled,
// OrderReady) to r.
func Register(r *eventing.Router, s *Store) {
	eventing.Handle(r, orders.OrderPlacedBinding, func(ctx context.Context, e *orders.OrderPlaced) error {
		lines := make([]Line, len(e.Items))
		for i, it := range e.Items {
			lines[i] = Line{SKU: it.Sku, Quantity: int(it.Quantity)}
		}
		return s.Apply(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error { return t.OrderPlaced(ctx, rec, e.OrderID, lines) })
	})
	eventing.Handle(r, orders.OrderCancelledBinding, func(ctx context.Context, e *orders.OrderCancelled) error {
		return s.Apply(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error { return t.OrderCancelled(ctx, rec, e.OrderID) })
	})
	eventing.Handle(r, orders.OrderReadyBinding, func(ctx context.Context, e *orders.OrderReady) error {
		return s.Apply(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error { return t.OrderReady(ctx, rec, e.OrderID) })
	})
}

// Routes registers the read-only API: GET /stock (StockReport) and
// GET /reservations/:order_id.
func Routes(r gin.IRouter, s *Store) {
	r.GET("/stock", func(c *gin.Context) {
		rep, err := s.Stock(c.Request.Context())
		if err != nil {
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
			return
		}
		c.JSON(http.StatusOK, rep)
	})
	r.GET("/reservations/:order_id", func(c *gin.Context) {
		st, err := s.ReservationOf(c.Request.Context(), c.Param("order_id"))
		switch {
		case err != nil:
			c.JSON(http.StatusInternalServerError, gin.H{"error": err.Error()})
		case st == "":
			c.JSON(http.StatusNotFound, gin.H{"error": "no reservation for order " + c.Param("order_id")})
		default:
			c.JSON(http.StatusOK, gin.H{"order_id": c.Param("order_id"), "status": st})
		}
	})
}

func stockLines(ls []Line) []einv.StockLine {
	out := make([]einv.StockLine, len(ls))
	for i, l := range ls {
		out[i] = einv.StockLine{Sku: l.SKU, Quantity: int32(l.Quantity)}
	}
	return out
}

func toEvent(ev any) (events.Type, any, error) {
	switch e := ev.(type) {
	case Reserved:
		return einv.InventoryReservedBinding, &einv.InventoryReserved{Metadata: statedb.Metadata(e.Meta, Name),
			OrderID: e.OrderID, ReservationID: e.ReservationID, Lines: stockLines(e.Lines)}, nil
	case Released:
		return einv.InventoryReleasedBinding, &einv.InventoryReleased{Metadata: statedb.Metadata(e.Meta, Name),
			OrderID: e.OrderID, ReservationID: e.ReservationID, Lines: stockLines(e.Lines)}, nil
	case Rejected:
		short := make([]einv.ShortLine, len(e.Short))
		for i, l := range e.Short {
			short[i] = einv.ShortLine{Sku: l.SKU, Requested: int32(l.Requested), Available: int32(l.Available)}
		}
		return einv.InventoryRejectedBinding, &einv.InventoryRejected{Metadata: statedb.Metadata(e.Meta, Name),
			OrderID: e.OrderID, ShortLines: short}, nil
	}
	return nil, nil, fmt.Errorf("inventory: no event type for %T", ev)
}
