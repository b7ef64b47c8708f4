package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/wire"
)

// replayTimeout bounds one replay; it does not end when the browser leaves.
const replayTimeout = 2 * time.Minute

// dlqPartition is one partition of a dead-letter topic: its offsets and
// where the replay group stands. Waiting dead letters are [Next, End).
type dlqPartition struct {
	Partition int32
	Start     int64
	End       int64
	Next      int64 // the replay group's position (Start when it has none)
}

func (p dlqPartition) Waiting() int64 { return p.End - p.Next }

type dlqTopic struct {
	Name       string
	Origin     string
	Partitions []dlqPartition
	Total      int64
	Waiting    int64
}

// dlqState reads the offsets of dead-letter topic and the replay group's
// position on each partition.
func (c *Console) dlqState(ctx context.Context, topic string) (dlqTopic, error) {
	d := dlqTopic{Name: topic, Origin: strings.TrimSuffix(topic, wire.DLQSuffix)}
	start, end, err := c.offsets(ctx, topic)
	if err != nil {
		return d, c.kafkaErr(err)
	}
	committed, err := c.adm.FetchOffsetsForTopics(ctx, c.cfg.replayGroup, topic)
	if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
		return d, c.kafkaErr(fmt.Errorf("committed offsets of the replay group %s: %w", c.cfg.replayGroup, err))
	}
	end.Each(func(o kadm.ListedOffset) {
		if o.Topic != topic {
			return
		}
		p := dlqPartition{Partition: o.Partition, End: o.Offset}
		if s, ok := start.Lookup(topic, o.Partition); ok {
			p.Start = s.Offset
		}
		p.Next = p.Start
		if cm, ok := committed.Lookup(topic, o.Partition); ok && cm.Err == nil && cm.At > p.Next {
			p.Next = min(cm.At, p.End)
		}
		d.Partitions = append(d.Partitions, p)
		d.Total += p.End - p.Start
		d.Waiting += p.Waiting()
	})
	sort.Slice(d.Partitions, func(i, j int) bool { return d.Partitions[i].Partition < d.Partitions[j].Partition })
	return d, nil
}

type dlqData struct {
	Topics []dlqTopic
	Group  string
}

// dlqPage lists the dead-letter topics and how many dead letters wait in
// each.
func (c *Console) dlqPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	ctx := r.Context()
	td, err := c.adm.ListTopics(ctx)
	if err != nil {
		return "", nil, c.kafkaErr(err)
	}
	d := dlqData{Group: c.cfg.replayGroup}
	for _, name := range td.Names() {
		if !strings.HasSuffix(name, wire.DLQSuffix) {
			continue
		}
		t, err := c.dlqState(ctx, name)
		if err != nil {
			return "", nil, err
		}
		d.Topics = append(d.Topics, t)
	}
	return "dlq", &page{Title: "Dead letters", Data: d}, nil
}

// deadLetter is a dead letter with the facts its headers carry.
type deadLetter struct {
	recordView
	OriginTopic     string
	OriginPartition string
	OriginOffset    string
	ErrorClass      string
	Error           string
	DeadAt          time.Time
	Waiting         bool
	// Next is true for the oldest waiting dead letter of its partition:
	// the one "replay one" replays (dead letters are replayed in order).
	Next bool
	// NextOffset is the offset of its partition's oldest waiting one.
	NextOffset int64
}

func (c *Console) deadLetter(ctx context.Context, r *kgo.Record, st dlqTopic) deadLetter {
	dl := deadLetter{recordView: c.view(ctx, r),
		OriginTopic:     eventing.HeaderValue(r, wire.HeaderDLQTopic),
		OriginPartition: eventing.HeaderValue(r, wire.HeaderDLQPartition),
		OriginOffset:    eventing.HeaderValue(r, wire.HeaderDLQOffset),
		ErrorClass:      eventing.HeaderValue(r, wire.HeaderDLQErrorClass),
		Error:           eventing.HeaderValue(r, wire.HeaderDLQError),
	}
	if t, err := time.Parse(time.RFC3339Nano, eventing.HeaderValue(r, wire.HeaderDLQTime)); err == nil {
		dl.DeadAt = t
	} else {
		dl.DeadAt = r.Timestamp
	}
	for _, p := range st.Partitions {
		if p.Partition == r.Partition {
			dl.Waiting = r.Offset >= p.Next
			dl.Next = r.Offset == p.Next
			dl.NextOffset = p.Next
		}
	}
	return dl
}

type dlqTopicData struct {
	State    dlqTopic
	Letters  []deadLetter
	Replayed bool // showing the replayed ones
	Done     string
	Group    string
	Limit    int
}

