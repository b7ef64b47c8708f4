package eventing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ReplayConfig configures ReplayDLQ. It is plain data so a CLI can fill it
// from flags; zero fields take the defaults in their docs.
type ReplayConfig struct {
	// Topic is the dead-letter topic to replay, e.g. "orders.dlq"; required.
	Topic string
	// Brokers are the seed brokers; default DefaultBrokers.
	Brokers []string
	// ClientOpts adds franz-go options (TLS, SASL).
	ClientOpts []kgo.Opt
	// Group is the consumer group that remembers how far replays got, so
	// running a replay twice republishes nothing twice; default
	// "contrail-dlq-replay".
	Group string
	// DryRun lists what would be replayed without producing or committing.
	DryRun bool
	// Idle ends the replay when no record arrives for this long (the end
	// offsets captured at the start end it sooner); default 3s.
	Idle time.Duration
	// Logger gets one line per replayed record; default discards.
	Logger *slog.Logger
}

func (c *ReplayConfig) setDefaults() {
	if len(c.Brokers) == 0 {
		c.Brokers = DefaultBrokers
	}
	if c.Group == "" {
		c.Group = "contrail-dlq-replay"
	}
	if c.Idle <= 0 {
		c.Idle = 3 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Validate reports a missing or malformed Topic.
func (c *ReplayConfig) Validate() error {
	if c.Topic == "" {
		return errors.New("runtime: replay: no dead-letter topic: pass e.g. orders.dlq")
	}
	if !strings.HasSuffix(c.Topic, wire.DLQSuffix) {
		return fmt.Errorf("runtime: replay: %q is not a dead-letter topic (its name must end in %q)", c.Topic, wire.DLQSuffix)
	}
	return nil
}

// ReplayResult counts what ReplayDLQ did.
type ReplayResult struct {
	// Replayed counts republished records by original topic.
	Replayed map[string]int
	// Skipped lists dead letters that name no original topic (offsets as
	// "partition@offset"); they stay in the dead-letter topic.
	Skipped []string
}

// ReplayDLQ republishes the dead letters of cfg.Topic that cfg.Group has not
// replayed yet to their original topics (from HeaderDLQTopic), with their
// original key, value and headers minus the HeaderDLQ* ones, then commits
// its progress. The dead letters stay in the dead-letter topic. Replayed
// events keep their event ids, so consumers' inboxes still deduplicate. It
// stops at the end offsets captured when it started. Errors: invalid
// config, unreachable brokers, a missing topic, a failed produce or commit
// (nothing after the failure is committed, so rerunning resumes).
func ReplayDLQ(ctx context.Context, cfg ReplayConfig) (ReplayResult, error) {
	cfg.setDefaults()
	res := ReplayResult{Replayed: map[string]int{}}
	if err := cfg.Validate(); err != nil {
		return res, err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ProducerLinger(0),
	}, cfg.ClientOpts...)...)
	if err != nil {
		return res, fmt.Errorf("runtime: replay: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, cfg.Topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return res, fmt.Errorf("runtime: replay: end offsets of %s (does the topic exist? are the brokers %v reachable?): %w", cfg.Topic, cfg.Brokers, err)
	}
	end := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { end[o.Partition] = o.Offset })
	committed, err := adm.FetchOffsets(ctx, cfg.Group)
	if errors.Is(err, kerr.GroupIDNotFound) {
		err = nil // first replay: nothing committed yet
	}
	if err != nil {
		return res, fmt.Errorf("runtime: replay: committed offsets of group %s: %w", cfg.Group, err)
	}
	pos := map[int32]int64{}
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Topic == cfg.Topic {
			pos[o.Partition] = o.At
		}
	})
	finished := func() bool {
		for p, e := range end {
			if pos[p] < e {
				return false
			}
		}
		return true
	}
	for !finished() {
		pctx, cancel := context.WithTimeout(ctx, cfg.Idle)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		var batch, done []*kgo.Record
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= end[r.Partition] {
				return // arrived after the replay started
			}
			done = append(done, r)
			pos[r.Partition] = r.Offset + 1
			orig := HeaderValue(r, wire.HeaderDLQTopic)
			if orig == "" {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%d@%d", r.Partition, r.Offset))
				return
			}
			out := &kgo.Record{Topic: orig, Key: r.Key, Value: r.Value}
			for _, h := range r.Headers {
				if !strings.HasPrefix(h.Key, "contrail-dlq-") {
					out.Headers = append(out.Headers, h)
				}
			}
			batch = append(batch, out)
			res.Replayed[orig]++
			cfg.Logger.Info("replay", "from", fmt.Sprintf("%s/%d@%d", r.Topic, r.Partition, r.Offset), "to", orig,
				"event_id", HeaderValue(r, wire.HeaderEventID), "error_class", HeaderValue(r, wire.HeaderDLQErrorClass))
		})
		if len(done) == 0 {
			if fs.Empty() {
				break // idle: nothing left below the end offsets (control records)
			}
			continue
		}
		if cfg.DryRun {
			continue
		}
		if len(batch) > 0 {
			if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
				return res, fmt.Errorf("runtime: replay: republish: %w (nothing of this batch was committed; rerun to resume)", err)
			}
		}
		if err := cl.CommitRecords(ctx, done...); err != nil {
			return res, fmt.Errorf("runtime: replay: commit progress: %w (rerunning may republish this batch; inboxes drop the duplicates)", err)
		}
	}
	return res, nil
}
