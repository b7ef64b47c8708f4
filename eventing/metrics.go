package eventing

import (
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the runtime's Prometheus metrics, labelled per consumer group
// and handler (the event type's full name, or "(unresolved)" for records
// without a type header whose type could not be resolved from their schema
// id):
//
//	contrail_handler_handled_total        records handled successfully
//	contrail_handler_failed_total         failed attempts, by error class
//	contrail_handler_retried_total        retries started
//	contrail_handler_dead_lettered_total  records sent to a dead-letter topic, by class
//	contrail_handler_duplicates_total     records the inbox dropped as already handled
//	contrail_handler_seconds              handling latency (all attempts), histogram
//	contrail_consumer_unknown_total       records skipped: no handler for their type
//	contrail_consumer_lag                 high watermark minus next offset, per partition
//	contrail_published_total              events published, by topic and type
//	contrail_outbox_parked_total          outbox rows the broker refuses for good, parked, by topic
//	contrail_inbox_batches_total          batch transactions committed (BatchTransactions)
//	contrail_inbox_batch_records_total    records handled in committed batch transactions
//	contrail_inbox_batch_failures_total   batch transactions that failed to commit (redone)
//	contrail_stage_seconds                time per stage of the inbox batches and the outbox relay, histogram (see Stage)
//	contrail_outbox_flush_rows            outbox rows read per relay flush, histogram
//
// A Metrics is safe for concurrent use; several routers may share one.
type Metrics struct {
	reg          *prometheus.Registry
	handled      *prometheus.CounterVec
	failed       *prometheus.CounterVec
	retried      *prometheus.CounterVec
	deadLettered *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	unknown      *prometheus.CounterVec
	lag          *prometheus.GaugeVec
	published    *prometheus.CounterVec
	parked       *prometheus.CounterVec
	batches      *prometheus.CounterVec
	batchRecords *prometheus.CounterVec
	batchFailed  *prometheus.CounterVec
	stages       *prometheus.HistogramVec
	flushRows    prometheus.Histogram
	stageObs     [numStages]prometheus.Observer

	// Label-bound metrics, each resolved on first use, so the per-record
	// paths do no label lookups.
	handlers  sync.Map // handlerKey -> *handlerMetrics
	lags      sync.Map // lagKey -> prometheus.Gauge
	publishes sync.Map // publishKey -> prometheus.Counter
	unknowns  sync.Map // unknownKey -> prometheus.Counter
}

// cached returns the value stored under k in c, storing mk() there first
// when there is none.
func cached[K comparable, V any](c *sync.Map, k K, mk func() V) V {
	if v, ok := c.Load(k); ok {
		return v.(V)
	}
	v, _ := c.LoadOrStore(k, mk())
	return v.(V)
}

type lagKey struct {
	group, topic string
	partition    int32
}

type publishKey struct{ topic, eventType string }

type handlerKey struct{ group, eventType string }

type unknownKey struct{ group, topic, eventType string }

// handlerMetrics caches one handler's label-bound metrics so the hot path
// does no label lookups.
type handlerMetrics struct {
	handled, retried, duplicates prometheus.Counter
	latency                      prometheus.Observer
	failedBy, deadBy             map[ErrorClass]prometheus.Counter // the four classes
	m                            *Metrics
	key                          handlerKey
}

var errorClasses = []ErrorClass{ClassTransient, ClassPermanent, ClassPoison, ClassPanic}

// NewMetrics creates the metrics and registers them with reg. A nil reg
// means a new private registry, served by Handler. It returns an error when
// reg already holds metrics of the same names (use one Metrics per registry).
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{}
	if reg == nil {
		m.reg = prometheus.NewRegistry()
		reg = m.reg
	}
	hl := []string{"group", "handler"}
	m.handled = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_handler_handled_total", Help: "Records handled successfully."}, hl)
	m.failed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_handler_failed_total", Help: "Failed handling attempts, by error class."}, append(hl, "class"))
	m.retried = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_handler_retried_total", Help: "Retries started."}, hl)
	m.deadLettered = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_handler_dead_lettered_total", Help: "Records written to a dead-letter topic, by error class."}, append(hl, "class"))
	m.duplicates = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_handler_duplicates_total", Help: "Records the inbox dropped because their event id was already handled."}, hl)
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contrail_handler_seconds", Help: "Time from the first attempt to the final outcome.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10)}, hl)
	m.unknown = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_consumer_unknown_total", Help: "Records skipped because no handler is registered for their event type."}, []string{"group", "topic", "event_type"})
	m.lag = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "contrail_consumer_lag", Help: "Records between the partition's high watermark and the next record to handle."}, []string{"group", "topic", "partition"})
	m.published = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_published_total", Help: "Events published and acknowledged."}, []string{"topic", "event_type"})
	m.parked = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_outbox_parked_total", Help: "Outbox rows the broker refuses for good (MESSAGE_TOO_LARGE, INVALID_RECORD, ...), moved to the contrail_outbox_parked table instead of being published."}, []string{"topic"})
	m.batches = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_inbox_batches_total", Help: "Batch transactions (one per partition per poll, see BatchTransactions) committed."}, []string{"group"})
	m.batchRecords = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_inbox_batch_records_total", Help: "Records handled in committed batch transactions."}, []string{"group"})
	m.batchFailed = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "contrail_inbox_batch_failures_total", Help: "Batch transactions that failed to begin or commit; their records were handled again one transaction each."}, []string{"group"})
	m.newStages()
	for _, c := range []prometheus.Collector{m.handled, m.failed, m.retried, m.deadLettered, m.duplicates, m.latency, m.unknown, m.lag, m.published, m.parked, m.batches, m.batchRecords, m.batchFailed, m.stages, m.flushRows} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("runtime: metrics already registered with this registry: create one Metrics per registry and share it")
			}
			return nil, err
		}
	}
	return m, nil
}

