// Package flowkit holds what the four reference services (order, inventory,
// payment, shipping) share and the event runtime does not provide: the
// service configuration read from the environment, the SQLite state file,
// exact money amounts, and the record facts (topic, partition, offset,
// schema id) a handler records about the event it applies.
//
// It sits beside services/runtime, below the services: it imports neither
// the runtime nor any service.
package flowkit
