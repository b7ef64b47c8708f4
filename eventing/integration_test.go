package eventing_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/wire"
)

// env is one test's platform: an embedded broker over TCP and the registry
// over HTTP, with a publisher on them.
type env struct {
	t           *testing.T
	addr        string
	codec       *serde.Serde
	pub         *eventing.Publisher
	registryURL string
}

func newEnv(t *testing.T, partitions int, topics ...string) *env {
	t.Helper()
	var ts []broker.Topic
	for _, n := range topics {
		ts = append(ts, broker.Topic{Name: n, Partitions: partitions})
	}
	addr := startBroker(t, broker.Topics(ts...))
	codec, url := startRegistry(t)
	pub, err := eventing.NewPublisher(eventing.Brokers(addr), eventing.WithCodec(codec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	return &env{t: t, addr: addr, codec: codec, pub: pub, registryURL: url}
}

func (e *env) router(group string, opts ...eventing.RouterOpt) *eventing.Router {
	e.t.Helper()
	r, err := eventing.NewRouter(append([]eventing.RouterOpt{
		eventing.Brokers(e.addr), eventing.WithCodec(e.codec), eventing.Group(group),
		eventing.Retry(fastRetry), eventing.CommitInterval(100 * time.Millisecond),
	}, opts...)...)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// run starts r and returns a stop function that cancels it and returns Run's error.
func run(t *testing.T, r *eventing.Router) func() error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once sync.Once
	var err error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				err = errors.New("Run did not return 30s after cancel")
			}
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
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

// publish publishes vs to tb's topic and fails the test on error.
func (e *env) publish(tb *events.Binding[Thing], vs []*Thing) {
	e.t.Helper()
	if err := eventing.PublishAll(context.Background(), e.pub, tb, vs); err != nil {
		e.t.Fatal(err)
	}
}

// switchedRegistry returns a codec that reaches e's registry through a
// proxy which, while down is true (as it is at first), answers every request
// with a 503 and counts it in refused.
func (e *env) switchedRegistry() (codec *serde.Serde, down *atomic.Bool, refused *atomic.Int32) {
	e.t.Helper()
	target, err := url.Parse(e.registryURL)
	if err != nil {
		e.t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	down, refused = new(atomic.Bool), new(atomic.Int32)
	down.Store(true)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			refused.Add(1)
			http.Error(w, `{"error_code":50001,"message":"down for maintenance"}`, http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	e.t.Cleanup(front.Close)
	src, err := sr.NewClient(sr.URLs(front.URL))
	if err != nil {
		e.t.Fatal(err)
	}
	codec, err = serde.New(src)
	if err != nil {
		e.t.Fatal(err)
	}
	return codec, down, refused
}

func things(n, keys int, note string) []*Thing {
	out := make([]*Thing, n)
	for i := range out {
		out[i] = &Thing{OrderID: fmt.Sprintf("order-%d", i%keys), Seq: i, Note: note}
	}
	return out
}

// committed returns the group's committed offsets and the topic's end offsets.
func (e *env) committed(group, topic string) (map[int32]int64, map[int32]int64) {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	got := map[int32]int64{}
	resp, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic {
			got[o.Partition] = o.At
		}
	})
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	return got, want
}

func (e *env) checkAllCommitted(group, topic string) {
	e.t.Helper()
	got, want := e.committed(group, topic)
	for p, end := range want {
		if got[p] != end {
			e.t.Errorf("group %s partition %d committed at %d, want end offset %d (all: %v vs %v)", group, p, got[p], end, got, want)
		}
	}
}

// readAll reads every record of topic (read_committed) until n arrived.
func (e *env) readAll(topic string, n int) []*kgo.Record {
	e.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("read %d of %d records from %s", len(out), n, topic)
		}
		out = append(out, fs.Records()...)
	}
	// Nothing more arrives (no duplicates) within a short grace period.
	gctx, gcancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer gcancel()
	out = append(out, cl.PollFetches(gctx).Records()...)
	return out
}

