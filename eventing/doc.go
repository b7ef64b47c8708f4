// Package eventing is Contrail's typed event runtime on franz-go: services
// publish generated events through a Publisher and handle them with a Router,
// which gives them consumer groups, per-key ordering, at-least-once delivery,
// retries, dead-letter topics, panic recovery, an inbox and outbox on
// SQLite or PostgreSQL (Store; several replicas may share one on
// PostgreSQL; package storetest is its conformance suite), tracing hooks, Prometheus metrics, structured logs and health endpoints.
//
// A handler is a function of one decoded, typed event:
//
//	eventing.Handle(router, orders.OrderPlacedBinding, func(ctx context.Context, e *orders.OrderPlaced) error {
//		...
//	})
//
// Everything around the handler is middleware (one file each): observe
// (metrics + logs), tracing, dead-letter, retry, recover, inbox. The
// runtime never imports the tracing package: it declares Tracer, which
// tracing.Messaging satisfies, and a nil Tracer costs nothing.
//
// Nothing here is specific to the embedded broker: point Brokers at Kafka or
// Redpanda and add TLS or SASL through ClientOpts.
package eventing
