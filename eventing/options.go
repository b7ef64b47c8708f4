package eventing

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/contrail-events/contrail/wire"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultBrokers is the broker list used when Brokers is not given: the
// embedded broker's default address.
var DefaultBrokers = []string{wire.DefaultBrokerAddr}

// PublisherOpt configures NewPublisher.
type PublisherOpt interface{ applyPublisher(*publisherConfig) }

// RouterOpt configures NewRouter.
type RouterOpt interface{ applyRouter(*routerConfig) }

// Opt is an option that both NewPublisher and NewRouter accept.
type Opt interface {
	PublisherOpt
	RouterOpt
}

// common is what publishers and routers share.
type common struct {
	brokers []string
	kopts   []kgo.Opt
	codec   Codec
	tracer  Tracer
	logger  *slog.Logger
	metrics *Metrics
}

type commonOpt func(*common)

func (f commonOpt) applyPublisher(c *publisherConfig) { f(&c.common) }
func (f commonOpt) applyRouter(c *routerConfig)       { f(&c.common) }

type publisherOpt func(*publisherConfig)

func (f publisherOpt) applyPublisher(c *publisherConfig) { f(c) }

type routerOpt func(*routerConfig)

func (f routerOpt) applyRouter(c *routerConfig) { f(c) }

// Brokers sets the seed brokers, overriding DefaultBrokers. Kafka, Redpanda
// and the embedded broker are all addressed the same way.
func Brokers(addrs ...string) Opt {
	return commonOpt(func(c *common) { c.brokers = append([]string(nil), addrs...) })
}

// ClientOpts adds franz-go client options: TLS (kgo.DialTLSConfig), SASL
// (kgo.SASL with plugin/sasl/scram), client id, and so on. They are applied
// after the runtime's own, so they can override them; the default is none.
func ClientOpts(opts ...kgo.Opt) Opt {
	return commonOpt(func(c *common) { c.kopts = append(c.kopts, opts...) })
}

// WithCodec sets the codec; required. Use the registry serde in services.
func WithCodec(codec Codec) Opt { return commonOpt(func(c *common) { c.codec = codec }) }

// WithTracer sets the tracing hooks; the default nil calls none.
func WithTracer(t Tracer) Opt { return commonOpt(func(c *common) { c.tracer = t }) }

