package statedb

import "time"

// Record is what a handler knows about the event it applies besides its
// payload: where it sat in the log and which schema wrote it. Services store
// it in their history so a user can find the exact record.
type Record struct {
	// EventID is the event's metadata.eventId (the dedupe key).
	EventID string
	// Type is the Avro full name, e.g. "contrail.inventory.InventoryReserved".
	Type string
	// Topic, Partition and Offset locate the record; Partition and Offset are
	// -1 when unknown (an event this service emitted and has not consumed).
	Topic     string
	Partition int32
	Offset    int64
	// SchemaID is the registry id in the record's wire header; 0 if unknown.
	SchemaID int
	// Time is when the fact happened (metadata.occurredAt).
	Time time.Time
}
