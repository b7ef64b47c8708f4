package eventing_test

// Integration tests of delivery through the router: per-key order, retries,
// and the offsets committed on shutdown and on a rebalance. Their
// environment is in integration_env_test.go.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/eventing"
)

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
	// Handled once: a new member of the group gets nothing before a marker
	// published now. The partition is handled in order, so once the marker
	// is handled every record before it was delivered or was committed.
	e.publish(tb, []*Thing{{OrderID: "order-0", Seq: 3, Note: "marker"}})
	r2 := e.router("retry-test")
	var again atomic.Int32
	marker := make(chan struct{})
	eventing.Handle(r2, tb, func(_ context.Context, th *Thing) error {
		if th.Note == "marker" {
			close(marker)
		} else {
			again.Add(1)
		}
		return nil
	})
	stop2 := run(t, r2)
	select {
	case <-marker:
	case <-time.After(30 * time.Second):
		t.Fatal("restarted router never handled the marker published after the events")
	}
	if err := stop2(); err != nil || again.Load() != 0 {
		t.Fatalf("restarted router handled %d events before the marker (err %v), want 0", again.Load(), err)
	}
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
	next := map[int32]int64{} // per partition, the offset after the last handled record
	handler := func(ctx context.Context, th *Thing) error {
		rec := eventing.MessageFrom(ctx).Record
		mu.Lock()
		defer mu.Unlock()
		count[th.Seq]++
		next[rec.Partition] = max(next[rec.Partition], rec.Offset+1)
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
	// Each partition is handled in order, so once its last record is
	// handled so is any record a member was given again after the revoke
	// (below the end offset): every redelivery is counted by then.
	_, ends := e.committed("revoke-test", "things")
	waitFor(t, "the second batch, every partition handled up to its end offset", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for p, end := range ends {
			if next[p] < end {
				return false
			}
		}
		return len(count) == 2*n
	})
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