// dlqTopicPage shows the waiting dead letters of one dead-letter topic
// (?replayed=true: the ones replayed before).
func (c *Console) dlqTopicPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	topic, err := c.dlqTopicParam(r)
	if err != nil {
		return "", nil, err
	}
	q := r.URL.Query()
	limit, err := parseLimit(q.Get("limit"), 100, maxLimit)
	if err != nil {
		return "", nil, err
	}
	d := dlqTopicData{Group: c.cfg.replayGroup, Limit: limit}
	switch v := q.Get("replayed"); v {
	case "", "false":
	case "true":
		d.Replayed = true
	default:
		return "", nil, badRequest("replayed %q: use true or false", clip(v))
	}
	if n := q.Get("done"); n != "" {
		if _, err := strconv.Atoi(n); err == nil {
			d.Done = n
		}
	}
	ctx := r.Context()
	if _, err := c.topicDetail(ctx, topic); err != nil {
		return "", nil, err
	}
	if d.State, err = c.dlqState(ctx, topic); err != nil {
		return "", nil, err
	}
	spans := map[int32]span{}
	for _, p := range d.State.Partitions {
		if d.Replayed {
			spans[p.Partition] = span{From: max(p.Start, p.Next-int64(limit)), To: p.Next, Max: limit}
		} else {
			spans[p.Partition] = span{From: p.Next, To: p.End, Max: limit}
		}
	}
	recs, err := c.readRecords(ctx, topic, spans)
	if err != nil && len(recs) == 0 {
		return "", nil, c.kafkaErr(err)
	}
	sort.SliceStable(recs, func(i, j int) bool {
		if recs[i].Partition != recs[j].Partition {
			return recs[i].Partition < recs[j].Partition
		}
		return recs[i].Offset < recs[j].Offset
	})
	for _, rec := range recs {
		d.Letters = append(d.Letters, c.deadLetter(ctx, rec, d.State))
	}
	return "dlqtopic", &page{Title: "Dead letters of " + topic, Data: d}, nil
}

// dlqTopicParam reads {topic} and checks it names a dead-letter topic.
func (c *Console) dlqTopicParam(r *http.Request) (string, error) {
	topic := r.PathValue("topic")
	if err := checkTopic(topic); err != nil {
		return "", err
	}
	if !strings.HasSuffix(topic, wire.DLQSuffix) {
		return "", notFound("%q is not a dead-letter topic (their names end in %q); see the dead letters page.", topic, wire.DLQSuffix)
	}
	return topic, nil
}

type replayData struct {
	Topic   string
	Q       replayQuery
	Letter  *deadLetter
	Waiting int64
	Group   string
}

// replayTarget checks a replay request against the topic's state: every
// waiting dead letter, or exactly the oldest waiting one of a partition.
// It returns that one dead letter's record when one is named.
func (c *Console) replayTarget(ctx context.Context, topic string, q replayQuery) (dlqTopic, *kgo.Record, error) {
	if _, err := c.topicDetail(ctx, topic); err != nil {
		return dlqTopic{}, nil, err
	}
	st, err := c.dlqState(ctx, topic)
	if err != nil {
		return st, nil, err
	}
	if q.Partition < 0 {
		if st.Waiting == 0 {
			return st, nil, conflict("No dead letters wait in %s: nothing to replay.", topic)
		}
		return st, nil, nil
	}
	var part *dlqPartition
	for i := range st.Partitions {
		if st.Partitions[i].Partition == q.Partition {
			part = &st.Partitions[i]
		}
	}
	switch {
	case part == nil:
		return st, nil, notFound("%s has no partition %d.", topic, q.Partition)
	case q.Offset < part.Next:
		return st, nil, conflict("The dead letter at partition %d offset %d was replayed already (the replay group %s is at offset %d).", q.Partition, q.Offset, c.cfg.replayGroup, part.Next)
	case q.Offset >= part.End:
		return st, nil, notFound("Partition %d of %s has no dead letter at offset %d (it ends at %d).", q.Partition, topic, q.Offset, part.End)
	case q.Offset != part.Next:
		return st, nil, conflict("Dead letters are replayed in order, so that events of one key keep their order: the next one of partition %d is at offset %d, not %d. Replay that one first, or replay all.", q.Partition, part.Next, q.Offset)
	}
	recs, err := c.readRecords(ctx, topic, map[int32]span{q.Partition: {From: q.Offset, To: q.Offset + 1, Max: 1}})
	if err != nil {
		return st, nil, c.kafkaErr(err)
	}
	if len(recs) != 1 || recs[0].Offset != q.Offset {
		return st, nil, notFound("Partition %d of %s has no readable dead letter at offset %d (a transaction marker or an aborted record).", q.Partition, topic, q.Offset)
	}
	return st, recs[0], nil
}

