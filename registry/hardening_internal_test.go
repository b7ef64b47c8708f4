package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// serveInternal serves reg over HTTP for the length of t.
func serveInternal(t *testing.T, reg *Registry, opts ...Opt) string {
	t.Helper()
	h, err := NewServer(reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

// hangGuard bounds a request that should complete: a hang detector far
// beyond any legitimate latency, not a timing assertion.
var hangGuard = &http.Client{Timeout: 30 * time.Second}

func post(t *testing.T, url, body string, auth ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	return do(t, req)
}

func get(t *testing.T, url string, auth ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := hangGuard.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// registeredID is the id of a register answer, or -1 if body is not one.
func registeredID(body string) int {
	var r struct{ ID *int }
	if json.Unmarshal([]byte(body), &r) != nil || r.ID == nil {
		return -1
	}
	return *r.ID
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle empties sync.Pools' victim caches
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// hotEntries is the number of answers the register cache holds.
func (r *Registry) hotEntries() int {
	r.hotMu.RLock()
	defer r.hotMu.RUnlock()
	return len(r.hot)
}

// TestRegisterCacheHoldsNoBodies: re-registering one schema with many
// different whitespace paddings (each a cache miss, each answered) leaves
// the register cache holding digests, not the bodies: the heap does not grow
// with the bytes sent.
func TestRegisterCacheHoldsNoBodies(t *testing.T) {
	reg, err := Open(context.Background(), NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	base := serveInternal(t, reg)
	schema := `{"type":"record","name":"Padded","fields":[{"name":"a","type":"int"}]}`
	const requests, padding = 200, 128 << 10 // 25 MiB sent in all
	body := func(i int) string {
		b, _ := json.Marshal(map[string]string{"schema": schema})
		return strings.Replace(string(b), "{", "{"+strings.Repeat(" ", padding+i), 1)
	}
	if code, got := post(t, base+"/subjects/pad/versions", body(0)); code != 200 {
		t.Fatalf("register: %d %s", code, got)
	}
	before := heapInUse()
	for i := 1; i <= requests; i++ {
		if code, got := post(t, base+"/subjects/pad/versions", body(i)); code != 200 || registeredID(got) != 1 {
			t.Fatalf("re-register %d: %d %s", i, code, got)
		}
	}
	grew := int64(heapInUse()) - int64(before)
	t.Logf("heap grew by %d KiB after %d MiB of padded registrations", grew>>10, requests*padding>>20)
	if entries := reg.hotEntries(); entries != requests+1 {
		t.Fatalf("register cache has %d entries, want %d: the test no longer exercises it", reg.hotEntries(), requests+1)
	}
	const bound = 4 << 20 // the bodies sent were 25 MiB; each entry is 48 bytes
	if grew > bound {
		t.Fatalf("after %d padded registrations (%d MiB sent) the heap grew by %d KiB, over %d KiB: the register cache keeps request bodies",
			requests, requests*padding>>20, grew>>10, bound>>10)
	}
}

// TestCompatibilityCheckDoesNotBlockReads: while a registration's or a
// /compatibility request's compatibility check runs (held in flight by the
// test hook), reads and other writes complete; a registration whose
// snapshot a write made stale is checked again before it commits.
func TestCompatibilityCheckDoesNotBlockReads(t *testing.T) {
	reg, err := Open(context.Background(), NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	var armed atomic.Bool
	var checks atomic.Int32
	entered, release := make(chan struct{}, 4), make(chan struct{})
	reg.testHookCheck = func() {
		checks.Add(1)
		if armed.Load() {
			entered <- struct{}{}
			<-release
		}
	}
	var releaseOnce sync.Once
	unblock := func() { releaseOnce.Do(func() { close(release) }) }
	base := serveInternal(t, reg)
	t.Cleanup(func() { armed.Store(false); unblock() }) // before the server's cleanup, which waits for its handlers
	// A large but legal record: checking it is real work.
	const fields = 3000
	wide := func(extra string) string {
		var b strings.Builder
		b.WriteString(`{"type":"record","name":"Wide","fields":[`)
		for i := range fields {
			fmt.Fprintf(&b, `{"name":"f%d","type":"int"},`, i)
		}
		b.WriteString(extra + `]}`)
		body, _ := json.Marshal(map[string]string{"schema": b.String()})
		return string(body)
	}
	v1 := wide(`{"name":"z","type":"int","default":0}`)
	v2 := wide(`{"name":"z","type":"int","default":0},{"name":"y","type":["null","string"],"default":null}`)
	if code, body := post(t, base+"/subjects/wide/versions", v1); code != 200 {
		t.Fatalf("register v1: %d %s", code, body)
	}

	armed.Store(true)
	type answer struct {
		code int
		body string
	}
	registered := make(chan answer, 1)
	go func() {
		code, body := post(t, base+"/subjects/wide/versions", v2)
		registered <- answer{code, body}
	}()
	<-entered // the registration's check is in flight
	if code, body := get(t, base+"/subjects/wide/versions/1"); code != 200 || !strings.Contains(body, `"version":1`) {
		t.Fatalf("read during a registration's check: %d %.100s", code, body)
	}
	// A write meanwhile makes the registration's snapshot stale...
	req, _ := http.NewRequest("PUT", base+"/config/other", strings.NewReader(`{"compatibility":"FULL"}`))
	if code, body := do(t, req); code != 200 {
		t.Fatalf("write during a registration's check: %d %s", code, body)
	}
	if code, _ := get(t, base+"/config/other"); code != 200 {
		t.Fatalf("read after that write: %d", code)
	}
	armed.Store(false)
	unblock()
	got := <-registered
	if got.code != 200 || registeredID(got.body) != 2 {
		t.Fatalf("register v2: %d %s", got.code, got.body)
	}
	// ...so it was checked twice: once on the stale snapshot, once again.
	if n := checks.Load(); n != 2 {
		t.Fatalf("the registration ran %d compatibility checks, want 2 (re-checked after a concurrent write)", n)
	}

	// /compatibility (allowed on read-only servers too) holds no lock
	// either.
	entered, release = make(chan struct{}, 4), make(chan struct{})
	releaseOnce = sync.Once{}
	armed.Store(true)
	checked := make(chan answer, 1)
	go func() {
		code, body := post(t, base+"/compatibility/subjects/wide/versions/latest", v1)
		checked <- answer{code, body}
	}()
	<-entered
	req, _ = http.NewRequest("PUT", base+"/config/wide", strings.NewReader(`{"compatibility":"NONE"}`))
	if code, body := do(t, req); code != 200 {
		t.Fatalf("write during a /compatibility check: %d %s", code, body)
	}
	if code, _ := get(t, base+"/schemas/ids/1"); code != 200 {
		t.Fatalf("read during a /compatibility check: %d", code)
	}
	armed.Store(false)
	unblock()
	if got := <-checked; got.code != 200 || got.body != `{"is_compatible":true}` {
		t.Fatalf("/compatibility: %d %s", got.code, got.body)
	}
}

// TestUnknownUserRunsBcrypt: a failed login for a user that does not exist
// costs a bcrypt comparison like one for a user that does, so response
// timing does not tell which users exist.
func TestUnknownUserRunsBcrypt(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("right"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	var runs atomic.Int32
	orig := bcryptCompare
	bcryptCompare = func(h, pw []byte) error { runs.Add(1); return orig(h, pw) }
	t.Cleanup(func() { bcryptCompare = orig })

	reg, err := Open(context.Background(), NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	base := serveInternal(t, reg, WithBasicAuth(map[string]string{"alice": string(hash)}))
	tests := []struct {
		name       string
		auth       []string
		wantStatus int
		wantRuns   int32
	}{
		{name: "known user, right password", auth: []string{"alice", "right"}, wantStatus: 200, wantRuns: 1},
		{name: "known user, wrong password", auth: []string{"alice", "wrong"}, wantStatus: 401, wantRuns: 1},
		{name: "unknown user", auth: []string{"mallory", "right"}, wantStatus: 401, wantRuns: 1},
		{name: "no credentials", wantStatus: 401, wantRuns: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runs.Store(0)
			if code, body := get(t, base+"/subjects", tt.auth...); code != tt.wantStatus {
				t.Fatalf("HTTP %d %s, want %d", code, body, tt.wantStatus)
			}
			if n := runs.Load(); n != tt.wantRuns {
				t.Fatalf("%d bcrypt comparisons, want %d", n, tt.wantRuns)
			}
		})
	}
}
