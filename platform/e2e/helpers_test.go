package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/platformtest"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/tracing/tracingtest"
)

// stack is a running platform whose services export spans to a Jaeger.
type stack struct {
	jaeger  *tracingtest.Jaeger
	p       *platform.Platform
	dataDir string
}

// startStack starts a real Jaeger, then the platform on free ports with its
// services pointed at Jaeger's OTLP/HTTP endpoint through the standard
// OTEL_* variables (the platform's own Jaeger is off: the test owns it).
func startStack(t *testing.T) *stack {
	t.Helper()
	j := tracingtest.StartJaeger(t)
	dir := t.TempDir()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cfg := platformtest.Config(contrailBin, dir,
		"OTEL_EXPORTER_OTLP_ENDPOINT="+j.OTLPHTTP,
		"OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf")
	cfg.Out = &out
	p, err := platform.Start(ctx, cfg)
	if err != nil {
		t.Fatalf("start the platform: %v\n%s", err, out.String())
	}
	s := &stack{jaeger: j, p: p, dataDir: dir}
	t.Cleanup(func() {
		p.Close()
		if t.Failed() {
			s.dumpLogs(t)
		}
	})
	return s
}

// serviceLog returns what service wrote to its log file.
func (s *stack) serviceLog(t testing.TB, service string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.dataDir, "logs", service+".log"))
	if err != nil {
		t.Errorf("log of %s: %v", service, err)
	}
	return string(b)
}

func (s *stack) dumpLogs(t testing.TB) {
	for _, svc := range platform.Services {
		b, _ := os.ReadFile(filepath.Join(s.dataDir, "logs", svc+".log"))
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 15 {
			lines = lines[len(lines)-15:]
		}
		t.Logf("last lines of %s.log:\n%s", svc, strings.Join(lines, "\n"))
	}
}

func placeOrder(t *testing.T, base, body string) platformtest.Placed {
	t.Helper()
	p := platformtest.Place(t, base, body)
	if len(p.TraceID) != 32 {
		t.Fatalf("POST /orders answered trace_id %q, want the 32-hex-digit id of the trace the request started", p.TraceID)
	}
	return p
}

// waitShipped polls GET /orders/{id} until the order is SHIPPED and every
// event of its history has its record located (the last one is handled).
func waitShipped(t *testing.T, base, id string, timeout time.Duration) platformtest.Order {
	t.Helper()
	return platformtest.WaitOrder(t, base, id, timeout, "SHIPPED", func(v platformtest.Order) bool {
		if v.Status == "CANCELLED" {
			t.Fatalf("order %s was CANCELLED (%s), want SHIPPED: %+v", id, v.Reason, v)
		}
		return v.Status == "SHIPPED" && located(v)
	})
}

func located(v platformtest.Order) bool {
	for _, h := range v.History {
		if h.Offset < 0 || h.EventID == "" {
			return false
		}
	}
	return true
}

// spanKey identifies a span the flow must produce: the service that emits
// it, its operation and the id of the event it sends or processes (empty
// for the HTTP span).
type spanKey struct {
	Service, Operation, EventID string
}

func (k spanKey) String() string {
	if k.EventID == "" {
		return k.Service + " " + k.Operation
	}
	return fmt.Sprintf("%s %q (event %s)", k.Service, k.Operation, k.EventID)
}

// expectedSpans derives from the manifest the spans one order's events must
// leave: the HTTP span that placed it, one "send <topic>" span per event
// from its producer and one "process <topic>" span per manifest consumer.
// eventType maps each event id to its Avro type, for messages.
func expectedSpans(t *testing.T, v platformtest.Order) (want map[spanKey]int, eventType map[string]string) {
	t.Helper()
	set, err := schemas.Default()
	if err != nil {
		t.Fatalf("embedded schemas: %v", err)
	}
	want = map[spanKey]int{{Service: "order", Operation: "POST /orders"}: 1}
	eventType = map[string]string{}
	for _, h := range v.History {
		ev := set.Event(h.Type)
		if ev == nil {
			t.Fatalf("order history names %s, which the manifest does not declare", h.Type)
		}
		if len(ev.Producers) != 1 {
			t.Fatalf("manifest: %s has producers %v, the test expects exactly one", h.Type, ev.Producers)
		}
		eventType[h.EventID] = h.Type
		want[spanKey{ev.Producers[0], "send " + ev.Topic, h.EventID}]++
		for _, c := range ev.Consumers {
			want[spanKey{c, "process " + ev.Topic, h.EventID}]++
		}
	}
	return want, eventType
}

func sortedKeys(m map[spanKey]int) []spanKey {
	out := make([]spanKey, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out
}

// logMentions returns the log lines of text that contain any of words.
func logMentions(text string, words ...string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		for _, w := range words {
			if strings.Contains(sc.Text(), w) {
				out = append(out, sc.Text())
				break
			}
		}
	}
	return out
}
