package providertest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/contract/providertest"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/wire"
)

type recorder struct {
	testing.TB
	errs []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Errorf(f string, a ...any) { r.errs = append(r.errs, fmt.Sprintf(f, a...)) }

// TestVerifyOutputsFails writes outputs a broken provider could publish and
// checks that VerifyOutputs reports each.
func TestVerifyOutputsFails(t *testing.T) {
	env := providertest.Start(t)
	ctx := context.Background()
	cl, err := sr.NewClient(sr.URLs(env.RegistryURL))
	if err != nil {
		t.Fatal(err)
	}
	codec, err := serde.New(cl, serde.AutoRegister(false))
	if err != nil {
		t.Fatal(err)
	}
	ex := providertest.Example(t, env, orders.OrderPlacedBinding, "card-web")
	good, err := codec.Encode(ctx, orders.OrderPlacedBinding, ex)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := kgo.NewClient(kgo.SeedBrokers(env.Brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	rec := func(topic string, value []byte) *kgo.Record {
		return &kgo.Record{Topic: topic, Value: value, Headers: []kgo.RecordHeader{{Key: wire.HeaderEventType, Value: []byte("contrail.orders.OrderPlaced")}}}
	}
	unknownID := append(wire.AppendFrame(nil, 9999), good[wire.FrameSize:]...)
	if err := kc.ProduceSync(ctx,
		rec("orders", good),      // fine
		rec("orders", unknownID), // unregistered schema id
		rec("orders", append(good[:len(good):len(good)], 0x02, 0x04)), // trailing garbage
		rec("payments", good), // wrong topic for the event
	).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// A consumer that requires a field the producer never writes.
	needy, err := contract.FromType("auditor", orders.OrderPlacedBinding)
	if err != nil {
		t.Fatal(err)
	}
	needy.Schema = []byte(strings.Replace(string(needy.Schema), `"fields":[`, `"fields":[{"name":"auditId","type":"string"},`, 1))
	env.Contracts = append(env.Contracts, needy)

	deadline := time.Now().Add(10 * time.Second)
	for len(env.Outputs()) < 4 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	r := &recorder{TB: t}
	if n := env.VerifyOutputs(r); n != 4 {
		t.Fatalf("checked %d outputs, want 4", n)
	}
	all := strings.Join(r.errs, "\n")
	for _, want := range []string{"consumer auditor cannot read it", "schema id 9999 is not registered", "does not re-encode", "not a manifest event on topic payments"} {
		if !strings.Contains(all, want) {
			t.Errorf("VerifyOutputs did not report %q; got:\n%s", want, all)
		}
	}
	if len(r.errs) != 4 {
		t.Errorf("%d problems reported, want 4:\n%s", len(r.errs), all)
	}
}
