package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/contrail-events/contrail/eventing"
)

// EnvPostgresURL names the variable that points the tests at a PostgreSQL
// server: a URL of a user allowed to CREATE DATABASE. Default
// DefaultPostgresURL.
const EnvPostgresURL = "CONTRAIL_TEST_POSTGRES_URL"

// DefaultPostgresURL is the server the tests use when EnvPostgresURL is
// unset: the local one that `make test` starts.
const DefaultPostgresURL = "postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	pgOnce   sync.Once
	pgErr    error
	pgServer string
)

// PostgresURL creates a new, empty database on the test server
// (EnvPostgresURL, default DefaultPostgresURL), named
// contrail_test_<random>, drops it (closing whatever still uses it) when t
// ends, and returns its URL. When the server cannot be reached it skips t
// saying why, or, with CI=true, fails it: CI must run these tests.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() {
		pgServer = os.Getenv(EnvPostgresURL)
		if pgServer == "" {
			pgServer = DefaultPostgresURL
		}
		db, err := sql.Open("pgx", pgServer)
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	if pgErr != nil {
		msg := fmt.Sprintf("PostgreSQL at %s is not reachable (%v): set %s to a server where this user may CREATE DATABASE, or start one (make test does; see docs/postgres.md)",
			eventing.RedactURL(pgServer), pgErr, EnvPostgresURL)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true, so this fails instead of skipping")
		}
		t.Skip(msg)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "contrail_test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", pgServer)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("storetest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", pgServer)
		if err != nil {
			return
		}
		defer db.Close()
		if _, err := db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`); err != nil {
			t.Logf("storetest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(pgServer)
	if err != nil {
		t.Fatalf("storetest: %s is not a URL: %v", EnvPostgresURL, err)
	}
	u.Path = "/" + name
	return u.String()
}

// SQLite is the backend of SQLite files in t's temporary directory
// (eventing.OpenStore). It has no Share: a SQLite file has one writing
// process, so a service on SQLite runs one replica.
func SQLite() Backend {
	var mu sync.Mutex
	paths := map[*eventing.Store]string{}
	open := func(t testing.TB, path string) *eventing.Store {
		t.Helper()
		s, err := eventing.OpenStore(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		mu.Lock()
		paths[s] = path
		mu.Unlock()
		return s
	}
	return Backend{
		Name: "sqlite",
		Open: func(t testing.TB) *eventing.Store {
			return open(t, filepath.Join(t.TempDir(), "store.db"))
		},
		// What a killed process leaves: the database file and its WAL as
		// they are on disk. A transaction that did not commit has no
		// commit frame in the WAL and is not there when the copy opens.
		Crash: func(t testing.TB, s *eventing.Store) *eventing.Store {
			t.Helper()
			mu.Lock()
			path := paths[s]
			mu.Unlock()
			dst := filepath.Join(t.TempDir(), "after-crash.db")
			for _, suffix := range []string{"", "-wal"} {
				if err := copyFile(path+suffix, dst+suffix); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			}
			// The dead process writes and relays nothing more.
			s.Close()
			return open(t, dst)
		},
	}
}

// Postgres is the backend of PostgreSQL databases, one new database per
// Open (PostgresURL: it skips without a server), stores from
// eventing.OpenPostgresStore. Share opens another store on the same
// database, as a second replica would; Crash ends every session on the
// database at once, as PostgreSQL does for a client that died, and opens a
// new store on it.
func Postgres() Backend {
	var mu sync.Mutex
	urls := map[*eventing.Store]string{}
	open := func(t testing.TB, u string) *eventing.Store {
		t.Helper()
		s, err := eventing.OpenPostgresStore(context.Background(), u, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		mu.Lock()
		urls[s] = u
		mu.Unlock()
		return s
	}
	urlOf := func(s *eventing.Store) string {
		mu.Lock()
		defer mu.Unlock()
		return urls[s]
	}
	return Backend{
		Name:  "postgres",
		Open:  func(t testing.TB) *eventing.Store { return open(t, PostgresURL(t)) },
		Share: func(t testing.TB, s *eventing.Store) *eventing.Store { return open(t, urlOf(s)) },
		Crash: func(t testing.TB, s *eventing.Store) *eventing.Store {
			t.Helper()
			u := urlOf(s)
			db, err := sql.Open("pgx", u)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
				t.Fatalf("storetest: end the sessions: %v", err)
			}
			// The dead process opens no new session.
			s.Close()
			return open(t, u)
		},
	}
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// Database is one kind of database for a test of a service's state: the
// service's NewStore runs on what Open returns, on both kinds alike.
type Database struct {
	// Name is "sqlite" or "postgres", for t.Run.
	Name string
	// Open returns a new, empty database, closed when t ends: a SQLite
	// file in t's temporary directory (one connection, write transactions
	// IMMEDIATE, as the services open theirs), or a new PostgreSQL
	// database from PostgresURL opened with eventing.OpenPostgres (it skips
	// t without a server, or fails it under CI=true).
	Open func(t testing.TB) *sql.DB
}

// Databases returns the kinds of database a service's state runs on.
func Databases() []Database {
	return []Database{
		{Name: "sqlite", Open: func(t testing.TB) *sql.DB {
			t.Helper()
			s, err := eventing.OpenStore(context.Background(), filepath.Join(t.TempDir(), "state.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s.DB()
		}},
		{Name: "postgres", Open: func(t testing.TB) *sql.DB {
			t.Helper()
			db, err := eventing.OpenPostgres(context.Background(), PostgresURL(t), "")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}},
	}
}

// OpenPostgres opens a new PostgreSQL database (PostgresURL: it skips t
// without a server) with eventing.OpenPostgres and returns it with its
// URL, for a test that opens it again as a second replica would.
func OpenPostgres(t testing.TB) (*sql.DB, string) {
	t.Helper()
	u := PostgresURL(t)
	db, err := eventing.OpenPostgres(context.Background(), u, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, u
}
