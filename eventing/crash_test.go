package eventing_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/registry/serde"
)

// The crash test re-executes the test binary as a consumer process so it can
// kill -9 it between handling and committing.
const crashChildEnv = "CONTRAIL_RUNTIME_CRASH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// crashChild handles events with the inbox on a SQLite file and never
// commits offsets (1h interval), until it is killed.
func crashChild() int {
	fail := func(err error) int { fmt.Fprintln(os.Stderr, "crash child:", err); return 1 }
	ctx := context.Background()
	cl, err := sr.NewClient(sr.URLs(os.Getenv("REGISTRY_URL")))
	if err != nil {
		return fail(err)
	}
	codec, err := serde.New(cl)
	if err != nil {
		return fail(err)
	}
	st, err := eventing.OpenStore(ctx, os.Getenv("DB"))
	if err != nil {
		return fail(err)
	}
	batch := eventing.DefaultBatchTransactions
	if v := os.Getenv("BATCH"); v != "" {
		batch, _ = strconv.Atoi(v)
	}
	handler := applyThing
	if v := os.Getenv("HANG_AT"); v != "" {
		// Hang (until killed) in the middle of a batch, after telling the
		// test through HANG_FILE.
		at, _ := strconv.Atoi(v)
		handler = func(ctx context.Context, th *Thing) error {
			if th.Seq == at {
				_ = os.WriteFile(os.Getenv("HANG_FILE"), nil, 0o644)
				select {}
			}
			return applyThing(ctx, th)
		}
	}
	r, err := eventing.NewRouter(eventing.Brokers(os.Getenv("BROKER")), eventing.WithCodec(codec),
		eventing.Group("crash-test"), eventing.WithInbox(st), eventing.CommitInterval(time.Hour), eventing.BatchTransactions(batch),
		// The broker's minimum session timeout: the killed member leaves the
		// group 6s after its death instead of the default 45s.
		eventing.ClientOpts(kgo.SessionTimeout(6*time.Second), kgo.HeartbeatInterval(500*time.Millisecond)))
	if err != nil {
		return fail(err)
	}
	eventing.Handle(r, thingBinding("things"), handler)
	if err := r.Run(ctx); err != nil {
		return fail(err)
	}
	return 0
}

const appliedDDL = `CREATE TABLE IF NOT EXISTS applied (event_id TEXT, seq INTEGER)`

// applyThing is the handler's state change, in the inbox transaction.
func applyThing(ctx context.Context, th *Thing) error {
	_, err := eventing.Tx(ctx).ExecContext(ctx, `INSERT INTO applied (event_id, seq) VALUES (?, ?)`, th.Metadata.EventID, th.Seq)
	return err
}

func countRows(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCrashBetweenHandlingAndCommitRedeliversAndInboxDropsDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: slow, runs in make test")
	}
	e := newEnv(t, 2, "things")
	tb := thingBinding("things")
	const n = 20
	e.publish(tb, things(n, 5, ""))
	dbPath := filepath.Join(t.TempDir(), "state.db")
	st := openStateAt(t, dbPath)

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), crashChildEnv+"=1", "BROKER="+e.addr, "DB="+dbPath,
		"REGISTRY_URL="+e.registryURL)
	var stderr strings.Builder
	child.Stderr = &stderr
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to handle every event", func() bool {
		return countRows(t, st.DB(), `SELECT count(*) FROM applied`) == n
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	if got, _ := e.committed("crash-test", "things"); len(got) != 0 {
		t.Fatalf("the child committed offsets %v before the kill; the test needs it not to", got)
	}

	// Two more events arrive while the consumer is down.
	e.publish(tb, things(2, 2, "late"))
	r := e.router("crash-test", eventing.WithInbox(st))
	var handled atomic.Int32
	eventing.Handle(r, tb, func(ctx context.Context, th *Thing) error {
		handled.Add(1)
		return applyThing(ctx, th)
	})
	stop := run(t, r)
	waitFor(t, "the late events", func() bool {
		return countRows(t, st.DB(), `SELECT count(*) FROM applied`) >= n+2
	})
	waitFor(t, "every redelivery to be seen", func() bool {
		return strings.Contains(scrape(t, r.Metrics()), fmt.Sprintf(`contrail_handler_duplicates_total{group="crash-test",handler="contrail.test.Thing"} %d`, n))
	})
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got := countRows(t, st.DB(), `SELECT count(*) FROM applied`); got != n+2 {
		t.Fatalf("applied %d state changes, want %d: duplicates were applied", got, n+2)
	}
	if got := countRows(t, st.DB(), `SELECT count(DISTINCT event_id) FROM applied`); got != n+2 {
		t.Fatalf("%d distinct events applied, want %d", got, n+2)
	}
	if handled.Load() != 2 {
		t.Fatalf("handler ran %d times after the restart, want 2 (only the late events)", handled.Load())
	}
	e.checkAllCommitted("crash-test", "things")
	if t.Failed() {
		t.Log("child stderr:", stderr.String())
	}
}
