package host

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events"
)

// Service is a reference service as its Run wires it on a Host: its name,
// its tables, how its domain events become generated ones, how its store
// S is built, and its handlers and routes. Each service declares one and
// its Run calls Service.Run; everything else (configuration defaults, the
// database, broker, registry, tracing, HTTP and shutdown) is the Host's.
// Name, Events and Open are required; Start, Handlers, Routes and
// AdminRoutes may be nil.
type Service[S any] struct {
	// Name is the service name (Config.Service): it names the consumer
	// group, the SQLite file and the default OTEL_SERVICE_NAME.
	Name string
	// DDL creates the service's own tables on SQLite (CREATE ... IF NOT
	// EXISTS; see OpenDB), next to the runtime's inbox and outbox. A
	// service that also runs on PostgreSQL leaves it empty and applies
	// numbered migrations (eventing.Migrate) in Open.
	DDL string
	// SharedRows: the service's handlers write rows that events on
	// different partitions share; see HostOpts.SharedRows.
	SharedRows bool
	// Events converts one of the service's domain events to its generated
	// event type and value; Host.Outbox stores the result in the outbox.
	// An error fails the handler's transaction.
	Events func(ev any) (events.Type, any, error)
	// Open builds the service's store on the host's database (SQLite or
	// PostgreSQL: eventing.DialectOf tells), with emit (Host.Outbox(Events))
	// receiving its events. It runs outside any transaction, so it may
	// migrate its tables and prepare statements (see NewState). Every
	// replica runs it at start; eventing.Migrate makes that safe.
	Open func(ctx context.Context, db *sql.DB, emit statedb.Emitter) (S, error)
	// Start, if set, runs after Open and before Handlers and Routes, for
	// what else the service needs before it serves (seed data, background
	// work). Its ctx ends when Run returns, so goroutines it starts stop
	// with the service.
	Start func(ctx context.Context, h *Host, s S) error
	// Handlers registers the service's event handlers on the host's router.
	Handlers func(r *eventing.Router, s S)
	// Routes registers the service's HTTP API next to /healthz, /readyz and
	// /metrics.
	Routes func(r gin.IRouter, s S)
	// AdminRoutes registers the service's admin endpoints (what lists
	// every customer's data, or costs the service to answer) on Host.Admin,
	// behind the admin token (Config.AdminToken, RequireAdmin).
	AdminRoutes func(r gin.IRouter, s S)
}

// Run runs the service with cfg until ctx ends. It sets cfg.Service to
// Name and fills cfg's defaults, connects a Host (NewHost, with o.DDL
// replaced by DDL), builds the store with Open, calls Start, registers
// Handlers, Routes and AdminRoutes, then serves with Host.Run, which
// drains and closes everything on return. It returns an error wrapping
// ErrConfig when Name, Events or Open is missing; NewHost's, Open's and
// Start's errors (after which the host is closed) and Host.Run's are
// returned unwrapped.
// Run may be called again after it returned; one Service value may run in
// several goroutines at once with distinct cfg.
func (svc Service[S]) Run(ctx context.Context, cfg Config, o HostOpts) error {
	switch {
	case svc.Name == "":
		return fmt.Errorf("%w: service has no Name", ErrConfig)
	case svc.Events == nil:
		return fmt.Errorf("%w: service %q has no Events conversion", ErrConfig, svc.Name)
	case svc.Open == nil:
		return fmt.Errorf("%w: service %q has no Open function", ErrConfig, svc.Name)
	}
	cfg.Service = svc.Name
	cfg.SetDefaults()
	o.DDL, o.SharedRows = svc.DDL, svc.SharedRows
	h, err := NewHost(ctx, cfg, o)
	if err != nil {
		return err
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	if err := svc.start(sctx, h); err != nil {
		h.Close()
		return err
	}
	return h.Run(ctx)
}

// start builds the store and registers the service on h.
func (svc Service[S]) start(ctx context.Context, h *Host) error {
	s, err := svc.Open(ctx, h.DB, h.Outbox(svc.Events))
	if err != nil {
		return err
	}
	if svc.Start != nil {
		if err := svc.Start(ctx, h, s); err != nil {
			return err
		}
	}
	if svc.Handlers != nil {
		svc.Handlers(h.Router, s)
	}
	if svc.Routes != nil {
		svc.Routes(h.Engine, s)
	}
	if svc.AdminRoutes != nil {
		svc.AdminRoutes(h.Admin, s)
	}
	return nil
}
