// Package storetest is the conformance suite of the runtime's store: every
// database eventing.Store runs on passes the same tests (Run), the way
// watermill runs one suite against every Pub/Sub. Backends for SQLite and
// PostgreSQL are here (SQLite, Postgres), and PostgresURL gives any test a
// fresh PostgreSQL database, skipping when there is no server (failing
// under CI=true).
//
// The suite checks what a service relies on: a handler's state change, its
// inbox row and its outbox rows commit together or not at all; a
// redelivered event is dropped; a batch of records cut short by a crash
// leaves nothing, and the redelivered records apply once; the relay keeps
// the order of each key, parks a row the broker refuses for good and goes
// on; and, where a backend can be shared by replicas, two replicas never
// handle one event twice and their two relays never publish one row twice.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// Backend is one kind of database for the suite.
type Backend struct {
	// Name names the backend in test output ("sqlite", "postgres").
	Name string
	// Open returns a store on a new, empty database, closed when t ends.
	// Required.
	Open func(t testing.TB) *eventing.Store
	// Share returns another store on s's database, as another replica
	// (process) of the service opens it, closed when t ends. nil when the
	// database has one writing process (SQLite): the replica tests skip.
	Share func(t testing.TB, s *eventing.Store) *eventing.Store
	// Crash makes it as if the process that holds s was killed now: its
	// transactions end without committing, and s is closed (the dead
	// process changes nothing more). It returns a store on what a
	// restarted process finds. Required.
	Crash func(t testing.TB, s *eventing.Store) *eventing.Store
}

// Run runs the suite against b. The tests with a broker (an embedded one,
// over TCP) skip in -short mode.
func Run(t *testing.T, b Backend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"Migrations", testMigrations},
		{"CommitsStateInboxAndOutboxTogether", testCommit},
		{"RollsBackStateInboxAndOutboxTogether", testRollback},
		{"DropsDuplicates", testDuplicates},
		{"ReplicasHandleAnEventOnce", testReplicasDedupe},
		{"CrashMidBatchLeavesNothingAndRedeliveryAppliesOnce", testCrashMidBatch},
		{"FailureMidBatchIsUndoneAndDeadLetteredOnce", testFailureMidBatch},
		{"OutboxKeepsOrderPerKey", testOrderPerKey},
		{"ParksWhatTheBrokerRefuses", testParking},
		{"TwoRelaysPublishEachRowOnce", testTwoRelays},
		{"RelayWaitsForARowAnotherRelayHolds", testRelayWaitsForHeldRow},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// appliedDDL is the handler's own table; the statement is the same in both
// dialects.
const appliedDDL = `CREATE TABLE IF NOT EXISTS storetest_applied (event_id TEXT NOT NULL, seq INTEGER NOT NULL)`

// open opens a store of b with the handler's table.
func open(t *testing.T, b Backend) *eventing.Store {
	t.Helper()
	s := b.Open(t)
	if _, err := s.DB().Exec(appliedDDL); err != nil {
		t.Fatal(err)
	}
	return s
}

