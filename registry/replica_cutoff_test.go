package registry_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/registry"
)

// startBroker starts an embedded broker on addr that keeps its data in
// dir, so a broker started again on the same address and dir carries on.
func startBroker(t *testing.T, addr, dir string) *broker.Broker {
	t.Helper()
	b, err := broker.New(broker.Addr(addr), broker.DataDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestReplicaCutOffFromBrokers stops the only broker under a leader and
// a follower: both keep serving reads, marked stale (X-Contrail-Stale,
// Warning, /healthz "stale"), and refuse writes with an error naming the
// broker; once the broker is back on the same address both drop the
// mark, take writes again, and the follower reads what the leader wrote.
func TestReplicaCutOffFromBrokers(t *testing.T) {
	dir := t.TempDir()
	b := startBroker(t, "127.0.0.1:0", dir)
	addr := b.Addr()
	closed := false
	t.Cleanup(func() {
		if !closed {
			b.Close()
		}
	})
	rs := []*replica{startReplica(t, addr), startReplica(t, addr)}
	leader := leaderOf(t, rs)
	follower := rs[0]
	if follower == leader {
		follower = rs[1]
	}
	id, err := register(follower.url, "before", `{"schema":"\"string\""}`)
	if err != nil {
		t.Fatal(err)
	}

	b.Close()
	closed = true
	for _, r := range rs {
		waitFor(t, func() bool {
			_, body := httpGet(t, r.url, "/healthz")
			return strings.Contains(body, `"status":"stale"`)
		})
		resp, err := http.Get(r.url + "/subjects/before/versions/1")
		if err != nil {
			t.Fatal(err)
		}
		var got struct{ ID int }
		json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode != 200 || got.ID != id {
			t.Errorf("%s: stale read = %d id %d, want 200 id %d", r.url, resp.StatusCode, got.ID, id)
		}
		if resp.Header.Get(registry.StaleHeader) == "" || !strings.Contains(resp.Header.Get("Warning"), "Stale") {
			t.Errorf("%s: stale read not marked: %v", r.url, resp.Header)
		}
		req, _ := http.NewRequest("POST", r.url+"/subjects/during/versions", strings.NewReader(`{"schema":"\"int\""}`))
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		wresp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Code    int `json:"error_code"`
			Message string
		}
		json.NewDecoder(wresp.Body).Decode(&e)
		wresp.Body.Close()
		if wresp.StatusCode != 503 || e.Code != registry.CodeStoreError || !strings.Contains(e.Message, addr) {
			t.Errorf("%s: write while cut off = %d %+v, want 503, 50001 naming %s", r.url, wresp.StatusCode, e, addr)
		}
	}

	b = startBroker(t, addr, dir)
	closed = false
	for _, r := range rs {
		waitFor(t, func() bool {
			resp, err := http.Get(r.url + "/subjects/before/versions/1")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == 200 && resp.Header.Get(registry.StaleHeader) == ""
		})
	}
	var after int
	waitFor(t, func() bool {
		var err error
		after, err = register(follower.url, "after", `{"schema":"\"long\""}`)
		return err == nil
	})
	if after == id {
		t.Errorf("the write after the outage reused id %d", id)
	}
	for _, r := range rs {
		waitFor(t, func() bool { st, _ := httpGet(t, r.url, "/subjects/after/versions/1"); return st == 200 })
	}
}
