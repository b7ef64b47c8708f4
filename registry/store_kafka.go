package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultKafkaTopic is the state topic of a KafkaStore: Confluent's and
// Karapace's default, so Contrail can take their topic over.
const DefaultKafkaTopic = "_schemas"

// KafkaOpt configures a KafkaStore.
type KafkaOpt interface{ apply(*kafkaConfig) }

type kafkaOpt func(*kafkaConfig)

func (f kafkaOpt) apply(c *kafkaConfig) { f(c) }

type kafkaConfig struct {
	brokers []string
	topic   string
	client  []kgo.Opt
	follow  bool
}

func kafkaDefaults() kafkaConfig { return kafkaConfig{topic: DefaultKafkaTopic} }

func (c *kafkaConfig) validate() error {
	if len(c.brokers) == 0 {
		return fmt.Errorf("%w: kafka: no brokers: pass KafkaBrokers (--brokers or KAFKA_BROKERS)", ErrStore)
	}
	if c.topic == "" {
		return fmt.Errorf("%w: kafka: empty topic name", ErrStore)
	}
	return nil
}

// KafkaBrokers sets the seed brokers (host:port). Required; no default.
func KafkaBrokers(addrs ...string) KafkaOpt {
	return kafkaOpt(func(c *kafkaConfig) { c.brokers = append(c.brokers, addrs...) })
}

// KafkaTopic sets the state topic. Default DefaultKafkaTopic ("_schemas").
func KafkaTopic(topic string) KafkaOpt { return kafkaOpt(func(c *kafkaConfig) { c.topic = topic }) }

// KafkaFollow makes the store a read replica: after Load it keeps reading
// the topic and hands every change another process writes to the registry
// (see Follower), and its Apply refuses every write unless a Replica
// made it the elected leader. Default off: the store is the topic's only
// writer and reads it only at Load. Serve a following store through
// NewReplica, or with WithReadOnly(true) as a plain read replica (clients
// then get 42205 rather than 50001 for a write).
func KafkaFollow(on bool) KafkaOpt { return kafkaOpt(func(c *kafkaConfig) { c.follow = on }) }

// KafkaClientOpts adds franz-go options (TLS, SASL, timeouts) to the store's
// client, applied after the store's own. Default none. Options that pick
// what the client consumes or produces are overridden by the store.
func KafkaClientOpts(opts ...kgo.Opt) KafkaOpt {
	return kafkaOpt(func(c *kafkaConfig) { c.client = append(c.client, opts...) })
}

// KafkaStore is a Store kept in a single-partition, compacted Kafka topic
// in Confluent Schema Registry's record format (see docs/registry.md, "Keep
// the registry in Kafka"). Load reads the topic from its start to its end;
// Apply produces the batch's records with acks=all and returns once the
// broker acknowledged them all.
//
// Without KafkaFollow a KafkaStore assumes it is the topic's only writer
// and reads the topic only at Load. With it, the store keeps reading
// (Follower) and writes only while a Replica made it the elected leader.
// Safe for concurrent use.
type KafkaStore struct {
	cfg kafkaConfig
	cl  *kgo.Client

	mu   sync.Mutex
	view *MemoryStore // the state as read and written, to encode batches
	// skipped counts records Load could not decode and left out.
	skipped int
	// next is the offset of the first record not yet read.
	next int64

	// writable lets a following store write: it is the elected leader
	// and has read the topic to its end (Replica).
	writable bool

	stop context.CancelFunc // ends the follower's reading
	done chan struct{}      // closed when it ended
}

// Follower is a Store that learns of changes other processes make. Open
// calls Follow once, after Load, with the function that applies such a
// change to the registry; the store calls it from its own goroutine, one
// change at a time, in the order written, and never while the registry
// is inside Store.Apply on its behalf.
type Follower interface {
	Follow(apply func(Batch))
}

// applyRemote mirrors a change another process wrote to the store.
func (r *Registry) applyRemote(b Batch) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.mirror(b, nil)
}

// OpenKafkaStore connects to the brokers and creates the topic (one
// partition, cleanup.policy=compact, the cluster's default replication)
// when it does not exist. It fails when no broker answers, or when the
// topic exists with more than one partition, since ids are only allocated
// safely over one ordered log.
func OpenKafkaStore(ctx context.Context, opts ...KafkaOpt) (*KafkaStore, error) {
	cfg := kafkaDefaults()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	kopts := append([]kgo.Opt{kgo.SeedBrokers(cfg.brokers...)}, cfg.client...)
	kopts = append(kopts,
		kgo.DefaultProduceTopic(cfg.topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	)
	cl, err := kgo.NewClient(kopts...)
	if err != nil {
		return nil, fmt.Errorf("%w: kafka: %w", ErrStore, err)
	}
	s := &KafkaStore{cfg: cfg, cl: cl, view: NewMemoryStore()}
	if err := s.ensureTopic(ctx); err != nil {
		cl.Close()
		return nil, err
	}
	return s, nil
}

func (s *KafkaStore) ensureTopic(ctx context.Context) error {
	adm := kadm.NewClient(s.cl)
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, 1, -1, map[string]*string{"cleanup.policy": &compact}, s.cfg.topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("%w: kafka: create topic %s on %s (are the brokers up and reachable?): %w", ErrStore, s.cfg.topic, strings.Join(s.cfg.brokers, ","), err)
	}
	if resp.Err != nil && !errors.Is(resp.Err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("%w: kafka: create topic %s: %w", ErrStore, s.cfg.topic, resp.Err)
	}
	md, err := adm.ListTopics(ctx, s.cfg.topic)
	if err != nil {
		return fmt.Errorf("%w: kafka: describe topic %s: %w", ErrStore, s.cfg.topic, err)
	}
	td, ok := md[s.cfg.topic]
	if !ok || td.Err != nil {
		return fmt.Errorf("%w: kafka: describe topic %s: %v", ErrStore, s.cfg.topic, td.Err)
	}
	if n := len(td.Partitions); n != 1 {
		return fmt.Errorf("%w: kafka: topic %s has %d partitions; the registry needs a single-partition topic", ErrStore, s.cfg.topic, n)
	}
	return nil
}

