package eventing_test

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/eventing"
)

// TestSCRAMIsConfigurationOnly runs the same publisher and router against a
// broker that demands SASL/SCRAM-SHA-256, as a managed Kafka or Redpanda
// would: only ClientOpts change.
func TestSCRAMIsConfigurationOnly(t *testing.T) {
	addr := startBroker(t, broker.Topics(broker.Topic{Name: "things", Partitions: 1}),
		broker.ClusterOpts(kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-256", "svc", "s3cret")))
	codec, _ := startRegistry(t)
	auth := eventing.ClientOpts(kgo.SASL(scram.Auth{User: "svc", Pass: "s3cret"}.AsSha256Mechanism()))
	tb := thingBinding("things")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	bad, err := eventing.NewPublisher(eventing.Brokers(addr), eventing.WithCodec(codec),
		eventing.ClientOpts(kgo.SASL(scram.Auth{User: "svc", Pass: "wrong"}.AsSha256Mechanism()), kgo.RequestRetries(0)))
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	if err := bad.Ready(ctx); err == nil {
		t.Fatal("a wrong password reached the broker: the broker does not enforce SASL, so this test proves nothing")
	}

	pub, err := eventing.NewPublisher(eventing.Brokers(addr), eventing.WithCodec(codec), auth)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.Publish(ctx, tb, &Thing{OrderID: "o-1", Seq: 42}); err != nil {
		t.Fatal(err)
	}
	r, err := eventing.NewRouter(eventing.Brokers(addr), eventing.WithCodec(codec), eventing.Group("sasl-test"), auth)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	eventing.Handle(r, tb, func(_ context.Context, th *Thing) error { got <- th.Seq; return nil })
	stop := run(t, r)
	select {
	case seq := <-got:
		if seq != 42 {
			t.Fatalf("handled seq %d", seq)
		}
	case <-ctx.Done():
		t.Fatal("event not handled over SASL/SCRAM")
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
}
