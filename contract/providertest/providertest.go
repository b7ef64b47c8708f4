// Package providertest verifies a producing service ("provider") against
// its consumers' contracts by running it for real: one service's handlers on
// the embedded broker and Contrail's registry over HTTP, fed with input
// events (typically the example events in schemas/examples), with
// everything it publishes captured and checked.
//
//	env := providertest.Start(t)
//	env.Run(t, "inventory", func(ctx context.Context, cfg host.Config) error {
//		return inventory.Run(ctx, cfg, host.HostOpts{LogOutput: io.Discard})
//	})
//	in := providertest.Example(t, env, orders.OrderPlacedBinding, "card-web")
//	env.Publish(t, orders.OrderPlacedBinding, in)
//	out := providertest.Await(t, env, inventory.InventoryRejectedBinding, func(e *inventory.InventoryRejected) bool { return e.OrderID == in.OrderID })
//	env.VerifyOutputs(t) // registered, valid, readable by every contract
//
// VerifyOutputs asserts, for every record the service published: its schema
// ID is registered under the event's subject, it decodes as the generated
// type and re-encodes to the same bytes (valid), and every consumer contract
// for the event (from contracts/) can read it under Avro resolution. What
// the outputs must contain is stated by the test with Await.
package providertest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/contracttest"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"

	"github.com/contrail-events/contrail/eventing"
)

// DefaultTimeout is how long Await waits for an output.
const DefaultTimeout = 30 * time.Second

// Output is one record captured on a manifest topic.
type Output struct {
	Topic     string
	EventType string // the contrail-event-type header
	Value     []byte // wire format: magic byte, schema ID, Avro
	Record    *kgo.Record
}

// Env is a running broker and registry with the repository's schemas
// pushed, a publisher for inputs and a capture of every record on the
// manifest's topics. Its methods are safe for concurrent use.
type Env struct {
	// Brokers is the embedded broker's address; RegistryURL our registry's.
	Brokers, RegistryURL string
	// Set is the schema tree pushed to the registry.
	Set *schemas.Set
	// Contracts are the consumer contracts outputs are verified against.
	Contracts []*contract.Contract

	registry *sr.Client
	codec    *serde.Serde
	pub      *eventing.Publisher
	root     string

	mu       sync.Mutex
	captured []Output
	inputs   map[string]bool // event ids published by the test
	changed  chan struct{}
}

// Start starts the embedded broker (the manifest's topics and their
// dead-letter topics) and our registry on loopback, pushes the repository's
// schemas, loads the contracts from <repo>/contracts and starts capturing.
// Everything stops when t ends. It fails t on any error.
func Start(t testing.TB) *Env {
	t.Helper()
	contracts := contracttest.Dir(t) // <repo>/contracts
	root := filepath.Dir(contracts)
	set, err := schemas.Load(filepath.Join(root, "schemas"))
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	cs, err := contract.Load(contracts)
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	regURL := registrytest.Serve(t)

	var topics []broker.Topic
	for _, tp := range set.Topics {
		topics = append(topics, broker.Topic{Name: tp.Name, Partitions: tp.Partitions})
	}
	b := brokertest.Start(t, broker.Topics(topics...), broker.DeadLetterTopics(true))

	cl, _, err := regclient.New(regURL, regclient.WithCredentials("", ""))
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	if _, err := registry.Push(ctx, cl, set, false, nil); err != nil {
		t.Fatalf("providertest: push schemas: %v", err)
	}
	codec, err := serde.New(cl, serde.AutoRegister(false))
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	pub, err := eventing.NewPublisher(eventing.Brokers(b.Addr()), eventing.WithCodec(codec))
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	t.Cleanup(pub.Close)

	e := &Env{Brokers: b.Addr(), RegistryURL: regURL, Set: set, Contracts: cs, registry: cl, codec: codec, pub: pub, root: root,
		inputs: map[string]bool{}, changed: make(chan struct{})}
	var names []string
	for _, tp := range set.Topics {
		names = append(names, tp.Name, tp.Name+wire.DLQSuffix)
	}
	capture, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics(names...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			fetches := capture.PollFetches(ctx)
			if ctx.Err() != nil {
				return
			}
			fetches.EachRecord(func(r *kgo.Record) {
				e.mu.Lock()
				e.captured = append(e.captured, Output{Topic: r.Topic, EventType: eventing.HeaderValue(r, wire.HeaderEventType), Value: r.Value, Record: r})
				close(e.changed)
				e.changed = make(chan struct{})
				e.mu.Unlock()
			})
		}
	}()
	t.Cleanup(func() { cancel(); <-done; capture.Close() })
	return e
}

