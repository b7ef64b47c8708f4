package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/wire"
)

// span is a range of offsets of one partition to read: [From, To), at most
// Max records.
type span struct {
	From, To int64
	Max      int
}

// idleGap ends a read when no record arrives for this long although some
// partition has not reached its end: offsets without a visible record
// (aborted transactions, compacted records) never arrive.
const idleGap = 750 * time.Millisecond

// readRecords reads the spans of topic with a client of its own (no
// consumer group: nothing is committed), read committed, in offset order
// per partition. It stops when every span is read or full, after idleGap
// without records, or when ctx ends (returning what it has).
func (c *Console) readRecords(ctx context.Context, topic string, spans map[int32]span) ([]*kgo.Record, error) {
	parts := map[int32]kgo.Offset{}
	pos := map[int32]int64{}
	count := map[int32]int{}
	for p, s := range spans {
		if s.From < s.To && s.Max > 0 {
			parts[p] = kgo.NewOffset().At(s.From)
			pos[p] = s.From
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(c.clientOpts(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		kgo.FetchMaxWait(100*time.Millisecond),
	)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	done := func(p int32) bool { return pos[p] >= spans[p].To || count[p] >= spans[p].Max }
	finished := func() bool {
		for p := range parts {
			if !done(p) {
				return false
			}
		}
		return true
	}
	var out []*kgo.Record
	for !finished() {
		pctx, cancel := context.WithTimeout(ctx, idleGap)
		fs := cl.PollFetches(pctx)
		idle := pctx.Err() != nil
		cancel()
		if ctx.Err() != nil {
			break
		}
		for _, fe := range fs.Errors() {
			if fe.Err == context.DeadlineExceeded || fe.Err == context.Canceled {
				continue
			}
			return out, fmt.Errorf("partition %d: %w", fe.Partition, fe.Err)
		}
		if fs.NumRecords() == 0 && idle {
			break // idle: what is left never arrives
		}
		fs.EachRecord(func(r *kgo.Record) {
			if done(r.Partition) || r.Offset < pos[r.Partition] {
				return
			}
			pos[r.Partition] = r.Offset + 1
			if r.Attrs.IsControl() || r.Offset >= spans[r.Partition].To {
				return
			}
			count[r.Partition]++
			out = append(out, r)
		})
	}
	return out, nil
}

// recordView is a record as the messages and dead-letter pages show it.
type recordView struct {
	Topic     string
	Partition int32
	Offset    int64
	Timestamp time.Time
	Key       string
	Headers   []header
	EventType string // header, else the schema's name
	EventID   string
	TraceID   string
	Size      int
	Value     decoded
}

func (c *Console) view(ctx context.Context, r *kgo.Record) recordView {
	v := recordView{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp,
		Key: printable(r.Key, 200), TraceID: traceIDOf(r), Size: len(r.Value)}
	for _, h := range r.Headers {
		v.Headers = append(v.Headers, header{Key: h.Key, Value: printable(h.Value, 300)})
		switch h.Key {
		case wire.HeaderEventType:
			v.EventType = string(h.Value)
		case wire.HeaderEventID:
			v.EventID = string(h.Value)
		}
	}
	v.Value = c.decodeValue(ctx, r.Value)
	if v.Value.KeyPII { // the key is the value of a PII field
		v.Key = maskedValue
	}
	if v.EventType == "" {
		v.EventType = v.Value.EventType
	}
	return v
}

type messagesData struct {
	Q          messagesQuery
	Partitions []partitionRow
	Records    []recordView
	// From says where the page started: "the newest", "offset N" or "time T".
	From       string
	Older      string // link to the page before, "" at the start
	Newer      string // link to the page after, "" at the end
	PartitionN int
	Masked     []string
}

// messagesPage shows records of a topic: the newest by default, from an
// offset, or from a time; for one partition or all of them.
func (c *Console) messagesPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	topic := r.PathValue("topic")
	q, err := parseMessagesQuery(topic, r.URL.Query())
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	td, err := c.topicDetail(ctx, topic)
	if err != nil {
		return "", nil, err
	}
	if q.Partition >= 0 {
		if _, ok := td.Partitions[q.Partition]; !ok {
			return "", nil, notFound("Topic %q has no partition %d; it has %d partitions (0 to %d).", topic, q.Partition, len(td.Partitions), len(td.Partitions)-1)
		}
	}
	start, end, err := c.offsets(ctx, topic)
	if err != nil {
		return "", nil, c.kafkaErr(err)
	}
	var at kadm.ListedOffsets
	if !q.Time.IsZero() {
		if at, err = c.adm.ListOffsetsAfterMilli(ctx, q.Time.UnixMilli(), topic); err != nil {
			return "", nil, c.kafkaErr(err)
		}
	}
	d := messagesData{Q: q, PartitionN: len(td.Partitions), Masked: c.mask.Masked()}
	spans := map[int32]span{}
	for _, p := range td.Partitions.Sorted() {
		row := partitionRow{Partition: p.Partition}
		if s, ok := start.Lookup(topic, p.Partition); ok {
			row.Start = s.Offset
		}
		if e, ok := end.Lookup(topic, p.Partition); ok {
			row.End = e.Offset
		}
		row.Messages = row.End - row.Start
		d.Partitions = append(d.Partitions, row)
		if q.Partition >= 0 && p.Partition != q.Partition {
			continue
		}
		s := span{To: row.End, Max: q.Limit}
		switch {
		case q.Offset >= 0:
			s.From = min(max(q.Offset, row.Start), row.End)
			d.From = "offset " + strconv.FormatInt(q.Offset, 10)
		case !q.Time.IsZero():
			s.From = row.End
			if o, ok := at.Lookup(topic, p.Partition); ok && o.Err == nil && o.Offset >= 0 {
				s.From = min(max(o.Offset, row.Start), row.End)
			}
			d.From = "time " + fmtTime(q.Time)
		default:
			s.From = max(row.Start, row.End-int64(q.Limit))
			d.From = "the newest records"
		}
		spans[p.Partition] = s
	}
	recs, err := c.readRecords(ctx, topic, spans)
	if err != nil && len(recs) == 0 {
		return "", nil, c.kafkaErr(err)
	}
	if q.Partition < 0 {
		// Every partition: the newest (or earliest after the start) limit
		// records across them, in time order.
		sort.SliceStable(recs, func(i, j int) bool { return recs[i].Timestamp.Before(recs[j].Timestamp) })
		if len(recs) > q.Limit {
			if q.Offset < 0 && q.Time.IsZero() {
				recs = recs[len(recs)-q.Limit:]
			} else {
				recs = recs[:q.Limit]
			}
		}
	}
	for _, rec := range recs {
		d.Records = append(d.Records, c.view(ctx, rec))
	}
	if q.Partition >= 0 {
		row := d.Partitions[slices.IndexFunc(d.Partitions, func(p partitionRow) bool { return p.Partition == q.Partition })]
		first := spans[q.Partition].From
		if len(recs) > 0 {
			first = recs[0].Offset
		}
		link := func(off int64) string {
			v := url.Values{"partition": {strconv.Itoa(int(q.Partition))}, "offset": {strconv.FormatInt(off, 10)}, "limit": {strconv.Itoa(q.Limit)}}
			return "/topics/" + url.PathEscape(topic) + "/messages?" + v.Encode()
		}
		if first > row.Start {
			d.Older = link(max(row.Start, first-int64(q.Limit)))
		}
		if len(recs) > 0 && recs[len(recs)-1].Offset+1 < row.End {
			d.Newer = link(recs[len(recs)-1].Offset + 1)
		}
	}
	return "messages", &page{Title: "Messages of " + topic, Data: d}, nil
}
