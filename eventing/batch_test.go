package eventing_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// metric returns the value line of a metric with the given labels, e.g.
// `contrail_inbox_batches_total{group="g"} 1`, or "" when absent.
func metric(t *testing.T, m *eventing.Metrics, nameAndLabels string) string {
	t.Helper()
	for _, l := range strings.Split(scrape(t, m), "\n") {
		if strings.HasPrefix(l, nameAndLabels+" ") {
			return l
		}
	}
	return ""
}

// openState opens a store in a temporary directory with the applied table.
func openState(t *testing.T) *eventing.Store {
	t.Helper()
	return openStateAt(t, filepath.Join(t.TempDir(), "state.db"))
}

// openStateAt opens the store at path (closed when the test ends) and
// creates the applied table applyThing writes to.
func openStateAt(t *testing.T, path string) *eventing.Store {
	t.Helper()
	st, err := eventing.OpenStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.DB().Exec(appliedDDL); err != nil {
		t.Fatal(err)
	}
	return st
}

func appliedSeqs(t *testing.T, st *eventing.Store) []int {
	t.Helper()
	rows, err := st.DB().Query(`SELECT seq FROM applied ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var s int
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func TestBatchOfRecordsCommitsOnceWithAllEffects(t *testing.T) {
	e := newEnv(t, 1, "things", "echoes")
	tb, eb := thingBinding("things"), echoBinding("echoes")
	st := openState(t)
	const n = 40
	// Everything is on the partition before the router starts, so its
	// first poll holds all n records.
	e.publish(tb, things(n, 4, ""))
	r := e.router("batch-once", eventing.WithInbox(st), eventing.BatchTransactions(100))
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		if err := applyThing(ctx, th); err != nil {
			return err
		}
		return eventing.Emit(ctx, eb, &Echo{OrderID: th.OrderID, Seq: th.Seq})
	})
	stop := run(t, r)
	e.readAll("echoes", n) // waits for them
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	echoes := e.readAll("echoes", n) // all there are: the router stopped
	if len(echoes) != n {
		t.Fatalf("%d echoes relayed, want %d", len(echoes), n)
	}
	if got := appliedSeqs(t, st); len(got) != n {
		t.Fatalf("applied %d state changes, want %d", len(got), n)
	}
	if got := countRows(t, st.DB(), `SELECT count(*) FROM contrail_inbox`); got != n {
		t.Fatalf("%d inbox rows, want %d", got, n)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batches_total{group="batch-once"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("batch transactions: %q, want exactly 1 commit for %d records of one poll", l, n)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batch_records_total{group="batch-once"}`); !strings.HasSuffix(l, fmt.Sprintf(" %d", n)) {
		t.Fatalf("batched records: %q, want %d", l, n)
	}
	e.checkAllCommitted("batch-once", "things")
}

