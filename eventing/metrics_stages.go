package eventing

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Stage is one step an event takes through a service, timed in
// contrail_stage_seconds{stage}: where the time between a record's produce
// and its effects' publish goes.
type Stage int

// The stages, in the order an event meets them.
const (
	// StageConsumeDelay is from a record's timestamp (its producer's
	// produce call) to the start of its handling in a batch transaction:
	// the producer's wait for the broker's acknowledgement, the fetch, and
	// the wait in the consumer behind earlier records.
	StageConsumeDelay Stage = iota
	// StageBatchBegin is a batch transaction's BEGIN, including the wait
	// for the database connection (SQLite has one).
	StageBatchBegin
	// StageBatchHandle is a batch transaction's records' handling.
	StageBatchHandle
	// StageBatchCommit is a batch transaction's COMMIT.
	StageBatchCommit
	// StageOutboxClaim is a relay flush reading its rows, including the
	// wait for the connection.
	StageOutboxClaim
	// StageOutboxProduce is a relay flush producing its rows until the
	// broker acknowledged (or refused) the last one.
	StageOutboxProduce
	// StageOutboxSettle is a relay flush deleting the acknowledged rows.
	StageOutboxSettle
	numStages
)

var stageNames = [numStages]string{"consume_delay", "batch_begin", "batch_handle", "batch_commit", "outbox_claim", "outbox_produce", "outbox_settle"}

// String is the stage's label value in contrail_stage_seconds.
func (s Stage) String() string {
	if s < 0 || s >= numStages {
		return "unknown"
	}
	return stageNames[s]
}

// newStages creates the stage metrics and resolves their label values.
func (m *Metrics) newStages() {
	m.stages = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contrail_stage_seconds",
		Help:    "Time per stage of the inbox batch transactions and the outbox relay (see eventing.Stage).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"stage"})
	m.flushRows = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "contrail_outbox_flush_rows",
		Help: "Outbox rows read per relay flush: the outbox's backlog as the relay finds it.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	for s := Stage(0); s < numStages; s++ {
		m.stageObs[s] = m.stages.WithLabelValues(s.String())
	}
}

// stage records d for s; a nil m records nothing.
func (m *Metrics) stage(s Stage, d time.Duration) {
	if m != nil {
		m.stageObs[s].Observe(d.Seconds())
	}
}
