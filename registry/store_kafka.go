package registry

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

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

func (c *kafkaConfig) produceOpts() []kgo.Opt {
	return []kgo.Opt{
		kgo.DefaultProduceTopic(c.topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
	}
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
	// txn is the elected leader's transactional producer (lead); nil
	// when the store is not leading.
	txn *kgo.Client
	// onFence runs, with mu held, when a leader's write failed: byOther
	// when another instance took the transactional id over (Replica sets
	// it).
	onFence func(byOther bool)
	// fences counts the writes that found the store fenced.
	fences int64

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
	kopts = append(kopts, cfg.produceOpts()...)
	// Only committed records count: a deposed leader's fenced transaction
	// is never read. Control records are kept so a reader knows it has
	// passed a transaction marker at the end of the topic.
	kopts = append(kopts, kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
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

// Load implements Store: it reads the committed records of the topic
// from its start to its last stable offset when Load began (which may be
// a transaction marker) and returns the state those records leave.
// Records it cannot decode are skipped and counted (Skipped), as
// Confluent does, so one foreign record does not keep the registry down.
func (s *KafkaStore) Load(ctx context.Context) (State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	endOff, err := s.endOffset(ctx)
	if err != nil {
		return State{}, fmt.Errorf("%w: kafka: end offset of %s on %s (are the brokers up and reachable?): %w", ErrStore, s.cfg.topic, strings.Join(s.cfg.brokers, ","), err)
	}
	view := NewMemoryStore()
	skipped := 0
	if endOff > 0 {
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
					if r.Offset >= endOff {
						done = true
						return
					}
					if r.Attrs.IsControl() {
						// A transaction marker, possibly the topic's last record.
						done = done || r.Offset+1 >= endOff
						continue
					}
					b, err := decodeRecord(r.Key, r.Value, view)
					if err != nil {
						skipped++
						continue
					}
					_ = view.Apply(ctx, b)
					if r.Offset+1 >= endOff {
						done = true
					}
				}
				// Compaction may have removed the records before the end.
				if p.HighWatermark >= endOff && len(p.Records) > 0 && p.Records[len(p.Records)-1].Offset+1 >= p.HighWatermark {
					done = true
				}
			})
			if done {
				break read
			}
		}
	}
	s.view, s.skipped, s.next = view, skipped, endOff
	return view.Load(ctx)
}

// Skipped is how many records the last Load could not decode.
func (s *KafkaStore) Skipped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.skipped
}

// ErrFenced marks a write refused because another registry instance
// became the leader and took the transactional id over: this instance no
// longer writes until an election makes it the leader again.
var ErrFenced = errors.New("registry: kafka: fenced by a newer leader")

