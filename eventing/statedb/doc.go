// Package statedb is the SQLite state a service keeps beside the event
// runtime: OpenDB (WAL, one connection, the Durability level), prepared
// Statements, and State, which runs a service's transactions (Batch for a
// handler's batch, In for one transaction) with inbox dedupe (Tx.Seen) and
// the outbox (Tx.Emit through an Emitter) committing together with the
// service's own rows. Record holds the facts (topic, partition, offset,
// schema id) a handler records about the event it applies.
//
// A service's store embeds a State; the service keeps only its own tables,
// queries and handler methods on its transaction type, which holds a Tx.
package statedb
