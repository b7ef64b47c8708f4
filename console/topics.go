package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/contrail-events/contrail/wire"
)

func (c *Console) kafkaErr(err error) error {
	return backendError(fmt.Sprintf("Kafka at %s (are the brokers up? check --brokers and the TLS/SASL settings)", strings.Join(c.cfg.brokers, ",")), err)
}

// groupLag is one consumer group's position on one topic.
type groupLag struct {
	Group   string
	State   string
	Members int
	Lag     int64
	// Partitions holds the per-partition commit and lag (topic page).
	Partitions []partitionLag
	Err        string
}

type partitionLag struct {
	Partition int32
	Committed int64 // -1: nothing committed
	End       int64
	Lag       int64 // -1: unknown
	Member    string
}

type topicRow struct {
	Name       string
	Partitions int
	Messages   int64
	DLQ        bool
	Groups     []groupLag
	Events     []string // manifest events on the topic
}

type topicsData struct {
	Topics []topicRow
	Groups int
}

// offsets lists each partition's start and end offset of topics.
func (c *Console) offsets(ctx context.Context, topics ...string) (start, end kadm.ListedOffsets, err error) {
	if start, err = c.adm.ListStartOffsets(ctx, topics...); err == nil {
		end, err = c.adm.ListEndOffsets(ctx, topics...)
	}
	return start, end, err
}

// lags returns every consumer group's lag; groups that cannot be described
// carry their error.
func (c *Console) lags(ctx context.Context) (kadm.DescribedGroupLags, error) {
	return c.adm.Lag(ctx)
}

func groupRow(l kadm.DescribedGroupLag, topic string, detail bool) (groupLag, bool) {
	g := groupLag{Group: l.Group, State: l.State, Members: len(l.Members)}
	if err := l.Error(); err != nil {
		g.Err = err.Error()
	}
	ps, ok := l.Lag[topic]
	if !ok {
		return g, false
	}
	for p, ml := range ps {
		if ml.Lag > 0 {
			g.Lag += ml.Lag
		}
		if detail {
			pl := partitionLag{Partition: p, Committed: ml.Commit.At, End: ml.End.Offset, Lag: ml.Lag}
			if ml.Member != nil {
				pl.Member = ml.Member.ClientID + " " + ml.Member.ClientHost
				if ml.Member.InstanceID != nil {
					pl.Member = *ml.Member.InstanceID
				}
			}
			g.Partitions = append(g.Partitions, pl)
		}
	}
	sort.Slice(g.Partitions, func(i, j int) bool { return g.Partitions[i].Partition < g.Partitions[j].Partition })
	return g, true
}

// topicsPage lists the topics with their size and every group's lag.
func (c *Console) topicsPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	ctx := r.Context()
	td, err := c.adm.ListTopics(ctx)
	if err != nil {
		return "", nil, c.kafkaErr(err)
	}
	names := td.Names()
	start, end, err := c.offsets(ctx, names...)
	if err != nil {
		return "", nil, c.kafkaErr(err)
	}
	lags, err := c.lags(ctx)
	if err != nil {
		return "", nil, c.kafkaErr(err)
	}
	d := topicsData{Groups: len(lags)}
	for _, name := range names {
		row := topicRow{Name: name, Partitions: len(td[name].Partitions), DLQ: strings.HasSuffix(name, wire.DLQSuffix)}
		end.Each(func(o kadm.ListedOffset) {
			if o.Topic == name && o.Err == nil {
				if s, ok := start.Lookup(name, o.Partition); ok && s.Err == nil {
					row.Messages += o.Offset - s.Offset
				}
			}
		})
		for _, l := range lags.Sorted() {
			if g, ok := groupRow(l, name, false); ok {
				row.Groups = append(row.Groups, g)
			}
		}
		for _, e := range c.set.Events {
			if e.Topic == name {
				row.Events = append(row.Events, e.Type.FullName)
			}
		}
		d.Topics = append(d.Topics, row)
	}
	sort.Slice(d.Topics, func(i, j int) bool { return d.Topics[i].Name < d.Topics[j].Name })
	return "topics", &page{Title: "Topics", Data: d}, nil
}

type partitionRow struct {
	Partition int32
	Start     int64
	End       int64
	Messages  int64
	Leader    int32
	Err       string
}

type topicData struct {
	Name       string
	Partitions []partitionRow
	Groups     []groupLag
	Events     []string
	DLQ        bool
}

// topicPage shows one topic's partitions and each group's commit and lag
// on each partition.
func (c *Console) topicPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	topic := r.PathValue("topic")
	if err := checkTopic(topic); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	td, err := c.topicDetail(ctx, topic)
	if err != nil {
		return "", nil, err
	}
	start, end, err := c.offsets(ctx, topic)
	if err != nil {
		return "", nil, c.kafkaErr(err)
	}
	lags, err := c.lags(ctx)
	if err != nil {
		return "", nil, c.kafkaErr(err)
	}
	d := topicData{Name: topic, DLQ: strings.HasSuffix(topic, wire.DLQSuffix)}
	for _, p := range td.Partitions.Sorted() {
		row := partitionRow{Partition: p.Partition, Leader: p.Leader}
		if s, ok := start.Lookup(topic, p.Partition); ok && s.Err == nil {
			row.Start = s.Offset
		}
		if e, ok := end.Lookup(topic, p.Partition); ok {
			if e.Err != nil {
				row.Err = e.Err.Error()
			}
			row.End = e.Offset
		}
		row.Messages = row.End - row.Start
		d.Partitions = append(d.Partitions, row)
	}
	for _, l := range lags.Sorted() {
		if g, ok := groupRow(l, topic, true); ok {
			d.Groups = append(d.Groups, g)
		}
	}
	for _, e := range c.set.Events {
		if e.Topic == topic {
			d.Events = append(d.Events, e.Type.FullName)
		}
	}
	return "topic", &page{Title: "Topic " + topic, Data: d}, nil
}

// topicDetail describes one topic; a topic the brokers do not have is a 404.
func (c *Console) topicDetail(ctx context.Context, topic string) (kadm.TopicDetail, error) {
	tds, err := c.adm.ListTopics(ctx, topic)
	if err != nil {
		return kadm.TopicDetail{}, c.kafkaErr(err)
	}
	td, ok := tds[topic]
	if !ok || errors.Is(td.Err, kerr.UnknownTopicOrPartition) {
		return td, notFound("The brokers have no topic %q. The topics page lists every topic.", topic)
	}
	if td.Err != nil {
		return td, c.kafkaErr(td.Err)
	}
	return td, nil
}
