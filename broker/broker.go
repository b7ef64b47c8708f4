// Package broker is Contrail's embedded Kafka-protocol broker: a single-node
// github.com/twmb/franz-go/pkg/kfake cluster listening on one TCP address,
// optionally persisted to a data directory, seeded with the manifest's topics
// and their dead-letter topics.
//
// It speaks the Kafka wire protocol, so any client (franz-go, librdkafka,
// kcat) works against it; services never know they talk to it rather than to
// Kafka or Redpanda, which is the point: nothing in Contrail has an
// embedded-only code path.
package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"sync"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kfake"
)

// DefaultAddr is the address the broker listens on when Addr is not given.
const DefaultAddr = wire.DefaultBrokerAddr

// DefaultPartitions is the partition count of a seeded topic whose Topic
// value gives none, when Partitions is not given.
const DefaultPartitions = 3

// ErrClosed is returned by Start after Close.
var ErrClosed = errors.New("broker: closed")

// Topic is a topic to seed. A Partitions of 0 means the broker's default.
type Topic struct {
	Name       string
	Partitions int
}

// Opt configures a Broker. Options are applied in order; later ones win.
type Opt interface{ apply(*config) }

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

type config struct {
	addr        string
	dataDir     string
	syncWrites  bool
	partitions  int
	topics      []Topic
	dlq         bool
	autoCreate  bool
	logger      *slog.Logger
	clusterOpts []kfake.Opt
}

func defaults() config {
	return config{
		addr:       DefaultAddr,
		syncWrites: true,
		partitions: DefaultPartitions,
		dlq:        true,
		autoCreate: true,
		logger:     slog.New(slog.DiscardHandler),
	}
}

