package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/broker/brokertest"
)

// openFollowing opens a following KafkaStore on addr and the registry
// over it, both closed when t ends.
func openFollowing(t *testing.T, addr string) (*KafkaStore, *Registry) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := OpenKafkaStore(ctx, KafkaBrokers(addr), KafkaFollow(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	reg, err := Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	return s, reg
}

func fenceSchema(name string) SchemaRequest {
	return SchemaRequest{Schema: fmt.Sprintf(`{"type":"record","name":%q,"fields":[]}`, name)}
}

// TestKafkaDeposedLeaderIsFenced runs two instances that both believe
// they lead: A leads and writes, B is elected and fences A (its
// InitProducerID with the cluster's one transactional id), then A writes
// through its store as a deposed leader cut off from the group would,
// once with a transaction already open when B took over and once after.
// Both of A's writes fail with ErrFenced, A stops taking writes at once
// and calls its fence hook, B keeps writing, and a fresh reader sees
// nothing A wrote after B took over and no id twice.
func TestKafkaDeposedLeaderIsFenced(t *testing.T) {
	b := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	txnID := TransactionalID(DefaultLeaderGroup, DefaultKafkaTopic)

	storeA, regA := openFollowing(t, b.Addr())
	var fencedA atomic.Int32
	storeA.onFence = func(byOther bool) {
		if byOther {
			fencedA.Add(1)
		}
	}
	if err := storeA.catchUp(ctx, txnID); err != nil {
		t.Fatal(err)
	}
	storeA.setWritable(true)
	idA1, err := regA.Register(ctx, "a1", fenceSchema("A1"), RegisterOpts{})
	if err != nil {
		t.Fatal(err)
	}

	// A opens a transaction and writes a record into it, then B takes
	// over before A commits.
	inflight := storeA.txn
	if err := inflight.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	ghost := &kgo.Record{Topic: DefaultKafkaTopic, Partition: 0,
		Key:   []byte(`{"keytype":"SCHEMA","subject":"ghost","version":1,"magic":1}`),
		Value: []byte(`{"subject":"ghost","version":1,"id":99,"schema":"\"int\"","deleted":false}`)}
	if err := inflight.ProduceSync(ctx, ghost).FirstErr(); err != nil {
		t.Fatal(err)
	}

	storeB, regB := openFollowing(t, b.Addr())
	if err := storeB.catchUp(ctx, txnID); err != nil {
		t.Fatal(err)
	}
	storeB.setWritable(true)
	idB1, err := regB.Register(ctx, "b1", fenceSchema("B1"), RegisterOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if idB1 <= idA1 {
		t.Errorf("B's first id %d does not follow A's %d", idB1, idA1)
	}

	if err := inflight.EndTransaction(ctx, kgo.TryCommit); !isFenced(err) {
		t.Errorf("A's commit of a transaction opened before B took over: %v, want fenced", err)
	}
	// Leave the client out of the transaction, so A's next write goes
	// through its whole write path.
	if err := inflight.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}

	// A still believes it leads and writes through its whole write path.
	_, err = regA.Register(ctx, "a2", fenceSchema("A2"), RegisterOpts{})
	if !errors.Is(err, ErrFenced) {
		t.Fatalf("deposed leader's write: %v, want ErrFenced", err)
	}
	t.Logf("deposed leader's write: %v", err)
	if n := fencedA.Load(); n != 1 {
		t.Errorf("fence hook ran %d times, want 1", n)
	}
	_, err = regA.Register(ctx, "a3", fenceSchema("A3"), RegisterOpts{})
	if err == nil || !strings.Contains(err.Error(), "takes no writes") {
		t.Errorf("write after fencing: %v, want refused at once", err)
	}

	// B is not fenced by A's attempts.
	idB2, err := regB.Register(ctx, "b2", fenceSchema("B2"), RegisterOpts{})
	if err != nil {
		t.Fatalf("leader's write after the deposed one tried: %v", err)
	}

	// A fresh reader: the topic ends in a commit marker, and only the
	// committed writes are there.
	rd, err := OpenKafkaStore(ctx, KafkaBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	st, err := rd.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	byID := map[int]string{}
	for _, v := range st.Versions {
		got[v.Subject] = v.ID
		if prev, dup := byID[v.ID]; dup {
			t.Errorf("subjects %s and %s share id %d", prev, v.Subject, v.ID)
		}
		byID[v.ID] = v.Subject
	}
	want := map[string]int{"a1": idA1, "b1": idB1, "b2": idB2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("committed subjects = %v, want %v", got, want)
	}
	// The follower A sees the same, and nothing of its own failed writes.
	if err := storeA.waitOffset(ctx, storeB.Offset()); err != nil {
		t.Fatal(err)
	}
	if _, err := regA.Register(ctx, "a2", fenceSchema("A2"), RegisterOpts{}); err == nil {
		t.Error("A took a write after it was fenced")
	}
	for _, s := range []string{"a2", "a3", "ghost"} {
		if _, ok := got[s]; ok {
			t.Errorf("subject %s of the fenced leader is readable", s)
		}
	}
}
