package statedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Durability is how hard SQLite works to keep a committed transaction of a
// service's database (its state, inbox and outbox) through a crash: the
// WAL's synchronous pragma. The zero value "" means DurabilityNormal. Use
// ParseDurability for text from a user.
type Durability string

const (
	// DurabilityNormal (synchronous=NORMAL, the default) fsyncs the WAL
	// only at checkpoints. A committed transaction survives a process kill
	// (SIGKILL, OOM kill, panic), because the WAL is in the operating
	// system's cache; a power loss or kernel crash can lose the last
	// commits (never corrupt the file), after which the service may have
	// published events whose state change it no longer has. It is the
	// default because it is faster: see docs/performance.md for the measured cost
	// of DurabilityFull.
	DurabilityNormal Durability = "normal"
	// DurabilityFull (synchronous=FULL) fsyncs the WAL at every commit, so
	// a commit also survives a power loss or kernel crash, at the price of
	// one fsync per transaction.
	DurabilityFull Durability = "full"
)

// ErrDurability is wrapped by ParseDurability's and OpenDB's error for a
// durability other than DurabilityNormal and DurabilityFull.
var ErrDurability = errors.New("statedb: unknown durability")

// ParseDurability returns the durability named by s: "normal" or "full",
// in any case, surrounding blanks ignored. Anything else, the empty string
// and SQLite's other levels ("off", "extra") included, is an error wrapping
// ErrDurability that names the accepted values.
func ParseDurability(s string) (Durability, error) {
	switch d := Durability(strings.ToLower(strings.TrimSpace(s))); d {
	case DurabilityNormal, DurabilityFull:
		return d, nil
	}
	return "", fmt.Errorf("%w %q: use %q (default: a commit survives a process kill) or %q (an fsync per commit: it also survives a power loss)",
		ErrDurability, s, DurabilityNormal, DurabilityFull)
}

// Validate reports whether d is a durability OpenDB accepts: the zero
// value (the default, DurabilityNormal), DurabilityNormal or DurabilityFull.
// Anything else is an error wrapping ErrDurability.
func (d Durability) Validate() error {
	_, err := d.pragma()
	return err
}

// pragma is d's value of SQLite's synchronous pragma.
func (d Durability) pragma() (string, error) {
	switch d {
	case "", DurabilityNormal:
		return "NORMAL", nil
	case DurabilityFull:
		return "FULL", nil
	}
	_, err := ParseDurability(string(d))
	return "", err
}

// DBOpt is an option of OpenDB.
type DBOpt interface{ applyDB(*dbConfig) }

type dbOptFunc func(*dbConfig)

func (f dbOptFunc) applyDB(c *dbConfig) { f(c) }

// dbConfig is what the DBOpts set.
type dbConfig struct {
	durability Durability
}

// defaultDBConfig holds every OpenDB default.
func defaultDBConfig() dbConfig { return dbConfig{durability: DurabilityNormal} }

func (c *dbConfig) validate() error {
	_, err := c.durability.pragma()
	return err
}

// WithDurability sets how a commit is kept through a crash (see
// Durability). Default DurabilityNormal; "" keeps the default. OpenDB fails
// with an error wrapping ErrDurability for any other value than the two
// constants.
func WithDurability(d Durability) DBOpt {
	return dbOptFunc(func(c *dbConfig) {
		if d != "" {
			c.durability = d
		}
	})
}

// OpenDB opens (creating if needed) the SQLite database at path, in WAL mode
// with the synchronous level of WithDurability (default DurabilityNormal:
// a commit survives a process kill, which is the crash the services are
// built for, but not necessarily a power loss; see Durability).
// Write transactions start IMMEDIATE so two writers queue on the busy timeout
// instead of failing on a lock upgrade. The returned *sql.DB is safe for
// concurrent use. schema, when not empty, is executed once (CREATE TABLE IF
// NOT EXISTS ...); services apply numbered migrations instead
// (eventing.Migrate), which run on PostgreSQL too (eventing.OpenPostgres
// opens that). It returns an error wrapping ErrDurability for an unknown
// durability.
func OpenDB(ctx context.Context, path string, schema string, opts ...DBOpt) (*sql.DB, error) {
	cfg := defaultDBConfig()
	for _, o := range opts {
		if o != nil {
			o.applyDB(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sync, _ := cfg.durability.pragma()
	if path == "" {
		return nil, errors.New("statedb: empty database path: set CONTRAIL_DATA_DIR or the service's data directory")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("statedb: create data directory: %w", err)
		}
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	// A bigger page cache (16 MiB, default 2 MiB) keeps the hot tables'
	// pages in memory instead of re-reading them with pread, and a
	// checkpoint every 8192 WAL pages (32 MiB, default 1000) copies a page
	// that many transactions rewrote (the tail of the inbox, outbox and
	// history) back to the database once instead of many times.
	q.Add("_pragma", "cache_size(-16384)")
	q.Add("_pragma", "wal_autocheckpoint(8192)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("statedb: open %s: %w", path, err)
	}
	// One connection: SQLite has one writer, and a writer that finds the
	// database locked sleeps in the busy handler's coarse steps (1ms..100ms).
	// Queueing on database/sql's pool instead hands the connection over at
	// once, which measured several times faster under load.
	db.SetMaxOpenConns(1)
	if schema == "" {
		return db, nil
	}
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("statedb: create tables in %s: %w", path, err)
	}
	return db, nil
}

// InTx runs fn in one transaction on db and commits it when fn returns nil;
// otherwise it rolls back and returns fn's error.
func InTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("statedb: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("statedb: commit: %w", err)
	}
	return nil
}
