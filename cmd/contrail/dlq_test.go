package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/wire"
)

func TestDLQReplay(t *testing.T) {
	b, err := broker.New(broker.Addr("127.0.0.1:0"), broker.Topics(broker.Topic{Name: "orders", Partitions: 2}))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 3 {
		orig := &kgo.Record{Topic: "orders", Partition: 1, Offset: int64(10 + i), Key: []byte(fmt.Sprint("o-", i)), Value: []byte(fmt.Sprint("v-", i)),
			Headers: []kgo.RecordHeader{{Key: wire.HeaderEventID, Value: []byte(fmt.Sprint("e-", i))}}}
		dl := eventing.DeadLetterRecord(orig, eventing.ClassPermanent, fmt.Errorf("bad %d", i), time.Now())
		if err := cl.ProduceSync(ctx, dl).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// One record with no origin header: reported, never lost.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "orders.dlq", Value: []byte("orphan")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		args    []string
		code    int
		out     string
		errText string
	}{
		{name: "missing topic", args: []string{"dlq", "replay", "--brokers", b.Addr()}, code: exitError, errText: "topic"},
		{name: "not a dlq topic", args: []string{"dlq", "replay", "--topic", "orders", "--brokers", b.Addr()}, code: exitError, errText: "not a dead-letter topic"},
		{name: "dry run", args: []string{"dlq", "replay", "--topic", "orders.dlq", "--brokers", b.Addr(), "--dry-run"}, code: exitOK, out: "would replay 3 dead letters"},
		{name: "replay", args: []string{"dlq", "replay", "--topic", "orders.dlq", "--brokers", b.Addr()}, code: exitOK, out: "replayed 3 dead letters from orders.dlq\n  orders: 3\nskipped 1 records"},
		{name: "second replay is a no-op", args: []string{"dlq", "replay", "--topic", "orders.dlq", "--brokers", b.Addr()}, code: exitOK, out: "replayed 0 dead letters"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.args...)
			if code != tc.code || !strings.Contains(out, tc.out) || !strings.Contains(errOut, tc.errText) {
				t.Fatalf("code %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out, errOut)
			}
		})
	}
	var got []*kgo.Record
	for len(got) < 3 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("only %d replayed records on orders", len(got))
		}
		got = append(got, fs.Records()...)
	}
	gctx, gcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer gcancel()
	if more := cl.PollFetches(gctx).Records(); len(more) > 0 {
		t.Fatalf("%d extra records on orders: the dry run or second replay republished", len(more))
	}
	seen := map[string]string{}
	for _, r := range got {
		seen[string(r.Key)] = string(r.Value)
		if eventing.HeaderValue(r, wire.HeaderDLQTopic) != "" || eventing.HeaderValue(r, wire.HeaderDLQError) != "" {
			t.Errorf("replayed record kept dead-letter headers: %v", r.Headers)
		}
		if !strings.HasPrefix(eventing.HeaderValue(r, wire.HeaderEventID), "e-") {
			t.Errorf("replayed record lost its event id")
		}
	}
	for i := range 3 {
		if seen[fmt.Sprint("o-", i)] != fmt.Sprint("v-", i) {
			t.Errorf("record o-%d not replayed intact: %v", i, seen)
		}
	}
}
