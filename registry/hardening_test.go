package registry_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
)

// recordSchema is a register body for a record called name with n int
// fields.
// regID is the id of a register answer, or -1 if body is not one.
func regIDOf(body string) int {
	var r struct{ ID *int }
	if json.Unmarshal([]byte(body), &r) != nil || r.ID == nil {
		return -1
	}
	return *r.ID
}

func recordSchema(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `{"type":"record","name":%q,"fields":[`, name)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"f%d","type":"int"}`, i)
	}
	b.WriteString("]}")
	body, _ := json.Marshal(map[string]string{"schema": b.String()})
	return string(body)
}

// serveBolt serves a registry on the bbolt store in dir until the returned
// stop is called, which also closes the store.
func serveBolt(t *testing.T, dir string) (base string, stop func()) {
	t.Helper()
	st, err := registry.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := registry.Open(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	h, err := registry.NewServer(reg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	var once atomic.Bool
	stop = func() {
		if once.CompareAndSwap(false, true) {
			srv.Close()
			st.Close()
		}
	}
	t.Cleanup(stop)
	return srv.URL, stop
}

// TestSubjectNamesSurviveReopen: every subject the registry acknowledges
// reads back byte for byte after the bbolt store is closed and reopened, and
// names the store could not keep as sent (invalid UTF-8, which its JSON
// records would turn into U+FFFD and merge; longer than MaxSubjectBytes) are
// refused with 42208 instead of being acknowledged.
func TestSubjectNamesSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	base, stop := serveBolt(t, dir)

	valid := []string{
		"plain-value",
		"u\uFFFDx",            // a literal U+FFFD is a character like any other
		"\u00fcnic\u00f6de",   // NFC
		"u\u0308nico\u0308de", // the same text in NFD: another subject
		"crab-\U0001F980",     // outside the BMP
		"with space",
		"pct%41",       // a literal percent sign
		"slash/inside", // %2F in the path
		"plus+comma,",  // '+' is a plus sign in a path, not a space
		":.ctx:in-a-context",
		strings.Repeat("\u00e9", registry.MaxSubjectBytes/2), // exactly the limit, in 2-byte runes
	}
	ids := map[string]string{}
	for i, s := range valid {
		code, _, body := call(t, "POST", base+"/subjects/"+url.PathEscape(s)+"/versions", recordSchema(fmt.Sprintf("R%d", i), 1))
		if code != 200 {
			t.Fatalf("register %q: HTTP %d %s", s, code, body)
		}
		ids[s] = body
	}

	refused := []struct {
		name, method, path, body string
		want                     []string
	}{
		{name: "byte FE", method: "POST", path: "/subjects/u%FEx/versions", body: tinySchema, want: []string{"not valid UTF-8", "0xFE"}},
		{name: "byte FD", method: "POST", path: "/subjects/u%FDx/versions", body: tinySchema, want: []string{"not valid UTF-8", "0xFD"}},
		{name: "truncated rune", method: "POST", path: "/subjects/u%C3/versions", body: tinySchema, want: []string{"not valid UTF-8"}},
		{name: "40,000 bytes", method: "POST", path: "/subjects/" + strings.Repeat("s", 40_000) + "/versions", body: tinySchema,
			want: []string{"40000 bytes", "limit of 1024 bytes"}},
		{name: "one byte over", method: "POST", path: "/subjects/" + strings.Repeat("s", registry.MaxSubjectBytes+1) + "/versions", body: tinySchema,
			want: []string{"limit of 1024 bytes"}},
		{name: "config of invalid subject", method: "PUT", path: "/config/u%FEx", body: `{"compatibility":"FULL"}`, want: []string{"not valid UTF-8"}},
		{name: "mode of invalid subject", method: "PUT", path: "/mode/u%FEx", body: `{"mode":"READONLY"}`, want: []string{"not valid UTF-8"}},
		{name: "config of long subject", method: "PUT", path: "/config/" + strings.Repeat("s", 2000), body: `{"compatibility":"FULL"}`, want: []string{"limit of 1024 bytes"}},
	}
	for _, tt := range refused {
		t.Run("refuse "+tt.name, func(t *testing.T) {
			code, _, body := call(t, tt.method, base+tt.path, tt.body)
			if code != http.StatusUnprocessableEntity || errorCode(t, body) != registry.CodeInvalidSubject {
				t.Fatalf("HTTP %d %s, want 422 with 42208", code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("message %s does not say %q", body, w)
				}
			}
		})
	}

	snapshot := func(base string) string {
		var b strings.Builder
		_, _, subjects := call(t, "GET", base+"/subjects", "")
		b.WriteString(subjects + "\n")
		_, _, cfg := call(t, "GET", base+"/config?defaultToGlobal=true", "")
		b.WriteString(cfg + "\n")
		for _, s := range valid {
			_, _, v := call(t, "GET", base+"/subjects/"+url.PathEscape(s)+"/versions/1", "")
			b.WriteString(v + "\n")
		}
		return b.String()
	}
	before := snapshot(base)
	var names []string
	if err := json.Unmarshal([]byte(strings.SplitN(before, "\n", 2)[0]), &names); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(valid)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("GET /subjects = %q, want exactly the acknowledged subjects %q", names, want)
	}

	stop()
	base2, _ := serveBolt(t, dir)
	if after := snapshot(base2); after != before {
		t.Fatalf("subjects changed across a reopen of the bbolt store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	for _, s := range valid {
		_, _, body := call(t, "GET", base2+"/subjects/"+url.PathEscape(s)+"/versions/1", "")
		var sv struct {
			Subject string
			ID      int
		}
		json.Unmarshal([]byte(body), &sv)
		if sv.Subject != s || sv.ID != regIDOf(ids[s]) {
			t.Errorf("after reopen %q reads back as subject %q id %d, want id %d", s, sv.Subject, sv.ID, regIDOf(ids[s]))
		}
	}
}

// TestSchemaTextMustBeUTF8: text the registry would store changed (bytes
// that are not UTF-8, lone surrogate escapes: JSON decoding turns both into
// U+FFFD) is refused with 42201, in the schema and in references.
func TestSchemaTextMustBeUTF8(t *testing.T) {
	base := registrytest.Serve(t)
	if code, _, body := call(t, "POST", base+"/subjects/dep/versions", `{"schema":"{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}"}`); code != 200 {
		t.Fatalf("register dep: %d %s", code, body)
	}
	tests := []struct{ name, body string }{
		{"raw byte in schema doc", "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"T\\\",\\\"doc\\\":\\\"a\xffb\\\",\\\"fields\\\":[]}\"}"},
		{"lone high surrogate", `{"schema":"{\"type\":\"record\",\"name\":\"T\",\"doc\":\"\ud800\",\"fields\":[]}"}`},
		{"lone low surrogate", `{"schema":"{\"type\":\"record\",\"name\":\"T\",\"doc\":\"\udc00x\",\"fields\":[]}"}`},
		{"reference subject", "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"T\\\",\\\"fields\\\":[{\\\"name\\\":\\\"f\\\",\\\"type\\\":\\\"F\\\"}]}\",\"references\":[{\"name\":\"F\",\"subject\":\"de\xfep\",\"version\":1}]}"},
		{"reference name", "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"T\\\",\\\"fields\\\":[]}\",\"references\":[{\"name\":\"F\xc3\",\"subject\":\"dep\",\"version\":1}]}"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/subjects/t/versions", "/subjects/dep", "/compatibility/subjects/dep/versions"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				code, _, body := call(t, "POST", base+path, tt.body)
				if code != http.StatusUnprocessableEntity || errorCode(t, body) != registry.CodeInvalidSchema {
					t.Fatalf("HTTP %d %s, want 422 with 42201", code, body)
				}
			})
		}
	}
	// A surrogate pair is a character and is kept.
	pair := `{"schema":"{\"type\":\"record\",\"name\":\"T\",\"doc\":\"\ud83e\udd80\",\"fields\":[]}"}`
	if code, _, body := call(t, "POST", base+"/subjects/t/versions", pair); code != 200 {
		t.Fatalf("surrogate pair: HTTP %d %s", code, body)
	}
	// Registry's own API refuses what HTTP would never deliver.
	reg, err := registry.Open(context.Background(), registry.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	_, err = reg.Register(context.Background(), "t", registry.SchemaRequest{Schema: "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"doc\":\"\xfe\"}"}, registry.RegisterOpts{})
	var e *registry.Error
	if !errors.As(err, &e) || e.Code != registry.CodeInvalidSchema {
		t.Fatalf("Register with invalid UTF-8 text: %v, want 42201", err)
	}
}

// nested is a schema of depth levels of nested arrays (one JSON object
// each) around an int.
func nested(depth int) string {
	s := strings.Repeat(`{"type":"array","items":`, depth-1) + `{"type":"array","items":"int"}` + strings.Repeat("}", depth-1)
	b, _ := json.Marshal(map[string]string{"schema": s})
	return string(b)
}

// TestSchemaLimits: a record with more than MaxRecordFields fields, or a
// schema nested deeper than MaxSchemaDepth, is refused with 422 and 42209
// and a message naming the limit, before anything parses or checks it;
// schemas at the limits are accepted.
func TestSchemaLimits(t *testing.T) {
	base := registrytest.Serve(t)
	tests := []struct {
		name string
		path string
		body string
		want []string // nil: accepted
	}{
		{name: "fields at the limit", path: "/subjects/wide/versions", body: recordSchema("Wide", registry.MaxRecordFields)},
		{name: "one field over", path: "/subjects/wide2/versions", body: recordSchema("Wide", registry.MaxRecordFields+1),
			want: []string{`record \"Wide\"`, "10001 fields", "limit of 10000", "MaxRecordFields"}},
		{name: "one field over, compatibility", path: "/compatibility/subjects/wide/versions/latest", body: recordSchema("Wide", registry.MaxRecordFields+1),
			want: []string{"limit of 10000"}},
		{name: "one field over, normalized lookup", path: "/subjects/wide?normalize=true", body: recordSchema("Wide", registry.MaxRecordFields+1),
			want: []string{"limit of 10000"}},
		{name: "depth at the limit", path: "/subjects/deep/versions", body: nested(registry.MaxSchemaDepth)},
		{name: "one level too deep", path: "/subjects/deep2/versions", body: nested(registry.MaxSchemaDepth + 1),
			want: []string{"1001 levels deep", "limit of 1000", "MaxSchemaDepth"}},
		{name: "deeper than encoding/json decodes", path: "/subjects/deep3/versions", body: nested(20_000),
			want: []string{"20000 levels deep", "limit of 1000"}},
		{name: "too deep, compatibility", path: "/compatibility/subjects/deep/versions", body: nested(5_000),
			want: []string{"limit of 1000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := call(t, "POST", base+tt.path, tt.body)
			if tt.want == nil {
				if code != 200 {
					t.Fatalf("HTTP %d %s, want 200", code, body)
				}
				return
			}
			if code != http.StatusUnprocessableEntity || errorCode(t, body) != registry.CodeSchemaTooLarge {
				t.Fatalf("HTTP %d %.300s, want 422 with 42209", code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("message %.300s does not say %s", body, w)
				}
			}
		})
	}
}

