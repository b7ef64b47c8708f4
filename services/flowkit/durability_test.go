package flowkit_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/services/flowkit"
)

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

func TestOpenDBDurability(t *testing.T) {
	tests := []struct {
		name string
		opts []flowkit.DBOpt
		want int
	}{
		{name: "default is normal", want: 1},
		{name: "normal", opts: []flowkit.DBOpt{flowkit.WithDurability(flowkit.DurabilityNormal)}, want: 1},
		{name: "full", opts: []flowkit.DBOpt{flowkit.WithDurability(flowkit.DurabilityFull)}, want: 2},
		{name: "empty keeps the default", opts: []flowkit.DBOpt{flowkit.WithDurability("")}, want: 1},
		{name: "nil option keeps the default", opts: []flowkit.DBOpt{nil}, want: 1},
		{name: "last wins", opts: []flowkit.DBOpt{flowkit.WithDurability(flowkit.DurabilityNormal), flowkit.WithDurability(flowkit.DurabilityFull)}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := flowkit.OpenDB(context.Background(), filepath.Join(t.TempDir(), "s.db"), `CREATE TABLE IF NOT EXISTS t(x)`, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got := synchronous(t, db); got != tt.want {
				t.Fatalf("PRAGMA synchronous = %d, want %d", got, tt.want)
			}
			// The setting holds on a connection opened after the first
			// one closed (it comes with every connection, not once).
			db.SetMaxIdleConns(0)
			if _, err := db.Exec(`INSERT INTO t VALUES(1)`); err != nil {
				t.Fatal(err)
			}
			if got := synchronous(t, db); got != tt.want {
				t.Fatalf("on a new connection PRAGMA synchronous = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestOpenDBRejectsUnknownDurability(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	db, err := flowkit.OpenDB(context.Background(), filepath.Join(dir, "s.db"), `CREATE TABLE IF NOT EXISTS t(x)`,
		flowkit.WithDurability("extra"))
	if err == nil {
		db.Close()
		t.Fatal("OpenDB accepted durability \"extra\"")
	}
	if !errors.Is(err, flowkit.ErrDurability) || !strings.Contains(err.Error(), `"extra"`) {
		t.Fatalf("err = %v, want ErrDurability naming \"extra\"", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a rejected open created %s (stat: %v)", dir, err)
	}
}

func TestParseDurability(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want flowkit.Durability // "" for an error
	}{
		{name: "normal", in: "normal", want: flowkit.DurabilityNormal},
		{name: "full", in: "full", want: flowkit.DurabilityFull},
		{name: "upper case", in: "FULL", want: flowkit.DurabilityFull},
		{name: "mixed case and blanks", in: " Normal\n", want: flowkit.DurabilityNormal},
		{name: "empty", in: ""},
		{name: "sqlite off is not offered", in: "off"},
		{name: "sqlite extra is not offered", in: "extra"},
		{name: "pragma number", in: "2"},
		{name: "typo", in: "ful"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := flowkit.ParseDurability(tt.in)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseDurability(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, flowkit.ErrDurability) {
				t.Fatalf("ParseDurability(%q) = %q, %v; want ErrDurability", tt.in, got, err)
			}
			for _, w := range []string{`"` + tt.in + `"`, `"normal"`, `"full"`} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not name %s", err, w)
				}
			}
		})
	}
}

func TestConfigDurabilityFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		value   string // CONTRAIL_SQLITE_SYNC; "" unset
		want    flowkit.Durability
		wantErr bool
	}{
		{name: "unset is normal", want: flowkit.DurabilityNormal},
		{name: "normal", value: "normal", want: flowkit.DurabilityNormal},
		{name: "full", value: "full", want: flowkit.DurabilityFull},
		{name: "any case", value: "Full", want: flowkit.DurabilityFull},
		{name: "unknown", value: "fsync", wantErr: true},
		{name: "sqlite level not offered", value: "OFF", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := flowkit.FromEnv("inventory", func(k string) string {
				if k == "CONTRAIL_SQLITE_SYNC" {
					return tt.value
				}
				return ""
			})
			err := c.Validate()
			if tt.wantErr {
				if !errors.Is(err, flowkit.ErrConfig) {
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
			cfg := flowkit.FromEnv("shipping", nil)
			h, err := flowkit.NewHost(context.Background(), cfg, flowkit.HostOpts{DDL: `CREATE TABLE IF NOT EXISTS t(x)`, LogOutput: io.Discard})
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
		h, err := flowkit.NewHost(context.Background(), flowkit.FromEnv("shipping", nil), flowkit.HostOpts{LogOutput: io.Discard})
		if err == nil {
			h.Close()
			t.Fatal("NewHost started with CONTRAIL_SQLITE_SYNC=always")
		}
		if !errors.Is(err, flowkit.ErrConfig) || !strings.Contains(err.Error(), "CONTRAIL_SQLITE_SYNC") {
			t.Fatalf("err = %v, want ErrConfig naming CONTRAIL_SQLITE_SYNC", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "shipping.db")); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("a rejected start created its database (stat: %v)", err)
		}
	})
}
