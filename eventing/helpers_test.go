package eventing_test

import (
	"context"
	"io"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/schemas"
)

// Meta mirrors contrail.common.EventMetadata's identity fields.
type Meta struct {
	EventID       string  `avro:"eventId"`
	CorrelationID string  `avro:"correlationId"`
	CausationID   *string `avro:"causationId"`
}

// Thing is a small event shaped like Contrail's: metadata, key, payload.
type Thing struct {
	Metadata Meta   `avro:"metadata"`
	OrderID  string `avro:"orderId"`
	Seq      int    `avro:"seq"`
	Note     string `avro:"note"`
}

const thingSchema = `{"type":"record","name":"Thing","namespace":"contrail.test","fields":[
 {"name":"metadata","type":{"type":"record","name":"Meta","fields":[
   {"name":"eventId","type":"string"},
   {"name":"correlationId","type":"string"},
   {"name":"causationId","type":["null","string"],"default":null}]}},
 {"name":"orderId","type":"string"},
 {"name":"seq","type":"int"},
 {"name":"note","type":"string"}]}`

// Echo is a second type used as a handler's output.
type Echo struct {
	Metadata Meta   `avro:"metadata"`
	OrderID  string `avro:"orderId"`
	Seq      int    `avro:"seq"`
}

const echoSchema = `{"type":"record","name":"Echo","namespace":"contrail.test","fields":[
 {"name":"metadata","type":{"type":"record","name":"EchoMeta","fields":[
   {"name":"eventId","type":"string"},
   {"name":"correlationId","type":"string"},
   {"name":"causationId","type":["null","string"],"default":null}]}},
 {"name":"orderId","type":"string"},
 {"name":"seq","type":"int"}]}`

func thingBinding(topic string) *events.Binding[Thing] {
	return events.NewBinding(events.BindingConfig[Thing]{
		FullName: "contrail.test.Thing", Topic: topic, Subject: topic + "-contrail.test.Thing",
		Strategy: events.TopicRecordName, KeyField: "orderId", SchemaText: thingSchema,
		Key:   func(t *Thing) string { return t.OrderID },
		Parse: func() (avro.Schema, error) { return avro.Parse(thingSchema) },
	})
}

func echoBinding(topic string) *events.Binding[Echo] {
	return events.NewBinding(events.BindingConfig[Echo]{
		FullName: "contrail.test.Echo", Topic: topic, Subject: topic + "-contrail.test.Echo",
		Strategy: events.TopicRecordName, KeyField: "orderId", SchemaText: echoSchema,
		Key:   func(t *Echo) string { return t.OrderID },
		Parse: func() (avro.Schema, error) { return avro.Parse(echoSchema) },
	})
}

// startBroker runs an embedded broker over TCP on a free port. Every test
// with a broker is an integration test: it skips in -short mode.
func startBroker(t testing.TB, opts ...broker.Opt) string {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a broker: slow, runs in make test")
	}
	return brokertest.Start(t, opts...).Addr()
}

// startRegistry runs Contrail's registry over HTTP and returns a serde on it.
func startRegistry(t testing.TB) (*serde.Serde, string) {
	t.Helper()
	url := registrytest.Serve(t)
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	// The repository's schemas, shared types included, as `contrail
	// registry push` would register them.
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.Push(context.Background(), cl, set, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	s, err := serde.New(cl)
	if err != nil {
		t.Fatal(err)
	}
	return s, url
}
