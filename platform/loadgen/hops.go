package loadgen

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/common"
	"github.com/contrail-events/contrail/events/inventory"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/events/payments"
	"github.com/contrail-events/contrail/events/shipping"
	"github.com/contrail-events/contrail/wire"
)

// Hops is where a shipped order's time goes, hop by hop, measured on the
// records themselves: each event's occurred_at (set by the handler that
// emitted it, inside its transaction) and its record timestamp (set when
// the emitting service's outbox relay produced it), plus the client's POST
// round trip and the order's final_at. Every figure is in milliseconds
// over the run's shipped orders; clocks are the machine's one clock, at
// millisecond resolution (the record and event formats'), so a stage's
// median is good to about a millisecond.
type Hops struct {
	// Orders is how many shipped orders were measured.
	Orders int `json:"orders"`
	// Stages are the hops in flow order (see HopStages).
	Stages []Stage `json:"stages"`
	// CriticalPath is POST sent to final_at (the order's placed->final
	// plus the HTTP accept).
	CriticalPath Stage `json:"critical_path"`
}

// Stage is one hop's time over the measured orders, in milliseconds.
type Stage struct {
	Name string  `json:"name"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
}

// HopStages names the stages of Hops, in flow order. "produced" is the
// record timestamp: the relay's produce call, after the emitting
// transaction committed and the relay read the row.
var HopStages = []string{
	"order: POST /orders sent -> 202 (validated, group commit)",
	"order: OrderPlaced in tx -> produced (commit, relay)",
	"inventory: OrderPlaced produced -> handled (ack, fetch, poll, batch)",
	"inventory: InventoryReserved in tx -> produced (commit, relay)",
	"payment: OrderPlaced produced -> handled (ack, fetch, poll, batch)",
	"payment: PaymentConfirmed in tx -> produced (commit, relay)",
	"order: later of the two produced -> OrderReady handled (ack, fetch, poll, batch)",
	"order: OrderReady in tx -> produced (commit, relay)",
	"shipping: OrderReady produced -> handled (ack, fetch, poll, batch)",
	"shipping: OrderShipped in tx -> produced (commit, relay)",
	"order: OrderShipped produced -> final (ack, fetch, poll, batch)",
}

// hopTypes are the events a shipped order's hops are read from (by full
// name: every major of each).
var hopTypes = map[string]events.Type{}

func init() {
	for _, t := range []events.Type{orders.OrderPlacedBinding, orders.OrderReadyBinding, inventory.InventoryReservedBinding,
		payments.PaymentConfirmedBinding, shipping.OrderShippedBinding} {
		hopTypes[t.FullName()] = t
	}
}

// hopEvent is one event of an order: when its handler emitted it and when
// its relay produced it.
type hopEvent struct{ occurred, produced time.Time }

// readHops reads every record of the flow's topics produced since since
// from brokers and returns, per order id (the event's correlation id), its
// events by full name.
func readHops(ctx context.Context, brokers []string, since time.Time) (map[string]map[string]hopEvent, error) {
	topics := map[string]bool{}
	for _, t := range hopTypes {
		topics[t.Topic()] = true
	}
	var names []string
	for t := range topics {
		names = append(names, t)
	}
	sort.Strings(names)
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, fmt.Errorf("loadgen: hops: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	start, err := adm.ListOffsetsAfterMilli(ctx, since.UnixMilli(), names...)
	if err == nil {
		err = start.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("loadgen: hops: list offsets: %w", err)
	}
	end, err := adm.ListEndOffsets(ctx, names...)
	if err == nil {
		err = end.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("loadgen: hops: list offsets: %w", err)
	}
	parts := map[string]map[int32]kgo.Offset{}
	todo := map[string]map[int32]int64{} // the end offset each partition is read to
	start.Each(func(o kadm.ListedOffset) {
		e, ok := end.Lookup(o.Topic, o.Partition)
		if !ok || e.Offset <= o.Offset {
			return
		}
		if parts[o.Topic] == nil {
			parts[o.Topic], todo[o.Topic] = map[int32]kgo.Offset{}, map[int32]int64{}
		}
		parts[o.Topic][o.Partition] = kgo.NewOffset().At(o.Offset)
		todo[o.Topic][o.Partition] = e.Offset
	})
	out := map[string]map[string]hopEvent{}
	if len(parts) == 0 {
		return out, nil
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(parts))
	if err != nil {
		return nil, fmt.Errorf("loadgen: hops: %w", err)
	}
	defer cons.Close()
	left := 0
	for _, ps := range todo {
		left += len(ps)
	}
	for left > 0 {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if errs := fs.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("loadgen: hops: read %s: %w", errs[0].Topic, errs[0].Err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if e, ok := todo[r.Topic][r.Partition]; ok && r.Offset >= e-1 {
				delete(todo[r.Topic], r.Partition)
				left--
			}
			var typ string
			for _, h := range r.Headers {
				if h.Key == wire.HeaderEventType {
					typ = string(h.Value)
				}
			}
			if hopTypes[typ] == nil || len(r.Value) < 5 {
				return
			}
			md, err := metadataOf(r.Value[5:])
			if err != nil {
				return
			}
			if out[md.CorrelationID] == nil {
				out[md.CorrelationID] = map[string]hopEvent{}
			}
			out[md.CorrelationID][typ] = hopEvent{occurred: md.OccurredAt, produced: r.Timestamp}
		})
	}
	return out, nil
}

// metadataSchema is contrail.common.EventMetadata, the first field of
// every event of the flow (of every major): decoding just that field from
// the start of a value reads an event's metadata whatever its type and
// major.
var metadataSchema = sync.OnceValues(func() (avro.Schema, error) {
	return events.NamedTypeSchema("contrail.common.EventMetadata")
})

// metadataOf decodes the metadata at the start of an event's value (without
// its wire header).
func metadataOf(value []byte) (common.EventMetadata, error) {
	var md common.EventMetadata
	sc, err := metadataSchema()
	if err != nil {
		return md, err
	}
	err = avro.Unmarshal(sc, value, &md)
	return md, err
}

// hops computes Hops for the shipped orders of a run from their events
// (readHops), POST round trips and final views.
func hops(evs map[string]map[string]hopEvent, orderList []placed, views map[string]*orderView) *Hops {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	samples := make([][]float64, len(HopStages))
	var total []float64
	for _, o := range orderList {
		v, e := views[o.id], evs[o.id]
		if v == nil || v.Status != "SHIPPED" || v.FinalAt == nil || e == nil {
			continue
		}
		placed, ok1 := e[orders.OrderPlacedBinding.FullName()]
		res, ok2 := e[inventory.InventoryReservedBinding.FullName()]
		pay, ok3 := e[payments.PaymentConfirmedBinding.FullName()]
		ready, ok4 := e[orders.OrderReadyBinding.FullName()]
		ship, ok5 := e[shipping.OrderShippedBinding.FullName()]
		if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 {
			continue
		}
		later := res.produced
		if pay.produced.After(later) {
			later = pay.produced
		}
		for i, d := range []time.Duration{
			o.accepted.Sub(o.sent),
			placed.produced.Sub(placed.occurred),
			res.occurred.Sub(placed.produced), res.produced.Sub(res.occurred),
			pay.occurred.Sub(placed.produced), pay.produced.Sub(pay.occurred),
			ready.occurred.Sub(later), ready.produced.Sub(ready.occurred),
			ship.occurred.Sub(ready.produced), ship.produced.Sub(ship.occurred),
			v.FinalAt.Sub(ship.produced),
		} {
			samples[i] = append(samples[i], ms(d))
		}
		total = append(total, ms(v.FinalAt.Sub(o.sent)))
	}
	h := &Hops{Orders: len(total), CriticalPath: stageOf("POST sent -> final", total)}
	for i, name := range HopStages {
		h.Stages = append(h.Stages, stageOf(name, samples[i]))
	}
	return h
}

func stageOf(name string, xs []float64) Stage {
	s := Stage{Name: name}
	if len(xs) == 0 {
		return s
	}
	sort.Float64s(xs)
	var sum float64
	for _, x := range xs {
		sum += x
	}
	s.Mean, s.P50, s.P90 = sum/float64(len(xs)), percentile(xs, 0.5), percentile(xs, 0.9)
	return s
}

// WriteText prints the hops as a table.
func (h *Hops) WriteText(w io.Writer) {
	fmt.Fprintf(w, "hops of %d shipped orders, ms:  mean    p50    p90\n", h.Orders)
	width := 0
	for _, s := range h.Stages {
		width = max(width, len(s.Name))
	}
	for _, s := range append(h.Stages, h.CriticalPath) {
		fmt.Fprintf(w, "  %s%s %6.1f %6.1f %6.1f\n", s.Name, strings.Repeat(" ", width-len(s.Name)), s.Mean, s.P50, s.P90)
	}
}