func scrape(t *testing.T, m *eventing.Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestOrderPreservedPerKey(t *testing.T) {
	e := newEnv(t, 3, "things")
	tb := thingBinding("things")
	const n, keys = 300, 12
	e.publish(tb, things(n, keys, ""))
	r := e.router("order-test", eventing.Concurrency(3))
	var mu sync.Mutex
	seen := map[string][]int{}
	total := 0
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		time.Sleep(time.Duration(th.Seq%3) * time.Millisecond) // uneven handlers
		mu.Lock()
		defer mu.Unlock()
		seen[th.OrderID] = append(seen[th.OrderID], th.Seq)
		total++
		return nil
	})
	stop := run(t, r)
	waitFor(t, "all events handled", func() bool { mu.Lock(); defer mu.Unlock(); return total >= n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if total != n || len(seen) != keys {
		t.Fatalf("handled %d events over %d keys, want %d over %d", total, len(seen), n, keys)
	}
	for k, seqs := range seen {
		if !slices.IsSorted(seqs) {
			t.Errorf("key %s handled out of order: %v", k, seqs)
		}
	}
	e.checkAllCommitted("order-test", "things")
}

func TestFailTwiceThenSucceedIsRetriedAndCommittedOnce(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	e.publish(tb, things(3, 1, ""))
	r := e.router("retry-test")
	var mu sync.Mutex
	attempts := map[int]int{}
	var successes []int
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		mu.Lock()
		defer mu.Unlock()
		attempts[th.Seq]++
		if th.Seq == 1 && attempts[th.Seq] <= 2 {
			return errors.New("database briefly unavailable")
		}
		successes = append(successes, th.Seq)
		return nil
	})
	stop := run(t, r)
	waitFor(t, "3 successes", func() bool { mu.Lock(); defer mu.Unlock(); return len(successes) >= 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if attempts[1] != 3 || !slices.Equal(successes, []int{0, 1, 2}) {
		t.Fatalf("attempts %v, successes %v; want seq 1 tried 3 times and each event succeeding once, in order", attempts, successes)
	}
	e.checkAllCommitted("retry-test", "things")
	m := scrape(t, r.Metrics())
	for _, want := range []string{
		`contrail_handler_retried_total{group="retry-test",handler="contrail.test.Thing"} 2`,
		`contrail_handler_handled_total{group="retry-test",handler="contrail.test.Thing"} 3`,
		`contrail_handler_failed_total{class="transient",group="retry-test",handler="contrail.test.Thing"} 2`,
		`contrail_consumer_lag{group="retry-test",partition="0",topic="things"} 0`,
		`contrail_handler_seconds_count{group="retry-test",handler="contrail.test.Thing"} 3`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// Handled once: a new member of the group gets nothing.
	r2 := e.router("retry-test")
	again := 0
	eventing.Handle(r2, tb, func(context.Context, *Thing) error { again++; return nil })
	stop2 := run(t, r2)
	time.Sleep(time.Second)
	if err := stop2(); err != nil || again != 0 {
		t.Fatalf("restarted router handled %d events (err %v), want 0", again, err)
	}
}

func TestPoisonRecordsGoToTheDLQAndThePartitionContinues(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	id, err := e.codec.ID(ctx, tb)
	if err != nil {
		t.Fatal(err)
	}
	// A schema the reader type cannot resolve: no field in common.
	src, err := sr.NewClient(sr.URLs(e.registryURL))
	if err != nil {
		t.Fatal(err)
	}
	other, err := src.CreateSchema(ctx, "elsewhere-value", sr.Schema{Schema: `{"type":"record","name":"Thing","namespace":"contrail.test","fields":[{"name":"other","type":"int"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	raw := func(value []byte, eventID string) *kgo.Record {
		return &kgo.Record{Topic: "things", Key: []byte("order-1"), Value: value, Headers: []kgo.RecordHeader{
			{Key: wire.HeaderEventType, Value: []byte(tb.FullName())}, {Key: wire.HeaderEventID, Value: []byte(eventID)},
		}}
	}
	good := func(note string, eventID string) *kgo.Record {
		r, err := e.pub.Record(ctx, tb, &Thing{OrderID: "order-1", Note: note}, eventing.EventID(eventID))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	cases := []struct {
		name  string
		rec   *kgo.Record
		class eventing.ErrorClass
		msg   string // part of the dlq error header
	}{
		{name: "bad magic byte", rec: raw([]byte{0x01, 0, 0, 0, 1, 2}, "bad-magic"), class: eventing.ClassPoison, msg: "magic"},
		{name: "unknown schema id", rec: raw(wire.AppendFrame(nil, 424242), "unknown-id"), class: eventing.ClassPoison, msg: "unknown schema id"},
		{name: "undecodable bytes", rec: raw(append(wire.AppendFrame(nil, id), 0x9f, 0xff), "undecodable"), class: eventing.ClassPoison, msg: "cannot decode"},
		{name: "incompatible writer schema", rec: raw(append(wire.AppendFrame(nil, other.ID), 0x02), "incompatible"), class: eventing.ClassPoison, msg: "cannot be read as contrail.test.Thing"},
		{name: "permanent error", rec: good("permanent", "permanent"), class: eventing.ClassPermanent, msg: "order is invalid"},
		{name: "panic", rec: good("panic", "panic"), class: eventing.ClassPanic, msg: "panicked"},
		{name: "transient until retries run out", rec: good("always", "always"), class: eventing.ClassTransient, msg: "still down"},
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, c := range cases {
		if err := cl.ProduceSync(ctx, c.rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.ProduceSync(ctx, good("fine", "fine")).FirstErr(); err != nil {
		t.Fatal(err)
	}

	r := e.router("poison-test")
	var mu sync.Mutex
	var handled []string
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		switch th.Note {
		case "permanent":
			return eventing.Permanent(errors.New("order is invalid"))
		case "panic":
			var m map[string]int
			m["x"]++
		case "always":
			return errors.New("still down")
		}
		mu.Lock()
		handled = append(handled, eventing.MessageFrom(ctx).EventID)
		mu.Unlock()
		return nil
	})
	stop := run(t, r)
	waitFor(t, "the good record after the poison ones", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) > 0 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(handled, []string{"fine"}) {
		t.Fatalf("handled %v, want only the good record", handled)
	}
	dls := e.readAll("things.dlq", len(cases))
	if len(dls) != len(cases) {
		t.Fatalf("%d dead letters, want %d", len(dls), len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dl := dls[i]
			if got := eventing.HeaderValue(dl, wire.HeaderEventID); got != eventing.HeaderValue(c.rec, wire.HeaderEventID) {
				t.Fatalf("dead letter %d is event %q, want %q", i, got, eventing.HeaderValue(c.rec, wire.HeaderEventID))
			}
			checks := map[string]string{
				wire.HeaderDLQTopic: "things", wire.HeaderDLQPartition: "0",
				wire.HeaderDLQOffset: fmt.Sprint(i), wire.HeaderDLQErrorClass: string(c.class),
			}
			for k, v := range checks {
				if got := eventing.HeaderValue(dl, k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if msg := eventing.HeaderValue(dl, wire.HeaderDLQError); !strings.Contains(msg, c.msg) {
				t.Errorf("error header %q lacks %q", msg, c.msg)
			}
			if ts, err := time.Parse(time.RFC3339Nano, eventing.HeaderValue(dl, wire.HeaderDLQTime)); err != nil || time.Since(ts) > time.Minute {
				t.Errorf("time header %q: %v", eventing.HeaderValue(dl, wire.HeaderDLQTime), err)
			}
			if string(dl.Value) != string(c.rec.Value) || string(dl.Key) != "order-1" {
				t.Errorf("dead letter changed the key or value")
			}
		})
	}
	e.checkAllCommitted("poison-test", "things")
}

func TestUnknownEventTypesAreSkippedWithAMetric(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb, eb := thingBinding("things"), echoBinding("things") // Echo shares the topic
	ctx := context.Background()
	if err := e.pub.Publish(ctx, eb, &Echo{OrderID: "o"}); err != nil {
		t.Fatal(err)
	}
	if err := e.pub.Publish(ctx, tb, &Thing{OrderID: "o", Seq: 7}); err != nil {
		t.Fatal(err)
	}
	r := e.router("unknown-test")
	got := make(chan int, 2)
	eventing.Handle(r, tb, func(_ context.Context, th *Thing) error { got <- th.Seq; return nil })
	stop := run(t, r)
	select {
	case seq := <-got:
		if seq != 7 {
			t.Fatalf("handled seq %d", seq)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Thing after an unknown Echo never handled")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if m := scrape(t, r.Metrics()); !strings.Contains(m, `contrail_consumer_unknown_total{event_type="contrail.test.Echo",group="unknown-test",topic="things"} 1`) {
		t.Fatalf("unknown metric missing:\n%s", m)
	}
	e.checkAllCommitted("unknown-test", "things")
}

func TestGracefulShutdownCommitsEverythingHandled(t *testing.T) {
	e := newEnv(t, 3, "things")
	tb := thingBinding("things")
	const n = 60
	e.publish(tb, things(n, 6, ""))
	r := e.router("shutdown-test", eventing.CommitInterval(time.Hour)) // only the shutdown commits
	var mu sync.Mutex
	last := map[int32]int64{}
	handled := map[int]bool{}
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		time.Sleep(15 * time.Millisecond)
		rec := eventing.MessageFrom(ctx).Record
		mu.Lock()
		defer mu.Unlock()
		last[rec.Partition] = max(last[rec.Partition], rec.Offset)
		handled[th.Seq] = true
		return nil
	})
	stop := run(t, r)
	waitFor(t, "some events handled", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) >= 10 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// The member left the group on shutdown (no session timeout to wait for).
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	gs, err := kadm.NewClient(cl).DescribeGroups(context.Background(), "shutdown-test")
	cl.Close()
	if err != nil || len(gs["shutdown-test"].Members) != 0 {
		t.Fatalf("group after shutdown: %+v, %v; want no members", gs["shutdown-test"], err)
	}
	mu.Lock()
	first := len(handled)
	got, _ := e.committed("shutdown-test", "things")
	for p, off := range last {
		if got[p] != off+1 {
			t.Errorf("partition %d: committed %d, want %d (last handled + 1)", p, got[p], off+1)
		}
	}
	mu.Unlock()
	if first == n {
		t.Logf("every event was handled before shutdown; the drain check is weaker this run")
	}
	// The rest, and only the rest, goes to the next member.
	r2 := e.router("shutdown-test")
	var dup []int
	eventing.Handle(r2, tb, func(_ context.Context, th *Thing) error {
		mu.Lock()
		defer mu.Unlock()
		if handled[th.Seq] {
			dup = append(dup, th.Seq)
		}
		handled[th.Seq] = true
		return nil
	})
	stop2 := run(t, r2)
	waitFor(t, "the remaining events", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == n })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	if len(dup) > 0 {
		t.Fatalf("events handled again after a graceful shutdown: %v", dup)
	}
	e.checkAllCommitted("shutdown-test", "things")
}

func TestRevokeCommitsHandledOffsets(t *testing.T) {
	e := newEnv(t, 4, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	const n = 40
	e.publish(tb, things(n, 8, ""))
	var mu sync.Mutex
	count := map[int]int{}
	handler := func(_ context.Context, th *Thing) error {
		mu.Lock()
		defer mu.Unlock()
		count[th.Seq]++
		return nil
	}
	total := func() int { mu.Lock(); defer mu.Unlock(); return len(count) }
	// No interval commits: only the revoke (and the shutdown) commit.
	a := e.router("revoke-test", eventing.CommitInterval(time.Hour))
	eventing.Handle(a, tb, handler)
	stopA := run(t, a)
	waitFor(t, "member A to handle everything", func() bool { return total() == n })

	b := e.router("revoke-test", eventing.CommitInterval(time.Hour))
	eventing.Handle(b, tb, handler)
	stopB := run(t, b)
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	waitFor(t, "both members to share the partitions", func() bool {
		gs, err := adm.DescribeGroups(ctx, "revoke-test")
		if err != nil {
			return false
		}
		g := gs["revoke-test"]
		if g.State != "Stable" || len(g.Members) != 2 {
			return false
		}
		for _, m := range g.Members {
			if a, ok := m.Assigned.AsConsumer(); !ok || len(a.Topics) == 0 || len(a.Topics[0].Partitions) == 0 {
				return false
			}
		}
		return true
	})
	more := things(n, 8, "more")
	for _, th := range more {
		th.Seq += n
	}
	e.publish(tb, more)
	waitFor(t, "the second batch", func() bool { return total() == 2*n })
	time.Sleep(200 * time.Millisecond)
	if err := errors.Join(stopB(), stopA()); err != nil {
		t.Fatal(err)
	}
	for seq, c := range count {
		if c != 1 {
			t.Errorf("event %d handled %d times: offsets were not committed before the revoke", seq, c)
		}
	}
	e.checkAllCommitted("revoke-test", "things")
}

func TestDeadLettersReplayedAfterAFixAreHandled(t *testing.T) {
	e := newEnv(t, 2, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	e.publish(tb, things(6, 3, ""))
	var fixed atomic.Bool
	var mu sync.Mutex
	handled := map[int]string{}
	handler := func(ctx context.Context, th *Thing) error {
		if th.Seq%2 == 1 && !fixed.Load() {
			return eventing.Permanent(errors.New("bug: odd sequence numbers rejected"))
		}
		mu.Lock()
		defer mu.Unlock()
		handled[th.Seq] = eventing.MessageFrom(ctx).EventID
		return nil
	}
	r := e.router("replay-test")
	eventing.Handle(r, tb, handler)
	stop := run(t, r)
	dls := e.readAll("things.dlq", 3)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if len(dls) != 3 || len(handled) != 3 {
		t.Fatalf("%d dead letters, %d handled; want 3 and 3", len(dls), len(handled))
	}

	fixed.Store(true) // the bug is fixed and redeployed
	res, err := eventing.ReplayDLQ(ctx, eventing.ReplayConfig{Topic: "things.dlq", Brokers: []string{e.addr}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Replayed["things"] != 3 || len(res.Skipped) != 0 {
		t.Fatalf("replay result %+v, want 3 to things", res)
	}
	r2 := e.router("replay-test")
	eventing.Handle(r2, tb, handler)
	stop2 := run(t, r2)
	waitFor(t, "the replayed events", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 6 })
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
	for _, dl := range dls {
		id := eventing.HeaderValue(dl, wire.HeaderEventID)
		found := false
		for _, h := range handled {
			found = found || h == id
		}
		if !found {
			t.Errorf("dead letter %s was not handled after the replay (handled %v)", id, handled)
		}
	}
}

func TestRegistryOutageBlocksInsteadOfDeadLettering(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	e.publish(tb, things(3, 1, ""))
	// The consumer reaches the registry through a switchable proxy and has
	// never seen the writer schema, so it must ask the registry.
	codec, down, _ := e.switchedRegistry()
	r := e.router("outage-test", eventing.WithCodec(codec))
	var handled atomic.Int32
	eventing.Handle(r, tb, func(context.Context, *Thing) error { handled.Add(1); return nil })
	stop := run(t, r)
	waitFor(t, "failed attempts during the outage", func() bool {
		return strings.Contains(scrape(t, r.Metrics()), `contrail_handler_failed_total{class="transient",group="outage-test"`)
	})
	time.Sleep(500 * time.Millisecond)
	if handled.Load() != 0 {
		t.Fatal("handled while the registry was down")
	}
	if _, ends := e.committed("outage-test", "things.dlq"); len(ends) != 0 {
		t.Fatalf("dead letters written during a registry outage: %v", ends)
	}
	down.Store(false)
	waitFor(t, "all events once the registry is back", func() bool { return handled.Load() == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.checkAllCommitted("outage-test", "things")
}

// A record from a non-Contrail producer (kcat, a Java Confluent serializer)
// has the wire-format value but none of the runtime's headers: the router
// resolves its type from the schema id through the registry.
func TestRecordsWithoutHeadersAreDispatchedBySchemaID(t *testing.T) {
	e := newEnv(t, 1, "mixed")
	tb, eb := thingBinding("mixed"), echoBinding("mixed") // two types: no single-handler fallback
	ctx := context.Background()
	src, err := sr.NewClient(sr.URLs(e.registryURL))
	if err != nil {
		t.Fatal(err)
	}
	other, err := src.CreateSchema(ctx, "mixed-contrail.test.Other", sr.Schema{Schema: `{"type":"record","name":"Other","namespace":"contrail.test","fields":[{"name":"x","type":"int"}]}`})
	if err != nil {
		t.Fatal(err)
	}
	encode := func(b []byte, err error) []byte {
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	values := []struct {
		name  string
		value []byte
	}{
		{"echo", encode(e.codec.Encode(ctx, eb, &Echo{OrderID: "o", Seq: 1}))},
		{"thing", encode(e.codec.Encode(ctx, tb, &Thing{OrderID: "o", Seq: 2, Note: "first"}))},
		{"bad magic", []byte("{\"orderId\":\"o\"}")},
		{"unknown schema id", append(wire.AppendFrame(nil, 424242), 0x02)},
		{"type without handler", append(wire.AppendFrame(nil, other.ID), 0x02)},
		{"thing after the rest", encode(e.codec.Encode(ctx, tb, &Thing{OrderID: "o", Seq: 3, Note: "last"}))},
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr)) // plain franz-go: no headers at all
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mixed", Key: []byte("o"), Value: v.value}).FirstErr(); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
	}

	r := e.router("no-headers")
	var mu sync.Mutex
	var got []string
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("Thing %d %s as %s", th.Seq, th.Note, eventing.MessageFrom(ctx).EventType))
		return nil
	})
	eventing.Handle(r, eb, func(ctx context.Context, ec *Echo) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, fmt.Sprintf("Echo %d as %s", ec.Seq, eventing.MessageFrom(ctx).EventType))
		return nil
	})
	stop := run(t, r)
	waitFor(t, "the last Thing", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 3 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	want := []string{"Echo 1 as contrail.test.Echo", "Thing 2 first as contrail.test.Thing", "Thing 3 last as contrail.test.Thing"}
	if !slices.Equal(got, want) {
		t.Fatalf("handled %q, want %q", got, want)
	}
	dls := e.readAll("mixed.dlq", 2)
	if len(dls) != 2 {
		t.Fatalf("%d dead letters, want 2 (bad magic, unknown schema id)", len(dls))
	}
	for i, want := range []struct {
		offset, msg string
	}{{"2", "bad magic"}, {"3", "unknown schema id"}} {
		dl := dls[i]
		if o := eventing.HeaderValue(dl, wire.HeaderDLQOffset); o != want.offset {
			t.Errorf("dead letter %d is offset %s, want %s", i, o, want.offset)
		}
		if c := eventing.HeaderValue(dl, wire.HeaderDLQErrorClass); c != string(eventing.ClassPoison) {
			t.Errorf("dead letter %d class %q, want poison", i, c)
		}
		if msg := eventing.HeaderValue(dl, wire.HeaderDLQError); !strings.Contains(msg, want.msg) || !strings.Contains(msg, "cannot be resolved") {
			t.Errorf("dead letter %d error %q lacks %q", i, msg, want.msg)
		}
	}
	m := scrape(t, r.Metrics())
	for _, line := range []string{
		`contrail_consumer_unknown_total{event_type="contrail.test.Other",group="no-headers",topic="mixed"} 1`,
		`contrail_handler_dead_lettered_total{class="poison",group="no-headers",handler="(unresolved)"} 2`,
	} {
		if !strings.Contains(m, line) {
			t.Errorf("metrics lack %s:\n%s", line, m)
		}
	}
	e.checkAllCommitted("no-headers", "mixed")
}

// A record without a type header needs the registry to name its type; while
// the registry is down the router waits rather than dead-lettering it.
func TestRegistryOutageWhileResolvingWaits(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	value, err := e.codec.Encode(ctx, tb, &Thing{OrderID: "o", Seq: 5})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "things", Key: []byte("o"), Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	codec, down, refused := e.switchedRegistry()
	r := e.router("resolve-outage", eventing.WithCodec(codec))
	got := make(chan int, 1)
	eventing.Handle(r, tb, func(_ context.Context, th *Thing) error { got <- th.Seq; return nil })
	eventing.Handle(r, echoBinding("things"), func(context.Context, *Echo) error { return nil }) // no single-handler fallback
	stop := run(t, r)
	waitFor(t, "several resolution attempts during the outage", func() bool { return refused.Load() >= 3 })
	select {
	case <-got:
		t.Fatal("handled while the registry was down")
	default:
	}
	if _, ends := e.committed("resolve-outage", "things.dlq"); len(ends) != 0 {
		t.Fatalf("dead letters written during a registry outage: %v", ends)
	}
	down.Store(false)
	select {
	case seq := <-got:
		if seq != 5 {
			t.Fatalf("handled seq %d, want 5", seq)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("not handled after the registry came back")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	e.checkAllCommitted("resolve-outage", "things")
}