// WithLogger sets the logger; the default discards. A nil logger keeps the
// default.
func WithLogger(l *slog.Logger) Opt {
	return commonOpt(func(c *common) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithMetrics sets the metrics to update; the default is a private set
// (NewMetrics(nil)) available from the Router's or Publisher's Metrics.
func WithMetrics(m *Metrics) Opt { return commonOpt(func(c *common) { c.metrics = m }) }

func (c *common) setDefaults() {
	c.brokers = append([]string(nil), DefaultBrokers...)
	c.logger = slog.New(slog.DiscardHandler)
}

func (c *common) validate(who string) error {
	if len(c.brokers) == 0 {
		return fmt.Errorf("runtime: %s: no brokers: pass Brokers(\"host:9092\")", who)
	}
	if c.codec == nil {
		return fmt.Errorf("runtime: %s: no codec: pass WithCodec(serde) (the registry serde)", who)
	}
	if c.metrics == nil {
		m, err := NewMetrics(nil)
		if err != nil {
			return err
		}
		c.metrics = m
	}
	return nil
}

func (c *common) clientOpts() []kgo.Opt {
	return append([]kgo.Opt{kgo.SeedBrokers(c.brokers...)}, c.kopts...)
}

// ---- publisher options ----

type publisherConfig struct {
	common
	linger time.Duration
	client *kgo.Client
}

// Linger sets how long the producer waits to fill a batch, overriding the
// default of 0. Publish waits for the broker's acknowledgement, so a
// linger adds straight to every call's latency (franz-go's own default of
// 10ms would make a single event hundreds of times slower); concurrent
// publishers batch anyway, because records queue while a request is in
// flight. Raise it only for bulk publishing.
func Linger(d time.Duration) PublisherOpt {
	return publisherOpt(func(c *publisherConfig) { c.linger = d })
}

// WithClient makes the publisher produce through cl instead of a client of
// its own; Close then leaves cl open. cl must be idempotent with acks=all
// (franz-go's defaults) for the runtime's guarantees to hold. Brokers,
// ClientOpts and Linger are ignored.
func WithClient(cl *kgo.Client) PublisherOpt {
	return publisherOpt(func(c *publisherConfig) { c.client = cl })
}

// ---- router options ----

type routerConfig struct {
	common
	group           string
	concurrency     int
	retry           RetryPolicy
	deadLetter      bool
	inbox           *Store
	middleware      []Middleware
	commitInterval  time.Duration
	shutdownTimeout time.Duration
	transactionalID string
	publisher       *Publisher
	resetOffset     kgo.Offset
	batchMax        int
	serial          bool
}

// Group sets the consumer group; required. Every instance of one service
// uses the same group.
func Group(name string) RouterOpt { return routerOpt(func(c *routerConfig) { c.group = name }) }

// Concurrency sets how many partitions are handled at once, overriding the
// default of 4. Records of one partition (hence of one key) are always
// handled one at a time, in offset order.
func Concurrency(n int) RouterOpt { return routerOpt(func(c *routerConfig) { c.concurrency = n }) }

// Retry sets the retry policy for transient errors, overriding
// DefaultRetryPolicy.
func Retry(p RetryPolicy) RouterOpt { return routerOpt(func(c *routerConfig) { c.retry = p }) }

// DeadLetter chooses whether records that fail for good go to their topic's
// "<topic>.dlq" dead-letter topic (the default, true) or stop their
// partition (false: the record is retried until it succeeds or the router
// stops; nothing is ever skipped).
func DeadLetter(on bool) RouterOpt { return routerOpt(func(c *routerConfig) { c.deadLetter = on }) }

// WithInbox enables the inbox middleware on s: each record's event id is
// recorded in the same SQLite transaction as the handler's own changes
// (see Tx), and a record whose id is already there is dropped. The default
// is no inbox (handlers must then be idempotent themselves).
func WithInbox(s *Store) RouterOpt { return routerOpt(func(c *routerConfig) { c.inbox = s }) }

// Use adds middleware around every handler, innermost last; it runs inside
// the runtime's own (panics in it are recovered, its errors retried). The
// default is none.
func Use(mw ...Middleware) RouterOpt {
	return routerOpt(func(c *routerConfig) { c.middleware = append(c.middleware, mw...) })
}

// CommitInterval sets how often handled offsets are committed in the
// background, overriding the default of 1s. Offsets are also committed
// before partitions are revoked and on shutdown, so a shorter interval only
// shrinks redelivery after a crash.
func CommitInterval(d time.Duration) RouterOpt {
	return routerOpt(func(c *routerConfig) { c.commitInterval = d })
}

// ShutdownTimeout bounds how long Run waits for in-flight handlers after its
// context ends, overriding the default of 10s. Handlers keep a live context
// until then; after it, their context is cancelled and unfinished records
// are left uncommitted (redelivered later).
func ShutdownTimeout(d time.Duration) RouterOpt {
	return routerOpt(func(c *routerConfig) { c.shutdownTimeout = d })
}

// ExactlyOnce turns on franz-go's GroupTransactSession with the given
// transactional id: each poll's records are handled inside one transaction
// that also holds the events handlers publish with Emit, the dead letters
// and the consumed offsets, so consume-transform-produce handlers take
// effect exactly once in Kafka. Side effects outside Kafka still need the
// inbox. The default ("") is at-least-once.
func ExactlyOnce(transactionalID string) RouterOpt {
	return routerOpt(func(c *routerConfig) { c.transactionalID = transactionalID })
}

// WithPublisher sets the publisher that Emit and the dead-letter middleware
// use, overriding a publisher of the router's own on the same brokers.
func WithPublisher(p *Publisher) RouterOpt {
	return routerOpt(func(c *routerConfig) { c.publisher = p })
}

// DefaultBatchTransactions is how many records of one partition share one
// inbox transaction unless BatchTransactions says otherwise.
const DefaultBatchTransactions = 256

// BatchTransactions sets how many records of one partition, from one poll,
// share one transaction on the inbox store (WithInbox), overriding
// DefaultBatchTransactions; 0 gives every record its own transaction, as
// before batching existed. It has no effect without an inbox or in
// ExactlyOnce mode (which stays one transaction per record).
//
// Records in a batch run without a savepoint each: the first failed
// attempt rolls the whole batch back, and its records are handled again one
// transaction each, with retries and dead letters as without batching (a
// savepoint per record would undo just that attempt but cost every record:
// on PostgreSQL two round trips and a subtransaction, on SQLite two
// statements and a copy of each page it touches). A batch records its
// records' inbox rows in one statement up front (and takes back those of
// records it stops before), inserts the outbox rows its handlers enqueued
// in one statement before it commits, and commits once, after its last
// record; only then are its offsets marked for commit and the outbox relay
// woken. If the commit fails nothing is marked and the batch's records are
// handled again, one transaction each (the inbox drops those that did
// commit). The transaction holds the store's connection for the whole
// batch, so other users of the database (the relay, HTTP handlers) wait up
// to that long. A dead letter is produced before its record's offset is
// committed: a crash in between produces it again on redelivery
// (at-least-once). Partitions handled at once each hold their own
// batch: with a database of one connection (OpenStore) they take turns;
// with several connections open write transactions IMMEDIATE (OpenStore's
// _txlock=immediate) so a second batch waits on the busy timeout instead of
// failing a lock upgrade.
func BatchTransactions(maxRecords int) RouterOpt {
	return routerOpt(func(c *routerConfig) { c.batchMax = maxRecords })
}

// SerialTransactions makes the router's inbox transactions (batches and
// single records) run one at a time across every partition and every
// router of its consumer group, on every replica: on PostgreSQL each takes
// the group's advisory lock (pg_advisory_xact_lock) first, held until it
// commits. It is for handlers that write rows events of every partition
// share (an inventory's stock per SKU): without it two batches that take
// such rows in different orders deadlock, and PostgreSQL breaks the tie
// only after its deadlock_timeout (1s). Default off: partitions' batches
// run in parallel. On SQLite, with its one writer, transactions run one at
// a time anyway, and the option changes nothing.
func SerialTransactions() RouterOpt {
	return routerOpt(func(c *routerConfig) { c.serial = true })
}

// StartAt sets where a group with no committed offset starts, overriding the
// default of the earliest offset (so no event published before a service's
// first start is missed).
func StartAt(o kgo.Offset) RouterOpt { return routerOpt(func(c *routerConfig) { c.resetOffset = o }) }

func (c *routerConfig) setDefaults() {
	c.common.setDefaults()
	c.concurrency = 4
	c.retry = DefaultRetryPolicy
	c.deadLetter = true
	c.commitInterval = time.Second
	c.shutdownTimeout = 10 * time.Second
	c.resetOffset = kgo.NewOffset().AtStart()
	c.batchMax = DefaultBatchTransactions
}

func (c *routerConfig) validate() error {
	if err := c.common.validate("router"); err != nil {
		return err
	}
	if c.group == "" {
		return errors.New("runtime: router: no consumer group: pass Group(\"<service name>\")")
	}
	if c.concurrency < 1 {
		return fmt.Errorf("runtime: router: concurrency must be at least 1, got %d", c.concurrency)
	}
	if c.batchMax < 0 {
		return fmt.Errorf("runtime: router: BatchTransactions must be 0 (one transaction per record) or more, got %d", c.batchMax)
	}
	if c.commitInterval <= 0 || c.shutdownTimeout < 0 {
		return errors.New("runtime: router: CommitInterval must be positive and ShutdownTimeout not negative")
	}
	return c.retry.validate()
}
