package eventing_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// envWith is newEnv on a broker started with opts (and topics).
func envWith(t *testing.T, partitions int, opts []broker.Opt, topics ...string) (*env, *broker.Broker) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a broker: slow, runs in make test")
	}
	var ts []broker.Topic
	for _, n := range topics {
		ts = append(ts, broker.Topic{Name: n, Partitions: partitions})
	}
	b := brokertest.Start(t, append(opts, broker.Topics(ts...))...)
	codec, url := startRegistry(t)
	pub, err := eventing.NewPublisher(eventing.Brokers(b.Addr()), eventing.WithCodec(codec))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	return &env{t: t, addr: b.Addr(), codec: codec, pub: pub, registryURL: url}, b
}

// enqueue adds the things to st's outbox in one transaction and returns
// their event ids.
func (e *env) enqueue(st *eventing.Store, tb *events.Binding[Thing], vs ...*Thing) []string {
	e.t.Helper()
	ctx := context.Background()
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	ids := make([]string, len(vs))
	for i, v := range vs {
		if err := st.AddEvent(ctx, tx, e.pub, tb, v); err != nil {
			e.t.Fatal(err)
		}
		ids[i] = v.Metadata.EventID
	}
	if err := tx.Commit(); err != nil {
		e.t.Fatal(err)
	}
	return ids
}

// eventIDs counts the records of rs by event id and returns the ids per
// key in offset order.
func eventIDs(rs []*kgo.Record) (count map[string]int, byKey map[string][]string) {
	count, byKey = map[string]int{}, map[string][]string{}
	for _, r := range rs {
		id := eventing.HeaderValue(r, wire.HeaderEventID)
		count[id]++
		byKey[string(r.Key)] = append(byKey[string(r.Key)], id)
	}
	return count, byKey
}

// TestRelayParksWhatTheBrokerRefuses: an outbox row too large for the
// broker sits between normal rows, some of its own key. The normal rows
// arrive exactly once, in order per key; the large one is parked with its
// error, counted once, and later flushes publish nothing more. Before
// parking, the relay resent the whole batch on every flush and never moved
// past the row.
func TestRelayParksWhatTheBrokerRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts []broker.Opt
		size int // of the large row's note
	}{
		// franz-go fails a record larger than its batch limit (1,000,012
		// bytes by default) before sending it.
		{name: "larger than the producer's batch limit", size: 1100 << 10},
		// The broker refuses the partition's batch; franz-go fails every
		// record buffered for the partition with MESSAGE_TOO_LARGE.
		{name: "larger than the broker's max.message.bytes", size: 100 << 10,
			opts: []broker.Opt{broker.ClusterOpts(kfake.BrokerConfigs(map[string]string{"message.max.bytes": "65536"}))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, _ := envWith(t, 1, tt.opts, "things")
			tb := thingBinding("things")
			ctx := context.Background()
			st := openState(t)
			var vs []*Thing
			for i := range 12 {
				vs = append(vs, &Thing{OrderID: fmt.Sprintf("order-%d", i%3), Seq: i})
			}
			big := &Thing{OrderID: "order-1", Seq: 100, Note: incompressible(tt.size)}
			vs = append(vs[:6], append([]*Thing{big}, vs[6:]...)...)
			ids := e.enqueue(st, tb, vs...)
			bigID := ids[6]

			r := eventing.NewRelay(st, e.pub, 0)
			n, err := r.Flush(ctx)
			if err != nil {
				t.Fatalf("Flush: %v (a parked row is not an error)", err)
			}
			if n != 12 {
				t.Errorf("Flush published %d, want the 12 normal rows", n)
			}
			for range 3 {
				if n, err := r.Flush(ctx); n != 0 || err != nil {
					t.Errorf("a later Flush = %d, %v; want 0, nil", n, err)
				}
			}

			got := e.readAll("things", 12)
			count, byKey := eventIDs(got)
			if len(got) != 12 {
				t.Errorf("%d records on the topic, want 12", len(got))
			}
			for i, id := range ids {
				want := 1
				if id == bigID {
					want = 0
				}
				if count[id] != want {
					t.Errorf("row %d (%s) on the topic %d times, want %d", i, id, count[id], want)
				}
			}
			for k, seq := range byKey {
				var want []string
				for i, v := range vs {
					if v.OrderID == k && ids[i] != bigID {
						want = append(want, ids[i])
					}
				}
				if strings.Join(seq, ",") != strings.Join(want, ",") {
					t.Errorf("key %s in order %v, want %v", k, seq, want)
				}
			}

			if p, _ := st.Pending(ctx); p != 0 {
				t.Errorf("%d rows left in the outbox, want 0", p)
			}
			var (
				parkedID, parkedErr, parkedType string
				parkedBytes                     int
			)
			if err := st.DB().QueryRow(`SELECT event_id, event_type, error, length(value) FROM contrail_outbox_parked`).Scan(&parkedID, &parkedType, &parkedErr, &parkedBytes); err != nil {
				t.Fatalf("read the parked row: %v", err)
			}
			if parkedID != bigID || parkedType != "contrail.test.Thing" || !strings.Contains(parkedErr, "MESSAGE_TOO_LARGE") || parkedBytes < tt.size {
				t.Errorf("parked %s %s (%d bytes): %q; want %s with its MESSAGE_TOO_LARGE error", parkedType, parkedID, parkedBytes, parkedErr, bigID)
			}
			if n, _ := st.Parked(ctx); n != 1 {
				t.Errorf("Parked() = %d, want 1", n)
			}
			if v := metricValue(t, e.pub.Metrics(), `contrail_outbox_parked_total{topic="things"}`); v != 1 {
				t.Errorf("contrail_outbox_parked_total = %v, want 1", v)
			}
		})
	}
}