// Load implements Store: it reads the topic from its start to the end
// offset it had when Load began and returns the state those records
// leave. Records it cannot decode are skipped and counted (Skipped), as
// Confluent does, so one foreign record does not keep the registry down.
func (s *KafkaStore) Load(ctx context.Context) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	adm := kadm.NewClient(s.cl)
	ends, err := adm.ListEndOffsets(ctx, s.cfg.topic)
	if err != nil {
		return State{}, fmt.Errorf("%w: kafka: end offset of %s: %w", ErrStore, s.cfg.topic, err)
	}
	end, ok := ends.Lookup(s.cfg.topic, 0)
	if !ok || end.Err != nil {
		return State{}, fmt.Errorf("%w: kafka: end offset of %s: %v", ErrStore, s.cfg.topic, end.Err)
	}
	view := NewMemoryStore()
	skipped := 0
	if end.Offset > 0 {
		s.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.topic: {0: kgo.NewOffset().AtStart()}})
		defer s.cl.RemoveConsumePartitions(map[string][]int32{s.cfg.topic: {0}})
	read:
		for {
			fs := s.cl.PollFetches(ctx)
			if err := ctx.Err(); err != nil {
				return State{}, fmt.Errorf("%w: kafka: read %s: %w", ErrStore, s.cfg.topic, err)
			}
			var ferr error
			fs.EachError(func(_ string, _ int32, err error) { ferr = err })
			if ferr != nil {
				return State{}, fmt.Errorf("%w: kafka: read %s: %w", ErrStore, s.cfg.topic, ferr)
			}
			done := false
			fs.EachPartition(func(p kgo.FetchTopicPartition) {
				for _, r := range p.Records {
					if r.Offset >= end.Offset {
						done = true
						return
					}
					b, err := decodeRecord(r.Key, r.Value, view)
					if err != nil {
						skipped++
						continue
					}
					_ = view.Apply(ctx, b)
					if r.Offset+1 >= end.Offset {
						done = true
					}
				}
				// Compaction may have removed the records before the end.
				if p.HighWatermark >= end.Offset && len(p.Records) > 0 && p.Records[len(p.Records)-1].Offset+1 >= p.HighWatermark {
					done = true
				}
			})
			if done {
				break read
			}
		}
	}
	s.view, s.skipped, s.next = view, skipped, end.Offset
	return view.Load(ctx)
}

// Skipped is how many records the last Load could not decode.
func (s *KafkaStore) Skipped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped
}

// Apply implements Store: it produces b's records to the topic in one
// call, with acks=all, and returns once every one was acknowledged. The
// records go to one partition in order, so a reader sees them in the
// order written; a failure part way can leave the first records written.
func (s *KafkaStore) Apply(ctx context.Context, b Batch) error {
	if err := checkBatchText(b); err != nil {
		return fmt.Errorf("%w: write: %w", ErrStore, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.follow && !s.writable {
		return fmt.Errorf("%w: kafka: this registry follows topic %s and takes no writes; send writes to the leader", ErrStore, s.cfg.topic)
	}
	recs, err := encodeBatch(b, func(c string, id int) (SchemaRecord, bool) {
		r, ok := s.view.schemas[schemaKey{c, id}]
		return r, ok
	})
	if err != nil {
		return fmt.Errorf("%w: kafka: %w", ErrStore, err)
	}
	if len(recs) > 0 {
		krs := make([]*kgo.Record, len(recs))
		for i, r := range recs {
			krs[i] = &kgo.Record{Topic: s.cfg.topic, Partition: 0, Key: r.Key, Value: r.Value}
		}
		if err := s.cl.ProduceSync(ctx, krs...).FirstErr(); err != nil {
			return fmt.Errorf("%w: kafka: write %s: %w", ErrStore, s.cfg.topic, err)
		}
		for _, r := range krs {
			s.next = max(s.next, r.Offset+1)
		}
	}
	return s.view.Apply(ctx, b)
}

// Follow implements Follower. Without KafkaFollow it does nothing: the
// store is the writer and the registry already holds what it wrote.
func (s *KafkaStore) Follow(apply func(Batch)) {
	if !s.cfg.follow {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.stop, s.done = cancel, make(chan struct{})
	from := s.next
	s.mu.Unlock()
	s.cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{s.cfg.topic: {0: kgo.NewOffset().At(from)}})
	go s.follow(ctx, apply)
}

func (s *KafkaStore) follow(ctx context.Context, apply func(Batch)) {
	defer close(s.done)
	for {
		fs := s.cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachRecord(func(r *kgo.Record) {
			s.mu.Lock()
			if r.Offset < s.next {
				s.mu.Unlock()
				return
			}
			b, err := decodeRecord(r.Key, r.Value, s.view)
			if err != nil {
				s.skipped++
			} else {
				_ = s.view.Apply(ctx, b)
			}
			s.mu.Unlock()
			if err == nil {
				apply(b)
			}
			s.mu.Lock()
			s.next = r.Offset + 1
			s.mu.Unlock()
		})
	}
}

// Offset is the offset of the first record the store has not read (and,
// following, not yet handed to the registry): every record below it is
// visible in the registry. Safe for concurrent use.
func (s *KafkaStore) Offset() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

// Close implements Store: it stops following, if it was, and closes the
// Kafka client; the topic stays.
func (s *KafkaStore) Close() error {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	s.cl.Close()
	return nil
}