// requestSeries returns the label sets of the request metrics (as user ci).
func requestSeries(t *testing.T, base string) []string {
	t.Helper()
	_, _, body := call(t, "GET", base+"/metrics", "", "ci", "pw")
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.HasPrefix(l, "contrail_registry_requests_total{") || strings.HasPrefix(l, "contrail_registry_request_duration_seconds_count{") {
			out = append(out, l[:strings.LastIndexByte(l, ' ')])
		}
	}
	return out
}

// TestMetricsLabelsBounded: metric labels come from the route table and the
// standard methods, never from what a client invents, even before auth:
// 1,000 requests with invented methods and paths add no series.
func TestMetricsLabelsBounded(t *testing.T) {
	base := registrytest.Serve(t, registry.WithBasicAuth(map[string]string{"ci": "pw"}), registry.WithAuthFailureLimit(0, 0))
	send := func(method, path string, auth bool) {
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth {
			req.SetBasicAuth("ci", "pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// One of each kind first, so every series the flood can touch exists:
	// unauthenticated (401), and authenticated (405 and 404).
	for _, auth := range []bool{false, true} {
		send("INVENTED", "/subjects", auth)
		send("GET", "/invented/path", auth)
		send("INVENTED", "/invented/path", auth)
	}
	requestSeries(t, base) // and the scrape's own series
	before := requestSeries(t, base)
	for i := range 1000 {
		send(fmt.Sprintf("M%04d", i), fmt.Sprintf("/p%04d/%d", i, i), i%2 == 0)
		send(fmt.Sprintf("N%04d", i), "/subjects", i%2 == 0)
	}
	after := requestSeries(t, base)
	if !slices.Equal(before, after) {
		t.Fatalf("1,000 invented methods and paths changed the series:\nbefore %d: %q\nafter %d: %q", len(before), before, len(after), after)
	}
	if !slices.ContainsFunc(after, func(s string) bool {
		return strings.Contains(s, `method="OTHER"`) && strings.Contains(s, `route="unmatched"`)
	}) {
		t.Fatalf("no OTHER/unmatched series: %q", after)
	}
}

// TestReadOnlyServerModeAnswer: a server started read-only answers the mode
// a write would meet, READONLY, not the stored READWRITE.
func TestReadOnlyServerModeAnswer(t *testing.T) {
	ro := registrytest.Serve(t, registry.WithReadOnly(true))
	for _, path := range []string{"/mode", "/mode/s?defaultToGlobal=true"} {
		if code, _, body := call(t, "GET", ro+path, ""); code != 200 || body != `{"mode":"READONLY"}` {
			t.Fatalf("GET %s on a read-only server: %d %s, want READONLY", path, code, body)
		}
	}
	if code, _, body := call(t, "GET", ro+"/mode/s", ""); code != 404 || errorCode(t, body) != registry.CodeSubjectModeNotSet {
		t.Fatalf("GET /mode/s without its own mode: %d %s, want 40409", code, body)
	}
	rw := registrytest.Serve(t)
	if _, _, body := call(t, "GET", rw+"/mode", ""); body != `{"mode":"READWRITE"}` {
		t.Fatalf("GET /mode on a writable server: %s", body)
	}
}

func TestParseUsers(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr []string // the error says all of these
		secret  string   // the error must not contain it
	}{
		{name: "comma is part of the password", in: "alice:abc,evil:pw",
			want: map[string]string{"alice": "abc,evil:pw"}},
		{name: "split on the first colon only", in: "bob:pa:ss:word",
			want: map[string]string{"bob": "pa:ss:word"}},
		{name: "any character, kept as written", in: "carol: sp ace#hash \\ \"q\" é\t",
			want: map[string]string{"carol": " sp ace#hash \\ \"q\" é\t"}},
		{name: "comments, blank lines, CRLF", in: "# team\r\n\r\n  # indented comment\nalice:one\r\n\nbob:two\n",
			want: map[string]string{"alice": "one", "bob": "two"}},
		{name: "bcrypt hash", in: "dave:" + string(hash) + "\n",
			want: map[string]string{"dave": string(hash)}},
		{name: "no colon", in: "alice:ok\nhunter2-is-my-password\n", secret: "hunter2",
			wantErr: []string{"line 2", "no colon"}},
		{name: "empty password", in: "alice:", wantErr: []string{"line 1", "empty password"}},
		{name: "empty name", in: "\n:s3cret-pw", secret: "s3cret", wantErr: []string{"line 2", "empty user name"}},
		{name: "listed twice", in: "alice:one\nalice:t0p-secret", secret: "t0p", wantErr: []string{"line 2", "twice"}},
		{name: "malformed bcrypt hash", in: "erin:$2a$10$tooshort", secret: "tooshort", wantErr: []string{"line 1", "bcrypt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := registry.ParseUsers(tt.in)
			if tt.wantErr == nil {
				if err != nil || len(got) != len(tt.want) {
					t.Fatalf("ParseUsers = %q, %v; want %q", got, err, tt.want)
				}
				for k, v := range tt.want {
					if got[k] != v {
						t.Fatalf("user %q: password %q, want %q", k, got[k], v)
					}
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseUsers = %q, want an error", got)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q prints a secret", err)
			}
		})
	}

	// Over HTTP: the comma no longer makes a user.
	users, err := registry.ParseUsers("alice:abc,evil:pw")
	if err != nil {
		t.Fatal(err)
	}
	base := registrytest.Serve(t, registry.WithBasicAuth(users))
	if code, _, _ := call(t, "GET", base+"/subjects", "", "alice", "abc,evil:pw"); code != 200 {
		t.Fatalf("alice with her whole password: HTTP %d", code)
	}
	if code, _, _ := call(t, "GET", base+"/subjects", "", "evil", "pw"); code != 401 {
		t.Fatalf("evil: HTTP %d, want 401", code)
	}
}

// TestAuthFailureLimit: a client address that keeps failing basic auth
// gets 429 with Retry-After once its burst is spent, before its credentials
// are checked; successes and requests without credentials cost nothing.
func TestAuthFailureLimit(t *testing.T) {
	const burst = 3
	users := map[string]string{"alice": "right"}
	// A refill slow enough that no token comes back during the test.
	base := registrytest.Serve(t, registry.WithBasicAuth(users), registry.WithAuthFailureLimit(1.0/3600, burst))
	for range 20 {
		if code, _, _ := call(t, "GET", base+"/subjects", "", "alice", "right"); code != 200 {
			t.Fatalf("right credentials: HTTP %d", code)
		}
		if code, _, _ := call(t, "GET", base+"/subjects", ""); code != 401 {
			t.Fatalf("no credentials: HTTP %d, want 401", code)
		}
	}
	for i := range burst {
		if code, _, body := call(t, "GET", base+"/subjects", "", "alice", "wrong"); code != 401 {
			t.Fatalf("failure %d: HTTP %d %s, want 401", i+1, code, body)
		}
	}
	for _, auth := range [][]string{{"alice", "wrong"}, {"mallory", "x"}, {"alice", "right"}} {
		code, h, body := call(t, "GET", base+"/subjects", "", auth...)
		if code != http.StatusTooManyRequests || errorCode(t, body) != registry.CodeTooManyRequests || h.Get("Retry-After") == "" {
			t.Fatalf("%s after the burst: HTTP %d %v %s, want 429 with Retry-After", auth, code, h, body)
		}
	}
	if _, err := registry.NewServer(mustOpen(t), registry.WithBasicAuth(users), registry.WithAuthFailureLimit(-1, 1)); err == nil {
		t.Fatal("a negative failure rate was accepted")
	}
}

func mustOpen(t *testing.T) *registry.Registry {
	t.Helper()
	reg, err := registry.Open(context.Background(), registry.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// slowClient sends head at once, then slow one byte every gap, and returns
// what the server answered before it closed the connection. It fails the
// test when the server still waited after guard (a hang detector, far
// beyond the timeouts under test) or when all of slow got through.
func slowClient(t *testing.T, addr, head, slow string, gap time.Duration) string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const guard = 30 * time.Second
	conn.SetDeadline(time.Now().Add(guard))
	if _, err := conn.Write([]byte(head)); err != nil {
		t.Fatal(err)
	}
	var sent atomic.Bool
	go func() {
		for i := range len(slow) {
			if _, err := conn.Write([]byte{slow[i]}); err != nil {
				return
			}
			time.Sleep(gap)
		}
		sent.Store(true)
	}()
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server still waited for the slow client after %s", guard)
	}
	if sent.Load() {
		t.Fatalf("the slow client got its whole request through: %q", got)
	}
	return string(got)
}

// TestServeTimeouts: Serve cuts off a client that sends its headers, or its
// body, a byte at a time; one that sends at once is served.
func TestServeTimeouts(t *testing.T) {
	cfg := registry.ServeConfig{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := registry.NewServer(mustOpen(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cfg.Serve(ctx, ln, srv) }()
	t.Cleanup(func() { cancel(); <-done })
	addr := ln.Addr().String()

	if code, _, body := call(t, "POST", "http://"+addr+"/subjects/s/versions", tinySchema); code != 200 {
		t.Fatalf("a prompt request: HTTP %d %s", code, body)
	}
	headers := "X-Slow: " + strings.Repeat("a", 3000) + "\r\n\r\n"
	if got := slowClient(t, addr, "GET /subjects HTTP/1.1\r\nHost: r\r\n", headers, 20*time.Millisecond); strings.Contains(got, " 200 ") {
		t.Fatalf("slow headers were served: %q", got)
	}
	body := tinySchema + strings.Repeat(" ", 3000)
	head := fmt.Sprintf("POST /subjects/s/versions HTTP/1.1\r\nHost: r\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", len(body))
	if got := slowClient(t, addr, head, body, 20*time.Millisecond); strings.Contains(got, " 200 ") {
		t.Fatalf("a slow body was served: %q", got)
	}
	if err := (registry.ServeConfig{ReadTimeout: -time.Second}).Validate(); err == nil {
		t.Fatal("a negative timeout was accepted")
	}
}
