package providertest

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
	"github.com/contrail-events/contrail/events"
)

// Quiet is the host options of a service run under Env.Run whose logs the
// test does not want: everything goes to io.Discard.
var Quiet = host.HostOpts{LogOutput: io.Discard}

// metaFields are the event-metadata fields every handler reads (the inbox
// dedupes on the id, the handler records the time).
var metaFields = []string{"metadata.eventId", "metadata.occurredAt"}

// Fields returns fs plus the metadata fields every handler reads: the
// field list of one consumerFields entry of CheckConsumerContracts.
func Fields(fs ...string) []string { return append(fs, metaFields...) }

// neverCodec satisfies eventing.Codec for routers that never run.
type neverCodec struct{}

func (neverCodec) Encode(context.Context, events.Type, any) ([]byte, error) {
	return nil, errors.New("providertest: the router never runs")
}

func (neverCodec) Decode(context.Context, []byte, events.Type, any) error {
	return errors.New("providertest: the router never runs")
}

// CheckConsumerContracts derives consumer's contracts from the router that
// register fills (no broker: NewRouter does not connect, and handlers only
// use their store when they run, so register may pass a nil store) and the
// fields each handler reads (a router cannot know them), and checks that
// the committed files for consumer under dir are exactly those. With update
// it rewrites them first. A handler without a fields entry, a missing or
// different committed file, and a committed file without a handler fail t.
func CheckConsumerContracts(t *testing.T, consumer, dir string, register func(*eventing.Router), fields map[string][]string, update bool) {
	t.Helper()
	r, err := eventing.NewRouter(eventing.Group(consumer), eventing.WithCodec(neverCodec{}))
	if err != nil {
		t.Fatal(err)
	}
	register(r)
	derived, err := contract.FromRouter(consumer, r, fields)
	if err != nil {
		t.Fatalf("services/%s: %v", consumer, err)
	}
	if update {
		if err := os.RemoveAll(filepath.Join(dir, consumer)); err != nil {
			t.Fatal(err)
		}
		if _, err := contract.Write(dir, derived); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := contract.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[string]*contract.Contract{}
	for _, c := range committed {
		if c.Consumer == consumer {
			byKey[c.Key()] = c
		}
	}
	for _, c := range derived {
		got := byKey[c.Key()]
		if got == nil {
			t.Errorf("no committed contract %s: run go test ./services/%s -run TestConsumerContracts -update", c.Key(), consumer)
			continue
		}
		want, _ := contract.Marshal(c)
		have, _ := contract.Marshal(got)
		if string(want) != string(have) {
			t.Errorf("committed contract %s differs from the one derived from %s: run go test ./services/%s -run TestConsumerContracts -update", contract.FileName(c), c.Source, consumer)
		}
		delete(byKey, c.Key())
	}
	for k := range byKey {
		t.Errorf("committed contract %s has no handler in its service's router: delete the file or run -update", k)
	}
}

// CheckOutputs is VerifyOutputs that also fails t when fewer than min
// outputs were verified.
func (e *Env) CheckOutputs(t testing.TB, min int) {
	t.Helper()
	if n := e.VerifyOutputs(t); n < min {
		t.Fatalf("verified %d outputs, want at least %d", n, min)
	}
}

// Fresh gives an example a new event id (in *eventID) and, when order is
// not nil, a new order id, which it returns; so one example can feed
// several cases without the service's inbox dropping it as a duplicate.
func Fresh(eventID *string, order *string) string {
	*eventID = uuid.NewString()
	if order != nil {
		*order = uuid.NewString()
		return *order
	}
	return ""
}
