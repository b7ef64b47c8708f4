package eventing_test

// The environment of the integration tests (integration_*_test.go, batch,
// outbox, publisher): an embedded broker and the registry, a publisher, a
// router runner and readers of what reached the broker.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
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

// readAll reads topic (read_committed) until n records arrived, then on to
// the partitions' last stable offsets as they are at that moment, so any
// record already committed beyond the n (a duplicate) is returned too. Call
// it again once the producer stopped to get everything it wrote: no grace
// period is waited for records still to come.
func (e *env) readAll(topic string, n int) []*kgo.Record {
	e.t.Helper()
	// Control records (transaction markers) are kept only to track how far
	// each partition was read; they are not returned.
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords())
	if err != nil {
		e.t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	next := map[int32]int64{} // per partition, the offset after the last record read
	poll := func(what string) {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			e.t.Fatalf("read %d records from %s, %s", len(out), topic, what)
		}
		for _, r := range fs.Records() {
			next[r.Partition] = max(next[r.Partition], r.Offset+1)
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		}
	}
	for len(out) < n {
		poll(fmt.Sprintf("want %d", n))
	}
	lso, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		e.t.Fatal(err)
	}
	for {
		behind := ""
		lso.Each(func(o kadm.ListedOffset) {
			if next[o.Partition] < o.Offset {
				behind = fmt.Sprintf("partition %d read to %d, want its last stable offset %d", o.Partition, next[o.Partition], o.Offset)
			}
		})
		if behind == "" {
			return out
		}
		poll(behind)
	}
}

// metricValue returns the value of the series nameAndLabels (as scraped:
// labels sorted) in m, 0 when m has no such series yet.
func metricValue(t *testing.T, m *eventing.Metrics, nameAndLabels string) float64 {
	t.Helper()
	l := metric(t, m, nameAndLabels)
	if l == "" {
		return 0
	}
	v, err := strconv.ParseFloat(strings.TrimPrefix(l, nameAndLabels+" "), 64)
	if err != nil {
		t.Fatalf("metric line %q: %v", l, err)
	}
	return v
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