// replayConfirmPage asks before replaying.
func (c *Console) replayConfirmPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	topic, err := c.dlqTopicParam(r)
	if err != nil {
		return "", nil, err
	}
	if c.cfg.readOnly {
		return "", nil, forbidden("The console runs read-only (--read-only): replaying is turned off.")
	}
	q, err := parseReplayQuery(r.URL.Query())
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	st, rec, err := c.replayTarget(ctx, topic, q)
	if err != nil {
		return "", nil, err
	}
	d := replayData{Topic: topic, Q: q, Waiting: st.Waiting, Group: c.cfg.replayGroup}
	if rec != nil {
		dl := c.deadLetter(ctx, rec, st)
		d.Letter = &dl
	}
	return "replay", &page{Title: "Replay dead letters of " + topic, Data: d}, nil
}

// replayPost replays every waiting dead letter through eventing.ReplayDLQ
// (what `contrail dlq replay` runs), or the oldest waiting one of a
// partition, then redirects to the topic's dead letters.
func (c *Console) replayPost(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	topic, err := c.dlqTopicParam(r)
	if err != nil {
		return "", nil, err
	}
	if c.cfg.readOnly {
		return "", nil, forbidden("The console runs read-only (--read-only): replaying is turned off.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		return "", nil, badRequest("unreadable form: %v", err)
	}
	if r.PostForm.Get("csrf") != c.csrf {
		return "", nil, forbidden("The form is stale or came from another site: go back to the dead letters page and confirm again.")
	}
	q, err := parseReplayQuery(r.PostForm)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), replayTimeout)
	defer cancel()
	st, rec, err := c.replayTarget(ctx, topic, q)
	if err != nil {
		return "", nil, err
	}
	n := 0
	if rec == nil {
		res, err := eventing.ReplayDLQ(ctx, eventing.ReplayConfig{
			Topic: topic, Brokers: c.cfg.brokers, ClientOpts: c.cfg.kafkaOpts,
			Group: c.cfg.replayGroup, Logger: c.cfg.logger,
		})
		if err != nil {
			return "", nil, c.kafkaErr(fmt.Errorf("replay %s: %w", topic, err))
		}
		for _, k := range res.Replayed {
			n += k
		}
		c.cfg.logger.Info("console: replayed dead letters", "topic", topic, "replayed", res.Replayed, "skipped", res.Skipped)
	} else {
		if err := c.replayOne(ctx, st, rec); err != nil {
			return "", nil, err
		}
		n = 1
	}
	v := url.Values{"done": {strconv.Itoa(n)}}
	return redirect(w, r, "/dlq/"+url.PathEscape(topic)+"?"+v.Encode())
}

// replayOne republishes one dead letter as eventing.ReplayDLQ republishes
// each (to the topic its HeaderDLQTopic names, with its key, value and
// headers minus the HeaderDLQ* ones), then moves the replay group past it.
// ReplayDLQ replays everything waiting and takes no record, hence this
// twin; the caller checked that rec is the oldest waiting one of its
// partition, so the group's position stays meaningful.
func (c *Console) replayOne(ctx context.Context, st dlqTopic, rec *kgo.Record) error {
	orig := eventing.HeaderValue(rec, wire.HeaderDLQTopic)
	if orig == "" {
		return conflict("The dead letter at partition %d offset %d names no original topic (no %s header): it cannot be replayed.", rec.Partition, rec.Offset, wire.HeaderDLQTopic)
	}
	out := &kgo.Record{Topic: orig, Key: rec.Key, Value: rec.Value}
	for _, h := range rec.Headers {
		if !strings.HasPrefix(h.Key, "contrail-dlq-") {
			out.Headers = append(out.Headers, h)
		}
	}
	if err := c.kcl.ProduceSync(ctx, out).FirstErr(); err != nil {
		return c.kafkaErr(fmt.Errorf("republish to %s: %w (nothing changed; try again)", orig, err))
	}
	// Every partition's position, so the group never has some partitions
	// committed and others to reset (the embedded broker then stalls the
	// group's next fetch); this one's moves past the record.
	os := make(kadm.Offsets)
	for _, p := range st.Partitions {
		os.AddOffset(rec.Topic, p.Partition, p.Next, -1)
	}
	os.AddOffset(rec.Topic, rec.Partition, rec.Offset+1, -1)
	resp, err := c.adm.CommitOffsets(ctx, c.cfg.replayGroup, os)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return c.kafkaErr(fmt.Errorf("republished to %s, but recording the replay in group %s failed: %w (a later replay republishes it again; consumers' inboxes drop the duplicate)", orig, c.cfg.replayGroup, err))
	}
	c.cfg.logger.Info("console: replayed one dead letter", "from", fmt.Sprintf("%s/%d@%d", rec.Topic, rec.Partition, rec.Offset), "to", orig)
	return nil
}
