package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/contrail-events/contrail/broker/brokertest"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
)

// TestKafkaFollowersSeeEveryAcknowledgedWrite runs one writing registry
// and two read replicas (KafkaFollow) on one topic, registers schemas
// concurrently on the writer, and checks that every acknowledged
// registration becomes readable with the same id on both replicas, that
// no two schemas share an id, and that the replicas refuse writes.
func TestKafkaFollowersSeeEveryAcknowledgedWrite(t *testing.T) {
	b := brokertest.Start(t)
	writer := registrytest.ServeStore(t, openKafkaStore(t, b.Addr(), "_schemas"))
	// One schema before the replicas start, so they load it rather than follow it.
	post(t, writer, "/subjects/early/versions", `{"schema":"\"string\""}`)

	var followers []string
	for range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		s, err := registry.OpenKafkaStore(ctx, registry.KafkaBrokers(b.Addr()), registry.KafkaFollow(true))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		followers = append(followers, registrytest.ServeStore(t, s, registry.WithReadOnly(true)))
	}

	const writers, each = 8, 10
	var mu sync.Mutex
	acked := map[string]int{} // subject -> id
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				subject := fmt.Sprintf("s-%d-%d", w, i)
				body := fmt.Sprintf(`{"schema":"{\"type\":\"record\",\"name\":\"R%d_%d\",\"fields\":[]}"}`, w, i)
				id, err := register(writer, subject, body)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked[subject] = id
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	post(t, writer, "/config/s-0-0", `{"compatibility":"NONE"}`)
	byID := map[int]string{}
	for s, id := range acked {
		if prev, dup := byID[id]; dup {
			t.Errorf("subjects %s and %s share id %d", prev, s, id)
		}
		byID[id] = s
	}

	for _, f := range followers {
		waitFor(t, func() bool {
			st, body := httpGet(t, f, "/config/s-0-0")
			return st == 200 && strings.Contains(body, "NONE")
		})
		for s, id := range append2(acked, "early", 1) {
			st, body := httpGet(t, f, "/subjects/"+s+"/versions/1")
			var got struct{ ID int }
			json.Unmarshal([]byte(body), &got)
			if st != 200 || got.ID != id {
				t.Errorf("replica %s: GET %s = %d %s, want id %d", f, s, st, body, id)
			}
		}
		req, _ := http.NewRequest("POST", f+"/subjects/x/versions", strings.NewReader(`{"schema":"\"int\""}`))
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 422 {
			t.Errorf("replica %s took a write: %d", f, resp.StatusCode)
		}
	}
}

func TestKafkaFollowerStoreRefusesWrites(t *testing.T) {
	b := brokertest.Start(t)
	s, err := registry.OpenKafkaStore(context.Background(), registry.KafkaBrokers(b.Addr()), registry.KafkaFollow(true))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Apply(context.Background(), registry.Batch{Modes: []registry.SettingRecord{{Value: "READONLY"}}})
	if err == nil || !strings.Contains(err.Error(), "takes no writes") {
		t.Fatalf("Apply on a follower = %v", err)
	}
}

func append2(m map[string]int, k string, v int) map[string]int {
	out := map[string]int{k: v}
	for a, b := range m {
		out[a] = b
	}
	return out
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func post(t *testing.T, base, path, body string) {
	t.Helper()
	method := "POST"
	if strings.HasPrefix(path, "/config") || strings.HasPrefix(path, "/mode") {
		method = "PUT"
	}
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s %s = %d", method, path, resp.StatusCode)
	}
}

func register(base, subject, body string) (int, error) {
	req, _ := http.NewRequest("POST", base+"/subjects/"+subject+"/versions", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var got struct{ ID int }
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
		return 0, fmt.Errorf("register %s: %d %v", subject, resp.StatusCode, err)
	}
	return got.ID, nil
}
