package eventing

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// permanentProduceErrors are the produce errors that are about the record
// itself, so producing the same record again can never succeed under the
// same broker and client configuration. The relay parks an outbox row that
// fails with one of them when produced on its own (see Relay):
//
//   - MESSAGE_TOO_LARGE: the record alone is larger than the client's
//     ProducerBatchMaxBytes (franz-go fails it before sending, default
//     1,000,012 bytes) or its MaxBufferedBytes, or than the broker's or
//     topic's max.message.bytes (Kafka's default is 1,048,588).
//   - RECORD_LIST_TOO_LARGE: the record's batch is larger than a log segment.
//   - INVALID_RECORD: the broker's record validation rejects it (a null key
//     on a compacted topic, a broker-side schema check).
//   - INVALID_TOPIC_EXCEPTION: the row's topic name is not a valid topic.
//
// Deliberately not permanent: CORRUPT_MESSAGE (a CRC or framing fault of
// the bytes on the wire, which the next attempt encodes again),
// TOPIC_AUTHORIZATION_FAILED and CLUSTER_AUTHORIZATION_FAILED (ACLs an
// operator fixes; parking would divert every event of the topic), unknown
// topics, timeouts and every other error: those rows stay in the outbox and
// are produced again by the next flush.
var permanentProduceErrors = []error{
	kerr.MessageTooLarge,
	kerr.RecordListTooLarge,
	kerr.InvalidRecord,
	kerr.InvalidTopicException,
}

// permanentProduceError reports whether err, from producing one record,
// means the broker will never accept that record.
func permanentProduceError(err error) bool {
	if err == nil || errors.Is(err, kgo.ErrRecordTimeout) || errors.Is(err, kgo.ErrRecordRetries) {
		// Those wrap the last retriable error; the record may yet go.
		return false
	}
	for _, p := range permanentProduceErrors {
		if errors.Is(err, p) {
			return true
		}
	}
	return false
}

// errHeldBack is why a row was not produced in a flush: an earlier row of
// the same topic and key was not acknowledged, and the later one must not
// overtake it.
var errHeldBack = errors.New("held back behind an earlier unacknowledged row with the same key")

// recordSize is the bytes of r the broker counts against its limits,
// without the batch framing: key, value and headers.
func recordSize(r *kgo.Record) int {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return n
}

// logKey returns a record key for a log line, cut to 128 bytes: a key can
// itself be what made the record too large.
func logKey(k []byte) string {
	const limit = 128
	if len(k) > limit {
		return string(k[:limit]) + "..."
	}
	return string(k)
}