func TestBatchSizeIsBounded(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	st := openState(t)
	const n = 25
	e.publish(tb, things(n, 1, ""))
	r := e.router("batch-bounded", eventing.WithInbox(st), eventing.BatchTransactions(10))
	eventing.Handle(r, tb, applyThing)
	stop := run(t, r)
	waitFor(t, "every record", func() bool { return countRows(t, st.DB(), `SELECT count(*) FROM applied`) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batches_total{group="batch-bounded"}`); !strings.HasSuffix(l, " 3") {
		t.Fatalf("batch transactions: %q, want 3 (10 + 10 + 5)", l)
	}
	if got := appliedSeqs(t, st); !slices.Equal(got, seqRange(0, n)) {
		t.Fatalf("applied %v, want 0..%d in order", got, n-1)
	}
}

func seqRange(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

// TestBatchFailureMidBatchIsRolledBackAndDeadLettered: a record that fails
// inside a batch transaction (after writing and emitting) breaks the
// batch: nothing of it commits, and its records are handled again one
// transaction each, where the bad one is dead-lettered and the flaky one
// retried; every good record's effects commit once.
func TestBatchFailureMidBatchIsRolledBackAndDeadLettered(t *testing.T) {
	e := newEnv(t, 1, "things", "echoes")
	tb, eb := thingBinding("things"), echoBinding("echoes")
	ctx := context.Background()
	st := openState(t)
	const n, bad, flaky = 10, 4, 6
	e.publish(tb, things(n, 1, ""))
	r := e.router("batch-fail", eventing.WithInbox(st), eventing.BatchTransactions(100))
	var flakyFailed atomic.Bool
	var attempts atomic.Int32
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		attempts.Add(1)
		// Write state and emit first, then fail: both must be undone.
		if err := applyThing(ctx, th); err != nil {
			return err
		}
		if err := eventing.Emit(ctx, eb, &Echo{OrderID: th.OrderID, Seq: th.Seq}); err != nil {
			return err
		}
		switch {
		case th.Seq == bad:
			return eventing.Permanent(errors.New("bad record"))
		case th.Seq == flaky && flakyFailed.CompareAndSwap(false, true):
			return errors.New("transient, after writing")
		}
		return nil
	})
	stop := run(t, r)
	e.readAll("things.dlq", 1) // waits for them all
	e.readAll("echoes", n-1)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	dls := e.readAll("things.dlq", 1) // all there are: the router stopped
	echoes := e.readAll("echoes", n-1)
	if len(dls) != 1 || eventing.HeaderValue(dls[0], wire.HeaderDLQOffset) != fmt.Sprint(bad) ||
		eventing.HeaderValue(dls[0], wire.HeaderDLQErrorClass) != string(eventing.ClassPermanent) {
		t.Fatalf("dead letters %d (offset %q), want 1 for offset %d, class permanent", len(dls), eventing.HeaderValue(dls[0], wire.HeaderDLQOffset), bad)
	}
	want := slices.DeleteFunc(seqRange(0, n), func(s int) bool { return s == bad })
	if got := appliedSeqs(t, st); !slices.Equal(got, want) {
		t.Fatalf("applied %v, want %v: the failed record's writes or the failed attempt's were kept", got, want)
	}
	if len(echoes) != n-1 {
		t.Fatalf("%d echoes, want %d: a failed attempt's emitted event leaked", len(echoes), n-1)
	}
	for _, rec := range echoes {
		var echo Echo
		if err := e.codec.Decode(ctx, rec.Value, eb, &echo); err != nil {
			t.Fatal(err)
		}
		if echo.Seq == bad {
			t.Fatalf("echo of the dead-lettered record %d was relayed", bad)
		}
	}
	if got := countRows(t, st.DB(), `SELECT count(*) FROM contrail_inbox`); got != n-1 {
		t.Fatalf("%d inbox rows, want %d (the dead-lettered record is not in the inbox, as without batching)", got, n-1)
	}
	// The batch pass up to the bad record (bad+1 calls), then every record
	// alone, the flaky one twice.
	if want := int32(bad + 1 + n + 1); attempts.Load() != want {
		t.Fatalf("%d handler calls, want %d (the broken batch's %d, then each record once and the flaky one twice)", attempts.Load(), want, bad+1)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batch_failures_total{group="batch-fail"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("batch failures: %q, want the poll's batch broken once", l)
	}
	e.checkAllCommitted("batch-fail", "things")
}

func TestBatchDropsDuplicatesWithinTheBatch(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	st := openState(t)
	in := things(5, 1, "")
	// Records 1, 2 and 4 carry the same event id: a producer's retry.
	for _, i := range []int{1, 2, 4} {
		in[i].Metadata.EventID = "same-event"
	}
	e.publish(tb, in)
	r := e.router("batch-dups", eventing.WithInbox(st), eventing.BatchTransactions(100))
	eventing.Handle(r, tb, applyThing)
	stop := run(t, r)
	waitFor(t, "the duplicates to be dropped", func() bool {
		return strings.HasSuffix(metric(t, r.Metrics(), `contrail_handler_duplicates_total{group="batch-dups",handler="contrail.test.Thing"}`), " 2")
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := appliedSeqs(t, st); !slices.Equal(got, []int{0, 1, 3}) {
		t.Fatalf("applied %v, want [0 1 3]: only the first of the same event id", got)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batches_total{group="batch-dups"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("batch transactions: %q, want 1", l)
	}
	e.checkAllCommitted("batch-dups", "things")
}

func TestBatchOffIsOneTransactionPerRecord(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	st := openState(t)
	e.publish(tb, things(5, 1, ""))
	r := e.router("batch-off", eventing.WithInbox(st), eventing.BatchTransactions(0))
	eventing.Handle(r, tb, applyThing)
	stop := run(t, r)
	waitFor(t, "every record", func() bool { return countRows(t, st.DB(), `SELECT count(*) FROM applied`) == 5 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batches_total{group="batch-off"}`); l != "" {
		t.Fatalf("batch transactions %q with BatchTransactions(0)", l)
	}
	if _, err := eventing.NewRouter(eventing.WithCodec(e.codec), eventing.Group("g"), eventing.BatchTransactions(-1)); err == nil || !strings.Contains(err.Error(), "BatchTransactions") {
		t.Fatalf("BatchTransactions(-1): err = %v, want a validation error naming the option", err)
	}
}

func TestCrashMidBatchRedeliversAndInboxDropsCommittedBatches(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: slow, runs in make test")
	}
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	const n, batch, hangAt = 20, 5, 12
	e.publish(tb, things(n, 3, ""))
	dir := t.TempDir()
	dbPath, hangFile := filepath.Join(dir, "state.db"), filepath.Join(dir, "hanging")
	st := openStateAt(t, dbPath)
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"=1", "BROKER="+e.addr, "DB="+dbPath,
		"REGISTRY_URL="+e.registryURL, fmt.Sprintf("BATCH=%d", batch), fmt.Sprintf("HANG_AT=%d", hangAt), "HANG_FILE="+hangFile)
	var stderr strings.Builder
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to hang in its third batch", func() bool { _, err := os.Stat(hangFile); return err == nil })
	// Records 10 and 11 are handled in the open third batch: not committed.
	if got := countRows(t, st.DB(), `SELECT count(*) FROM applied`); got != 10 {
		t.Fatalf("%d state changes committed while the third batch is open, want 10 (two batches of %d)", got, batch)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if got, _ := e.committed("crash-test", "things"); len(got) != 0 {
		t.Fatalf("the child committed offsets %v before the kill; the test needs it not to", got)
	}

	r := e.router("crash-test", eventing.WithInbox(st), eventing.BatchTransactions(batch))
	var handled atomic.Int32
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		handled.Add(1)
		return applyThing(ctx, th)
	})
	stop := run(t, r)
	waitFor(t, "every record", func() bool { return countRows(t, st.DB(), `SELECT count(*) FROM applied`) >= n })
	waitFor(t, "the committed batches' records to be dropped", func() bool {
		return strings.HasSuffix(metric(t, r.Metrics(), `contrail_handler_duplicates_total{group="crash-test",handler="contrail.test.Thing"}`), " 10")
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := appliedSeqs(t, st); !slices.Equal(got, seqRange(0, n)) {
		t.Fatalf("applied %v, want each of 0..%d once", got, n-1)
	}
	if handled.Load() != n-10 {
		t.Fatalf("handler ran %d times after the restart, want %d (the uncommitted batch and the rest)", handled.Load(), n-10)
	}
	e.checkAllCommitted("crash-test", "things")
	if t.Failed() {
		t.Log("child stderr:", stderr.String())
	}
}

func TestBatchCommitFailureMarksNothingAndRedoesRecordsOneByOne(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	st := openState(t)
	// A deferred foreign key is checked at COMMIT: a record that writes an
	// orphan row makes its transaction's commit fail, with all of its
	// statements having succeeded.
	if _, err := st.DB().Exec(`PRAGMA foreign_keys = ON;
		CREATE TABLE parent (id INTEGER PRIMARY KEY);
		CREATE TABLE child (parent_id INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	const n, orphan = 6, 3
	e.publish(tb, things(n, 1, ""))
	r := e.router("batch-commit-fails", eventing.WithInbox(st), eventing.BatchTransactions(100))
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		if th.Seq == orphan {
			if _, err := eventing.Tx(ctx).ExecContext(ctx, `INSERT INTO child VALUES (42)`); err != nil {
				return err
			}
		}
		return applyThing(ctx, th)
	})
	stop := run(t, r)
	e.readAll("things.dlq", 1) // waits for it
	waitFor(t, "the other records", func() bool { return countRows(t, st.DB(), `SELECT count(*) FROM applied`) == n-1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	dls := e.readAll("things.dlq", 1) // all there are: the router stopped
	if len(dls) != 1 || eventing.HeaderValue(dls[0], wire.HeaderDLQOffset) != fmt.Sprint(orphan) {
		t.Fatalf("%d dead letters, want 1 for offset %d (its own commit fails for good)", len(dls), orphan)
	}
	want := slices.DeleteFunc(seqRange(0, n), func(s int) bool { return s == orphan })
	if got := appliedSeqs(t, st); !slices.Equal(got, want) {
		t.Fatalf("applied %v, want %v", got, want)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batch_failures_total{group="batch-commit-fails"}`); !strings.HasSuffix(l, " 1") {
		t.Fatalf("batch failures: %q, want 1", l)
	}
	if l := metric(t, r.Metrics(), `contrail_inbox_batches_total{group="batch-commit-fails"}`); l != "" {
		t.Fatalf("batch commits: %q, want none (the failed batch's records were redone one transaction each)", l)
	}
	e.checkAllCommitted("batch-commit-fails", "things")
}

// TestBatchStoppedBeforeARecordLeavesTheRestUnhandled: a batch records its
// records' inbox rows up front, in one statement; when it stops before some
// of them (here at a record without a type header, which is resolved and
// handled alone), their rows are taken back before it commits, so each of
// them is still handled, once.
func TestBatchStoppedBeforeARecordLeavesTheRestUnhandled(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	ctx := context.Background()
	st := openState(t)
	const n, untyped = 6, 3
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i, th := range things(n, 1, "") {
		rec, err := e.pub.Record(ctx, tb, th)
		if err != nil {
			t.Fatal(err)
		}
		if i == untyped {
			rec.Headers = slices.DeleteFunc(rec.Headers, func(h kgo.RecordHeader) bool { return h.Key == wire.HeaderEventType })
		}
		if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	r := e.router("batch-stop", eventing.WithInbox(st), eventing.BatchTransactions(100))
	eventing.Handle(r, tb, applyThing)
	stop := run(t, r)
	waitFor(t, "every record", func() bool { return countRows(t, st.DB(), `SELECT count(*) FROM applied`) >= n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := appliedSeqs(t, st); !slices.Equal(got, seqRange(0, n)) {
		t.Fatalf("applied %v, want each of %v once: a record after the batch stopped was taken for handled", got, seqRange(0, n))
	}
	if got := countRows(t, st.DB(), `SELECT count(*) FROM contrail_inbox`); got != n {
		t.Fatalf("%d inbox rows, want %d", got, n)
	}
	e.checkAllCommitted("batch-stop", "things")
}

// TestDeferredWritesOnceBeforeTheBatchCommits: a handler's writes kept with
// Deferred reach the database in one flush per batch transaction, inside
// it; without batches (BatchTransactions(0)) Deferred declines and the
// handler writes at once.
func TestDeferredWritesOnceBeforeTheBatchCommits(t *testing.T) {
	type seqs struct{ v []int }
	type key struct{}
	for _, c := range []struct {
		name    string
		batch   int
		flushes int32
	}{{"batched", 100, 1}, {"one transaction per record", 0, 0}} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, 1, "things")
			tb := thingBinding("things")
			st := openState(t)
			const n = 5
			e.publish(tb, things(n, 1, ""))
			var flushes atomic.Int32
			flush := func(ctx context.Context, tx *sql.Tx, s *seqs) error {
				flushes.Add(1)
				q, args := `INSERT INTO applied (event_id, seq) VALUES `, []any{}
				for i, v := range s.v {
					if i > 0 {
						q += ", "
					}
					q += "(?, ?)"
					args = append(args, fmt.Sprintf("deferred-%d", v), v)
				}
				_, err := tx.ExecContext(ctx, q, args...)
				return err
			}
			r := e.router("deferred-"+strconv.Itoa(c.batch), eventing.WithInbox(st), eventing.BatchTransactions(c.batch))
			eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
				tx := eventing.Tx(ctx)
				if s, ok := eventing.Deferred(ctx, tx, key{}, func() *seqs { return &seqs{} }, flush); ok {
					s.v = append(s.v, th.Seq)
					return nil
				}
				return flush(ctx, tx, &seqs{v: []int{th.Seq}})
			})
			stop := run(t, r)
			waitFor(t, "every record", func() bool { return countRows(t, st.DB(), `SELECT count(*) FROM applied`) >= n })
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			if got := appliedSeqs(t, st); !slices.Equal(got, seqRange(0, n)) {
				t.Fatalf("applied %v, want each of %v once", got, seqRange(0, n))
			}
			if c.batch > 0 && flushes.Load() != c.flushes {
				t.Fatalf("%d deferred flushes for one batch, want %d", flushes.Load(), c.flushes)
			}
			if c.batch == 0 && flushes.Load() != n {
				t.Fatalf("%d writes without batches, want one per record (%d)", flushes.Load(), n)
			}
		})
	}
}

