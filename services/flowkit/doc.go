// Package flowkit holds what the four reference services (order, inventory,
// payment, shipping) share and the event runtime does not provide: the
// service configuration read from the environment, the SQLite state file,
// the Host a service runs on, exact money amounts, and the record facts
// (topic, partition, offset, schema id) a handler records about the event
// it applies.
//
// A service declares a Service (its name, tables, event conversion, store,
// handlers and routes) and runs it with Service.Run. Its store embeds a
// State, which holds the database, the Emitter and the prepared statements
// and runs the service's transactions (Batch, In); the service keeps only
// its own tables, queries and handler methods on its transaction type,
// which holds a Tx (Seen, Exec, QueryRow, Emit).
//
// It sits beside services/runtime, below the services: it uses the runtime
// and imports no service.
package flowkit
