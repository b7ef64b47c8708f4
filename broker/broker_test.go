package broker_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// childEnv makes the test binary run a broker instead of tests: the
// kill -9 test re-executes itself so it can kill a real process.
const childEnv = "CONTRAIL_BROKER_TEST_CHILD"

func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		os.Exit(runChild(dir))
	}
	os.Exit(m.Run())
}

// runChild runs a persistent broker on a free port, prints its address and
// blocks until killed or told to stop on stdin (EOF = clean close).
func runChild(dir string) int {
	b, err := broker.New(broker.Addr("127.0.0.1:0"), broker.DataDir(dir),
		broker.Topics(broker.Topic{Name: "orders", Partitions: 2}))
	if err == nil {
		err = b.Start()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ADDR", b.Addr())
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // blocks until EOF
	if err := b.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

type child struct {
	cmd   *exec.Cmd
	stdin interface{ Close() error }
	addr  string
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ADDR ") {
		t.Fatalf("child broker did not report its address: %q, %v", line, err)
	}
	return &child{cmd: cmd, stdin: in, addr: strings.TrimSpace(strings.TrimPrefix(line, "ADDR "))}
}

func (c *child) stopClean(t *testing.T) {
	t.Helper()
	c.stdin.Close()
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child broker exit: %v", err)
	}
}

func (c *child) kill9(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// state is what must survive a restart.
type state struct {
	values    []string // read_committed values of topic orders, by partition then offset
	committed map[int32]int64
}

// writeState produces plain records, commits group offsets, commits one
// transaction and aborts another, and leaves a third open.
func writeState(t *testing.T, addr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("orders"), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 6 {
		r := &kgo.Record{Key: []byte(fmt.Sprint("k", i%3)), Value: []byte(fmt.Sprint("plain-", i))}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	adm := kadm.NewClient(cl)
	offs := kadm.Offsets{}
	offs.AddOffset("orders", 0, 2, -1)
	offs.AddOffset("orders", 1, 1, -1)
	resp, err := adm.CommitOffsets(ctx, "g1", offs)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("commit offsets: %v", err)
	}

	txn := func(id, value string, end kgo.TransactionEndTry, finish bool) {
		tc, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("orders"),
			kgo.TransactionalID(id), kgo.ProducerLinger(0), kgo.TransactionTimeout(2*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		defer tc.Close()
		if err := tc.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if err := tc.ProduceSync(ctx, &kgo.Record{Key: []byte("k0"), Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatalf("txn produce: %v", err)
		}
		if finish {
			if err := tc.EndTransaction(ctx, end); err != nil {
				t.Fatalf("end txn: %v", err)
			}
		}
	}
	txn("tx-commit", "txn-committed", kgo.TryCommit, true)
	txn("tx-abort", "txn-aborted", kgo.TryAbort, true)
	txn("tx-open", "txn-open", kgo.TryCommit, false) // never ended
}

func readState(t *testing.T, addr string) state {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"orders": {0: kgo.NewOffset().AtStart(), 1: kgo.NewOffset().AtStart()}}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	// The open transaction survives the restart as an open transaction, as in
	// Kafka: it pins the last stable offset of its partition until its 2s
	// timeout aborts it. A sentinel produced after the restart to the same
	// partition becomes visible to read_committed only then.
	pc, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.DefaultProduceTopic("orders"), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := pc.ProduceSync(ctx, &kgo.Record{Key: []byte("k0"), Value: []byte("sentinel")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	var st state
	byPart := map[int32][]string{}
	for !slices.Contains(byPart[0], "sentinel") && !slices.Contains(byPart[1], "sentinel") {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read_committed consumer never reached the sentinel (open transaction not aborted?): have %v", byPart)
		}
		fs.EachRecord(func(r *kgo.Record) {
			byPart[r.Partition] = append(byPart[r.Partition], string(r.Value))
		})
	}
	for _, p := range []int32{0, 1} {
		st.values = append(st.values, byPart[p]...)
	}
	resp, err := adm.FetchOffsets(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	st.committed = map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) { st.committed[o.Partition] = o.At })
	return st
}

func checkState(t *testing.T, st state) {
	t.Helper()
	for i := range 6 {
		if !slices.Contains(st.values, fmt.Sprint("plain-", i)) {
			t.Errorf("record plain-%d lost; have %v", i, st.values)
		}
	}
	if !slices.Contains(st.values, "txn-committed") {
		t.Errorf("committed transaction's record lost; have %v", st.values)
	}
	for _, v := range []string{"txn-aborted", "txn-open"} {
		if slices.Contains(st.values, v) {
			t.Errorf("read_committed consumer sees %q from an aborted/unfinished transaction", v)
		}
	}
	if st.committed[0] != 2 || st.committed[1] != 1 {
		t.Errorf("committed offsets = %v, want partition 0 at 2 and 1 at 1", st.committed)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(*child, *testing.T)
	}{
		{name: "clean close", stop: (*child).stopClean},
		{name: "kill -9", stop: (*child).kill9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			c := startChild(t, dir)
			writeState(t, c.addr)
			tc.stop(c, t)

			c2 := startChild(t, dir)
			checkState(t, readState(t, c2.addr))
			c2.stopClean(t)
		})
	}
}

func TestSeedsTopicsAndDeadLetterTopics(t *testing.T) {
	b := brokertest.Start(t, broker.Partitions(4),
		broker.Topics(broker.Topic{Name: "orders"}, broker.Topic{Name: "payments", Partitions: 2}))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	md, err := kadm.NewClient(cl).ListTopics(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"orders": 4, "orders.dlq": 4, "payments": 2, "payments.dlq": 2}
	for name, n := range want {
		td, ok := md[name]
		if !ok {
			t.Errorf("topic %s missing; have %v", name, md.Names())
			continue
		}
		if len(td.Partitions) != n {
			t.Errorf("topic %s has %d partitions, want %d", name, len(td.Partitions), n)
		}
	}
}

func TestBadOptions(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []broker.Opt
		want string
	}{
		{name: "address without port", opts: []broker.Opt{broker.Addr("localhost")}, want: "not host:port"},
		{name: "zero partitions", opts: []broker.Opt{broker.Partitions(0)}, want: "at least 1"},
		{name: "duplicate topic", opts: []broker.Opt{broker.Topics(broker.Topic{Name: "a"}, broker.Topic{Name: "a"})}, want: "listed twice"},
		{name: "empty topic", opts: []broker.Opt{broker.Topics(broker.Topic{})}, want: "empty name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := broker.New(tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestAddressInUse(t *testing.T) {
	a, _ := broker.New(broker.Addr("127.0.0.1:0"))
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := broker.New(broker.Addr(a.Addr()))
	if err := b.Start(); err == nil {
		b.Close()
		t.Fatal("second broker on the same address started")
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); !errors.Is(err, broker.ErrClosed) {
		t.Fatalf("Start after Close = %v, want ErrClosed", err)
	}
}
