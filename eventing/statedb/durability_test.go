package statedb_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/eventing/statedb"
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
		opts []statedb.DBOpt
		want int
	}{
		{name: "default is normal", want: 1},
		{name: "normal", opts: []statedb.DBOpt{statedb.WithDurability(statedb.DurabilityNormal)}, want: 1},
		{name: "full", opts: []statedb.DBOpt{statedb.WithDurability(statedb.DurabilityFull)}, want: 2},
		{name: "empty keeps the default", opts: []statedb.DBOpt{statedb.WithDurability("")}, want: 1},
		{name: "nil option keeps the default", opts: []statedb.DBOpt{nil}, want: 1},
		{name: "last wins", opts: []statedb.DBOpt{statedb.WithDurability(statedb.DurabilityNormal), statedb.WithDurability(statedb.DurabilityFull)}, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := statedb.OpenDB(context.Background(), filepath.Join(t.TempDir(), "s.db"), `CREATE TABLE IF NOT EXISTS t(x)`, tt.opts...)
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
	db, err := statedb.OpenDB(context.Background(), filepath.Join(dir, "s.db"), `CREATE TABLE IF NOT EXISTS t(x)`,
		statedb.WithDurability("extra"))
	if err == nil {
		db.Close()
		t.Fatal("OpenDB accepted durability \"extra\"")
	}
	if !errors.Is(err, statedb.ErrDurability) || !strings.Contains(err.Error(), `"extra"`) {
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
		want statedb.Durability // "" for an error
	}{
		{name: "normal", in: "normal", want: statedb.DurabilityNormal},
		{name: "full", in: "full", want: statedb.DurabilityFull},
		{name: "upper case", in: "FULL", want: statedb.DurabilityFull},
		{name: "mixed case and blanks", in: " Normal\n", want: statedb.DurabilityNormal},
		{name: "empty", in: ""},
		{name: "sqlite off is not offered", in: "off"},
		{name: "sqlite extra is not offered", in: "extra"},
		{name: "pragma number", in: "2"},
		{name: "typo", in: "ful"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statedb.ParseDurability(tt.in)
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("ParseDurability(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, statedb.ErrDurability) {
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
