package platform_test

import (
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/loadgen"
)

// TestCrashSafety runs a few hundred orders through the platform while it
// SIGKILLs each service and the broker once, at random moments, and lets
// the supervisor restart them. Every invariant must hold afterwards:
// nothing lost, nothing applied twice.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test: slow, runs in make test")
	}
	cfg := testConfig(t.TempDir())
	cfg.BrokerSubprocess = true
	p := start(t, cfg)
	defer p.Close()

	const orders = 300
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	type result struct {
		rep *loadgen.Report
		err error
	}
	done := make(chan result, 1)
	var placed, final int
	progress := make(chan [2]int, 1000)
	go func() {
		rep, err := loadgen.Run(ctx, loadgen.Config{Orders: orders, Concurrency: 8, Rate: 30,
			OrderURL: p.ServiceURLs["order"], InventoryURL: p.ServiceURLs["inventory"], PaymentURL: p.ServiceURLs["payment"],
			Seed: uint64(time.Now().UnixNano()), Timeout: 100 * time.Second,
			Progress: func(pl, fi, _ int) {
				select {
				case progress <- [2]int{pl, fi}:
				default:
				}
			}})
		done <- result{rep, err}
	}()

	// Kill each part once while orders are being placed (about 10s at 30/s),
	// in a random order at random moments.
	victims := []string{"order", "inventory", "payment", "shipping", "broker"}
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	r.Shuffle(len(victims), func(i, j int) { victims[i], victims[j] = victims[j], victims[i] })
	for _, v := range victims {
		time.Sleep(time.Duration(300+r.IntN(700)) * time.Millisecond)
		for len(progress) > 0 {
			pf := <-progress
			placed, final = pf[0], pf[1]
		}
		proc := p.Process(v)
		before := proc.Exits()
		pid, err := proc.Kill()
		if err != nil {
			t.Fatalf("kill %s: %v", v, err)
		}
		t.Logf("SIGKILL %s (pid %d) with %d orders placed", v, pid, placed)
		deadline := time.Now().Add(30 * time.Second)
		for proc.Exits() == before || proc.Pid() == pid || !ready(p, v) {
			if time.Now().After(deadline) {
				t.Fatalf("%s was not restarted and ready within 30s", v)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("load under crashes: %v", res.err)
	}
	var b bytes.Buffer
	res.rep.WriteText(&b)
	t.Logf("after crashes (final %d):\n%s", final, b.String())
	if !res.rep.OK {
		t.Fatal("invariants failed after crashes")
	}
	for _, v := range victims {
		switch n := p.Process(v).Exits(); {
		case n < 1:
			t.Errorf("%s never exited: the kill did not happen", v)
		case n > 1:
			t.Logf("%s exited %d times (the kill, then restarts while a dependency was down)", v, n)
		}
	}
}

// ready reports whether a restarted part serves again: a service answers
// /readyz, the broker accepts connections.
func ready(p *platform.Platform, name string) bool {
	if name == "broker" {
		c, err := net.DialTimeout("tcp", p.BrokerAddr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
	return urlReady(p.ServiceURLs[name])
}

// urlReady reports whether the service at base answers /readyz with 200.
func urlReady(base string) bool {
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