// Config returns the service configuration that points service at env:
// its brokers and registry, a data directory under t.TempDir(), a free HTTP
// port and its own consumer group.
func (e *Env) Config(t testing.TB, service string) host.Config {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := host.Config{Service: service, Brokers: []string{e.Brokers}, RegistryURL: e.RegistryURL,
		DataDir: t.TempDir(), HTTPAddr: addr, Group: "contrail-" + service, InstanceID: "none"}
	cfg.SetDefaults()
	return cfg
}

// Run runs a service (its Run function, given Config(t, service)) until t
// ends, and fails t if it returns an error before then. It returns the
// configuration used, so a test can reach the service's HTTP API.
func (e *Env) Run(t testing.TB, service string, run func(ctx context.Context, cfg host.Config) error) host.Config {
	t.Helper()
	cfg := e.Config(t, service)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("providertest: %s stopped with an error: %v", service, err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("providertest: %s did not stop within 20s", service)
		}
	})
	select {
	case err := <-errc:
		t.Fatalf("providertest: %s exited at start: %v", service, err)
	case <-time.After(100 * time.Millisecond):
	}
	return cfg
}

// Publish publishes an input event (v is a pointer to t's Go type) and
// waits for the broker's acknowledgement. Inputs are excluded from
// VerifyOutputs.
func (e *Env) Publish(t testing.TB, typ events.Type, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
	defer cancel()
	rec, err := e.pub.Record(ctx, typ, v)
	if err != nil {
		t.Fatalf("providertest: publish %s: %v", typ.FullName(), err)
	}
	e.mu.Lock()
	e.inputs[eventing.HeaderValue(rec, wire.HeaderEventID)] = true
	e.mu.Unlock()
	if err := e.pub.Client().ProduceSync(ctx, rec).FirstErr(); err != nil {
		t.Fatalf("providertest: publish %s: %v", typ.FullName(), err)
	}
}

// Example returns example name of event b (schemas/examples/<event>/<name>.json)
// as a value of the generated type, ready to Publish or to modify first.
func Example[T any](t testing.TB, e *Env, b *events.Binding[T], name string) *T {
	t.Helper()
	exs, err := contract.LoadExamples(filepath.Join(e.root, contract.ExamplesDir), e.Set)
	if err != nil {
		t.Fatalf("providertest: %v", err)
	}
	for _, ex := range exs {
		if ex.Event != b.FullName() || ex.Name != name {
			continue
		}
		writer := e.Set.Types[ex.Event].Schema
		data, err := ex.Encode(writer)
		if err != nil {
			t.Fatalf("providertest: %v", err)
		}
		v := new(T)
		if err := contract.DecodeAs(b.Schema(), writer, data, v); err != nil {
			t.Fatalf("providertest: example %s as %T: %v", ex.File, v, err)
		}
		return v
	}
	t.Fatalf("providertest: no example %q for %s in %s", name, b.FullName(), contract.ExamplesDir)
	return nil
}

// Outputs returns every record captured so far that the test did not
// publish itself, in arrival order.
func (e *Env) Outputs() []Output {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Output
	for _, o := range e.captured {
		if !e.inputs[eventing.HeaderValue(o.Record, wire.HeaderEventID)] {
			out = append(out, o)
		}
	}
	return out
}

// Await waits up to DefaultTimeout for an output of event b that match
// accepts, decodes it as the generated type and returns it. It fails t on
// timeout, naming the outputs that did arrive.
func Await[T any](t testing.TB, e *Env, b *events.Binding[T], match func(*T) bool) *T {
	t.Helper()
	deadline := time.After(DefaultTimeout)
	seen := 0
	for {
		e.mu.Lock()
		changed := e.changed
		e.mu.Unlock()
		outs := e.Outputs()
		for _, o := range outs[seen:] {
			if o.EventType != b.FullName() {
				continue
			}
			v := new(T)
			if err := e.codec.Decode(context.Background(), o.Value, b, v); err != nil {
				t.Fatalf("providertest: %s output on %s does not decode: %v", b.FullName(), o.Topic, err)
			}
			if match == nil || match(v) {
				return v
			}
		}
		seen = len(outs)
		select {
		case <-changed:
		case <-deadline:
			var got []string
			for _, o := range e.Outputs() {
				got = append(got, o.Topic+":"+o.EventType)
			}
			t.Fatalf("providertest: no matching %s output within %s; outputs: %v", b.FullName(), DefaultTimeout, got)
			return nil
		}
	}
}