// Apply implements Store: it produces b's records to the topic in one
// call, with acks=all, and returns once every one was acknowledged. The
// records go to one partition in order, so a reader sees them in the
// order written. A following store (the elected leader of a Replica)
// writes them in one transaction, so a reader sees all or none of them,
// and a write of a leader that a newer one fenced fails with ErrFenced
// and leaves nothing readable. Without KafkaFollow a failure part way can
// leave the first records written.
func (s *KafkaStore) Apply(ctx context.Context, b Batch) error {
	if err := checkBatchText(b); err != nil {
		return fmt.Errorf("%w: write: %w", ErrStore, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.follow && (!s.writable || s.txn == nil) {
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
		if s.cfg.follow {
			err = s.produceTxn(ctx, krs)
		} else {
			err = s.cl.ProduceSync(ctx, krs...).FirstErr()
		}
		if err != nil {
			return err
		}
		for _, r := range krs {
			s.next = max(s.next, r.Offset+1)
		}
	}
	return s.view.Apply(ctx, b)
}

// produceTxn writes krs in one transaction of the leader's producer. On
// any failure the store stops writing: a fenced producer (another
// instance ran InitProducerID with the same transactional id) can never
// write again, and an unknown outcome must not be followed by ids
// allocated from a view that may miss it. s.mu is held.
func (s *KafkaStore) produceTxn(ctx context.Context, krs []*kgo.Record) error {
	txn := s.txn
	// A write once begun completes, whatever the client does: a request
	// cancelled half way would leave a transaction open and its outcome
	// unknown.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	err := txn.BeginTransaction()
	if err == nil {
		err = txn.ProduceSync(ctx, krs...).FirstErr()
		commit := kgo.TryCommit
		if err != nil {
			commit = kgo.TryAbort
		}
		if eerr := txn.EndTransaction(ctx, commit); err == nil {
			err = eerr
		}
	}
	if err == nil {
		return nil
	}
	s.writable = false
	s.txn = nil
	go txn.Close()
	if isFenced(err) {
		s.fences++
		if s.onFence != nil {
			s.onFence(true)
		}
		return fmt.Errorf("%w (%w): another registry instance leads topic %s now; this one takes no writes until it is elected again, so retry the request: %w", ErrStore, ErrFenced, s.cfg.topic, err)
	}
	if s.onFence != nil {
		s.onFence(false)
	}
	return fmt.Errorf("%w: kafka: write %s on %s (are the brokers up and reachable?); this instance stops taking writes until re-elected: %w", ErrStore, s.cfg.topic, strings.Join(s.cfg.brokers, ","), err)
}

func isFenced(err error) bool {
	return errors.Is(err, kerr.ProducerFenced) || errors.Is(err, kerr.InvalidProducerEpoch) ||
		errors.Is(err, kerr.TransactionalIDAuthorizationFailed) || errors.Is(err, kerr.InvalidTxnState)
}

// TransactionalID is the transactional.id the leaders of the registry
// replicas electing in group over topic produce with: one per registry
// cluster, so a new leader's InitProducerID fences the last one's writes.
func TransactionalID(group, topic string) string {
	return "contrail-registry-" + group + "-" + topic
}

// lead makes the store the writer of its topic: it starts a transactional
// producer with txnID, which fences any earlier producer with that id
// (an in-flight transaction of it is aborted, its later writes fail),
// and commits a NOOP record, as Confluent's leader does, whose offset it
// returns: every record a fenced leader committed lies below it. The
// store stays unwritable until setWritable(true).
func (s *KafkaStore) lead(ctx context.Context, txnID string) (int64, error) {
	opts := append([]kgo.Opt{kgo.SeedBrokers(s.cfg.brokers...)}, s.cfg.client...)
	opts = append(opts, s.cfg.produceOpts()...)
	opts = append(opts, kgo.TransactionalID(txnID))
	txn, err := kgo.NewClient(opts...)
	if err != nil {
		return 0, fmt.Errorf("%w: kafka: %w", ErrStore, err)
	}
	noop := &kgo.Record{Topic: s.cfg.topic, Partition: 0, Key: []byte(`{"keytype":"NOOP","magic":0}`)}
	err = txn.BeginTransaction()
	if err == nil {
		err = txn.ProduceSync(ctx, noop).FirstErr()
		commit := kgo.TryCommit
		if err != nil {
			commit = kgo.TryAbort
		}
		if eerr := txn.EndTransaction(ctx, commit); err == nil {
			err = eerr
		}
	}
	if err != nil {
		txn.Close()
		return 0, fmt.Errorf("%w: kafka: start the transactional producer %s on %s: %w", ErrStore, txnID, s.cfg.topic, err)
	}
	s.mu.Lock()
	old := s.txn
	s.txn, s.writable = txn, false
	s.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return noop.Offset, nil
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
			if r.Attrs.IsControl() {
				s.next = r.Offset + 1
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
	s.mu.Lock()
	txn := s.txn
	s.txn, s.writable = nil, false
	s.mu.Unlock()
	if txn != nil {
		txn.Close()
	}
	s.cl.Close()
	return nil
}
