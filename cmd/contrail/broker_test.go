package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/schemas"
)

// syncBuffer is a goroutine-safe writer for a running command's stdout.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// startBrokerCmd runs `contrail broker` until the returned stop is called;
// stop returns the exit code. A test with a broker is an integration test:
// it skips in -short mode.
func startBrokerCmd(t *testing.T, args ...string) (addr string, stop func() int) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a broker: slow, runs in make test")
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"broker", "--addr", "127.0.0.1:0"}, args...), out, io.Discard)
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening on ") {
		select {
		case code := <-done:
			t.Fatalf("broker exited with %d: %s", code, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("broker did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	addr = strings.TrimSpace(strings.SplitN(out.String(), "listening on ", 2)[1])
	return addr, func() int { cancel(); return <-done }
}

func TestBrokerCommandPersistsAcrossCleanShutdown(t *testing.T) {
	dir := t.TempDir()
	addr, stop := startBrokerCmd(t, "--data-dir", dir, "--topic", "things", "--partitions", "2")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "things", Value: []byte("kept")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
	if code := stop(); code != exitOK {
		t.Fatalf("broker exit code %d after cancel (SIGINT), want 0", code)
	}

	addr, stop = startBrokerCmd(t, "--data-dir", dir)
	defer stop()
	cl, err = kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("things", "things.dlq"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	fs := cl.PollFetches(ctx)
	if rs := fs.Records(); len(rs) != 1 || string(rs[0].Value) != "kept" {
		t.Fatalf("after restart read %v (errors %v), want the record produced before", rs, fs.Errors())
	}
}

func TestBrokerCommandCreatesManifestTopics(t *testing.T) {
	addr, stop := startBrokerCmd(t, "--partitions", "5")
	defer stop()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := schemas.Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Topics) == 0 {
		t.Fatal("the built-in manifest lists no topics")
	}
	for _, tp := range set.Topics {
		for _, name := range []string{tp.Name, tp.Name + ".dlq"} {
			td, ok := md[name]
			if !ok || len(td.Partitions) != 5 {
				t.Errorf("topic %s: exists %v, %d partitions; want 5 (--partitions)", name, ok, len(td.Partitions))
			}
		}
	}
}

func TestBrokerCommandRejectsBadFlags(t *testing.T) {
	code, _, errOut := runCLI(t, "broker", "--addr", "nonsense")
	if code != exitError || !strings.Contains(errOut, "host:port") {
		t.Fatalf("code %d stderr %q", code, errOut)
	}
}

// TestBrokerHelperProcess is not a test: the signal and kill tests
// re-execute the test binary with it to run `contrail broker` in a real
// child process, with main's signal handling.
func TestBrokerHelperProcess(t *testing.T) {
	args := os.Getenv("CONTRAIL_BROKER_HELPER_ARGS")
	if args == "" {
		t.Skip("helper process for TestBrokerCommandSignals")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
}

// startBrokerProcess runs `contrail broker` in a child process (see
// TestBrokerHelperProcess) and returns it with the broker's address. It
// skips the test in -short mode, as startBrokerCmd does.
func startBrokerProcess(t *testing.T, args ...string) (*exec.Cmd, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("integration test with a broker process: slow, runs in make test")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestBrokerHelperProcess$")
	cmd.Env = append(os.Environ(), "CONTRAIL_BROKER_HELPER_ARGS="+strings.Join(append([]string{"broker", "--addr", "127.0.0.1:0"}, args...), "\x1f"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if l := sc.Text(); strings.HasPrefix(l, "broker listening on ") {
				addr <- strings.TrimPrefix(l, "broker listening on ")
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(20 * time.Second):
		t.Fatal("broker process did not report its address within 20s")
	}
	return nil, ""
}

func TestBrokerCommandSignals(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sig      os.Signal
		wantExit int // -1: killed
	}{
		{name: "SIGTERM closes cleanly", sig: syscall.SIGTERM, wantExit: 0},
		{name: "SIGINT closes cleanly", sig: os.Interrupt, wantExit: 0},
		{name: "SIGKILL loses nothing acknowledged", sig: syscall.SIGKILL, wantExit: -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cmd, addr := startBrokerProcess(t, "--data-dir", dir, "--no-manifest", "--topic", "things")
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(0))
			if err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "things", Value: []byte(strconv.Itoa(i))}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			cl.Close()
			if err := cmd.Process.Signal(tc.sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tc.wantExit {
				t.Fatalf("exit code %d after %v, want %d", code, tc.sig, tc.wantExit)
			}
			_, addr = startBrokerProcess(t, "--data-dir", dir, "--no-manifest")
			cl, err = kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("things"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			var got []string
			for len(got) < 5 {
				fs := cl.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("after restart read %v, want 5 records", got)
				}
				for _, r := range fs.Records() {
					got = append(got, string(r.Value))
				}
			}
			if strings.Join(got, ",") != "0,1,2,3,4" {
				t.Fatalf("after restart read %v", got)
			}
		})
	}
}
