package eventing

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/wire"
)

// These tests drive Relay.flush with a fake producer (Relay.send), so what
// the relay hands to the client, and in which calls, is exact; the
// integration tests in outbox_park_test.go run the same cases against the
// embedded broker.

// fakeSends records every record the relay produced, call by call, and
// answers each call with outcome (nil: acknowledge all).
type fakeSends struct {
	mu      sync.Mutex
	calls   [][]string // event ids per send call
	acked   map[string]int
	outcome func(ids []string) []error
}

func (f *fakeSends) send(_ context.Context, rs []*kgo.Record, errs []error) {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = HeaderValue(r, wire.HeaderEventID)
	}
	var out []error
	if f.outcome != nil {
		out = f.outcome(ids)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, ids)
	for i := range rs {
		if out != nil {
			errs[i] = out[i]
		}
		if errs[i] == nil {
			f.acked[ids[i]]++
		}
	}
}

// sent returns every event id handed to the producer, in order.
func (f *fakeSends) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var all []string
	for _, c := range f.calls {
		all = append(all, c...)
	}
	return all
}

type relayFixture struct {
	st    *Store
	relay *Relay
	fake  *fakeSends
	log   *bytes.Buffer
}

func newRelayFixture(t *testing.T) *relayFixture {
	t.Helper()
	ctx := context.Background()
	st, err := OpenStore(ctx, filepath.Join(t.TempDir(), "relay.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var log bytes.Buffer
	pub, err := NewPublisher(Brokers("127.0.0.1:1"), WithCodec(stubCodec{}), WithLogger(slog.New(slog.NewJSONHandler(&log, nil))))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	f := &fakeSends{acked: map[string]int{}}
	r := NewRelay(st, pub, 0)
	r.send = f.send
	return &relayFixture{st: st, relay: r, fake: f, log: &log}
}

// row is an outbox row to enqueue: its event id, key (nil: none) and value
// size.
type row struct {
	id   string
	key  []byte
	size int
}

func (fx *relayFixture) enqueue(t *testing.T, rows ...row) {
	t.Helper()
	ctx := context.Background()
	tx, err := fx.st.DB().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		rec := &kgo.Record{Topic: "things", Key: r.key, Value: bytes.Repeat([]byte{'v'}, max(r.size, 1)), Headers: []kgo.RecordHeader{
			{Key: wire.HeaderEventID, Value: []byte(r.id)}, {Key: wire.HeaderEventType, Value: []byte("contrail.test.Thing")},
		}}
		if err := fx.st.Enqueue(ctx, tx, rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// outbox returns the event ids left in the outbox, oldest first.
func (fx *relayFixture) outbox(t *testing.T) []string {
	t.Helper()
	rows, err := fx.st.pending(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, HeaderValue(r.r, wire.HeaderEventID))
	}
	return ids
}

func (fx *relayFixture) parkedErrors(t *testing.T) map[string]string {
	t.Helper()
	rows, err := fx.st.DB().Query(`SELECT event_id, error FROM contrail_outbox_parked`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, msg string
		if err := rows.Scan(&id, &msg); err != nil {
			t.Fatal(err)
		}
		out[id] = msg
	}
	return out
}

func indexOf(ids []string, id string) int {
	for i, x := range ids {
		if x == id {
			return i
		}
	}
	return -1
}

var errUnreachable = errors.New("broker unreachable (test)")

// TestFlushHoldsLaterRowsOfAFailedKey: a row that fails for a reason that
// can pass stays, the later rows of its key are not even produced (so they
// cannot overtake it, whatever the client does after a failure), the other
// keys' rows are published once and deleted.
func TestFlushHoldsLaterRowsOfAFailedKey(t *testing.T) {
	fx := newRelayFixture(t)
	k, j := []byte("order-k"), []byte("order-j")
	fx.enqueue(t, row{id: "k1", key: k}, row{id: "j1", key: j}, row{id: "k2", key: k}, row{id: "none", key: nil}, row{id: "j2", key: j}, row{id: "k3", key: k})
	down := true
	fx.fake.outcome = func(ids []string) []error {
		out := make([]error, len(ids))
		for i, id := range ids {
			if id == "k1" && down {
				out[i] = errUnreachable
			}
		}
		return out
	}
	n, err := fx.relay.Flush(context.Background())
	if !errors.Is(err, errUnreachable) {
		t.Fatalf("Flush error %v, want one wrapping the row's failure", err)
	}
	if n != 3 {
		t.Errorf("Flush published %d, want 3 (j1, none, j2)", n)
	}
	sent := fx.fake.sent()
	for _, id := range []string{"k2", "k3"} {
		if indexOf(sent, id) >= 0 {
			t.Errorf("%s was produced while k1, an earlier row of its key, had failed: sends %v", id, fx.fake.calls)
		}
	}
	if got := fx.outbox(t); strings.Join(got, ",") != "k1,k2,k3" {
		t.Errorf("outbox holds %v, want k1,k2,k3", got)
	}

	down = false
	for range 3 {
		if _, err := fx.relay.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"k1", "j1", "k2", "none", "j2", "k3"} {
		if fx.fake.acked[id] != 1 {
			t.Errorf("%s acknowledged %d times, want once", id, fx.fake.acked[id])
		}
	}
	// k's rows went out in order, each in a later call than the one before.
	call := map[string]int{}
	for i, c := range fx.fake.calls {
		for _, id := range c {
			call[id] = i // the last call that carried id
		}
	}
	if !(call["k1"] < call["k2"] && call["k2"] < call["k3"]) {
		t.Errorf("k's rows sent as %v, want k1, k2, k3 each after the one before", fx.fake.calls)
	}
	if got := fx.outbox(t); len(got) != 0 {
		t.Errorf("outbox holds %v after the broker came back", got)
	}
}

// TestFlushParksOnlyTheRowRefusedAlone mimics a broker that refuses a
// partition's whole batch when one record is too large (franz-go then
// fails every buffered record of the partition with MESSAGE_TOO_LARGE):
// only the row that fails on its own is parked; the others are published
// once, and later rows of the parked row's key go on without it.
func TestFlushParksOnlyTheRowRefusedAlone(t *testing.T) {
	fx := newRelayFixture(t)
	k := []byte("order-k")
	fx.enqueue(t, row{id: "a", key: []byte("order-a")}, row{id: "big", key: k, size: 2 << 20}, row{id: "b", key: []byte("order-b")}, row{id: "k2", key: k})
	tooLarge := fmt.Errorf("%w (uncompressed_bytes=2097152, compressed_bytes=2097152)", kerr.MessageTooLarge)
	fx.fake.outcome = func(ids []string) []error {
		out := make([]error, len(ids))
		if indexOf(ids, "big") >= 0 {
			for i := range out {
				out[i] = tooLarge
			}
		}
		return out
	}
	for i := range 3 {
		n, err := fx.relay.Flush(context.Background())
		if err != nil {
			t.Fatalf("flush %d: %v (a parked row is not an error)", i, err)
		}
		if want := []int{3, 0, 0}[i]; n != want {
			t.Errorf("flush %d published %d, want %d", i, n, want)
		}
	}
	for _, id := range []string{"a", "b", "k2"} {
		if fx.fake.acked[id] != 1 {
			t.Errorf("%s acknowledged %d times, want once (sends %v)", id, fx.fake.acked[id], fx.fake.calls)
		}
	}
	if got := fx.outbox(t); len(got) != 0 {
		t.Errorf("outbox holds %v, want nothing", got)
	}
	parked := fx.parkedErrors(t)
	if len(parked) != 1 || !strings.Contains(parked["big"], "MESSAGE_TOO_LARGE") {
		t.Errorf("parked %v, want only big with its MESSAGE_TOO_LARGE error", parked)
	}
	if n, _ := fx.st.Parked(context.Background()); n != 1 {
		t.Errorf("Parked() = %d, want 1", n)
	}
	if want := `contrail_outbox_parked_total{topic="things"} 1`; !strings.Contains(scrapeMetrics(t, fx.relay.pub.Metrics()), want+"\n") {
		t.Errorf("metrics lack %s", want)
	}
	logs := fx.log.String()
	if c := strings.Count(logs, `"level":"ERROR"`); c != 1 || !strings.Contains(logs, `"event_id":"big"`) || !strings.Contains(logs, `"key":"order-k"`) || !strings.Contains(logs, `"size":2097`) {
		t.Errorf("want one error line naming event big, its key and size; got %d:\n%s", c, logs)
	}

	// docs/operations.md's requeue puts it back; once the broker takes
	// it, it goes out once.
	var id int64
	if err := fx.st.DB().QueryRow(`SELECT id FROM contrail_outbox_parked`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.st.DB().Exec(strings.ReplaceAll(docsRequeueSQL(t), "42", strconv.FormatInt(id, 10))); err != nil {
		t.Fatalf("the requeue of docs/operations.md: %v", err)
	}
	fx.fake.outcome = nil
	if n, err := fx.relay.Flush(context.Background()); n != 1 || err != nil {
		t.Fatalf("Flush after the requeue = %d, %v; want 1, nil", n, err)
	}
	if fx.fake.acked["big"] != 1 {
		t.Errorf("the requeued row acknowledged %d times, want once", fx.fake.acked["big"])
	}
	if n, _ := fx.st.Parked(context.Background()); n != 0 {
		t.Errorf("%d rows still parked after the requeue", n)
	}
}

// docsRequeueSQL returns the requeue statements of docs/operations.md (for
// the parked row with id 42).
func docsRequeueSQL(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "operations.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	start := strings.Index(doc, "```sql\nBEGIN IMMEDIATE;\nINSERT INTO contrail_outbox ")
	if start < 0 {
		t.Fatal("docs/operations.md has no requeue block (```sql BEGIN IMMEDIATE; INSERT INTO contrail_outbox ...)")
	}
	block := doc[start+len("```sql\n"):]
	return block[:strings.Index(block, "```")]
}

// TestFlushParksNothingWhenEveryRowGoesAlone: a broker whose
// max.message.bytes is below the client's batch size refuses batches of
// small records; each then goes on its own and nothing is parked.
func TestFlushParksNothingWhenEveryRowGoesAlone(t *testing.T) {
	fx := newRelayFixture(t)
	fx.enqueue(t, row{id: "a", key: []byte("a")}, row{id: "b", key: []byte("b")}, row{id: "c", key: []byte("c")})
	fx.fake.outcome = func(ids []string) []error {
		out := make([]error, len(ids))
		if len(ids) > 1 {
			for i := range out {
				out[i] = kerr.MessageTooLarge
			}
		}
		return out
	}
	n, err := fx.relay.Flush(context.Background())
	if err != nil || n != 3 {
		t.Fatalf("Flush = %d, %v; want 3, nil", n, err)
	}
	if p, _ := fx.st.Parked(context.Background()); p != 0 {
		t.Errorf("%d rows parked, want none", p)
	}
}

func TestPermanentProduceError(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"client-side too large", fmt.Errorf("%w (uncompressed_bytes=1048700)", kerr.MessageTooLarge), true},
		{"broker-side too large", kerr.MessageTooLarge, true},
		{"record list too large", kerr.RecordListTooLarge, true},
		{"invalid record", kerr.InvalidRecord, true},
		{"invalid topic", kerr.InvalidTopicException, true},
		{"corrupt message (wire fault)", kerr.CorruptMessage, false},
		{"topic authorization (operator fixes ACLs)", kerr.TopicAuthorizationFailed, false},
		{"unknown topic", kerr.UnknownTopicOrPartition, false},
		{"record timeout", fmt.Errorf("%w, last err: %w", kgo.ErrRecordTimeout, kerr.NotLeaderForPartition), false},
		{"cancelled", context.Canceled, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := permanentProduceError(tt.err); got != tt.want {
				t.Errorf("permanentProduceError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestStoreAddsParkedTableToAnExistingDatabase opens a database made with
// the tables of before parking, with a row in its outbox.
func TestStoreAddsParkedTableToAnExistingDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`
CREATE TABLE contrail_inbox (consumer_group TEXT NOT NULL, event_id TEXT NOT NULL, topic TEXT NOT NULL,
	partition INTEGER NOT NULL, offset INTEGER NOT NULL,
	handled_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), PRIMARY KEY (consumer_group, event_id));
CREATE TABLE contrail_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key BLOB, value BLOB,
	headers TEXT NOT NULL, created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')));
INSERT INTO contrail_outbox (topic, key, value, headers) VALUES ('things', 'k', 'v', '[]');`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	for range 2 { // and again, now that the table exists
		st, err := OpenStore(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := st.Pending(ctx); err != nil || n != 1 {
			t.Errorf("Pending = %d, %v; want the old row", n, err)
		}
		if n, err := st.Parked(ctx); err != nil || n != 0 {
			t.Errorf("Parked = %d, %v; want an empty parked table", n, err)
		}
		st.Close()
	}
}

func scrapeMetrics(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, err := io.ReadAll(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
