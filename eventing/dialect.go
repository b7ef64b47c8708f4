package eventing

import (
	"database/sql"

	"github.com/jackc/pgx/v5/stdlib"
)

// Dialect is the SQL database a Store (and a service's state beside it)
// runs on. The runtime writes its SQL once, with $1, $2, ... placeholders,
// which both drivers accept, and keeps the few statements that differ (DDL,
// the relay's locking read, bulk deletes) per dialect.
type Dialect string

const (
	// SQLite is one file per service (modernc.org/sqlite): one writer,
	// one connection, one replica. OpenStore and statedb.OpenDB open it.
	SQLite Dialect = "sqlite"
	// Postgres is PostgreSQL through pgx's database/sql driver
	// (github.com/jackc/pgx/v5/stdlib): a pool of connections, shared by
	// every replica of a service. OpenPostgres opens it.
	Postgres Dialect = "postgres"
)

// DialectOf returns the dialect of db from its driver: Postgres for pgx's
// database/sql driver, SQLite for anything else.
func DialectOf(db *sql.DB) Dialect {
	if _, ok := db.Driver().(*stdlib.Driver); ok {
		return Postgres
	}
	return SQLite
}