// Handler serves the metrics of the private registry NewMetrics(nil)
// created; for metrics registered elsewhere serve that registry instead.
func (m *Metrics) Handler() http.Handler {
	if m.reg == nil {
		return promhttp.Handler()
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// handler returns the metrics of (group, eventType); the router resolves
// them once per route, before it consumes.
func (m *Metrics) handler(group, eventType string) *handlerMetrics {
	k := handlerKey{group, eventType}
	return cached(&m.handlers, k, func() *handlerMetrics { return m.newHandler(k) })
}

func (m *Metrics) newHandler(k handlerKey) *handlerMetrics {
	group, eventType := k.group, k.eventType
	h := &handlerMetrics{
		handled:    m.handled.WithLabelValues(group, eventType),
		retried:    m.retried.WithLabelValues(group, eventType),
		duplicates: m.duplicates.WithLabelValues(group, eventType),
		latency:    m.latency.WithLabelValues(group, eventType),
		failedBy:   map[ErrorClass]prometheus.Counter{},
		deadBy:     map[ErrorClass]prometheus.Counter{},
		m:          m, key: k,
	}
	for _, c := range errorClasses {
		h.failedBy[c] = m.failed.WithLabelValues(group, eventType, string(c))
		h.deadBy[c] = m.deadLettered.WithLabelValues(group, eventType, string(c))
	}
	return h
}

func (h *handlerMetrics) failed(class ErrorClass) {
	if c, ok := h.failedBy[class]; ok {
		c.Inc()
		return
	}
	h.m.failed.WithLabelValues(h.key.group, h.key.eventType, string(class)).Inc()
}

func (h *handlerMetrics) deadLettered(class ErrorClass) {
	if c, ok := h.deadBy[class]; ok {
		c.Inc()
		return
	}
	h.m.deadLettered.WithLabelValues(h.key.group, h.key.eventType, string(class)).Inc()
}

// setLag sets a partition's lag; once per partition per poll.
func (m *Metrics) setLag(group, topic string, partition int32, lag int64) {
	cached(&m.lags, lagKey{group, topic, partition}, func() prometheus.Gauge {
		return m.lag.WithLabelValues(group, topic, strconv.Itoa(int(partition)))
	}).Set(float64(lag))
}

// publishedCounter returns the published counter of (topic, eventType),
// resolving its labels once.
func (m *Metrics) publishedCounter(topic, eventType string) prometheus.Counter {
	return cached(&m.publishes, publishKey{topic, eventType}, func() prometheus.Counter {
		return m.published.WithLabelValues(topic, eventType)
	})
}

// outboxParked counts an outbox row parked for topic; rare, so its labels
// are not cached.
func (m *Metrics) outboxParked(topic string) {
	m.parked.WithLabelValues(topic).Inc()
}

// unknownCounter returns the counter of records of eventType on topic that
// group has no handler for, resolving its labels once.
func (m *Metrics) unknownCounter(group, topic, eventType string) prometheus.Counter {
	return cached(&m.unknowns, unknownKey{group, topic, eventType}, func() prometheus.Counter {
		return m.unknown.WithLabelValues(group, topic, eventType)
	})
}
