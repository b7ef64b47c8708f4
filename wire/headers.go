package wire

// Record header keys the event runtime writes on every event it publishes.
const (
	// HeaderEventID carries the event's unique id (its metadata.eventId);
	// the inbox deduplicates on it and tracing reports it as
	// messaging.message.id.
	HeaderEventID = "contrail-event-id"
	// HeaderEventType carries the event's fully qualified Avro name; the
	// router dispatches on it.
	HeaderEventType = "contrail-event-type"
	// HeaderContentType carries ContentTypeAvro.
	HeaderContentType = "content-type"
	// HeaderCorrelationID carries the id shared by every event of one flow.
	HeaderCorrelationID = "contrail-correlation-id"
	// HeaderCausationID carries the id of the event whose handler published
	// this one; absent for a flow's first event.
	HeaderCausationID = "contrail-causation-id"
)

// Header keys the dead-letter middleware adds to a dead letter, next to the
// original record's own headers.
const (
	HeaderDLQTopic      = "contrail-dlq-topic"       // original topic
	HeaderDLQPartition  = "contrail-dlq-partition"   // original partition, decimal
	HeaderDLQOffset     = "contrail-dlq-offset"      // original offset, decimal
	HeaderDLQErrorClass = "contrail-dlq-error-class" // the runtime's ErrorClass
	HeaderDLQError      = "contrail-dlq-error"       // the error message
	HeaderDLQTime       = "contrail-dlq-time"        // RFC 3339 time of dead-lettering, UTC
)

// Trace context header keys. HeaderTraceParent and HeaderTraceState are W3C
// Trace Context, HeaderBaggage is W3C Baggage and HeaderUberTraceID is
// Jaeger's native format, read by jaeger-client-go.
const (
	HeaderTraceParent = "traceparent"
	HeaderTraceState  = "tracestate"
	HeaderBaggage     = "baggage"
	HeaderUberTraceID = "uber-trace-id"
)

// ContentTypeAvro is the content-type header value of a Confluent-framed
// Avro record value.
const ContentTypeAvro = "application/vnd.contrail.avro"

// ContentTypeRegistry is the media type of the schema registry's REST API,
// requests and responses, as Confluent's registry uses it.
const ContentTypeRegistry = "application/vnd.schemaregistry.v1+json"

// DLQSuffix is appended to a topic's name to name its dead-letter topic.
const DLQSuffix = ".dlq"
