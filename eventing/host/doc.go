// Package host runs a service on Contrail's event runtime: Config (the
// broker, registry, state (a SQLite file, or PostgreSQL shared by the
// service's replicas) and HTTP address, read from the standard environment
// names by FromEnv), Host (the Kafka client, registry client, serde,
// Publisher, Router, database and HTTP server of one service process) and Service, the declaration a service fills in (its name,
// tables, event conversion, store, handlers and routes) and runs with
// Service.Run.
//
// It sits above the runtime (package eventing) and its state store
// (package statedb) and wires in tracing; it imports no service.
package host
