package main

import (
	"context"
	"io"
	"strings"
	"sync"
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
// stop returns the exit code.
func startBrokerCmd(t *testing.T, args ...string) (addr string, stop func() int) {
	t.Helper()
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
