// Package tracing is Contrail's OpenTelemetry layer: SDK setup from the
// standard OTEL_* environment ([Setup]), trace propagation through Kafka
// record headers ([RecordCarrier], [NewPropagator]), messaging spans for the
// event runtime ([Messaging]), HTTP server spans for gin services
// ([GinMiddleware]) and log correlation ([NewLogHandler]).
//
// One order is one trace: the HTTP request starts it, every publish is a
// PRODUCER span "send <topic>", every handled record a CONSUMER span
// "process <topic>" that is a child of the producer span and links to it.
// Context rides in W3C traceparent/tracestate/baggage headers and in Jaeger's
// uber-trace-id, so services still on jaeger-client-go join the same trace.
//
// Errors are recorded one way everywhere (see [RecordError]): span status
// Error with the message as description, plus an error.type attribute.
package tracing

// ScopeName is the instrumentation scope of every span this package starts.
const ScopeName = "github.com/contrail-events/contrail/tracing"

// Version is the instrumentation scope version reported with ScopeName.
const Version = "0.1.0"
