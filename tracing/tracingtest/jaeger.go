// Package tracingtest runs a real Jaeger for tests and asserts on the traces
// it stores. StartJaeger builds Jaeger from the repository's tools/ module
// and configures it through tracing/jaegerrun (as `contrail up` does),
// starts it on free loopback ports with in-memory storage and stops it when
// the test ends. Tests that use it are end-to-end
// tests: they skip, saying why, only when Jaeger cannot be built.
package tracingtest

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail-events/contrail/tracing/jaegerapi"
	"github.com/contrail-events/contrail/tracing/jaegerrun"
)

// Jaeger is a running Jaeger v2 all-in-one with memory storage.
type Jaeger struct {
	// OTLPHTTP is the OTLP/HTTP base URL (for OTEL_EXPORTER_OTLP_ENDPOINT).
	OTLPHTTP string
	// OTLPGRPC is the OTLP/gRPC URL (http://host:port).
	OTLPGRPC string
	// QueryURL is the query API and UI root (the usual :16686).
	QueryURL string
	// API is a client for QueryURL.
	API *jaegerapi.Client

	log *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartJaeger starts Jaeger for the test and stops it at cleanup. The
// binary is $CONTRAIL_JAEGER_BIN, else tools/bin/jaeger of the repository
// containing the working directory, rebuilt when older than tools/go.mod or
// go.sum (jaegerrun.Binary: builds are serialized across processes and
// installed by rename, so concurrent test binaries never see a half-written
// file). It skips the test if the Jaeger binary cannot be built, and fails
// it if Jaeger does not become healthy within a minute.
func StartJaeger(t testing.TB) *Jaeger {
	t.Helper()
	bin, err := jaegerrun.Binary(context.Background())
	if err != nil {
		t.Skipf("end-to-end tracing test skipped: cannot build Jaeger from tools/ (%v)", err)
	}
	jc, err := jaegerrun.Config{
		OTLPGRPCAddr:  "127.0.0.1:0",
		OTLPHTTPAddr:  "127.0.0.1:0",
		QueryHTTPAddr: "127.0.0.1:0",
		QueryGRPCAddr: "127.0.0.1:0",
		HealthAddr:    "127.0.0.1:0",
		BatchTimeout:  50 * time.Millisecond,
	}.Resolve()
	if err != nil {
		t.Fatalf("tracingtest: %v", err)
	}
	text, err := jc.YAML()
	if err != nil {
		t.Fatalf("tracingtest: %v", err)
	}
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfgPath, text, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), jaegerrun.Env...) // Jaeger must not trace itself
	// Memory storage has nothing to save: stop it with SIGKILL (the default
	// Cancel), which is instant where a graceful stop takes seconds.
	cmd.WaitDelay = 5 * time.Second
	j := &Jaeger{
		OTLPHTTP: "http://" + jc.OTLPHTTPAddr,
		OTLPGRPC: "http://" + jc.OTLPGRPCAddr,
		QueryURL: "http://" + jc.QueryHTTPAddr,
		log:      &lockedBuffer{},
	}
	j.API = &jaegerapi.Client{BaseURL: j.QueryURL}
	cmd.Stdout, cmd.Stderr = j.log, j.log
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("tracingtest: start %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	done := make(chan struct{}) // closed once cmd.Wait returned
	go func() { exited <- cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done // not <-exited: the start loop below may have taken its value
		if t.Failed() {
			t.Logf("jaeger log:\n%s", tail(j.log.String(), 40))
		}
	})
	health := jc.HealthURL()
	deadline := time.Now().Add(time.Minute)
	for {
		select {
		case err := <-exited:
			t.Fatalf("tracingtest: jaeger exited before it was healthy: %v\n%s", err, tail(j.log.String(), 40))
		default:
		}
		if resp, err := http.Get(health); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if _, err := j.API.Services(context.Background()); err == nil {
					return j
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracingtest: jaeger not healthy at %s after 1m\n%s", health, tail(j.log.String(), 40))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Log returns what Jaeger printed so far.
func (j *Jaeger) Log() string { return j.log.String() }

// WaitTrace polls Jaeger until the trace with traceID has at least
// minSpans spans (Jaeger stores spans asynchronously) and returns it. It
// fails the test after timeout.
func (j *Jaeger) WaitTrace(t testing.TB, traceID string, minSpans int, timeout time.Duration) jaegerapi.Trace {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var (
		last jaegerapi.Trace
		err  error
	)
	for {
		last, err = j.API.Trace(context.Background(), traceID)
		if err == nil && len(last.Spans) >= minSpans {
			// Give late spans of the same trace one more moment to land.
			time.Sleep(200 * time.Millisecond)
			if again, err := j.API.Trace(context.Background(), traceID); err == nil {
				return again
			}
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracingtest: trace %s: want >= %d spans within %v, have %d (last error: %v)", traceID, minSpans, timeout, len(last.Spans), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitFind polls a search until it returns at least one trace.
func (j *Jaeger) WaitFind(t testing.TB, q jaegerapi.Query, timeout time.Duration) []jaegerapi.Trace {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ts, err := j.API.Find(context.Background(), q)
		if err == nil && len(ts) > 0 {
			return ts
		}
		if time.Now().After(deadline) {
			t.Fatalf("tracingtest: search %+v found nothing within %v (last error: %v)", q, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// AssertConsumersFollowProducers checks the messaging contract on the
// trace with traceID, read from Jaeger's API v3 (which keeps parents and
// links apart): every CONSUMER span's parent is a PRODUCER span of the same
// trace and the consumer also links to it. It returns the number of
// consumer spans checked.
func (j *Jaeger) AssertConsumersFollowProducers(t testing.TB, traceID string) int {
	t.Helper()
	spans, err := j.API.TraceOTLP(context.Background(), traceID)
	if err != nil {
		t.Fatalf("tracingtest: API v3 trace %s: %v", traceID, err)
	}
	byID := map[string]jaegerapi.OTLPSpan{}
	for _, s := range spans {
		byID[s.SpanID] = s
	}
	n := 0
	for _, s := range spans {
		if s.Kind != jaegerapi.KindConsumer {
			continue
		}
		n++
		parent, ok := byID[s.ParentSpanID]
		if !ok {
			t.Errorf("consumer span %s %q (service %s) has no parent in the trace (parent id %q)", s.SpanID, s.Name, s.Service, s.ParentSpanID)
			continue
		}
		if parent.Kind != jaegerapi.KindProducer {
			t.Errorf("consumer span %q: parent %q has kind %d, want producer", s.Name, parent.Name, parent.Kind)
		}
		if strings.TrimPrefix(s.Name, "process ") != strings.TrimPrefix(parent.Name, "send ") {
			t.Errorf("consumer span %q: parent is %q, a different topic", s.Name, parent.Name)
		}
		linked := false
		for _, l := range s.Links {
			linked = linked || (l.SpanID == parent.SpanID && l.TraceID == parent.TraceID)
		}
		if !linked {
			t.Errorf("consumer span %q: no link to its producer span %s (links %+v)", s.Name, parent.SpanID, s.Links)
		}
	}
	return n
}

func tail(s string, lines int) string {
	var all []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		all = append(all, sc.Text())
	}
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
