package host_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/eventing/statedb"
)

func TestConfigDurabilityFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		value   string // CONTRAIL_SQLITE_SYNC; "" unset
		want    statedb.Durability
		wantErr bool
	}{
		{name: "unset is normal", want: statedb.DurabilityNormal},
		{name: "normal", value: "normal", want: statedb.DurabilityNormal},
		{name: "full", value: "full", want: statedb.DurabilityFull},
		{name: "any case", value: "Full", want: statedb.DurabilityFull},
		{name: "unknown", value: "fsync", wantErr: true},
		{name: "sqlite level not offered", value: "OFF", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := host.FromEnv("inventory", func(k string) string {
				if k == "CONTRAIL_SQLITE_SYNC" {
					return tt.value
				}
				return ""
			})
			err := c.Validate()
			if tt.wantErr {
				if !errors.Is(err, host.ErrConfig) {
					t.Fatalf("Validate = %v, want ErrConfig", err)
				}
				for _, w := range []string{"CONTRAIL_SQLITE_SYNC", `"` + tt.value + `"`, "normal", "full"} {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Durability != tt.want {
				t.Fatalf("Durability = %q, want %q", c.Durability, tt.want)
			}
		})
	}
}

// TestHostUsesDurabilityFromEnv starts a service host the way `contrail
// service` does (FromEnv with the process environment, then NewHost) and
// reads the pragma back on the database the service's handlers use. NewHost
// does not dial the broker or the registry, so none is needed.
func TestHostUsesDurabilityFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name  string
		value string
		want  int
	}{
		{name: "unset", want: 1},
		{name: "full", value: "FULL", want: 2},
		{name: "normal", value: "normal", want: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("CONTRAIL_DATA_DIR", dir)
			t.Setenv("CONTRAIL_SQLITE_SYNC", tt.value)
			t.Setenv("CONTRAIL_HTTP_ADDR", "127.0.0.1:0")
			t.Setenv("KAFKA_BROKERS", "127.0.0.1:1")
			t.Setenv("SCHEMA_REGISTRY_URL", "http://127.0.0.1:1")
			t.Setenv("CONTRAIL_REGISTER_SCHEMAS", "")
			t.Setenv("OTEL_SDK_DISABLED", "true")
			cfg := host.FromEnv("shipping", nil)
			h, err := host.NewHost(context.Background(), cfg, host.HostOpts{DDL: `CREATE TABLE IF NOT EXISTS t(x)`, LogOutput: io.Discard})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			if got := synchronous(t, h.DB); got != tt.want {
				t.Fatalf("CONTRAIL_SQLITE_SYNC=%q: the service's PRAGMA synchronous = %d, want %d", tt.value, got, tt.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "shipping.db")); err != nil {
				t.Fatalf("the host did not open its database in CONTRAIL_DATA_DIR: %v", err)
			}
		})
	}
	t.Run("bad value fails the start", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv("CONTRAIL_DATA_DIR", dir)
		t.Setenv("CONTRAIL_SQLITE_SYNC", "always")
		t.Setenv("OTEL_SDK_DISABLED", "true")
		h, err := host.NewHost(context.Background(), host.FromEnv("shipping", nil), host.HostOpts{LogOutput: io.Discard})
		if err == nil {
			h.Close()
			t.Fatal("NewHost started with CONTRAIL_SQLITE_SYNC=always")
		}
		if !errors.Is(err, host.ErrConfig) || !strings.Contains(err.Error(), "CONTRAIL_SQLITE_SYNC") {
			t.Fatalf("err = %v, want ErrConfig naming CONTRAIL_SQLITE_SYNC", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "shipping.db")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a rejected start created its database (stat: %v)", err)
		}
	})
}

// synchronous reads SQLite's synchronous pragma back on db's connection
// (it is per connection, not stored in the file): 1 NORMAL, 2 FULL.
func synchronous(t *testing.T, db *sql.DB) int {
	t.Helper()
	var n int
	if err := db.QueryRowContext(context.Background(), `PRAGMA synchronous`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