// connProbe is a codec that, on every Decode, checks whether the store's
// one SQLite connection is free (no transaction holds it) and counts both.
type connProbe struct {
	eventing.Codec
	db           *sql.DB
	free, inTx   atomic.Int32
	decodedTotal atomic.Int32
}

func (c *connProbe) Decode(ctx context.Context, data []byte, t events.Type, out any) error {
	c.decodedTotal.Add(1)
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	if conn, err := c.db.Conn(cctx); err == nil {
		c.free.Add(1)
		conn.Close()
	} else {
		c.inTx.Add(1)
	}
	return c.Codec.Decode(ctx, data, t, out)
}

func TestBatchDecodesBeforeItsTransactionBegins(t *testing.T) {
	e := newEnv(t, 1, "things")
	tb := thingBinding("things")
	st := openState(t)
	const n = 30
	e.publish(tb, things(n, 3, ""))
	probe := &connProbe{Codec: e.codec, db: st.DB()}
	r := e.router("batch-predecode", eventing.WithInbox(st), eventing.BatchTransactions(100), eventing.WithCodec(probe))
	eventing.Handle(r, tb, applyThing)
	stop := run(t, r)
	waitFor(t, "every record", func() bool { return countRows(t, st.DB(), `SELECT count(*) FROM applied`) == n })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := appliedSeqs(t, st); !slices.Equal(got, seqRange(0, n)) {
		t.Fatalf("applied %v, want 0..%d in order", got, n-1)
	}
	// Every value was decoded once, with the connection free: the batch
	// decoded its records before it began its transaction.
	if got := probe.decodedTotal.Load(); got != n {
		t.Fatalf("%d decodes, want %d (one per record)", got, n)
	}
	if got := probe.inTx.Load(); got != 0 {
		t.Fatalf("%d of %d decodes ran while a transaction held the connection, want 0", got, n)
	}
}
