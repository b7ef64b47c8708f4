// Package statedb is the state a service keeps beside the event runtime,
// in SQLite or PostgreSQL: OpenDB (a SQLite file: WAL, one connection, the
// Durability level; eventing.OpenPostgres opens PostgreSQL), prepared
// Statements written once for both (with $1 placeholders), and State, which
// runs a service's transactions (Batch for a handler's batch, In for one
// transaction) with inbox dedupe (Tx.Seen) and the outbox (Tx.Emit through
// an Emitter) committing together with the service's own rows. A service
// creates its tables with numbered migrations (eventing.Migrate). Record
// holds the facts (topic, partition, offset, schema id) a handler records
// about the event it applies.
//
// A service's store embeds a State; the service keeps only its own tables,
// queries and handler methods on its transaction type, which holds a Tx.
package statedb
