package eventing

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// DefaultPostgresConns is how many connections a database from
// OpenPostgres opens at most: the router's partitions in flight (each holds
// one for its batch transaction), the relay, and the service's HTTP reads.
// Change it with SetMaxOpenConns; mind the server's max_connections
// (default 100) across every replica of every service.
const DefaultPostgresConns = 8

// ErrPostgresURL is wrapped by OpenPostgres's error for a URL or schema
// name it cannot use.
var ErrPostgresURL = errors.New("runtime: invalid PostgreSQL database")

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// OpenPostgres opens the PostgreSQL database at url
// (postgres://user:password@host:5432/dbname?sslmode=disable; pgx reads
// libpq's PG* environment variables for what the URL leaves out) through
// pgx's database/sql driver, so the runtime and the services run the same
// database/sql code on it as on SQLite. pgx prepares each statement once
// per connection and reuses it (its statement cache), so nothing is
// prepared by hand.
//
// With schema not empty (lower-case letters, digits and underscores), every
// connection's search_path is that schema, created if missing: one
// database can hold many services, each in its own schema. Replicas that
// start together create it under an advisory lock.
//
// Unless url sets it (?synchronous_commit=off, ...), every connection runs
// with synchronous_commit=on: a commit returns once PostgreSQL flushed it
// to its write-ahead log, so a relayed event's state change survives a
// crash of the database server too (docs/postgres.md weighs the other
// levels). The pool opens at most DefaultPostgresConns connections. The
// error for a database it cannot reach says what to check; one for a bad
// url or schema wraps ErrPostgresURL.
func OpenPostgres(ctx context.Context, url, schema string) (*sql.DB, error) {
	if schema != "" {
		if err := CheckSchemaName(schema); err != nil {
			return nil, err
		}
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL, password included.
		return nil, fmt.Errorf("%w: %s: not a PostgreSQL URL such as postgres://user:password@host:5432/dbname?sslmode=disable", ErrPostgresURL, RedactURL(url))
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	if _, ok := cfg.RuntimeParams["synchronous_commit"]; !ok {
		cfg.RuntimeParams["synchronous_commit"] = "on"
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "contrail"
		if schema != "" {
			cfg.RuntimeParams["application_name"] = "contrail:" + schema
		}
	}
	if schema != "" {
		cfg.RuntimeParams["search_path"] = schema
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(DefaultPostgresConns)
	db.SetMaxIdleConns(DefaultPostgresConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("runtime: connect to PostgreSQL at %s (is it running, and are the user, password and database right?): %w", RedactURL(url), err)
	}
	if schema != "" {
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrateLock); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize())
			return err
		})
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("runtime: create schema %s: %w", schema, err)
		}
	}
	return db, nil
}

// CheckSchemaName returns an error wrapping ErrPostgresURL unless name can
// be a PostgreSQL schema for OpenPostgres: 1 to 63 lower-case letters,
// digits and underscores, not starting with a digit.
func CheckSchemaName(name string) error {
	if !schemaName.MatchString(name) {
		return fmt.Errorf("%w: schema %q: use 1 to 63 lower-case letters, digits and underscores, starting with a letter or underscore", ErrPostgresURL, name)
	}
	return nil
}

// OpenPostgresStore opens the database at url with OpenPostgres (schema as
// there) and the Store on it (NewStore: the runtime's migrations, then its
// statements). Errors are OpenPostgres's and NewStore's.
func OpenPostgresStore(ctx context.Context, url, schema string) (*Store, error) {
	db, err := OpenPostgres(ctx, url, schema)
	if err != nil {
		return nil, err
	}
	s, err := NewStore(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// RedactURL returns a database URL for a log line or an error: the
// password replaced by "xxxxx" (a key=value DSN is cut to its host=...
// part). Anything that does not parse comes back as "(unparsable URL)".
func RedactURL(s string) string {
	if !strings.Contains(s, "://") {
		for _, f := range strings.Fields(s) {
			if strings.HasPrefix(f, "host=") {
				return f
			}
		}
		return "(key=value DSN)"
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// inTx runs fn in a transaction on db, committed when fn returns nil.
func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
