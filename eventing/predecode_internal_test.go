package eventing

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/wire"
)

// TestPredecodeStopsAtTheFirstFailure: a batch decodes its records before
// its transaction until one does not decode, and leaves that record and
// the rest to their handlers, so an unreachable registry costs the batch
// one wait, not one per record.
func TestPredecodeStopsAtTheFirstFailure(t *testing.T) {
	calls := 0
	fail := map[string]bool{"c": true}
	r := &Router{routes: map[string]*route{"T": {decode: func(_ context.Context, data []byte) (any, error) {
		calls++
		if fail[string(data)] {
			return nil, errors.New("registry unreachable")
		}
		return string(data), nil
	}}}}
	rec := func(v string) *kgo.Record {
		return &kgo.Record{Value: []byte(v), Headers: []kgo.RecordHeader{{Key: wire.HeaderEventType, Value: []byte("T")}}}
	}
	other := &kgo.Record{Value: []byte("x"), Headers: []kgo.RecordHeader{{Key: wire.HeaderEventType, Value: []byte("Unknown")}}}
	chunk := []*kgo.Record{rec("a"), other, rec("b"), rec("c"), rec("d"), rec("e")}
	b := batchTx{pre: r.predecode(context.Background(), chunk)}
	if calls != 3 {
		t.Fatalf("%d decodes, want 3 (a, b, then c fails and nothing after it is tried)", calls)
	}
	for i, want := range []any{"a", nil, "b", nil, nil, nil} {
		if got := b.decoded(chunk[i]); got != want {
			t.Errorf("record %d: predecoded %v, want %v", i, got, want)
		}
	}
	if got := b.decoded(chunk[0]); got != nil {
		t.Errorf("a value is handed out once; the second ask got %v", got)
	}
}