// apply is the handler's state change, in the inbox transaction.
func apply(ctx context.Context, id string, seq int) error {
	tx := eventing.Tx(ctx)
	if tx == nil {
		return errors.New("storetest: no inbox transaction in the handler's context")
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO storetest_applied (event_id, seq) VALUES ($1, $2)`, id, seq)
	return err
}

func count(t *testing.T, s *eventing.Store, q string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// message is a consumed record with event id id, as the router builds it.
func message(id string, offset int64) *eventing.Message {
	return &eventing.Message{Group: "storetest", EventID: id, EventType: typeName,
		Record: &kgo.Record{Topic: "things", Partition: 0, Offset: offset, Key: []byte("k")}}
}

// record is an outbox record for topic with key and event id id.
func record(topic, key, id string, value []byte) *kgo.Record {
	var k []byte
	if key != "" {
		k = []byte(key)
	}
	return &kgo.Record{Topic: topic, Key: k, Value: value, Headers: []kgo.RecordHeader{
		{Key: wire.HeaderEventID, Value: []byte(id)}, {Key: wire.HeaderEventType, Value: []byte(typeName)}}}
}

// emitting is a handler that applies seq and puts one outbox record in
// the transaction, then returns fail.
func emitting(s *eventing.Store, seq int, fail error) eventing.HandlerFunc {
	return func(ctx context.Context, m *eventing.Message) error {
		if err := apply(ctx, m.EventID, seq); err != nil {
			return err
		}
		if err := s.Enqueue(ctx, eventing.Tx(ctx), record("echoes", "k", "echo-"+m.EventID, []byte("{}"))); err != nil {
			return err
		}
		return fail
	}
}

func testMigrations(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	v, err := eventing.MigrationVersion(ctx, s.DB(), eventing.StoreComponent)
	if err != nil || v != len(eventing.StoreMigrations) {
		t.Fatalf("schema_migrations lists version %d (%v) of %s, want %d", v, err, eventing.StoreComponent, len(eventing.StoreMigrations))
	}
	// A second start applies nothing again.
	if _, err := eventing.NewStore(ctx, s.DB()); err != nil {
		t.Fatalf("NewStore on a migrated database: %v", err)
	}
	if n := count(t, s, `SELECT count(*) FROM schema_migrations`); n != len(eventing.StoreMigrations) {
		t.Fatalf("%d schema_migrations rows after a second start, want %d", n, len(eventing.StoreMigrations))
	}
	if b.Share == nil {
		return
	}
	// Replicas that start at once each migrate; every migration is
	// applied once.
	fresh := b.Open(t)
	replicas := make([]*eventing.Store, 4)
	for i := range replicas {
		replicas[i] = b.Share(t, fresh)
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(replicas))
	for _, r := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- eventing.Migrate(ctx, r.DB(), "storetest", []eventing.Migration{
				{Version: 1, Name: "one", SQLite: `CREATE TABLE st_one (x INTEGER)`, Postgres: `CREATE TABLE st_one (x INTEGER)`},
				{Version: 2, Name: "two", SQLite: `CREATE TABLE st_two (x INTEGER)`, Postgres: `CREATE TABLE st_two (x INTEGER)`},
			})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent Migrate: %v (a migration ran twice?)", err)
		}
	}
	if n := count(t, fresh, `SELECT count(*) FROM schema_migrations WHERE component = 'storetest'`); n != 2 {
		t.Fatalf("%d storetest migrations recorded, want 2", n)
	}
}

func testCommit(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	h := eventing.InboxMiddleware(s, nil)(emitting(s, 1, nil))
	if err := h(ctx, message("e1", 1)); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{
		`SELECT count(*) FROM storetest_applied`:                                 1,
		`SELECT count(*) FROM contrail_inbox WHERE event_id = 'e1'`:              1,
		`SELECT count(*) FROM contrail_outbox`:                                   1,
		`SELECT count(*) FROM contrail_inbox WHERE consumer_group = 'storetest'`: 1,
	} {
		if got := count(t, s, q); got != want {
			t.Errorf("%s = %d, want %d", q, got, want)
		}
	}
	if n, err := s.Pending(ctx); err != nil || n != 1 {
		t.Errorf("Pending = %d, %v; want 1", n, err)
	}
}

func testRollback(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	boom := errors.New("boom")
	if err := eventing.InboxMiddleware(s, nil)(emitting(s, 1, boom))(ctx, message("e1", 1)); !errors.Is(err, boom) {
		t.Fatalf("handler error %v, want boom", err)
	}
	for _, q := range []string{`SELECT count(*) FROM storetest_applied`, `SELECT count(*) FROM contrail_inbox`, `SELECT count(*) FROM contrail_outbox`} {
		if got := count(t, s, q); got != 0 {
			t.Errorf("after a failed handler %s = %d, want 0: the state change, the inbox row and the outbox row roll back together", q, got)
		}
	}
	// The retry is a first delivery.
	if err := eventing.InboxMiddleware(s, nil)(emitting(s, 1, nil))(ctx, message("e1", 1)); err != nil {
		t.Fatal(err)
	}
	if got := count(t, s, `SELECT count(*) FROM storetest_applied`); got != 1 {
		t.Errorf("the retry applied %d times, want 1", got)
	}
}

func testDuplicates(t *testing.T, b Backend) {
	ctx := context.Background()
	s := open(t, b)
	var calls, dups atomic.Int32
	h := eventing.InboxMiddleware(s, func(context.Context, *eventing.Message) { dups.Add(1) })(
		func(ctx context.Context, m *eventing.Message) error { calls.Add(1); return emitting(s, 1, nil)(ctx, m) })
	for i := range 3 {
		if err := h(ctx, message("e1", int64(i))); err != nil {
			t.Fatal(err)
		}
	}
	if calls.Load() != 1 || dups.Load() != 2 {
		t.Fatalf("handler ran %d times and %d duplicates were reported, want 1 and 2", calls.Load(), dups.Load())
	}
	if got := count(t, s, `SELECT count(*) FROM storetest_applied`); got != 1 {
		t.Fatalf("applied %d times, want 1", got)
	}
}

// testReplicasDedupe: replica A handles an event and has not committed
// when replica B gets the same event (its partition moved to B). B waits
// for A's transaction: when A commits, B drops the event; when A rolls
// back, B handles it.
func testReplicasDedupe(t *testing.T, b Backend) {
	if b.Share == nil {
		t.Skip(b.Name + ": one writing process, no replicas")
	}
	for _, aFails := range []bool{false, true} {
		t.Run(fmt.Sprintf("first fails %v", aFails), func(t *testing.T) {
			ctx := context.Background()
			a := open(t, b)
			bs := b.Share(t, a)
			inA, releaseA := make(chan struct{}), make(chan struct{})
			var fail error
			if aFails {
				fail = errors.New("replica A fails")
			}
			var calls atomic.Int32
			ha := eventing.InboxMiddleware(a, nil)(func(ctx context.Context, m *eventing.Message) error {
				calls.Add(1)
				if err := apply(ctx, m.EventID, 1); err != nil {
					return err
				}
				close(inA)
				<-releaseA
				return fail
			})
			hb := eventing.InboxMiddleware(bs, nil)(func(ctx context.Context, m *eventing.Message) error {
				calls.Add(1)
				return apply(ctx, m.EventID, 2)
			})
			errA := make(chan error, 1)
			go func() { errA <- ha(ctx, message("e1", 7)) }()
			<-inA
			errB := make(chan error, 1)
			go func() { errB <- hb(ctx, message("e1", 7)) }()
			select {
			case err := <-errB:
				t.Fatalf("replica B finished (%v) while A's transaction with the same event was open: it must wait for A", err)
			case <-time.After(300 * time.Millisecond):
			}
			close(releaseA)
			if err := <-errA; (err != nil) != aFails {
				t.Fatalf("replica A: %v", err)
			}
			if err := <-errB; err != nil {
				t.Fatalf("replica B: %v", err)
			}
			wantCalls, wantSeq := 1, 1
			if aFails {
				wantCalls, wantSeq = 2, 2
			}
			if calls.Load() != int32(wantCalls) {
				t.Errorf("handlers ran %d times, want %d", calls.Load(), wantCalls)
			}
			if got := count(t, a, `SELECT count(*) FROM storetest_applied`); got != 1 {
				t.Fatalf("applied %d times, want once", got)
			}
			if got := count(t, a, `SELECT max(seq) FROM storetest_applied`); got != wantSeq {
				t.Errorf("applied by replica %d, want %d", got, wantSeq)
			}
		})
	}
}

// ---- with a broker ----

const typeName = "contrail.storetest.thing"

// thing is the suite's event.
type thing struct {
	Metadata struct {
		EventID       string  `avro:"eventId" json:"eventId"`
		CorrelationID string  `avro:"correlationId" json:"correlationId"`
		CausationID   *string `avro:"causationId" json:"causationId"`
	} `avro:"metadata" json:"metadata"`
	Key string `avro:"key" json:"key"`
	Seq int    `avro:"seq" json:"seq"`
}

const thingSchema = `{"type":"record","name":"thing","namespace":"contrail.storetest","fields":[
 {"name":"metadata","type":{"type":"record","name":"Meta","fields":[
   {"name":"eventId","type":"string"},{"name":"correlationId","type":"string"},
   {"name":"causationId","type":["null","string"],"default":null}]}},
 {"name":"key","type":"string"},{"name":"seq","type":"int"}]}`

func thingBinding(topic string) *events.Binding[thing] {
	return events.NewBinding(events.BindingConfig[thing]{
		FullName: typeName, Topic: topic, Subject: topic + "-" + typeName, Strategy: events.TopicRecordName,
		KeyField: "key", SchemaText: thingSchema,
		Key:   func(t *thing) string { return t.Key },
		Parse: func() (avro.Schema, error) { return avro.Parse(thingSchema) },
	})
}

// jsonCodec is the suite's codec: the store never looks inside a value.
type jsonCodec struct{}

func (jsonCodec) Encode(_ context.Context, _ events.Type, v any) ([]byte, error) {
	return json.Marshal(v)
}
func (jsonCodec) Decode(_ context.Context, data []byte, _ events.Type, out any) error {
	return json.Unmarshal(data, out)
}

// brokerEnv is an embedded broker with a publisher on it.
type brokerEnv struct {
	addr string
	pub  *eventing.Publisher
}

func withBroker(t *testing.T) *brokerEnv {
	t.Helper()
	if testing.Short() {
		t.Skip("store conformance with a broker: slow, runs in make test")
	}
	// "things" has one partition, so a poll holds all of its records.
	bk := brokertest.Start(t, broker.Partitions(3), broker.Topics(broker.Topic{Name: "things", Partitions: 1},
		broker.Topic{Name: "things.dlq"}, broker.Topic{Name: "echoes"}, broker.Topic{Name: "ordered"},
		broker.Topic{Name: "parking"}, broker.Topic{Name: "relayed"}, broker.Topic{Name: "held"}))
	pub, err := eventing.NewPublisher(eventing.Brokers(bk.Addr()), eventing.WithCodec(jsonCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	return &brokerEnv{addr: bk.Addr(), pub: pub}
}

// sendCounter is a Tracer that counts acknowledged records.
type sendCounter struct{ acked atomic.Int64 }

func (c *sendCounter) StartSend(ctx context.Context, _ *kgo.Record) (context.Context, func(error)) {
	return ctx, func(err error) {
		if err == nil {
			c.acked.Add(1)
		}
	}
}
func (c *sendCounter) StartProcess(ctx context.Context, _ *kgo.Record, _ string) (context.Context, func(error)) {
	return ctx, func(error) {}
}
func (c *sendCounter) Retry(context.Context, int, error)         {}
func (c *sendCounter) DeadLetter(context.Context, string, error) {}

// relay runs a relay of s until the test ends and returns the count of
// records it published.
func (e *brokerEnv) relay(t *testing.T, s *eventing.Store) *atomic.Int64 {
	t.Helper()
	var sent sendCounter
	pub, err := eventing.NewPublisher(eventing.Brokers(e.addr), eventing.WithCodec(jsonCodec{}), eventing.WithTracer(&sent))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = eventing.NewRelay(s, pub, 20*time.Millisecond).Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; pub.Close() })
	return &sent.acked
}

// read reads topic from the start until n records arrived (failing t after
// 30s), then for 300ms more, so a duplicate beyond the n shows too.
func (e *brokerEnv) read(t *testing.T, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	var extra time.Time
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		out = append(out, fs.Records()...)
		switch {
		case len(out) >= n && extra.IsZero():
			extra = time.Now().Add(300 * time.Millisecond)
		case !extra.IsZero() && time.Now().After(extra):
			return out
		case extra.IsZero() && time.Now().After(deadline):
			t.Fatalf("read %d records from %s, want %d", len(out), topic, n)
		}
	}
}

// router runs a router in group with its inbox (and relay) on s until the
// test ends, and returns cancel, which asks it to stop, and wait, which
// waits until it did.
func (e *brokerEnv) router(t *testing.T, s *eventing.Store, group string, batch int, h func(context.Context, *thing) error) (cancel, wait func()) {
	t.Helper()
	r, err := eventing.NewRouter(eventing.Brokers(e.addr), eventing.WithCodec(jsonCodec{}), eventing.Group(group),
		eventing.WithInbox(s), eventing.WithPublisher(e.pub), eventing.BatchTransactions(batch),
		eventing.CommitInterval(time.Hour), eventing.Retry(eventing.RetryPolicy{MaxAttempts: 3, Initial: 10 * time.Millisecond, Max: 50 * time.Millisecond, Multiplier: 2}))
	if err != nil {
		t.Fatal(err)
	}
	eventing.Handle(r, thingBinding("things"), h)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	wait = func() { <-done }
	t.Cleanup(func() { stop(); wait() })
	return stop, wait
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// testCrashMidBatch: a router handles a partition's records in one batch
// transaction; the process dies in the middle of it. Nothing of the batch
// is in the database, and a new consumer handles every record once.
func testCrashMidBatch(t *testing.T, b Backend) {
	e := withBroker(t)
	ctx := context.Background()
	s := open(t, b)
	const n, at = 10, 6
	tb := thingBinding("things")
	vs := make([]*thing, n)
	for i := range vs {
		vs[i] = &thing{Key: "k" + strconv.Itoa(i%3), Seq: i}
	}
	if err := eventing.PublishAll(ctx, e.pub, tb, vs); err != nil {
		t.Fatal(err)
	}
	emit := func(ctx context.Context, th *thing) error {
		if err := apply(ctx, th.Metadata.EventID, th.Seq); err != nil {
			return err
		}
		return eventing.Emit(ctx, thingBinding("echoes"), &thing{Key: th.Key, Seq: th.Seq})
	}
	hung, release := make(chan struct{}), make(chan struct{})
	var ran atomic.Int32
	kill, wait := e.router(t, s, "crash", 100, func(ctx context.Context, th *thing) error {
		if th.Seq == at {
			close(hung)
			<-release
			return errors.New("killed")
		}
		ran.Add(1)
		return emit(ctx, th)
	})
	select {
	case <-hung:
	case <-time.After(30 * time.Second):
		t.Fatal("the router never reached the record to crash at")
	}
	if ran.Load() != at {
		t.Fatalf("%d records handled before the crash point, want %d in the same batch", ran.Load(), at)
	}
	after := b.Crash(t, s)
	// The crashed process does nothing more: stopped before its handler
	// returns, it starts no other record (what it still commits on its way
	// out goes to the database it crashed on, or fails).
	kill()
	close(release)
	wait()
	if _, err := after.DB().Exec(appliedDDL); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`SELECT count(*) FROM storetest_applied`, `SELECT count(*) FROM contrail_inbox`, `SELECT count(*) FROM contrail_outbox`} {
		if got := count(t, after, q); got != 0 {
			t.Fatalf("after a crash mid-batch %s = %d, want 0: a batch commits whole or not at all", q, got)
		}
	}
	// Redelivery: a consumer on the restarted store reads the partition
	// again from the start (a group of its own, so no offset the crashed
	// one may have committed on its way out hides a record).
	e.router(t, after, "restarted", 100, emit)
	waitFor(t, "every record applied after the restart", func() bool {
		return count(t, after, `SELECT count(*) FROM storetest_applied`) >= n
	})
	time.Sleep(200 * time.Millisecond)
	if got := count(t, after, `SELECT count(DISTINCT event_id) FROM storetest_applied`); got != n {
		t.Fatalf("%d distinct events applied, want %d", got, n)
	}
	if got := count(t, after, `SELECT count(*) FROM storetest_applied`); got != n {
		t.Fatalf("applied %d times for %d events: a record was applied twice", got, n)
	}
	echoes := e.read(t, "echoes", n)
	seen := map[string]bool{}
	for _, r := range echoes {
		id := eventing.HeaderValue(r, wire.HeaderEventID)
		if seen[id] {
			t.Errorf("echo %s published twice", id)
		}
		seen[id] = true
	}
	if len(seen) != n {
		t.Fatalf("%d echoes published, want %d", len(seen), n)
	}
}

// testFailureMidBatch: in one batch, one record's handler always fails
// (after writing and emitting) and another fails once. The failing one is
// dead-lettered once and leaves no trace in the database; every other
// record, the flaky one included, is applied and emits once.
func testFailureMidBatch(t *testing.T, b Backend) {
	e := withBroker(t)
	ctx := context.Background()
	s := open(t, b)
	const n, bad, flaky = 10, 4, 7
	vs := make([]*thing, n)
	for i := range vs {
		vs[i] = &thing{Key: "k" + strconv.Itoa(i%3), Seq: i}
	}
	if err := eventing.PublishAll(ctx, e.pub, thingBinding("things"), vs); err != nil {
		t.Fatal(err)
	}
	var flakyFailed atomic.Bool
	e.router(t, s, "failing", 100, func(ctx context.Context, th *thing) error {
		if err := apply(ctx, th.Metadata.EventID, th.Seq); err != nil {
			return err
		}
		if err := eventing.Emit(ctx, thingBinding("echoes"), &thing{Key: th.Key, Seq: th.Seq}); err != nil {
			return err
		}
		switch {
		case th.Seq == bad:
			return eventing.Permanent(errors.New("bad record"))
		case th.Seq == flaky && flakyFailed.CompareAndSwap(false, true):
			return errors.New("flaky, once")
		}
		return nil
	})
	dead := e.read(t, "things.dlq", 1)
	if len(dead) != 1 {
		t.Fatalf("%d dead letters, want the one bad record once", len(dead))
	}
	waitFor(t, "every good record applied", func() bool {
		return count(t, s, `SELECT count(*) FROM storetest_applied`) >= n-1
	})
	time.Sleep(200 * time.Millisecond)
	if got := count(t, s, `SELECT count(*) FROM storetest_applied`); got != n-1 {
		t.Fatalf("applied %d state changes, want %d (each good record once, the bad one never)", got, n-1)
	}
	if got := count(t, s, `SELECT count(*) FROM storetest_applied WHERE seq = 4`); got != 0 {
		t.Fatalf("the dead-lettered record's state change was kept")
	}
	seqs := map[int]int{}
	for _, r := range e.read(t, "echoes", n-1) {
		var th thing
		if err := json.Unmarshal(r.Value, &th); err != nil {
			t.Fatal(err)
		}
		seqs[th.Seq]++
	}
	for i := range n {
		want := 1
		if i == bad {
			want = 0
		}
		if seqs[i] != want {
			t.Errorf("record %d emitted %d times, want %d", i, seqs[i], want)
		}
	}
}

// enqueue adds one outbox record per (key, seq) in one transaction.
func enqueue(t *testing.T, s *eventing.Store, recs ...*kgo.Record) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if err := s.Enqueue(ctx, tx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// checkOrder fails t unless recs hold each event id once and, per key,
// the values (sequence numbers) in increasing order.
func checkOrder(t *testing.T, recs []*kgo.Record, want int) {
	t.Helper()
	seen := map[string]bool{}
	last := map[string]int{}
	for _, r := range recs {
		id := eventing.HeaderValue(r, wire.HeaderEventID)
		if seen[id] {
			t.Errorf("event %s published twice", id)
		}
		seen[id] = true
		seq, err := strconv.Atoi(string(r.Value))
		if err != nil {
			continue
		}
		k := string(r.Key)
		if prev, ok := last[k]; ok && seq <= prev {
			t.Errorf("key %s: %d published after %d", k, seq, prev)
		}
		last[k] = seq
	}
	if len(seen) != want {
		t.Errorf("%d distinct events published, want %d", len(seen), want)
	}
}

func testOrderPerKey(t *testing.T, b Backend) {
	e := withBroker(t)
	s := b.Open(t)
	const keys, per = 5, 20
	for i := range per {
		var recs []*kgo.Record
		for k := range keys {
			recs = append(recs, record("ordered", fmt.Sprintf("key-%d", k), fmt.Sprintf("e-%d-%d", k, i), []byte(strconv.Itoa(i))))
		}
		enqueue(t, s, recs...)
	}
	e.relay(t, s)
	checkOrder(t, e.read(t, "ordered", keys*per), keys*per)
	waitFor(t, "an empty outbox", func() bool { n, _ := s.Pending(context.Background()); return n == 0 })
}

func testParking(t *testing.T, b Backend) {
	e := withBroker(t)
	ctx := context.Background()
	s := b.Open(t)
	// Larger than the producer's batch limit (1,000,012 bytes): refused
	// with MESSAGE_TOO_LARGE, whenever it is sent.
	big := make([]byte, 1_100_000)
	enqueue(t, s, record("parking", "k", "before", []byte("1")))
	enqueue(t, s, record("parking", "k", "too-large", big))
	enqueue(t, s, record("parking", "k", "after", []byte("3")))
	r := eventing.NewRelay(s, e.pub, time.Hour)
	waitFor(t, "the outbox to empty", func() bool {
		_, _ = r.Flush(ctx)
		n, _ := s.Pending(ctx)
		return n == 0
	})
	if n, err := s.Parked(ctx); err != nil || n != 1 {
		t.Fatalf("Parked = %d, %v; want the one row the broker refuses", n, err)
	}
	var id, errText string
	if err := s.DB().QueryRow(`SELECT event_id, error FROM contrail_outbox_parked`).Scan(&id, &errText); err != nil {
		t.Fatal(err)
	}
	if id != "too-large" || errText == "" {
		t.Fatalf("parked %q with error %q, want too-large with the broker's error", id, errText)
	}
	recs := e.read(t, "parking", 2)
	checkOrder(t, recs, 2)
	if got := eventing.HeaderValue(recs[len(recs)-1], wire.HeaderEventID); got != "after" {
		t.Fatalf("last published %q, want the row after the parked one", got)
	}
}

// testTwoRelays: two replicas write to one outbox and both relay it, at
// the same time, for many keys. Every row is published once, each key in
// order.
func testTwoRelays(t *testing.T, b Backend) {
	if b.Share == nil {
		t.Skip(b.Name + ": one writing process, no replicas")
	}
	e := withBroker(t)
	a := b.Open(t)
	stores := []*eventing.Store{a, b.Share(t, a)}
	const keys, per = 40, 25
	// Rows already waiting when the relays start, and rows written while
	// they run, by both replicas.
	write := func(from, to int) {
		for i := from; i < to; i++ {
			for k := range keys {
				enqueue(t, stores[(i+k)%2], record("relayed", fmt.Sprintf("key-%d", k), fmt.Sprintf("e-%d-%d", k, i), []byte(strconv.Itoa(i))))
			}
		}
	}
	write(0, per/2)
	var sent []*atomic.Int64
	for _, s := range stores {
		sent = append(sent, e.relay(t, s))
	}
	write(per/2, per)
	recs := e.read(t, "relayed", keys*per)
	checkOrder(t, recs, keys*per)
	waitFor(t, "an empty outbox", func() bool { n, _ := a.Pending(context.Background()); return n == 0 })
	t.Logf("relay 1 published %d rows, relay 2 %d", sent[0].Load(), sent[1].Load())
	if sent[0].Load() == 0 || sent[1].Load() == 0 {
		t.Errorf("one relay published nothing (%d, %d): the test did not run two relays at once", sent[0].Load(), sent[1].Load())
	}
}

// testRelayWaitsForHeldRow: another replica's relay holds the middle one
// of key k's three rows (its claim locked it; concurrent claims can lock
// rows interleaved). A flush publishes k's first row and key j's row, but
// not k's third, which must not overtake the held one; once that is
// released, the next flush publishes k's second and third rows, in order.
func testRelayWaitsForHeldRow(t *testing.T, b Backend) {
	if b.Share == nil {
		t.Skip(b.Name + ": one writing process, one relay")
	}
	e := withBroker(t)
	ctx := context.Background()
	s := b.Open(t)
	enqueue(t, s, record("held", "k", "k-0", []byte("0")))
	enqueue(t, s, record("held", "k", "k-1", []byte("1")))
	enqueue(t, s, record("held", "k", "k-2", []byte("2")))
	enqueue(t, s, record("held", "j", "j-0", []byte("0")))
	var ids []int64
	rows, err := s.DB().QueryContext(ctx, `SELECT id FROM contrail_outbox ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	other := b.Share(t, s)
	hold, err := other.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Rollback()
	if _, err := hold.ExecContext(ctx, `SELECT id FROM contrail_outbox WHERE id = $1 FOR UPDATE`, ids[1]); err != nil {
		t.Fatal(err)
	}
	r := eventing.NewRelay(s, e.pub, time.Hour)
	if n, err := r.Flush(ctx); err != nil || n != 2 {
		t.Fatalf("Flush while k's second row is held = %d, %v; want k's first and j's row", n, err)
	}
	if err := hold.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Flush(ctx); err != nil || n != 2 {
		t.Fatalf("Flush once it is released = %d, %v; want k's second and third rows", n, err)
	}
	checkOrder(t, e.read(t, "held", 4), 4)
}
