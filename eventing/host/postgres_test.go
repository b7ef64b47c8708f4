package host_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/eventing/storetest"
)

var kvMigrations = []eventing.Migration{{Version: 1, Name: "kv",
	SQLite:   kvDDL,
	Postgres: statedb.InboxPostgresDDL + `CREATE TABLE IF NOT EXISTS kv(k TEXT PRIMARY KEY, v INTEGER NOT NULL);`}}

// TestHostOnPostgres: with CONTRAIL_DATABASE_URL the host keeps the
// service's state in its own schema of that database (runtime tables and
// the service's migrations), two replicas open it at once, and a SQLite
// DDL is refused there.
func TestHostOnPostgres(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	cfg := hostEnv(t)
	cfg.Service, cfg.DatabaseURL = "kv", url
	cfg.SetDefaults()
	if cfg.DatabaseSchema != "contrail_kv" {
		t.Fatalf("default schema %q, want contrail_kv", cfg.DatabaseSchema)
	}
	if _, err := host.NewHost(ctx, cfg, host.HostOpts{DDL: kvDDL, LogOutput: io.Discard}); !errors.Is(err, host.ErrConfig) {
		t.Fatalf("NewHost with a SQLite DDL on PostgreSQL = %v, want ErrConfig", err)
	}
	errs := make(chan error, 2)
	hosts := make(chan *host.Host, 2)
	for range 2 {
		go func() {
			h, err := host.NewHost(ctx, cfg, host.HostOpts{LogOutput: io.Discard})
			if err == nil {
				err = eventing.Migrate(ctx, h.DB, "kv", kvMigrations)
			}
			errs <- err
			hosts <- h
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		h := <-hosts
		defer h.Close()
		if d := h.Store.Dialect(); d != eventing.Postgres {
			t.Fatalf("store dialect %s", d)
		}
		if !strings.Contains(h.Config.Database(), "contrail_kv") || strings.Contains(h.Config.Database(), "password") {
			t.Errorf("Database() = %q", h.Config.Database())
		}
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := count(t, db, `SELECT count(*) FROM pg_tables WHERE schemaname = 'contrail_kv' AND tablename IN ('kv', 'inbox', 'contrail_inbox', 'contrail_outbox', 'contrail_outbox_parked', 'schema_migrations')`); n != 6 {
		t.Fatalf("%d of the 6 tables in schema contrail_kv", n)
	}
	if n := count(t, db, `SELECT count(*) FROM contrail_kv.schema_migrations`); n != 2 {
		t.Fatalf("%d migrations recorded, want 2 (runtime and kv, once each)", n)
	}
}

func TestConfigDatabase(t *testing.T) {
	tests := []struct {
		name   string
		env    map[string]string
		want   string // substring of the Validate error, "" for valid
		schema string
	}{
		{name: "sqlite by default", env: nil, schema: "contrail_payment"},
		{name: "postgres", env: map[string]string{"CONTRAIL_DATABASE_URL": "postgres://u:secret@db:5432/contrail"}, schema: "contrail_payment"},
		{name: "postgres schema", env: map[string]string{"CONTRAIL_DATABASE_URL": "postgresql://db/contrail", "CONTRAIL_DATABASE_SCHEMA": "pay_2"}, schema: "pay_2"},
		{name: "not a postgres URL", env: map[string]string{"CONTRAIL_DATABASE_URL": "mysql://u:secret@db/x"}, want: "CONTRAIL_DATABASE_URL"},
		{name: "bad schema", env: map[string]string{"CONTRAIL_DATABASE_URL": "postgres://db/x", "CONTRAIL_DATABASE_SCHEMA": "Pay-Ments"}, want: "CONTRAIL_DATABASE_SCHEMA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := host.FromEnv("payment", func(k string) string { return tt.env[k] })
			err := c.Validate()
			if tt.want != "" {
				if !errors.Is(err, host.ErrConfig) || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "secret") {
					t.Fatalf("Validate = %v, want ErrConfig naming %s, without the password", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.DatabaseSchema != tt.schema {
				t.Errorf("schema %q, want %q", c.DatabaseSchema, tt.schema)
			}
			if strings.Contains(c.Database(), "secret") {
				t.Errorf("Database() %q shows the password", c.Database())
			}
		})
	}
}
