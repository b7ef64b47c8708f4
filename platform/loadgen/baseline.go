package loadgen

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// RecordsPerOrder is the record count one order is compared against: a
// shipped order produces five events (OrderPlaced, InventoryReserved,
// PaymentConfirmed, OrderReady, OrderShipped) that are delivered seven times
// (OrderPlaced and OrderReady each have two consumers); six is the issue's
// agreed middle.
const RecordsPerOrder = 6

// Baseline is raw franz-go moving records through the same broker: produce
// with acks=all (idempotent, linger 0) and consume in a group with
// committed offsets, the durability the services get.
type Baseline struct {
	Records         int     `json:"records"`
	RecordBytes     int     `json:"record_bytes"`
	Seconds         float64 `json:"seconds"`
	RecordsPerSec   float64 `json:"records_per_sec"`
	RecordsPerOrder int     `json:"records_per_order"`
	// Efficiency = orders/s x RecordsPerOrder / RecordsPerSec.
	Efficiency float64 `json:"efficiency"`
}

// Compare moves as many records as orders stand for (orders x
// RecordsPerOrder, 300 bytes each, all in flight) through brokers with
// RunBaseline and returns the baseline with Efficiency set against the flow's
// ordersPerSec. Errors are RunBaseline's.
func Compare(ctx context.Context, brokers []string, orders int, ordersPerSec float64) (*Baseline, error) {
	b, err := RunBaseline(ctx, brokers, orders*RecordsPerOrder, 300, 0)
	if err != nil {
		return nil, err
	}
	b.Efficiency = ordersPerSec * float64(b.RecordsPerOrder) / b.RecordsPerSec
	return b, nil
}

// RunBaseline produces n distinct records of size bytes to a fresh topic on
// brokers with up to concurrency records in flight (0: all of them, the raw
// client's best case) and consumes them back in a group,
// and returns the rate of records fully moved (produced, acknowledged,
// consumed, committed).
func RunBaseline(ctx context.Context, brokers []string, n, size, concurrency int, extra ...kgo.Opt) (*Baseline, error) {
	topic := fmt.Sprintf("contrail-baseline-%d", time.Now().UnixNano())
	adm, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("loadgen: baseline client: %w", err)
	}
	defer adm.Close()
	if _, err := kadm.NewClient(adm).CreateTopic(ctx, 3, 1, nil, topic); err != nil {
		return nil, fmt.Errorf("loadgen: create baseline topic: %w", err)
	}
	defer kadm.NewClient(adm).DeleteTopics(context.Background(), topic)
	prod, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0), kgo.DefaultProduceTopic(topic)}, extra...)...)
	if err != nil {
		return nil, err
	}
	defer prod.Close()
	cons, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumerGroup(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit()}, extra...)...)
	if err != nil {
		return nil, err
	}
	defer cons.Close()
	vals := make([][]byte, n)
	for i := range vals {
		vals[i] = make([]byte, size)
		rand.Read(vals[i])
	}
	start := time.Now()
	errc := make(chan error, 1)
	go func() {
		if concurrency <= 0 {
			concurrency = n
		}
		sem := make(chan struct{}, concurrency)
		var (
			mu    sync.Mutex
			first error
		)
		done := make(chan struct{}, n)
		for i := 0; i < n; i++ {
			sem <- struct{}{}
			prod.Produce(ctx, &kgo.Record{Key: []byte(fmt.Sprint(i)), Value: vals[i]}, func(_ *kgo.Record, err error) {
				mu.Lock()
				if err != nil && first == nil {
					first = err
				}
				mu.Unlock()
				<-sem
				done <- struct{}{}
			})
		}
		for i := 0; i < n; i++ {
			<-done
		}
		mu.Lock()
		errc <- first
		mu.Unlock()
	}()
	got := 0
	for got < n {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("loadgen: baseline consume: %v", errs[0].Err)
		}
		got += fs.NumRecords()
		if err := cons.CommitUncommittedOffsets(ctx); err != nil {
			return nil, fmt.Errorf("loadgen: baseline commit: %w", err)
		}
	}
	if err := <-errc; err != nil {
		return nil, fmt.Errorf("loadgen: baseline produce: %w", err)
	}
	d := time.Since(start)
	return &Baseline{Records: n, RecordBytes: size, Seconds: d.Seconds(), RecordsPerSec: float64(n) / d.Seconds(), RecordsPerOrder: RecordsPerOrder}, nil
}
