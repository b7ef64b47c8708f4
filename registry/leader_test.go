package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/registry"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// replica is one in-process registry replica on the Kafka store.
type replica struct {
	url   string
	rep   *registry.Replica
	store *registry.KafkaStore
	http  *http.Server
}

func startReplica(t testing.TB, brokers string) *replica {
	t.Helper()
	return startReplicaEligible(t, brokers, true)
}

func startReplicaEligible(t testing.TB, brokers string, eligible bool) *replica {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := registry.OpenKafkaStore(ctx, registry.KafkaBrokers(brokers), registry.KafkaFollow(true))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(ctx, store)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{url: "http://" + ln.Addr().String(), store: store}
	if r.rep, err = registry.NewReplica(store, r.url, eligible); err != nil {
		t.Fatal(err)
	}
	srv, err := registry.NewServer(reg, registry.WithCollectors(r.rep.Collectors()...))
	if err != nil {
		t.Fatal(err)
	}
	r.http = &http.Server{Handler: r.rep.Handler(srv)}
	go r.http.Serve(ln)
	t.Cleanup(func() { r.http.Close(); r.rep.Close(); store.Close() })
	return r
}

// kill stops r abruptly: no answer to clients, no goodbye to the group,
// no more reads or writes of the topic.
func (r *replica) kill() {
	r.http.Close()
	r.store.Close()
}

func health(url string) (role, leader string) {
	resp, err := http.Get(url + "/healthz")
	if err != nil {
		return "", ""
	}
	defer resp.Body.Close()
	var h struct{ Role, Leader string }
	json.NewDecoder(resp.Body).Decode(&h)
	return h.Role, h.Leader
}

// leaderOf waits until every replica in rs agrees on one leader among rs
// and returns it.
func leaderOf(t testing.TB, rs []*replica) *replica {
	t.Helper()
	var found *replica
	waitFor(t, func() bool {
		found = nil
		agreed := ""
		for _, r := range rs {
			role, leader := health(r.url)

			if leader == "" || (agreed != "" && leader != agreed) || (role != "leader" && role != "follower") {
				return false
			}
			agreed = leader
			if role == "leader" {
				found = r
			}
		}
		return found != nil && found.url == agreed
	})
	return found
}

// TestReplicasSurviveLeaderKill runs three replicas on one topic,
// registers schemas through all three concurrently, kills the leader in
// the middle, and checks that every acknowledged registration is readable
// with the same id on every survivor, that no two schemas share an id,
// and that a new leader takes over.
func TestReplicasSurviveLeaderKill(t *testing.T) {
	t.Run("one broker", func(t *testing.T) { replicasSurviveLeaderKill(t, brokertest.Start(t)) })
	// Three brokers: the group coordinator, the topic's partition leader
	// and the transaction coordinator need not be the broker the replicas
	// bootstrap from.
	t.Run("three brokers", func(t *testing.T) {
		b := brokertest.Start(t, broker.ClusterOpts(kfake.NumBrokers(3)))
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		bs, err := kadm.NewClient(cl).ListBrokers(context.Background())
		if err != nil || len(bs) != 3 {
			t.Fatalf("the embedded cluster has %d brokers (%v), want 3", len(bs), err)
		}
		replicasSurviveLeaderKill(t, b)
	})
}

