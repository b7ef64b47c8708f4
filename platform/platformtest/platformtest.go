// Package platformtest runs the platform in tests: it builds the contrail
// binary the platform runs its services with, once per test binary, gives a
// Config with every part on a free loopback port, and places and reads
// orders over the order API as a user would.
package platformtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/platform"
)

// Package is the contrail command Main builds.
const Package = "github.com/contrail-events/contrail/cmd/contrail"

// Main builds the contrail binary into a temporary directory, sets *bin to
// its path, runs m, removes the directory and exits with m's code. Call it
// from TestMain. A failed build prints go build's output and exits 1 before
// any test runs.
func Main(m *testing.M, bin *string) {
	dir, err := os.MkdirTemp("", "contrail-platformtest")
	if err != nil {
		fmt.Fprintln(os.Stderr, "platformtest:", err)
		os.Exit(1)
	}
	*bin = filepath.Join(dir, "contrail")
	out, err := exec.Command("go", "build", "-o", *bin, Package).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "platformtest: build the contrail binary: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Config returns a platform configuration for a test: state in dataDir,
// services run from bin (see Main), the broker, registry and every service
// on a free loopback port, no Jaeger, and env as the services' extra
// environment.
func Config(bin, dataDir string, env ...string) platform.Config {
	addrs := map[string]string{}
	for _, s := range platform.Services {
		addrs[s] = "127.0.0.1:0"
	}
	return platform.Config{
		DataDir: dataDir, NoJaeger: true, Executable: bin,
		BrokerAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0",
		ServiceAddrs: addrs, Env: env,
	}
}

// Placed is the 202 body of POST /orders. Placed and Order are decoded
// from the wire with their own field tags, not with the order package's
// types, so a renamed field fails the tests that read them.
type Placed struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	TraceID string `json:"trace_id"`
}

// Order is the part of GET /orders/{id}'s body the tests read.
type Order struct {
	OrderID string         `json:"order_id"`
	Status  string         `json:"status"`
	Reason  string         `json:"reason"`
	TraceID string         `json:"trace_id"`
	History []HistoryEntry `json:"history"`
}

// HistoryEntry is one event of Order.History: its type, direction and id,
// and the record and registered schema version it has once located.
type HistoryEntry struct {
	Type      string `json:"type"`
	Direction string `json:"direction"`
	EventID   string `json:"event_id"`
	Topic     string `json:"topic"`
	Partition int    `json:"partition"`
	Offset    int    `json:"offset"`
	SchemaID  int    `json:"schema_id"`
	Version   int    `json:"schema_version"`
	Subject   string `json:"subject"`
}

// Place posts body to the order API at base and returns the answer; it
// fails t unless the answer is 202 with an order_id.
func Place(t testing.TB, base, body string) Placed {
	t.Helper()
	resp, err := http.Post(base+"/orders", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST /orders: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var p Placed
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(b, &p) != nil || p.OrderID == "" {
		t.Fatalf("POST /orders: %s %s, want 202 with an order_id", resp.Status, b)
	}
	return p
}

// GetOrder returns order id with its history from the order API at base.
// An answer other than 200 is an error naming its status and body.
func GetOrder(base, id string) (Order, error) {
	var v Order
	resp, err := http.Get(base + "/orders/" + id)
	if err != nil {
		return v, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return v, fmt.Errorf("GET /orders/%s: %s %s", id, resp.Status, b)
	}
	return v, json.NewDecoder(resp.Body).Decode(&v)
}

// WaitOrder polls GET /orders/{id} at base every 50ms until done accepts
// the order, and returns it. After timeout it fails t, saying the order is
// not want and showing the last answer and error.
func WaitOrder(t testing.TB, base, id string, timeout time.Duration, want string, done func(Order) bool) Order {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		v, err := GetOrder(base, id)
		if err == nil && done(v) {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s not %s within %v: %+v (last error %v)", id, want, timeout, v, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
