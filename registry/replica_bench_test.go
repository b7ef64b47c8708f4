package registry_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/internal/benchpair"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/wire"
)

// replicaPair starts a leader and a follower on one embedded broker and
// returns them once both agree who leads.
func replicaPair(b *testing.B) (leader, follower *replica) {
	br := brokertest.Start(b)
	rs := []*replica{startReplica(b, br.Addr()), startReplica(b, br.Addr())}
	leader = leaderOf(b, rs)
	follower = rs[0]
	if follower == leader {
		follower = rs[1]
	}
	return leader, follower
}

// BenchmarkReplicaReadVsBareGin prints a follower's throughput for GET
// /schemas/ids/{id} relative to a bare gin handler returning the same
// bytes: the median of 11 back-to-back pairs with min and max (target
// >= 0.7), same load tool, same run. Run it with -benchtime=1x.
func BenchmarkReplicaReadVsBareGin(b *testing.B) {
	_, follower := replicaPair(b)
	body, _ := json.Marshal(map[string]string{"schema": benchSchema})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxIdleConns: 64}}
	resp, err := hc.Post(follower.url+"/subjects/orders-value/versions", wire.ContentTypeRegistry, bytes.NewReader(body))
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("register: %v %v", resp, err)
	}
	idBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var reg struct{ ID int }
	json.Unmarshal(idBody, &reg)
	url := fmt.Sprintf("%s/schemas/ids/%d", follower.url, reg.ID)
	resp, err = hc.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	byIDBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	bare := httptest.NewServer(bareGin(byIDBody, idBody))
	defer bare.Close()

	const total, conc, pairs = 3000, 8, 11
	for range b.N {
		loadRun(b, hc, "GET", url, nil, 500, conc) // warm connections
		loadRun(b, hc, "GET", bare.URL+"/schemas/ids/1", nil, 500, conc)
		r := benchpair.Ratios(pairs,
			func() time.Duration { return loadRun(b, hc, "GET", url, nil, total, conc) },
			func() time.Duration { return loadRun(b, hc, "GET", bare.URL+"/schemas/ids/1", nil, total, conc) })
		sum := benchpair.Summarize(benchpair.Invert(r))
		b.Logf("GET /schemas/ids/{id} on a follower: follower/bare-gin throughput %s", sum)
		b.ReportMetric(sum.Median, "ratio-follower-get-by-id")
	}
}

// registerLatencies registers n new schemas, one at a time, on base and
// returns each one's latency.
func registerLatencies(b *testing.B, hc *http.Client, base, tag string, n int) []time.Duration {
	out := make([]time.Duration, 0, n)
	for i := range n {
		body, _ := json.Marshal(map[string]string{"schema": fmt.Sprintf(`{"type":"record","name":"R_%s_%d","fields":[{"name":"f","type":"string"}]}`, strings.ReplaceAll(tag, "-", "_"), i)})
		start := time.Now()
		resp, err := hc.Post(fmt.Sprintf("%s/subjects/%s-%d/versions", base, tag, i), wire.ContentTypeRegistry, bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("register on %s: HTTP %d", base, resp.StatusCode)
		}
		out = append(out, time.Since(start))
	}
	return out
}

func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// BenchmarkReplicaRegisterLatency prints the latency of registering a new
// schema (one client, one request at a time) through a follower (which
// forwards to the leader and waits to have applied the records), on the
// leader itself (one Kafka transaction per write), and on the bbolt
// store: p50 and p99 of each over 11 rounds of 100 registrations, the
// sides taking turns, and the per-round ratio of p50s against bbolt
// (median, min, max). Run it with -benchtime=1x.
func BenchmarkReplicaRegisterLatency(b *testing.B) {
	leader, follower := replicaPair(b)
	bolt, err := registry.OpenBoltStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer bolt.Close()
	boltURL := registrytest.ServeStore(b, bolt)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	const rounds, n = 11, 100
	sides := []struct{ name, url string }{{"follower", follower.url}, {"leader", leader.url}, {"bbolt", boltURL}}
	for range b.N {
		all := make([][]time.Duration, len(sides))
		p50 := make([][]float64, len(sides))
		for _, s := range sides {
			registerLatencies(b, hc, s.url, "warm-"+s.name, 20)
		}
		for round := range rounds {
			for k := range sides {
				i := (k + round) % len(sides)
				d := registerLatencies(b, hc, sides[i].url, fmt.Sprintf("%s-r%d", sides[i].name, round), n)
				all[i] = append(all[i], d...)
				p50[i] = append(p50[i], float64(quantile(d, 0.5)))
			}
		}
		for i, s := range sides {
			b.Logf("register new schema, %-8s: p50 %v p99 %v (%d registrations)", s.name,
				quantile(all[i], 0.5).Round(time.Microsecond), quantile(all[i], 0.99).Round(time.Microsecond), len(all[i]))
			b.ReportMetric(float64(quantile(all[i], 0.5).Microseconds()), "p50-us-"+s.name)
			b.ReportMetric(float64(quantile(all[i], 0.99).Microseconds()), "p99-us-"+s.name)
		}
		for i, s := range sides[:2] {
			r := make([]float64, rounds)
			for k := range r {
				r[k] = p50[i][k] / p50[2][k]
			}
			b.Logf("register p50 %s/bbolt: %s", s.name, benchpair.Summarize(r))
		}
	}
}