// incompressible returns n random letters: the producer compresses
// batches, and the broker measures them compressed.
func incompressible(n int) string {
	rng := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = 'a' + byte(rng.IntN(26))
	}
	return string(b)
}

// TestRelayKeepsKeyOrderWhenARowFails: the broker refuses the partition of
// key k (an ACL an operator will fix, not the record's fault). k's rows
// stay in the outbox, the second is not even produced behind the failed
// first, and key j on the other partition is published once; once the
// broker accepts k again, its rows follow in order, and nothing is
// published twice.
func TestRelayKeepsKeyOrderWhenARowFails(t *testing.T) {
	e, b := envWith(t, 2, nil, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	st := openState(t)
	part := kgo.StickyKeyPartitioner(nil).ForTopic("things")
	k, j := "order-k", ""
	for i := 0; j == ""; i++ {
		if c := fmt.Sprintf("order-%d", i); part.Partition(&kgo.Record{Key: []byte(c)}, 2) != part.Partition(&kgo.Record{Key: []byte(k)}, 2) {
			j = c
		}
	}
	ids := e.enqueue(st, tb, &Thing{OrderID: k, Seq: 1}, &Thing{OrderID: j, Seq: 2}, &Thing{OrderID: k, Seq: 3}, &Thing{OrderID: j, Seq: 4})
	fault := b.Cluster().Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: "things",
		Partitions: []int32{int32(part.Partition(&kgo.Record{Key: []byte(k)}, 2))}, Err: kerr.TopicAuthorizationFailed, Count: -1})

	r := eventing.NewRelay(st, e.pub, 0)
	n, err := r.Flush(ctx)
	if !errors.Is(err, kerr.TopicAuthorizationFailed) || n != 2 {
		t.Fatalf("Flush = %d, %v; want j's 2 rows published and an error naming TOPIC_AUTHORIZATION_FAILED", n, err)
	}
	if hits := fault.Hits(); hits != 1 {
		t.Errorf("k's partition was produced to %d times, want once: k's second row must wait behind its first", hits)
	}
	if p, _ := st.Pending(ctx); p != 2 {
		t.Errorf("%d rows in the outbox, want k's 2", p)
	}
	if n, _ := st.Parked(ctx); n != 0 {
		t.Errorf("%d rows parked: an authorization failure is not the record's fault", n)
	}

	fault.Remove()
	if n, err := r.Flush(ctx); n != 2 || err != nil {
		t.Fatalf("Flush after the fault = %d, %v; want k's 2 rows", n, err)
	}
	if n, err := r.Flush(ctx); n != 0 || err != nil {
		t.Fatalf("a last Flush = %d, %v; want 0, nil", n, err)
	}
	count, byKey := eventIDs(e.readAll("things", 4))
	for i, id := range ids {
		if count[id] != 1 {
			t.Errorf("row %d on the topic %d times, want once", i, count[id])
		}
	}
	if got, want := strings.Join(byKey[k], ","), ids[0]+","+ids[2]; got != want {
		t.Errorf("key k in order %s, want %s", got, want)
	}
	if got, want := strings.Join(byKey[j], ","), ids[1]+","+ids[3]; got != want {
		t.Errorf("key j in order %s, want %s", got, want)
	}
}
