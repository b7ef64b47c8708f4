package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
)

func call(t *testing.T, method, url, body string, auth ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(auth) == 2 {
		req.SetBasicAuth(auth[0], auth[1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// regID is the id of a register answer ({"id": N, "version": V, ...}), or
// -1 if body is not one.
func regID(body string) int {
	var r struct{ ID *int }
	if json.Unmarshal([]byte(body), &r) != nil || r.ID == nil {
		return -1
	}
	return *r.ID
}

func errorCode(t *testing.T, body string) int {
	t.Helper()
	var e struct {
		Code    int    `json:"error_code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Message == "" {
		t.Fatalf("not a Confluent error body: %q", body)
	}
	return e.Code
}

const tinySchema = `{"schema":"{\"type\":\"record\",\"name\":\"T\",\"fields\":[]}"}`

func TestBasicAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("hashed-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, err := registry.ParseUsers("# users\nalice:plain-pw\ncarol:" + string(hash))
	if err != nil {
		t.Fatal(err)
	}
	base := registrytest.ServeStore(t, registry.NewMemoryStore(), registry.WithBasicAuth(users))
	tests := []struct {
		name       string
		auth       []string
		wantStatus int
	}{
		{"none", nil, 401},
		{"wrong password", []string{"alice", "nope"}, 401},
		{"unknown user", []string{"mallory", "plain-pw"}, 401},
		{"plain", []string{"alice", "plain-pw"}, 200},
		{"bcrypt", []string{"carol", "hashed-pw"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, h, body := call(t, "GET", base+"/subjects", "", tt.auth...)
			if code != tt.wantStatus {
				t.Fatalf("HTTP %d %s, want %d", code, body, tt.wantStatus)
			}
			if code == 401 && (errorCode(t, body) != 401 || h.Get("WWW-Authenticate") == "") {
				t.Fatalf("401 without error body or challenge: %v %s", h, body)
			}
		})
	}
	if _, err := registry.ParseUsers("no-colon"); err == nil {
		t.Fatal("ParseUsers accepted an entry without a password")
	}
}

func TestRequestLimitsAndReadOnly(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore(), registry.WithMaxRequestBytes(1024))
	big := `{"schema":"` + strings.Repeat(" ", 4096) + `"}`
	// A schema request over the limit is Confluent's "schema too large";
	// any other body over it is HTTP 413.
	code, _, body := call(t, "POST", base+"/subjects/s/versions", big)
	if code != 422 || errorCode(t, body) != registry.CodeSchemaTooLarge || !strings.Contains(body, "limit of 1024 bytes") {
		t.Fatalf("oversized schema: HTTP %d %s", code, body)
	}
	code, _, body = call(t, "PUT", base+"/config", `{"compatibility":"`+strings.Repeat("x", 2048)+`"}`)
	if code != 413 || errorCode(t, body) != 413 || !strings.Contains(body, "limit of 1024 bytes") {
		t.Fatalf("oversized config body: HTTP %d %s", code, body)
	}
	// Chunked bodies (no Content-Length) are limited too.
	req, _ := http.NewRequest("POST", base+"/subjects/s/versions", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 422 || errorCode(t, string(b)) != registry.CodeSchemaTooLarge {
		t.Fatalf("oversized chunked schema: HTTP %d %s", resp.StatusCode, b)
	}

	ro := registrytest.ServeStore(t, registry.NewMemoryStore(), registry.WithReadOnly(true))
	for _, r := range []struct{ method, path, body string }{
		{"POST", "/subjects/s/versions", tinySchema},
		{"PUT", "/config", `{"compatibility":"NONE"}`},
		{"PUT", "/mode", `{"mode":"READWRITE"}`},
		{"DELETE", "/subjects/s", ""},
	} {
		code, _, body := call(t, r.method, ro+r.path, r.body)
		if code != 422 || errorCode(t, body) != registry.CodeNotPermitted {
			t.Fatalf("read-only %s %s: HTTP %d %s", r.method, r.path, code, body)
		}
	}
	if code, _, _ := call(t, "GET", ro+"/subjects", ""); code != 200 {
		t.Fatalf("read-only server refused a read: %d", code)
	}
	if _, err := registry.NewServer(nil); err == nil {
		t.Fatal("NewServer(nil) succeeded")
	}
}

func TestMetrics(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore())
	call(t, "POST", base+"/subjects/m/versions", tinySchema)
	call(t, "GET", base+"/schemas/ids/1", "")
	call(t, "GET", base+"/schemas/ids/99", "")
	_, _, body := call(t, "GET", base+"/metrics", "")
	for _, want := range []string{
		`contrail_registry_requests_total{code="200",method="GET",route="/schemas/ids/:id"} 1`,
		`contrail_registry_requests_total{code="404",method="GET",route="/schemas/ids/:id"} 1`,
		`contrail_registry_schemas 1`,
		`contrail_registry_subjects 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestBoltStoreReopen checks that the bbolt store keeps everything a client
// can set across a reopen: versions and soft deletes, configs with levels,
// aliases and normalize, modes of subjects and contexts, the schema IDs of
// each context (numbered on their own) and the list of contexts, and reads
// a config written by earlier releases (a bare level).
func TestBoltStoreReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := registry.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registry.OpenBoltStore(dir); err == nil {
		t.Fatal("a second open of a locked store succeeded")
	}
	reg, err := registry.Open(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	id, err := reg.Register(ctx, "a", registry.SchemaRequest{Schema: `"string"`}, registry.RegisterOpts{})
	if err != nil {
		t.Fatal(err)
	}
	full, yes, alias := "full", true, "a"
	if _, err := reg.SetConfig(ctx, "a", registry.ConfigUpdate{Compatibility: &full, Normalize: &yes}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetConfig(ctx, "a-alias", registry.ConfigUpdate{Alias: &alias}); err != nil {
		t.Fatal(err)
	}
	// A context numbers its schemas from 1 again.
	ctxID, err := reg.Register(ctx, ":.blue:a", registry.SchemaRequest{Schema: `"long"`}, registry.RegisterOpts{})
	if err != nil || ctxID != 1 {
		t.Fatalf("first schema of context .blue: id %d, %v; want 1", ctxID, err)
	}
	if _, err := reg.Register(ctx, ":.blue:a", registry.SchemaRequest{Schema: `"int"`}, registry.RegisterOpts{}); err == nil {
		t.Fatal("BACKWARD break in a context registered")
	}
	none := "NONE"
	if _, err := reg.SetConfig(ctx, ":.blue:", registry.ConfigUpdate{Compatibility: &none}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.SetMode(ctx, ":.green:", registry.ModeReadOnly, registry.SetModeOpts{}); err != nil {
		t.Fatal(err)
	}
	if _, err := reg.DeleteVersion(ctx, "a", 1, registry.DeleteOpts{}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	// A config as earlier releases wrote it: the bare level.
	db, err := bolt.Open(filepath.Join(dir, registry.DataFileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("configs")).Put([]byte("slegacy"), []byte("FORWARD"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s2, err := registry.OpenBoltStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	reg2, err := registry.Open(ctx, s2)
	if err != nil {
		t.Fatal(err)
	}
	sv, err := reg2.Version("a", 1, registry.VersionOpts{Deleted: true})
	if err != nil || sv.ID != id || sv.Schema != `"string"` {
		t.Fatalf("after reopen: %+v, %v", sv, err)
	}
	if c, err := reg2.Config("a", registry.ConfigOpts{}); err != nil || c.Compatibility != "FULL" || c.Normalize == nil || !*c.Normalize {
		t.Fatalf("config after reopen: %+v, %v", c, err)
	}
	if c, err := reg2.Config("a-alias", registry.ConfigOpts{}); err != nil || c.Alias != "a" {
		t.Fatalf("alias after reopen: %+v, %v", c, err)
	}
	if c, err := reg2.Config("legacy", registry.ConfigOpts{}); err != nil || c.Compatibility != "FORWARD" {
		t.Fatalf("config written by an earlier release: %+v, %v", c, err)
	}
	if c, err := reg2.Config(":.blue:", registry.ConfigOpts{}); err != nil || c.Compatibility != "NONE" {
		t.Fatalf("context config after reopen: %+v, %v", c, err)
	}
	if m, err := reg2.Mode(":.green:", registry.ModeOpts{}); err != nil || m != registry.ModeReadOnly {
		t.Fatalf("context mode after reopen: %q, %v", m, err)
	}
	if got := reg2.Contexts(registry.ContextsOpts{}); !slices.Equal(got, []string{".", ".blue"}) {
		t.Fatalf("contexts after reopen: %v", got)
	}
	if rec, err := reg2.SchemaByID(1, registry.IDOpts{Subject: ":.blue:"}); err != nil || rec.Text != `"long"` {
		t.Fatalf("id 1 of .blue after reopen: %+v, %v", rec, err)
	}
	if rec, err := reg2.SchemaByID(1, registry.IDOpts{}); err != nil || rec.Text != `"string"` {
		t.Fatalf("id 1 of the default context after reopen: %+v, %v", rec, err)
	}
	// The context keeps numbering above what it used, and its level (NONE)
	// now lets the break through.
	if id, err := reg2.Register(ctx, ":.blue:a", registry.SchemaRequest{Schema: `"int"`}, registry.RegisterOpts{}); err != nil || id != 2 {
		t.Fatalf("second schema of .blue after reopen: id %d, %v; want 2", id, err)
	}
	if vs, err := reg2.Versions("a", registry.VersionsOpts{}); err == nil {
		t.Fatalf("soft delete lost across reopen: versions %v", vs)
	}
}

func TestConcurrentRegistrationOneID(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore())
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, ids[i] = call(t, "POST", base+fmt.Sprintf("/subjects/c%d/versions", i%4), tinySchema)
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if regID(id) != 1 {
			t.Fatalf("concurrent registrations of one schema answered %v, want id 1 everywhere", ids)
		}
	}
	_, _, body := call(t, "GET", base+"/subjects/c0/versions", "")
	if body != "[1]" {
		t.Fatalf("versions of c0 = %s, want [1]", body)
	}
}

// TestRegisterAnswerCacheInvalidation checks that remembered register answers
// never outlive a write: mode changes and deletes are seen at once.
func TestRegisterAnswerCacheInvalidation(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore())
	p := base + "/subjects/hot/versions"
	for range 2 {
		if code, _, body := call(t, "POST", p, tinySchema); code != 200 || regID(body) != 1 {
			t.Fatalf("register: %d %s", code, body)
		}
	}
	// In READONLY an identical schema is still answered (Confluent looks it
	// up before checking the mode), a new one is refused.
	call(t, "PUT", base+"/mode/hot", `{"mode":"READONLY"}`)
	if code, _, body := call(t, "POST", p, tinySchema); code != 200 || regID(body) != 1 {
		t.Fatalf("re-register in READONLY: %d %s", code, body)
	}
	if code, _, body := call(t, "POST", p, `{"schema":"\"string\""}`); code != 422 || errorCode(t, body) != registry.CodeNotPermitted {
		t.Fatalf("register a new schema in READONLY: %d %s", code, body)
	}
	call(t, "DELETE", base+"/mode/hot", "")
	call(t, "DELETE", p+"/1", "")
	// The cached answer (version 1) is not reused after the soft delete.
	if code, _, body := call(t, "POST", p, tinySchema); code != 200 || regID(body) != 1 || !strings.Contains(body, `"version":2`) {
		t.Fatalf("re-register after soft delete: %d %s, want id 1 as version 2", code, body)
	}
	if _, _, body := call(t, "GET", p, ""); body != "[2]" {
		t.Fatalf("versions after re-registering a soft-deleted schema = %s, want [2] (a stale cached answer would leave [])", body)
	}
}

// TestInvalidDefaultMessages: hamba reports a bad default as "<nil> not a
// int" whatever the default was; the registry's 42201 names the field, the
// default it got and what to do instead.
func TestInvalidDefaultMessages(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore())
	tests := []struct {
		name   string
		fields string
		want   []string
	}{
		{name: "string for int", fields: `[{"name":"a","type":"int","default":"x"}]`,
			want: []string{`field "a"`, `default "x"`, `"int"`}},
		{name: "null for int", fields: `[{"name":"qty","type":"int","default":null}]`,
			want: []string{`field "qty"`, `default null`, `make the field optional`}},
		{name: "union default not the first branch", fields: `[{"name":"n","type":["null","int"],"default":1}]`,
			want: []string{`field "n"`, `default 1`, `first branch`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema, _ := json.Marshal(`{"type":"record","name":"R","namespace":"d","fields":` + tt.fields + `}`)
			status, _, body := call(t, "POST", base+"/subjects/d-value/versions", `{"schema":`+string(schema)+`}`)
			if status != http.StatusUnprocessableEntity || errorCode(t, body) != 42201 {
				t.Fatalf("status %d body %s, want 422 with 42201", status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, strings.ReplaceAll(w, `"`, `\"`)) {
					t.Errorf("message %s lacks %s", body, w)
				}
			}
		})
	}
}

// TestKeyOrderIsNotIdentity: Confluent stores the parsed schema's canonical
// string, so a client that sends the same schema with its JSON keys in
// another order (a re-serialized dict, jq) gets the same ID and version
// without normalize=true; so does ours.
func TestKeyOrderIsNotIdentity(t *testing.T) {
	base := registrytest.ServeStore(t, registry.NewMemoryStore())
	body := func(schema string) string {
		b, _ := json.Marshal(map[string]string{"schema": schema})
		return string(b)
	}
	a := `{"type":"record","name":"K","namespace":"d","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":"string"}]}`
	reordered := `{"fields":[{"default":0,"type":"int","name":"a"},{"type":"string","name":"b"}],"namespace":"d","name":"K","type":"record"}`
	fieldsSwapped := `{"type":"record","name":"K","namespace":"d","fields":[{"name":"b","type":"string"},{"name":"a","type":"int","default":0}]}`
	status, _, first := call(t, "POST", base+"/subjects/k-value/versions", body(a))
	if status != http.StatusOK {
		t.Fatalf("register: %d %s", status, first)
	}
	tests := []struct {
		name, method, path, schema string
		want                       string
	}{
		{name: "register reordered keys", method: "POST", path: "/subjects/k-value/versions", schema: reordered, want: first},
		{name: "look up reordered keys", method: "POST", path: "/subjects/k-value", schema: reordered, want: `"version":1`},
		{name: "field order still counts", method: "POST", path: "/subjects/k-value/versions", schema: fieldsSwapped, want: `{"id":2,"version":2,`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, got := call(t, tt.method, base+tt.path, body(tt.schema))
			if status != http.StatusOK || !strings.Contains(got, tt.want) {
				t.Fatalf("%s %s: %d %s, want %s", tt.method, tt.path, status, got, tt.want)
			}
		})
	}
}

// flakyStore fails every Apply while down is set.
type flakyStore struct {
	*registry.MemoryStore
	mu   sync.Mutex
	down bool
}

func (s *flakyStore) Apply(ctx context.Context, b registry.Batch) error {
	s.mu.Lock()
	down := s.down
	s.mu.Unlock()
	if down {
		return fmt.Errorf("disk full")
	}
	return s.MemoryStore.Apply(ctx, b)
}

func (s *flakyStore) setDown(v bool) {
	s.mu.Lock()
	s.down = v
	s.mu.Unlock()
}

// TestStoreFailure: a write the store refuses answers HTTP 500 with
// error_code 50001 and changes nothing: the schema, its ID and the config
// are as if the request never came, and the same requests succeed once the
// store is back.
func TestStoreFailure(t *testing.T) {
	st := &flakyStore{MemoryStore: registry.NewMemoryStore()}
	base := registrytest.ServeStore(t, st)
	st.setDown(true)
	writes := []struct {
		name, method, path, body string
	}{
		{name: "register", method: "POST", path: "/subjects/f-value/versions", body: tinySchema},
		{name: "set config", method: "PUT", path: "/config/f-value", body: `{"compatibility":"FULL"}`},
		{name: "set mode", method: "PUT", path: "/mode/f-value", body: `{"mode":"READONLY"}`},
	}
	for _, w := range writes {
		t.Run(w.name+" while the store is down", func(t *testing.T) {
			status, _, body := call(t, w.method, base+w.path, w.body)
			if status != http.StatusInternalServerError || errorCode(t, body) != 50001 || !strings.Contains(body, "disk full") {
				t.Fatalf("status %d body %s, want 500 with 50001 naming the store's error", status, body)
			}
		})
	}
	for _, path := range []string{"/subjects/f-value/versions", "/config/f-value", "/mode/f-value"} {
		if status, _, body := call(t, "GET", base+path, ""); status != http.StatusNotFound {
			t.Fatalf("GET %s after failed writes: %d %s, want 404 (nothing applied)", path, status, body)
		}
	}
	st.setDown(false)
	if status, _, body := call(t, "POST", base+"/subjects/f-value/versions", tinySchema); status != http.StatusOK || regID(body) != 1 {
		t.Fatalf("register after recovery: %d %s, want id 1 (the failed write took no id)", status, body)
	}
}