func replicasSurviveLeaderKill(t *testing.T, b *broker.Broker) {
	rs := []*replica{startReplica(t, b.Addr()), startReplica(t, b.Addr()), startReplica(t, b.Addr())}
	first := leaderOf(t, rs)

	var mu sync.Mutex
	acked := map[string]int{}
	var n atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				target := rs[w%3]
				subject := fmt.Sprintf("s-%d-%d", w, i)
				body := fmt.Sprintf(`{"schema":"{\"type\":\"record\",\"name\":\"R%d_%d\",\"fields\":[]}"}`, w, i)
				id, err := register(target.url, subject, body)
				if err != nil {
					time.Sleep(20 * time.Millisecond) // no leader or a dead target: not acknowledged
					continue
				}
				mu.Lock()
				acked[subject] = id
				mu.Unlock()
				n.Add(1)
			}
		}()
	}
	waitFor(t, func() bool { return n.Load() >= 60 })
	killedAt := time.Now()
	first.kill()
	var survivors []*replica
	for _, r := range rs {
		if r != first {
			survivors = append(survivors, r)
		}
	}
	second := leaderOf(t, survivors)
	t.Logf("leader %s killed; %s leads (both survivors agree) after %v", first.url, second.url, time.Since(killedAt).Round(time.Millisecond))
	before := n.Load()
	waitFor(t, func() bool { return n.Load() >= before+30 })
	stop.Store(true)
	wg.Wait()

	byID := map[int]string{}
	for s, id := range acked {
		if prev, dup := byID[id]; dup {
			t.Errorf("subjects %s and %s share id %d", prev, s, id)
		}
		byID[id] = s
	}
	for _, r := range survivors {
		for s, id := range acked {
			var st int
			var body string
			waitFor(t, func() bool {
				st, body = httpGet(t, r.url, "/subjects/"+s+"/versions/1")
				return st == 200
			})
			var got struct{ ID int }
			json.Unmarshal([]byte(body), &got)
			if got.ID != id {
				t.Errorf("%s: GET %s = %d %s, want id %d", r.url, s, st, body, id)
			}
		}
	}
	t.Logf("%d registrations acknowledged, all readable on both survivors", len(acked))
}

// TestReplicaReadYourWrites registers through a follower and reads the
// schema back from the same follower at once.
func TestReplicaReadYourWrites(t *testing.T) {
	b := brokertest.Start(t)
	rs := []*replica{startReplica(t, b.Addr()), startReplica(t, b.Addr())}
	leader := leaderOf(t, rs)
	follower := rs[0]
	if follower == leader {
		follower = rs[1]
	}
	for i := range 20 {
		s := fmt.Sprintf("ryw-%d", i)
		id, err := register(follower.url, s, fmt.Sprintf(`{"schema":"{\"type\":\"record\",\"name\":\"W%d\",\"fields\":[]}"}`, i))
		if err != nil {
			t.Fatal(err)
		}
		st, body := httpGet(t, follower.url, "/subjects/"+s+"/versions/1")
		if st != 200 || !strings.Contains(body, fmt.Sprintf(`"id":%d`, id)) {
			t.Fatalf("read after write on the follower: %d %s, want id %d", st, body, id)
		}
	}
	if _, body := httpGet(t, follower.url, "/healthz"); !jsonEqual(body, fmt.Sprintf(`{"role":"follower","leader":%q,"lag":0}`, leader.url)) {
		t.Errorf("follower /healthz = %s", body)
	}
	_, metrics := httpGet(t, leader.url, "/metrics")
	for _, want := range []string{`contrail_registry_replica_role{role="leader"} 1`, `contrail_registry_replica_role{role="follower"} 0`, "contrail_registry_replica_lag_records 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("leader /metrics lacks %q", want)
		}
	}
}

// TestReplicaJoiningKeepsLeader checks that a replica joining does not
// move the leadership.
func TestReplicaJoiningKeepsLeader(t *testing.T) {
	b := brokertest.Start(t)
	rs := []*replica{startReplica(t, b.Addr())}
	first := leaderOf(t, rs)
	for range 2 {
		rs = append(rs, startReplica(t, b.Addr()))
		if got := leaderOf(t, rs); got != first {
			t.Fatalf("leader moved from %s to %s when a replica joined", first.url, got.url)
		}
	}
}

// TestReplicaIneligibleNeverLeads checks the eligibility flag: a lone
// ineligible replica refuses writes with 50004, and leads no group it is in.
func TestReplicaIneligibleNeverLeads(t *testing.T) {
	b := brokertest.Start(t)
	follower := startReplicaEligible(t, b.Addr(), false)
	waitFor(t, func() bool { role, _ := health(follower.url); return role == "follower" })
	if _, err := register(follower.url, "x", `{"schema":"\"int\""}`); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("write with no eligible replica: %v, want a 500 (50004)", err)
	}
	eligible := startReplica(t, b.Addr())
	if got := leaderOf(t, []*replica{follower, eligible}); got != eligible {
		t.Fatalf("leader is %s, want the eligible %s", got.url, eligible.url)
	}
	if _, err := register(follower.url, "x", `{"schema":"\"int\""}`); err != nil {
		t.Errorf("write through the ineligible follower: %v", err)
	}
}