func (c *config) validate() error {
	if _, _, err := net.SplitHostPort(c.addr); err != nil {
		return fmt.Errorf("broker: address %q is not host:port (e.g. 127.0.0.1:9092, or 127.0.0.1:0 for any free port): %w", c.addr, err)
	}
	if c.partitions < 1 {
		return fmt.Errorf("broker: partitions must be at least 1, got %d", c.partitions)
	}
	seen := map[string]bool{}
	for _, t := range c.topics {
		if t.Name == "" {
			return errors.New("broker: a seeded topic has an empty name")
		}
		if t.Partitions < 0 {
			return fmt.Errorf("broker: topic %q: partitions must be 0 (default) or more, got %d", t.Name, t.Partitions)
		}
		if seen[t.Name] {
			return fmt.Errorf("broker: topic %q is listed twice", t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

// Addr sets the TCP address to listen on, overriding DefaultAddr. Use port 0
// for any free port and read it back with Broker.Addr.
func Addr(addr string) Opt { return optFunc(func(c *config) { c.addr = addr }) }

// DataDir persists records, topics, committed group offsets and transaction
// state under dir, and reloads them on start. The default is "" (memory
// only: everything is gone after Close).
func DataDir(dir string) Opt { return optFunc(func(c *config) { c.dataDir = dir }) }

// SyncWrites chooses whether every produced batch and every group and
// transaction state change is fsynced before the broker answers. The default
// is true, so an acknowledged record survives kill -9 and power loss; false
// trades that for throughput (the OS page cache decides). It only matters
// with DataDir.
func SyncWrites(on bool) Opt { return optFunc(func(c *config) { c.syncWrites = on }) }

// Partitions sets the partition count of seeded topics that name none and of
// auto-created topics, overriding DefaultPartitions.
func Partitions(n int) Opt { return optFunc(func(c *config) { c.partitions = n }) }

// Topics adds topics to create at start (and, with DeadLetterTopics, their
// "<topic>.dlq" twins). Topics that already exist, such as those reloaded
// from DataDir, are left as they are. The default is no topics.
func Topics(ts ...Topic) Opt {
	return optFunc(func(c *config) { c.topics = append(c.topics, ts...) })
}

// DeadLetterTopics chooses whether each seeded topic gets a "<topic>.dlq"
// twin with the same partition count. The default is true.
func DeadLetterTopics(on bool) Opt { return optFunc(func(c *config) { c.dlq = on }) }

// AutoCreateTopics chooses whether a metadata request for an unknown topic
// creates it, as Kafka's auto.create.topics.enable does. The default is true.
func AutoCreateTopics(on bool) Opt { return optFunc(func(c *config) { c.autoCreate = on }) }

// Logger sets the logger for the broker's own lifecycle messages. The default
// discards them.
func Logger(l *slog.Logger) Opt {
	return optFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// ClusterOpts passes extra kfake options through (for example kfake.EnableSASL
// in a test of SCRAM settings). They are applied after Contrail's own.
func ClusterOpts(opts ...kfake.Opt) Opt {
	return optFunc(func(c *config) { c.clusterOpts = append(c.clusterOpts, opts...) })
}

// Broker is one embedded broker. Its methods are safe for concurrent use.
type Broker struct {
	cfg config

	mu      sync.Mutex
	cluster *kfake.Cluster
	addr    string
	closed  bool
}

// New validates opts and returns a broker that is not yet listening.
func New(opts ...Opt) (*Broker, error) {
	cfg := defaults()
	for _, o := range opts {
		if o != nil {
			o.apply(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Broker{cfg: cfg}, nil
}

// Start listens, reloads persisted state and creates the seeded topics that
// do not exist yet. It returns ErrClosed after Close, and an error when the
// address is taken or the data directory cannot be read. Calling Start on a
// started broker does nothing.
func (b *Broker) Start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	if b.cluster != nil {
		return nil
	}
	addr := b.cfg.addr
	var ln net.Listener
	listen := func(network, _ string) (net.Listener, error) {
		l, err := net.Listen(network, addr)
		ln = l
		return l, err
	}
	opts := []kfake.Opt{
		kfake.NumBrokers(1),
		kfake.ListenFn(listen),
		kfake.DefaultNumPartitions(b.cfg.partitions),
		kfake.ClusterID("contrail"),
	}
	if b.cfg.autoCreate {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if b.cfg.dataDir != "" {
		if err := os.MkdirAll(b.cfg.dataDir, 0o755); err != nil {
			return fmt.Errorf("broker: create data directory: %w", err)
		}
		opts = append(opts, kfake.DataDir(b.cfg.dataDir))
		if b.cfg.syncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	opts = append(opts, b.cfg.clusterOpts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return fmt.Errorf("broker: start on %s: %w", addr, err)
	}
	for _, t := range b.seedList() {
		if c.TopicInfo(t.Name) != nil {
			continue
		}
		if err := c.CreateTopic(t.Name, int32(t.Partitions), nil); err != nil {
			c.Close()
			return fmt.Errorf("broker: create topic %q: %w", t.Name, err)
		}
	}
	b.cluster = c
	b.addr = c.ListenAddrs()[0]
	b.cfg.logger.Info("broker started", "addr", b.addr, "data_dir", b.cfg.dataDir, "sync_writes", b.cfg.syncWrites)
	return nil
}

// seedList returns every topic to create, DLQ twins included, sorted.
func (b *Broker) seedList() []Topic {
	var out []Topic
	for _, t := range b.cfg.topics {
		if t.Partitions == 0 {
			t.Partitions = b.cfg.partitions
		}
		out = append(out, t)
		if b.cfg.dlq {
			out = append(out, Topic{Name: t.Name + wire.DLQSuffix, Partitions: t.Partitions})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Addr returns the address the broker listens on (with the real port when
// Addr asked for port 0), or "" before Start.
func (b *Broker) Addr() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.addr
}

// Cluster returns the underlying kfake cluster for tests that need its
// introspection (GroupInfo, PartitionInfo), or nil before Start.
func (b *Broker) Cluster() *kfake.Cluster {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cluster
}

// Close stops listening and, with DataDir, writes every piece of state to
// disk before returning, so a later Start with the same directory carries
// on. It is safe to call more than once.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.cluster == nil {
		return nil
	}
	b.cluster.Close()
	b.cluster = nil
	b.cfg.logger.Info("broker stopped", "addr", b.addr)
	return nil
}
