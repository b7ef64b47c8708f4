package order

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/money"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"
	"github.com/contrail-events/contrail/wire"

	"github.com/contrail-events/contrail/eventing"
)

// Name is the service name: consumer group "contrail-order", database
// order.db, OTEL_SERVICE_NAME "order".
const Name = "order"

// Config is the order service's configuration; see host.Config. Its
// default HTTP address is 127.0.0.1:8080.
type Config = host.Config

// Run runs the order service until ctx ends: the HTTP API (Routes, and
// AdminRoutes behind cfg.AdminToken), the handlers of the inventory,
// payment and shipping events, and the outbox relay.
func Run(ctx context.Context, cfg Config, o host.HostOpts) error {
	major, err := PlacedMajor(os.Getenv)
	if err != nil {
		return err
	}
	pubs := make(chan Published, 8192)
	o.OnPublished = func(r *kgo.Record) {
		p := Published{OrderID: string(r.Key), EventID: eventing.HeaderValue(r, wire.HeaderEventID), Partition: r.Partition, Offset: r.Offset}
		p.SchemaID, _ = wire.SchemaID(r.Value)
		select {
		case pubs <- p:
		default: // history keeps -1 for this one rather than stall the producer
		}
	}
	svc := host.Service[*Store]{Name: Name, Events: eventsFor(major), Open: NewStore,
		Start: func(ctx context.Context, h *host.Host, s *Store) error {
			s.ResolveVersions(host.NewSchemaVersions(h.Registry))
			go markPublished(ctx, s, pubs, h.Log)
			return nil
		},
		Handlers: Register, Routes: Routes, AdminRoutes: AdminRoutes}
	return svc.Run(ctx, cfg, o)
}

// markPublished records where emitted events landed, a batch per
// transaction.
func markPublished(ctx context.Context, s *Store, pubs <-chan Published, log *slog.Logger) {
	for {
		var batch []Published
		select {
		case <-ctx.Done():
			return
		case p := <-pubs:
			batch = append(batch, p)
		}
		for len(batch) < 500 {
			select {
			case p := <-pubs:
				batch = append(batch, p)
				continue
			default:
			}
			break
		}
		if err := s.MarkPublished(ctx, batch); err != nil && ctx.Err() == nil {
			log.Warn("history: could not record publish offsets", "err", err)
		}
	}
}

// Register adds the order service's handlers to r. Each runs inside the
// runtime's inbox transaction (eventing.Tx), so the inbox row, the order's
// new state and the events it emits commit together.
func Register(r *eventing.Router, s *Store) {
	run := func(ctx context.Context, md common.EventMetadata, orderID string, fn func(*Tx, statedb.Record) error) error {
		err := s.Apply(ctx, md, orderID, fn)
		if errors.Is(err, ErrUnknownOrder) {
			return eventing.Permanent(err)
		}
		return err
	}
	eventing.Handle(r, inventory.InventoryReservedBinding, func(ctx context.Context, e *inventory.InventoryReserved) error {
		return run(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error {
			return t.InventoryReserved(ctx, rec, e.OrderID, e.ReservationID)
		})
	})
	eventing.Handle(r, inventory.InventoryRejectedBinding, func(ctx context.Context, e *inventory.InventoryRejected) error {
		parts := make([]string, len(e.ShortLines))
		for i, l := range e.ShortLines {
			parts[i] = fmt.Sprintf("%s: %d requested, %d available", l.Sku, l.Requested, l.Available)
		}
		return run(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error {
			return t.InventoryRejected(ctx, rec, e.OrderID, strings.Join(parts, "; "))
		})
	})
	eventing.Handle(r, inventory.InventoryReleasedBinding, func(ctx context.Context, e *inventory.InventoryReleased) error {
		return run(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error { return t.Observed(ctx, rec, e.OrderID, "") })
	})
	eventing.Handle(r, payments.PaymentConfirmedBinding, func(ctx context.Context, e *payments.PaymentConfirmed) error {
		return run(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error {
			return t.PaymentConfirmed(ctx, rec, e.OrderID, e.PaymentID)
		})
	})
	eventing.Handle(r, payments.PaymentFailedBinding, func(ctx context.Context, e *payments.PaymentFailed) error {
		return run(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error {
			return t.PaymentFailed(ctx, rec, e.OrderID, string(e.Code)+": "+e.Message)
		})
	})
	eventing.Handle(r, payments.PaymentRefundedBinding, func(ctx context.Context, e *payments.PaymentRefunded) error {
		return run(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error { return t.Observed(ctx, rec, e.OrderID, "") })
	})
	eventing.Handle(r, shipping.OrderShippedBinding, func(ctx context.Context, e *shipping.OrderShipped) error {
		return run(ctx, e.Metadata, e.OrderID, func(t *Tx, rec statedb.Record) error {
			return t.OrderShipped(ctx, rec, e.OrderID, e.Carrier+" "+e.TrackingNumber)
		})
	})
}

