package broker_test

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKcatInterop shows that librdkafka (through Debian's kcat package)
// produces to and consumes from the embedded broker, in both directions with
// franz-go. Install it with `apt-get install kcat`.
func TestKcatInterop(t *testing.T) {
	kcat, err := exec.LookPath("kcat")
	if err != nil {
		t.Skip("kcat not installed: librdkafka interop is untested here; install the Debian package kcat (apt-get install -y kcat) to run it")
	}
	b := brokertest.Start(t, broker.Topics(broker.Topic{Name: "orders", Partitions: 1}))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// librdkafka produces, with acks=all and idempotence.
	produce := exec.CommandContext(ctx, kcat, "-P", "-b", b.Addr(), "-t", "orders", "-K", ":",
		"-X", "enable.idempotence=true", "-X", "acks=all")
	produce.Stdin = strings.NewReader("o-1:from-kcat-1\no-2:from-kcat-2\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("kcat produce: %v\n%s", err, out)
	}
	// franz-go produces one more.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.DefaultProduceTopic("orders"),
		kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte("o-3"), Value: []byte("from-franz")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// franz-go reads what librdkafka wrote.
	var got []string
	for len(got) < 3 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("franz-go read only %v", got)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Key)+"="+string(r.Value)) })
	}
	want := []string{"o-1=from-kcat-1", "o-2=from-kcat-2", "o-3=from-franz"}
	if !slices.Equal(got, want) {
		t.Fatalf("franz-go read %v, want %v", got, want)
	}
	// librdkafka reads everything, in a consumer group, to the end.
	consume := exec.CommandContext(ctx, kcat, "-C", "-b", b.Addr(), "-G", "kcat-group", "orders",
		"-X", "auto.offset.reset=earliest", "-e", "-f", "%k=%s\n")
	out, err := consume.Output()
	if err != nil {
		t.Fatalf("kcat consume: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !slices.Equal(lines, want) {
		t.Fatalf("kcat read %q, want %q", lines, want)
	}
}
