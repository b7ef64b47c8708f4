package host

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// clientHooks time the service's Kafka clients for /metrics:
//
//	contrail_broker_request_seconds{request}  a Produce, Fetch or OffsetCommit
//	                                          request from write to response
//	                                          (for Fetch this includes the
//	                                          broker's long-poll wait)
//	contrail_fetch_delay_seconds              a record's timestamp (its
//	                                          producer's produce call) to the
//	                                          moment it is buffered in this
//	                                          consumer: acknowledgement and
//	                                          fetch
//
// Together with the runtime's contrail_stage_seconds they split an event's
// hop into the broker, the consumer and the database.
type clientHooks struct {
	requests [3]prometheus.Observer // produce, fetch, offset commit
	fetch    prometheus.Observer
}

var timedRequests = [3]int16{int16(kmsg.Produce), int16(kmsg.Fetch), int16(kmsg.OffsetCommit)}

// newClientHooks registers the hooks' metrics with reg.
func newClientHooks(reg prometheus.Registerer) (*clientHooks, error) {
	req := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "contrail_broker_request_seconds",
		Help:    "Kafka requests of the service's clients, from write to response (Fetch includes the broker's long-poll wait).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)}, []string{"request"})
	fetch := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "contrail_fetch_delay_seconds",
		Help:    "From a consumed record's timestamp (its producer's produce call) to its arrival in the consumer's buffer.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16)})
	for _, c := range []prometheus.Collector{req, fetch} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	h := &clientHooks{fetch: fetch}
	for i, k := range timedRequests {
		h.requests[i] = req.WithLabelValues(kmsg.NameForKey(k))
	}
	return h, nil
}

// OnBrokerE2E implements kgo.HookBrokerE2E.
func (h *clientHooks) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e2e kgo.BrokerE2E) {
	if e2e.Err() != nil {
		return
	}
	for i, k := range timedRequests {
		if k == key {
			h.requests[i].Observe(e2e.DurationE2E().Seconds())
			return
		}
	}
}

// OnFetchRecordBuffered implements kgo.HookFetchRecordBuffered.
func (h *clientHooks) OnFetchRecordBuffered(r *kgo.Record) {
	if !r.Timestamp.IsZero() {
		h.fetch.Observe(time.Since(r.Timestamp).Seconds())
	}
}