func lineItems(ls []Line, currency string) []common.LineItem {
	out := make([]common.LineItem, len(ls))
	for i, l := range ls {
		out[i] = common.LineItem{Sku: l.SKU, Quantity: int32(l.Quantity), UnitPrice: money.Of(l.UnitPrice, currency)}
	}
	return out
}

func address(a Address) common.Address {
	return common.Address{Name: a.Name, Line1: a.Line1, Line2: statedb.Str(a.Line2), City: a.City, PostalCode: a.PostalCode, Country: a.Country}
}

// EnvPlacedMajor names the major version of OrderPlaced the service
// publishes: 2 (the default) or 1, for a rolling upgrade in which some
// replicas still publish major 1. Consumers read either through the
// migrations in events/orders (docs/making-a-breaking-change.md).
const EnvPlacedMajor = "CONTRAIL_ORDER_PLACED_MAJOR"

// DefaultPlacedMajor is the major of OrderPlaced published when
// EnvPlacedMajor is unset.
const DefaultPlacedMajor = 2

// PlacedMajor reads EnvPlacedMajor through getenv.
func PlacedMajor(getenv func(string) string) (int, error) {
	switch v := strings.TrimSpace(getenv(EnvPlacedMajor)); v {
	case "":
		return DefaultPlacedMajor, nil
	case "1":
		return 1, nil
	case "2":
		return 2, nil
	default:
		return 0, fmt.Errorf("order: %s=%q: want 1 or 2 (the majors of contrail.orders.OrderPlaced this build has)", EnvPlacedMajor, v)
	}
}

// toEvent converts the store's domain events to the generated types,
// publishing OrderPlaced in DefaultPlacedMajor.
func toEvent(ev any) (events.Type, any, error) { return eventsFor(DefaultPlacedMajor)(ev) }

// eventsFor returns the conversion that publishes OrderPlaced in major.
func eventsFor(major int) func(any) (events.Type, any, error) {
	return func(ev any) (events.Type, any, error) {
		if p, ok := ev.(Placed); ok {
			if major == 1 {
				return orders.OrderPlacedBinding, placedV1(p), nil
			}
			return orders.OrderPlacedV2Binding, placedV2(p), nil
		}
		return domainEvent(ev)
	}
}

func placedV1(e Placed) *orders.OrderPlaced {
	var pay orders.OrderPlacedPayment = orders.CardPayment{CardToken: e.Payment.CardToken, Last4: e.Payment.Last4}
	if e.Payment.CardToken == "" {
		pay = orders.InvoicePayment{PurchaseOrder: e.Payment.PurchaseOrder, DueDays: int32(e.Payment.DueDays)}
	}
	return &orders.OrderPlaced{
		Metadata: statedb.Metadata(e.Meta, Name), OrderID: e.OrderID, CustomerID: e.CustomerID,
		Items: lineItems(e.Items, e.Currency), Total: money.Of(e.Total, e.Currency),
		ShippingAddress: address(e.Address), Payment: orders.NewOrderPlacedPaymentUnion(pay),
		Channel: orders.SalesChannel(e.Channel), CouponCode: statedb.Str(e.CouponCode),
	}
}

func placedV2(e Placed) *orders.OrderPlacedV2 {
	var pay orders.OrderPlacedV2Payment = orders.CardPayment{CardToken: e.Payment.CardToken, Last4: e.Payment.Last4}
	if e.Payment.CardToken == "" {
		pay = orders.InvoicePayment{PurchaseOrder: e.Payment.PurchaseOrder, DueDays: int32(e.Payment.DueDays)}
	}
	return &orders.OrderPlacedV2{
		Metadata: statedb.Metadata(e.Meta, Name), OrderID: e.OrderID, CustomerRef: e.CustomerID,
		Items: lineItems(e.Items, e.Currency), TotalCents: int64(e.Total), Currency: common.Currency(e.Currency),
		ShippingAddress: address(e.Address), Payment: orders.NewOrderPlacedV2PaymentUnion(pay),
		Channel: orders.SalesChannel(e.Channel), CouponCode: statedb.Str(e.CouponCode),
	}
}

// domainEvent converts the store's other domain events.
func domainEvent(ev any) (events.Type, any, error) {
	switch e := ev.(type) {
	case Ready:
		return orders.OrderReadyBinding, &orders.OrderReady{
			Metadata: statedb.Metadata(e.Meta, Name), OrderID: e.OrderID, ReservationID: e.ReservationID,
			PaymentID: e.PaymentID, Items: lineItems(e.Items, e.Currency), ShippingAddress: address(e.Address),
		}, nil
	case CancelledEvent:
		return orders.OrderCancelledBinding, &orders.OrderCancelled{
			Metadata: statedb.Metadata(e.Meta, Name), OrderID: e.OrderID,
			Reason: orders.CancelReason(e.Reason), Detail: statedb.Str(e.Detail),
		}, nil
	}
	return nil, nil, fmt.Errorf("order: no event type for %T", ev)
}
