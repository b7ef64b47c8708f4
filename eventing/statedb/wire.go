package statedb

import (
	"context"
	"time"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/wire"
)

// Metadata converts m to the schemas' EventMetadata of an event produced by
// producer.
func Metadata(m Meta, producer string) common.EventMetadata {
	md := common.EventMetadata{EventID: m.EventID, OccurredAt: m.OccurredAt, CorrelationID: m.CorrelationID,
		Producer: producer, Attributes: map[string]string{}}
	if m.CausationID != "" {
		c := m.CausationID
		md.CausationID = &c
	}
	return md
}

// RecordFrom describes the record being handled in ctx (from the runtime's
// Message) for an event whose metadata says eventID and occurred. Outside a
// handler it returns just the id and time.
func RecordFrom(ctx context.Context, eventID string, occurred time.Time) Record {
	rec := Record{EventID: eventID, Partition: -1, Offset: -1, Time: occurred}
	if m := eventing.MessageFrom(ctx); m != nil && m.Record != nil {
		rec.Type = m.EventType
		rec.Topic, rec.Partition, rec.Offset = m.Record.Topic, m.Record.Partition, m.Record.Offset
		if id, err := wire.SchemaID(m.Record.Value); err == nil {
			rec.SchemaID = id
		}
		if rec.EventID == "" {
			rec.EventID = m.EventID
		}
	}
	return rec
}

// Str returns a pointer to s, or nil for an empty s (an Avro ["null","string"]).
func Str(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