// VerifyOutputs checks every output captured so far: it is not a dead
// letter; its event type is a manifest event on its topic; its schema ID is
// registered under the event's subject; it decodes with the registered
// writer schema and re-encodes to the same bytes; and every consumer
// contract for the event reads it. It fails t once per problem and returns
// how many outputs it checked.
func (e *Env) VerifyOutputs(t testing.TB) int {
	t.Helper()
	ctx := context.Background()
	outs := e.Outputs()
	for _, o := range outs {
		where := fmt.Sprintf("output %s@%d/%d (%s)", o.Topic, o.Record.Partition, o.Record.Offset, o.EventType)
		if filepath.Ext(o.Topic) == wire.DLQSuffix {
			t.Errorf("providertest: %s is a dead letter: %s", where, eventing.HeaderValue(o.Record, wire.HeaderDLQError))
			continue
		}
		ev := e.Set.Event(o.EventType)
		if ev == nil || ev.Topic != o.Topic {
			t.Errorf("providertest: %s: not a manifest event on topic %s", where, o.Topic)
			continue
		}
		id, err := wire.SchemaID(o.Value)
		if err != nil {
			t.Errorf("providertest: %s: %v", where, err)
			continue
		}
		subjects, err := e.registry.SubjectsByID(ctx, id)
		if err != nil || !slices.Contains(subjects, ev.Subject) {
			t.Errorf("providertest: %s: schema id %d is not registered under %q (subjects %v, err %v)", where, id, ev.Subject, subjects, err)
			continue
		}
		writer, err := e.codec.WriterSchema(ctx, id)
		if err != nil {
			t.Errorf("providertest: %s: %v", where, err)
			continue
		}
		body := o.Value[wire.FrameSize:]
		var generic any
		if err := avro.Unmarshal(writer, body, &generic); err != nil {
			t.Errorf("providertest: %s: not valid under its registered schema: %v", where, err)
			continue
		}
		if again, err := avro.Marshal(writer, generic); err != nil || string(again) != string(body) {
			t.Errorf("providertest: %s: does not re-encode to the same bytes (trailing or malformed data)", where)
			continue
		}
		writerMeta, _, err := e.codec.WriterContract(ctx, id)
		if err != nil {
			t.Errorf("providertest: %s: %v", where, err)
			continue
		}
		writerMajor, ok := writerMeta.Major()
		if !ok {
			writerMajor = 1
		}
		readers := 0
		for _, c := range e.Contracts {
			if c.Event != o.EventType || c.Subject != ev.Subject {
				continue
			}
			readers++
			rs, err := c.ReaderSchema()
			if err != nil {
				t.Errorf("providertest: %v", err)
				continue
			}
			from, fromBody := writer, body
			if readerMajor := max(c.Major, 1); readerMajor != writerMajor {
				// Another major: the consumer reads it as the serde hands it
				// over, decoded in the writer's major and migrated to its own.
				if from, fromBody, err = e.migrated(ctx, o, readerMajor); err != nil {
					t.Errorf("providertest: %s: consumer %s (major %d) cannot read major %d: %v", where, c.Consumer, readerMajor, writerMajor, err)
					continue
				}
			}
			var got any
			if err := contract.DecodeAs(rs, from, fromBody, &got); err != nil {
				t.Errorf("providertest: %s: consumer %s cannot read it: %v", where, c.Consumer, err)
			}
		}
		if readers == 0 && len(ev.Consumers) > 0 {
			t.Errorf("providertest: %s: no contract for its consumers %v: run contrail contract export", where, ev.Consumers)
		}
	}
	return len(outs)
}

// migrated decodes o's record as a reader of major would, through the
// serde (the writer's major, the registered migrations, the READ rules),
// and returns that major's schema and the value encoded under it.
func (e *Env) migrated(ctx context.Context, o Output, major int) (avro.Schema, []byte, error) {
	t, ok := events.MajorOf(o.EventType, major)
	if !ok {
		return nil, nil, fmt.Errorf("no Go type of %s major %d is linked in", o.EventType, major)
	}
	v := t.New()
	if err := e.codec.Decode(ctx, o.Value, t, v); err != nil {
		return nil, nil, err
	}
	b, err := avro.Marshal(t.Schema(), v)
	if err != nil {
		return nil, nil, fmt.Errorf("re-encode major %d: %w", major, err)
	}
	return t.Schema(), b, nil
}
