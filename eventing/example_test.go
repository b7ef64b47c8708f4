package eventing_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/registry/serde"
)

// A complete service: it reserves stock for every OrderPlaced and emits
// InventoryReserved, with its state change, the inbox entry and the
// outgoing event in one SQLite transaction.
func Example_service() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := runInventory(ctx, log); err != nil {
		log.Error("inventory stopped", "error", err)
		os.Exit(1)
	}
}

func runInventory(ctx context.Context, log *slog.Logger) error {
	// The registry serde: Confluent wire format, schema IDs cached.
	rc, err := sr.NewClient(sr.URLs("http://127.0.0.1:8081"))
	if err != nil {
		return err
	}
	codec, err := serde.New(rc)
	if err != nil {
		return err
	}
	// One SQLite file holds the service's state, the inbox and the outbox.
	store, err := eventing.OpenStore(ctx, "inventory.db")
	if err != nil {
		return err
	}
	defer store.Close()
	if _, err := store.DB().ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS reservations (order_id TEXT PRIMARY KEY, units INTEGER NOT NULL)`); err != nil {
		return err
	}

	router, err := eventing.NewRouter(
		eventing.Brokers("127.0.0.1:9092"), // Kafka, Redpanda or `contrail broker`
		eventing.WithCodec(codec),
		eventing.Group("inventory"),
		eventing.WithInbox(store), // dedupe by event id + outbox for Emit
		eventing.WithLogger(log),
		// eventing.WithTracer(tracing.NewMessaging()) adds spans.
	)
	if err != nil {
		return err
	}
	eventing.Handle(router, orders.OrderPlacedBinding, func(ctx context.Context, e *orders.OrderPlaced) error {
		if len(e.Items) == 0 {
			// Permanent: no retry, straight to orders.dlq.
			return eventing.Permanent(fmt.Errorf("order %s has no items", e.OrderID))
		}
		var lines []inventory.StockLine
		units := 0
		for _, it := range e.Items {
			lines = append(lines, inventory.StockLine{Sku: it.Sku, Quantity: it.Quantity})
			units += int(it.Quantity)
		}
		// Any other error is transient: retried with backoff.
		if _, err := eventing.Tx(ctx).ExecContext(ctx,
			`INSERT INTO reservations (order_id, units) VALUES (?, ?)`, e.OrderID, units); err != nil {
			return err
		}
		// Goes to the outbox in the same transaction; correlation and
		// causation ids come from e.
		return eventing.Emit(ctx, inventory.InventoryReservedBinding, &inventory.InventoryReserved{
			Metadata:      common.EventMetadata{OccurredAt: time.Now().UTC(), Producer: "inventory", Attributes: map[string]string{}},
			OrderID:       e.OrderID,
			ReservationID: "res-" + e.OrderID,
			Lines:         lines,
		})
	})

	mux := http.NewServeMux()
	mux.Handle("/", eventing.HealthHandler(map[string]eventing.ReadyCheck{"kafka": router.Ready, "db": store.DB().PingContext}))
	mux.Handle("/metrics", router.Metrics().Handler())
	srv := &http.Server{Addr: "127.0.0.1:8091", Handler: mux}
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("health server", "error", err)
		}
	}()
	defer srv.Close()

	// Blocks until SIGINT/SIGTERM, then drains, commits and leaves the group.
	return router.Run(ctx)
}
