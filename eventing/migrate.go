package eventing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Migration is one numbered change to a component's tables (the runtime's
// inbox and outbox, or one service's own), written once per dialect.
// Migrate applies each version once, in order, and records it in the table
// schema_migrations. A released migration is never edited: a later change
// is a new version.
type Migration struct {
	// Version numbers the migrations of one component from 1 up.
	Version int
	// Name says what the migration does, in a few words; it is stored with
	// the version.
	Name string
	// SQLite and Postgres are the statements (several, separated by
	// semicolons) for each dialect. A version that does not apply to one
	// dialect says so with a no-op such as "SELECT 1"; an empty one is an
	// error when Migrate meets it.
	SQLite, Postgres string
}

// ErrMigration is wrapped by Migrate's error for a list of migrations it
// refuses: versions that do not increase, or no SQL for the dialect.
var ErrMigration = errors.New("runtime: invalid migration")

// migrateLock is the pg_advisory_xact_lock key under which Migrate (and
// OpenPostgres's CREATE SCHEMA) run: "contrail" in ASCII.
const migrateLock int64 = 0x636f6e747261696c

var migrationsDDL = map[Dialect]string{
	SQLite: `CREATE TABLE IF NOT EXISTS schema_migrations (
	component  TEXT NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
	PRIMARY KEY (component, version)
)`,
	Postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
	component  TEXT NOT NULL,
	version    INTEGER NOT NULL,
	name       TEXT NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
	PRIMARY KEY (component, version)
)`,
}

// Migrate brings component's tables in db up to its last migration: in one
// transaction it applies, in order of Version, every migration that
// schema_migrations does not list for component yet, and lists it there
// (component, version, name, applied_at). Either all of them commit or
// none. On PostgreSQL the transaction first takes an advisory lock
// (pg_advisory_xact_lock), so replicas that start together apply each
// migration once: the others wait, then find nothing left to do. On SQLite
// the transaction is a write transaction from its start (the runtime's
// databases open with _txlock=immediate), which serializes processes the
// same way.
//
// Versions the database has beyond the last of migrations (a newer
// binary's) are left alone. A database an older Contrail made without
// schema_migrations is adopted: the first migration of every component
// creates its tables only if they do not exist. Errors wrap ErrMigration
// for an invalid list, else name the migration that failed.
func Migrate(ctx context.Context, db *sql.DB, component string, migrations []Migration) error {
	d := DialectOf(db)
	last := 0
	for _, m := range migrations {
		if m.Version <= last {
			return fmt.Errorf("%w: %s: version %d after %d: versions must increase", ErrMigration, component, m.Version, last)
		}
		last = m.Version
		if m.sql(d) == "" {
			return fmt.Errorf("%w: %s version %d (%s) has no %s statements", ErrMigration, component, m.Version, m.Name, d)
		}
	}
	if component == "" {
		return fmt.Errorf("%w: no component name", ErrMigration)
	}
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		if d == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
				return fmt.Errorf("lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, migrationsDDL[d]); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		applied, err := appliedVersions(ctx, tx, component)
		if err != nil {
			return err
		}
		for _, m := range migrations {
			if applied[m.Version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql(d)); err != nil {
				return fmt.Errorf("version %d (%s): %w", m.Version, m.Name, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (component, version, name) VALUES ($1, $2, $3)`,
				component, m.Version, m.Name); err != nil {
				return fmt.Errorf("record version %d: %w", m.Version, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("runtime: migrate %s tables (%s): %w", component, d, err)
	}
	return nil
}

func appliedVersions(ctx context.Context, tx *sql.Tx, component string) (map[int]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations WHERE component = $1`, component)
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	out := map[int]bool{}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out[v] = true
	}
	return out, rows.Err()
}

func (m Migration) sql(d Dialect) string {
	if d == Postgres {
		return m.Postgres
	}
	return m.SQLite
}

// MigrationVersion returns the highest version of component that db's
// schema_migrations lists, 0 when none (or when the table does not exist
// yet).
func MigrationVersion(ctx context.Context, db *sql.DB, component string) (int, error) {
	var v sql.NullInt64
	err := db.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations WHERE component = $1`, component).Scan(&v)
	if err != nil {
		// No table yet: nothing applied. Told apart from other errors by
		// asking whether the table exists.
		var n int
		q := `SELECT count(*) FROM sqlite_master WHERE name = 'schema_migrations'`
		if DialectOf(db) == Postgres {
			q = `SELECT count(*) FROM pg_tables WHERE tablename = 'schema_migrations' AND schemaname = current_schema()`
		}
		if qerr := db.QueryRowContext(ctx, q).Scan(&n); qerr == nil && n == 0 {
			return 0, nil
		}
		return 0, err
	}
	return int(v.Int64), nil
}
