package host_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/schemas"

	"github.com/contrail-events/contrail/eventing"
)

// hostEnv keeps NewHost off the process environment's tracing and schema
// registration; NewHost dials neither broker nor registry.
func hostEnv(t *testing.T) host.Config {
	t.Helper()
	t.Setenv("OTEL_SDK_DISABLED", "true")
	t.Setenv("CONTRAIL_REGISTER_SCHEMAS", "")
	return host.Config{DataDir: t.TempDir(), Brokers: []string{"127.0.0.1:1"}, RegistryURL: "http://127.0.0.1:1",
		HTTPAddr: "127.0.0.1:0", InstanceID: "none"}
}

func noEvents(ev any) (events.Type, any, error) { return nil, nil, errors.New("no events") }

func TestServiceRunRejectsIncompleteService(t *testing.T) {
	open := func(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*kvStore, error) {
		return newKV(ctx, db, emit)
	}
	tests := []struct {
		name string
		svc  host.Service[*kvStore]
		want string
	}{
		{name: "no name", svc: host.Service[*kvStore]{Events: noEvents, Open: open}, want: "no Name"},
		{name: "no events", svc: host.Service[*kvStore]{Name: "kv", Open: open}, want: "no Events"},
		{name: "no open", svc: host.Service[*kvStore]{Name: "kv", Events: noEvents}, want: "no Open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := hostEnv(t)
			err := tt.svc.Run(context.Background(), cfg, host.HostOpts{LogOutput: io.Discard})
			if !errors.Is(err, host.ErrConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run = %v, want ErrConfig saying %q", err, tt.want)
			}
			if entries, _ := os.ReadDir(cfg.DataDir); len(entries) != 0 {
				t.Fatalf("Run created %d files before validating the service", len(entries))
			}
		})
	}
}

func TestServiceRunWiresTheHost(t *testing.T) {
	errStart := errors.New("start failed")
	tests := []struct {
		name      string
		startErr  error
		wantSteps string
	}{
		{name: "start fails: nothing registered, host closed", startErr: errStart, wantSteps: "open start"},
		{name: "all parts in order, then serve", wantSteps: "open start handlers routes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := hostEnv(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var steps []string
			var store *kvStore
			var startCtx context.Context
			svc := host.Service[*kvStore]{
				Name: "kv", DDL: kvDDL, Events: noEvents,
				Open: func(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*kvStore, error) {
					steps = append(steps, "open")
					if emit == nil {
						t.Error("Open got no emitter")
					}
					s, err := newKV(ctx, db, emit)
					store = s
					return s, err
				},
				Start: func(ctx context.Context, h *host.Host, s *kvStore) error {
					steps = append(steps, "start")
					startCtx = ctx
					if s != store || h.Config.Service != "kv" || h.Config.Group != "contrail-kv" {
						t.Errorf("Start got store %p (want %p), service %q group %q", s, store, h.Config.Service, h.Config.Group)
					}
					return tt.startErr
				},
				Handlers: func(r *eventing.Router, s *kvStore) {
					steps = append(steps, "handlers")
					if r == nil || s != store {
						t.Error("Handlers got no router or another store")
					}
					eventing.Handle(r, orders.OrderPlacedBinding, func(context.Context, *orders.OrderPlaced) error { return nil })
				},
				Routes: func(r gin.IRouter, s *kvStore) {
					steps = append(steps, "routes")
					if r == nil || s != store {
						t.Error("Routes got no engine or another store")
					}
					// Serve only briefly: the broker is unreachable on purpose.
					go func() { time.Sleep(100 * time.Millisecond); cancel() }()
				},
			}
			err := svc.Run(ctx, cfg, host.HostOpts{LogOutput: io.Discard, DDL: "not used: Service.DDL replaces it"})
			if !errors.Is(err, tt.startErr) {
				t.Fatalf("Run = %v, want %v", err, tt.startErr)
			}
			if got := strings.Join(steps, " "); got != tt.wantSteps {
				t.Fatalf("steps %q, want %q", got, tt.wantSteps)
			}
			if startCtx == nil || startCtx.Err() == nil {
				t.Error("Start's context did not end when Run returned")
			}
			// The service's tables are in <DataDir>/<Name>.db, and the host closed it.
			if err := store.DB().PingContext(context.Background()); err == nil {
				t.Error("the host's database is still open after Run returned")
			}
			db, err := statedb.OpenDB(context.Background(), filepath.Join(cfg.DataDir, "kv.db"), "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if n := count(t, db, `SELECT count(*) FROM sqlite_master WHERE name IN ('kv', 'inbox')`); n != 2 {
				t.Fatalf("kv.db holds %d of the service's 2 tables", n)
			}
		})
	}
}

// TestNewHostRegistersSchemas starts a host with CONTRAIL_REGISTER_SCHEMAS
// against our registry over HTTP: every subject of the embedded schemas is
// registered before NewHost returns, and a second start finds them all
// unchanged.
func TestNewHostRegistersSchemas(t *testing.T) {
	cfg := hostEnv(t)
	cfg.Service = "kv"
	cfg.RegistryURL = registrytest.Serve(t)
	cfg.SetDefaults()
	t.Setenv("CONTRAIL_REGISTER_SCHEMAS", "true")
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	cl, err := sr.NewClient(sr.URLs(cfg.RegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		h, err := host.NewHost(context.Background(), cfg, host.HostOpts{DDL: kvDDL, LogOutput: io.Discard})
		if err != nil {
			t.Fatalf("NewHost: %v", err)
		}
		h.Close()
		subjects, err := cl.Subjects(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		steps := map[string]int{} // one version per major of the subject
		for _, st := range registry.PlanPush(set) {
			steps[st.Subject]++
		}
		for subject, n := range steps {
			if !slices.Contains(subjects, subject) {
				t.Errorf("subject %s not registered; registry has %v", subject, subjects)
			}
			if vs, err := cl.SubjectVersions(context.Background(), subject); err != nil || len(vs) != n {
				t.Errorf("subject %s has versions %v (%v), want %d (one per major)", subject, vs, err, n)
			}
		}
	}
}

// TestNewHostFailsCleanly: a start that fails after the database is open
// (here registering the schemas with a registry nobody serves) returns its
// error, with the host's parts closed (the data directory can be removed
// and opened again), instead of panicking in the cleanup.
func TestNewHostFailsCleanly(t *testing.T) {
	cfg := hostEnv(t)
	cfg.Service = "kv"
	cfg.SetDefaults()
	t.Setenv("CONTRAIL_REGISTER_SCHEMAS", "true")
	h, err := host.NewHost(context.Background(), cfg, host.HostOpts{DDL: kvDDL, LogOutput: io.Discard})
	if err == nil || h != nil || !strings.Contains(err.Error(), "SCHEMA_REGISTRY_URL") {
		t.Fatalf("NewHost = %v, %v; want no host and an error naming SCHEMA_REGISTRY_URL", h, err)
	}
	db, err := statedb.OpenDB(context.Background(), cfg.DBPath(), kvDDL)
	if err != nil {
		t.Fatalf("reopen the database after the failed start: %v", err)
	}
	db.Close()
}
