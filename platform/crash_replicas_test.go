package platform_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/eventing/storetest"
	"github.com/contrail-events/contrail/platform"
	"github.com/contrail-events/contrail/platform/loadgen"
)

// TestCrashSafetyReplicas runs two replicas of every service on one
// PostgreSQL database and a bounded load spread over the replicas, while it
// SIGKILLs one replica of each service (chosen at random) and keeps it down
// past the session timeout, then kills the broker once. While the replicas
// are down their partitions move to the survivors (each group then has one
// member owning every partition); once they are back the partitions are
// shared again. Every invariant of the load holds: nothing lost, nothing
// done twice, stock conserved, each order charged and refunded at most
// once.
func TestCrashSafetyReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test with replicas: slow, runs in make test")
	}
	cfg := testConfig(t.TempDir())
	cfg.BrokerSubprocess = true
	cfg.PostgresURL = storetest.PostgresURL(t)
	cfg.Replicas = 2
	p := start(t, cfg)
	defer p.Close()
	logs := filepath.Join(cfg.DataDir, "logs")

	adm := groupAdmin(t, p.BrokerAddr)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	defer cancel()
	// Both replicas of every service own partitions before anything dies.
	for _, svc := range platform.Services {
		waitAssignment(t, ctx, adm, logs, svc, func(owned map[string]int) bool { return len(owned) == 2 })
	}
	total := map[string]int{}
	for _, svc := range platform.Services {
		total[svc] = sum(assignment(ctx, adm, svc))
	}

	const orders = 900
	type result struct {
		rep *loadgen.Report
		err error
	}
	done := make(chan result, 1)
	join := func(s string) string { return strings.Join(p.ReplicaURLs[s], ",") }
	go func() {
		rep, err := loadgen.Run(ctx, loadgen.Config{Orders: orders, Concurrency: 8, Rate: 30,
			OrderURL: join("order"), InventoryURL: join("inventory"), PaymentURL: join("payment"), AdminToken: p.AdminToken,
			Seed: uint64(time.Now().UnixNano()), Timeout: 150 * time.Second})
		done <- result{rep, err}
	}()

	// One replica of each service dies and stays away for longer than the
	// session timeout (10s): its partitions must move to the survivor.
	r := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	time.Sleep(time.Duration(1000+r.IntN(2000)) * time.Millisecond)
	const down = 16 * time.Second
	survivor := map[string]string{}
	var killed []*platform.Process
	for _, svc := range platform.Services {
		i := r.IntN(2)
		victim := p.Replicas(svc)[i]
		pid, err := victim.KillFor(down)
		if err != nil {
			t.Fatalf("kill %s: %v", victim.Name, err)
		}
		killed = append(killed, victim)
		survivor[svc] = fmt.Sprintf("contrail-%s-%d", svc, 2-i)
		t.Logf("SIGKILL %s (pid %d), down for %v", victim.Name, pid, down)
		time.Sleep(time.Duration(100+r.IntN(400)) * time.Millisecond)
	}
	for _, svc := range platform.Services {
		owned := waitAssignment(t, ctx, adm, logs, svc, func(owned map[string]int) bool {
			return len(owned) == 1 && owned[survivor[svc]] == total[svc]
		})
		t.Logf("%s: the survivor owns every partition: %v", svc, owned)
	}
	for _, v := range killed {
		deadline := time.Now().Add(down + 40*time.Second)
		for v.Exits() == 0 || v.Pid() == 0 || !replicaReady(p, v) {
			if time.Now().After(deadline) {
				t.Fatalf("%s was not restarted and ready", v.Name)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	for _, svc := range platform.Services {
		owned := waitAssignment(t, ctx, adm, logs, svc, func(owned map[string]int) bool { return len(owned) == 2 && sum(owned) == total[svc] })
		t.Logf("%s: shared again after the restart: %v", svc, owned)
	}

	// The broker once, while orders still flow.
	broker := p.Process("broker")
	pid, err := broker.Kill()
	if err != nil {
		t.Fatalf("kill broker: %v", err)
	}
	t.Logf("SIGKILL broker (pid %d)", pid)
	deadline := time.Now().Add(30 * time.Second)
	for broker.Exits() == 0 || broker.Pid() == pid || !ready(p, "broker") {
		if time.Now().After(deadline) {
			t.Fatal("the broker was not restarted within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	res := <-done
	if res.err != nil {
		t.Fatalf("load under crashes: %v", res.err)
	}
	var b bytes.Buffer
	res.rep.WriteText(&b)
	t.Logf("after the crashes:\n%s", b.String())
	if !res.rep.OK {
		t.Fatal("invariants failed after crashes")
	}
}

func groupAdmin(t *testing.T, broker string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(broker))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}

// assignment returns how many partitions each member of svc's consumer
// group owns, by static member id; nil when the group cannot be read
// (the broker restarting).
func assignment(ctx context.Context, adm *kadm.Client, svc string) map[string]int {
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	gs, err := adm.DescribeGroups(dctx, "contrail-"+svc)
	if err != nil {
		return nil
	}
	g, ok := gs["contrail-"+svc]
	if !ok || g.Err != nil || g.State != "Stable" {
		return nil
	}
	out := map[string]int{}
	for _, m := range g.Members {
		id := m.MemberID
		if m.InstanceID != nil {
			id = *m.InstanceID
		}
		out[id] = 0 // a member that owns nothing is listed too
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, tp := range c.Topics {
				out[id] += len(tp.Partitions)
			}
		}
	}
	return out
}

// waitAssignment polls svc's group until ok accepts its assignment, for
// at most a minute, and returns it.
func waitAssignment(t *testing.T, ctx context.Context, adm *kadm.Client, logs, svc string, ok func(map[string]int) bool) map[string]int {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	var last map[string]int
	for {
		if a := assignment(ctx, adm, svc); a != nil {
			last = a
			if ok(a) {
				return a
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			t.Fatalf("group contrail-%s: assignment %v never became what the test waits for%s", svc, last, logTails(logs, svc))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logTails returns the first and last lines of the logs of svc's replicas
// in the directory logs, for a failure message.
func logTails(logs, svc string) string {
	var b strings.Builder
	files, _ := filepath.Glob(filepath.Join(logs, svc+"*.log"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
		if len(lines) > 30 { // the start and the end
			lines = append(append(lines[:15:15], "..."), lines[len(lines)-15:]...)
		}
		fmt.Fprintf(&b, "\n--- %s:\n%s", filepath.Base(f), strings.Join(lines, "\n"))
	}
	return b.String()
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// replicaReady reports whether replica proc answers /readyz.
func replicaReady(p *platform.Platform, proc *platform.Process) bool {
	name, _, _ := strings.Cut(proc.Name, "-")
	i := slices.Index(p.Replicas(name), proc)
	if i < 0 {
		return false
	}
	return urlReady(p.ReplicaURLs[name][i])
}
