package eventing_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events/orders"
)

const benchInboxEvents = 3000 // per inbox run

// BenchmarkInbox reports the throughput of handlers that change state with
// the inbox and outbox (inbox row + one state row + one emitted event per
// record, SQLite with synchronous=FULL as OpenStore sets it) with batch
// transactions (the default) against one transaction per record
// (BatchTransactions(0)), same events, same broker, pairs back to back.
func BenchmarkInbox(b *testing.B) {
	be := newBenchEnv(b)
	be.runInbox(b, 300, 0) // warm-up
	be.runInbox(b, 300, eventing.DefaultBatchTransactions)
	for range b.N {
		var speedup, cpu ratios
		var batched, single []float64
		var pairs []string
		for i := range benchPairs {
			var bt, one runResult
			if i%2 == 0 {
				bt, one = be.runInbox(b, benchInboxEvents, eventing.DefaultBatchTransactions), be.runInbox(b, benchInboxEvents, 0)
			} else {
				one, bt = be.runInbox(b, benchInboxEvents, 0), be.runInbox(b, benchInboxEvents, eventing.DefaultBatchTransactions)
			}
			speedup, cpu = append(speedup, bt.rate/one.rate), append(cpu, float64(bt.cpu)/float64(one.cpu))
			batched, single = append(batched, bt.rate), append(single, one.rate)
			pairs = append(pairs, fmt.Sprintf("pair %d: batched %.0f ev/s %v CPU/ev, per record %.0f ev/s %v CPU/ev", i+1, bt.rate, bt.cpu, one.rate, one.cpu))
		}
		b.Logf("inbox throughput, batch transactions vs one per record: %v", speedup)
		b.Logf("CPU per event, batched vs per record (lower is cheaper): %v", cpu)
		b.Logf("events/s batched %v, per record %v", ratios(batched).plain(), ratios(single).plain())
		b.Log(strings.Join(pairs, "\n"))
		b.ReportMetric(speedup.median(), "x_per_record")
		b.ReportMetric(ratios(batched).median(), "events/s")
	}
}

// runInbox moves n events through a router with an inbox whose handler
// writes a row and emits an event, and times it until every state change
// is committed.
func (be *benchEnv) runInbox(b *testing.B, n, batch int) runResult {
	tb, out := be.topic(b), be.topic(b)
	evs := be.orders(n)
	st, err := eventing.OpenStore(context.Background(), filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB().Exec(appliedDDL); err != nil {
		b.Fatal(err)
	}
	pub, err := eventing.NewPublisher(eventing.Brokers(be.addr), eventing.WithCodec(be.codec))
	if err != nil {
		b.Fatal(err)
	}
	defer pub.Close()
	r, err := eventing.NewRouter(eventing.Brokers(be.addr), eventing.WithCodec(be.codec), eventing.Group(tb.Topic()),
		eventing.WithInbox(st), eventing.WithPublisher(pub), eventing.BatchTransactions(batch))
	if err != nil {
		b.Fatal(err)
	}
	eventing.Handle(r, tb, func(ctx context.Context, o *orders.OrderPlaced) error {
		if _, err := eventing.Tx(ctx).ExecContext(ctx, `INSERT INTO applied (event_id, seq) VALUES (?, 0)`, o.Metadata.EventID); err != nil {
			return err
		}
		next := *o
		next.Metadata.EventID = ""
		return eventing.Emit(ctx, out, &next)
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	be.waitStable(b, tb.Topic())
	start, cpu0 := time.Now(), processCPU()
	if err := eventing.PublishAll(context.Background(), pub, tb, evs); err != nil {
		b.Fatal(err)
	}
	for {
		var got int
		if err := st.DB().QueryRow(`SELECT count(*) FROM applied`).Scan(&got); err != nil {
			b.Fatal(err)
		}
		if got == n {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	res := finish(n, start, cpu0)
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return res
}
