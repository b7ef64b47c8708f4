// Package registrytest is the conformance suite for Confluent-compatible
// schema registries: Run drives a registry over HTTP through the whole REST
// surface Contrail relies on (subjects, versions, schemas by ID, lookup,
// references, soft and permanent deletes, compatibility checks, config and
// mode) and checks every documented error code and the error body shape.
//
// Run it against Contrail's registry in tests, and against any other registry
// (Confluent, Redpanda) to compare behaviour:
//
//	registrytest.Run(t, "http://127.0.0.1:8081")
package registrytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/wire"
)

// Opt configures Run.
type Opt interface{ apply(*suite) }

type optFunc func(*suite)

func (f optFunc) apply(s *suite) { f(s) }

// BasicAuth makes every request carry HTTP basic auth. Default: none.
func BasicAuth(user, pass string) Opt {
	return optFunc(func(s *suite) { s.user, s.pass = user, pass })
}

// HTTPClient sets the client used for requests. Default http.DefaultClient;
// nil keeps the default.
func HTTPClient(c *http.Client) Opt {
	return optFunc(func(s *suite) {
		if c != nil {
			s.hc = c
		}
	})
}

// IncompatibleCode is the error_code this suite expects (with HTTP 409) when
// registering an incompatible schema. Default 409 (Confluent's historic code,
// which Contrail uses); newer Confluent servers answer 40901.
func IncompatibleCode(code int) Opt { return optFunc(func(s *suite) { s.incompatible = code }) }

type suite struct {
	base         string
	hc           *http.Client
	user, pass   string
	incompatible int
}

// Run runs the conformance suite against the registry at baseURL. The
// registry should be empty: Run creates subjects named "conformance-*",
// changes the global compatibility level and mode, and restores both to their
// defaults (BACKWARD, READWRITE) when it ends.
func Run(t *testing.T, baseURL string, opts ...Opt) {
	s := &suite{base: strings.TrimRight(baseURL, "/"), hc: http.DefaultClient, incompatible: 409}
	for _, o := range opts {
		o.apply(s)
	}
	t.Cleanup(func() {
		s.do(t, "DELETE", "/config", nil)
		s.do(t, "DELETE", "/mode", nil)
	})
	t.Run("Health", s.health)
	t.Run("UnknownRoutes", s.unknownRoutes)
	t.Run("RegisterAndFetch", s.registerAndFetch)
	t.Run("SameSchemaTwoSubjects", s.sameSchemaTwoSubjects)
	t.Run("Lookup", s.lookup)
	t.Run("Normalize", s.normalize)
	t.Run("InvalidInput", s.invalidInput)
	t.Run("Versions", s.versions)
	t.Run("References", s.references)
	t.Run("Deletes", s.deletes)
	t.Run("Compatibility", s.compatibility)
	t.Run("Config", s.config)
	t.Run("Mode", s.mode)
	t.Run("Import", s.importMode)
	t.Run("IDsNeverReused", s.idsNeverReused)
}

// response is one HTTP answer.
type response struct {
	status int
	ctype  string
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("HTTP %d %s", r.status, r.body) }

func (s *suite) do(t *testing.T, method, path string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal request: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", wire.ContentTypeRegistry)
	}
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: b}
}

// ok expects HTTP 200 and decodes the body into out (when non-nil).
func (s *suite) ok(t *testing.T, method, path string, body, out any) response {
	t.Helper()
	r := s.do(t, method, path, body)
	if r.status != http.StatusOK {
		t.Fatalf("%s %s: want HTTP 200, got %s", method, path, r)
	}
	if !strings.HasPrefix(r.ctype, wire.ContentTypeRegistry) {
		t.Errorf("%s %s: Content-Type %q, want %s", method, path, r.ctype, wire.ContentTypeRegistry)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, r.body, err)
		}
	}
	return r
}

// fails expects an error answer with the Confluent body shape.
func (s *suite) fails(t *testing.T, method, path string, body any, status, code int) {
	t.Helper()
	r := s.do(t, method, path, body)
	checkError(t, method+" "+path, r, status, code)
}

func checkError(t *testing.T, what string, r response, status, code int) {
	t.Helper()
	var e struct {
		Code    *int    `json:"error_code"`
		Message *string `json:"message"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Code == nil || e.Message == nil {
		t.Fatalf("%s: want body {\"error_code\":%d,\"message\":...}, got %s", what, code, r)
	}
	if r.status != status || *e.Code != code {
		t.Fatalf("%s: want HTTP %d error_code %d, got %s", what, status, code, r)
	}
	if *e.Message == "" {
		t.Errorf("%s: empty error message", what)
	}
}

func schemaBody(schema string, refs ...ref) map[string]any {
	m := map[string]any{"schema": schema}
	if len(refs) > 0 {
		m["references"] = refs
	}
	return m
}

type ref struct {
	Name    string `json:"name"`
	Subject string `json:"subject"`
	Version int    `json:"version"`
}

type subjectSchema struct {
	Subject    string  `json:"subject"`
	Version    int     `json:"version"`
	ID         int     `json:"id"`
	Schema     string  `json:"schema"`
	SchemaType *string `json:"schemaType"`
	References []ref   `json:"references"`
}

func (s *suite) register(t *testing.T, subject, schema string, refs ...ref) int {
	t.Helper()
	var out struct {
		ID *int `json:"id"`
	}
	s.ok(t, "POST", "/subjects/"+url.PathEscape(subject)+"/versions", schemaBody(schema, refs...), &out)
	if out.ID == nil || *out.ID <= 0 {
		t.Fatalf("register under %s: no positive id in answer", subject)
	}
	return *out.ID
}

func record(name string, fields ...string) string {
	return fmt.Sprintf(`{"type":"record","name":%q,"namespace":"conformance","fields":[%s]}`, name, strings.Join(fields, ","))
}

const (
	fID    = `{"name":"id","type":"string"}`
	fQty   = `{"name":"qty","type":"int"}`
	fNote  = `{"name":"note","type":["null","string"],"default":null}`
	fCount = `{"name":"count","type":"long"}`
)

func (s *suite) health(t *testing.T) {
	s.ok(t, "GET", "/", nil, nil)
	var types []string
	s.ok(t, "GET", "/schemas/types", nil, &types)
	if !slices.Contains(types, "AVRO") {
		t.Fatalf("GET /schemas/types = %v, want AVRO listed", types)
	}
	r := s.do(t, "GET", "/metrics", nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), "# TYPE") {
		t.Fatalf("GET /metrics: want Prometheus text, got HTTP %d (%d bytes)", r.status, len(r.body))
	}
}

func (s *suite) unknownRoutes(t *testing.T) {
	s.fails(t, "GET", "/no/such/route", nil, 404, 404)
	s.fails(t, "GET", "/subjects/x/versions/1/nothing", nil, 404, 404)
	s.fails(t, "PATCH", "/subjects", nil, 405, 405)
}

func (s *suite) registerAndFetch(t *testing.T) {
	subj := "conformance-fetch"
	schema := record("Fetch", fID)
	id := s.register(t, subj, schema)
	if again := s.register(t, subj, schema); again != id {
		t.Fatalf("re-registering an identical schema returned id %d, want %d", again, id)
	}
	// Formatting-only whitespace is not a new schema either.
	if again := s.register(t, subj, strings.ReplaceAll(schema, ",", " ,\n  ")); again != id {
		t.Fatalf("re-registering with extra whitespace returned id %d, want %d", again, id)
	}
	var vs []int
	s.ok(t, "GET", "/subjects/"+subj+"/versions", nil, &vs)
	if !slices.Equal(vs, []int{1}) {
		t.Fatalf("versions after re-registering = %v, want [1]", vs)
	}
	for _, v := range []string{"1", "latest", "-1"} {
		var got subjectSchema
		r := s.ok(t, "GET", "/subjects/"+subj+"/versions/"+v, nil, &got)
		if got.Subject != subj || got.Version != 1 || got.ID != id || got.Schema != schema {
			t.Fatalf("GET version %s = %+v, want subject %s version 1 id %d and the schema", v, got, subj, id)
		}
		if got.SchemaType != nil {
			t.Errorf("GET version %s: schemaType present (%q) for AVRO; Confluent omits it: %s", v, *got.SchemaType, r.body)
		}
	}
	r := s.ok(t, "GET", "/subjects/"+subj+"/versions/1/schema", nil, nil)
	if string(r.body) != schema {
		t.Fatalf("GET .../versions/1/schema = %s, want the raw schema %s", r.body, schema)
	}
	var byID subjectSchema
	r = s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d", id), nil, &byID)
	if byID.Schema != schema || byID.SchemaType != nil {
		t.Fatalf("GET /schemas/ids/%d = %s", id, r.body)
	}
	// fetchMaxId=true adds "maxId", the highest schema ID the registry has
	// handed out (Confluent's SchemaString); without it the field is absent.
	var withMax struct {
		Schema string `json:"schema"`
		MaxID  *int   `json:"maxId"`
	}
	r = s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d?fetchMaxId=true", id), nil, &withMax)
	if withMax.Schema != schema || withMax.MaxID == nil || *withMax.MaxID < id {
		t.Fatalf("GET /schemas/ids/%d?fetchMaxId=true = %s, want the schema and maxId >= %d", id, r.body, id)
	}
	withMax.MaxID = nil
	r = s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d", id), nil, &withMax)
	if withMax.MaxID != nil {
		t.Fatalf("GET /schemas/ids/%d = %s: maxId without fetchMaxId=true", id, r.body)
	}
	r = s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d/schema", id), nil, nil)
	if string(r.body) != schema {
		t.Fatalf("GET /schemas/ids/%d/schema = %s", id, r.body)
	}
	s.fails(t, "GET", "/schemas/ids/999999", nil, 404, 40403)
	s.fails(t, "GET", "/schemas/ids/999999/schema", nil, 404, 40403)
	var subjects []string
	s.ok(t, "GET", "/subjects", nil, &subjects)
	if !slices.Contains(subjects, subj) {
		t.Fatalf("GET /subjects = %v, want %s listed", subjects, subj)
	}
	s.ok(t, "GET", "/subjects?subjectPrefix=conformance-fe", nil, &subjects)
	if !slices.Equal(subjects, []string{subj}) {
		t.Fatalf("GET /subjects?subjectPrefix=conformance-fe = %v", subjects)
	}
	var all []subjectSchema
	s.ok(t, "GET", "/schemas?subjectPrefix="+subj, nil, &all)
	if len(all) != 1 || all[0].ID != id || all[0].Subject != subj {
		t.Fatalf("GET /schemas?subjectPrefix=%s = %+v", subj, all)
	}
	// A subject name with a slash, percent-encoded, is one path segment.
	slashID := s.register(t, "conformance/slash", record("Slash", fID))
	var slash subjectSchema
	s.ok(t, "GET", "/subjects/conformance%2Fslash/versions/1", nil, &slash)
	if slash.Subject != "conformance/slash" || slash.ID != slashID {
		t.Fatalf("subject with a slash = %+v", slash)
	}
	// A subject with a control character is refused with 42208 on every
	// write that names it, as Confluent does.
	for _, bad := range []string{"conformance%00nul", "conformance%0Aline"} {
		s.fails(t, "POST", "/subjects/"+bad+"/versions", schemaBody(record("Ctl", fID)), 422, 42208)
		s.fails(t, "PUT", "/config/"+bad, map[string]string{"compatibility": "FULL"}, 422, 42208)
		s.fails(t, "PUT", "/mode/"+bad, map[string]string{"mode": "READONLY"}, 422, 42208)
	}
	// Plain JSON requests are accepted too.
	req, _ := http.NewRequest("POST", s.base+"/subjects/"+subj+"/versions", strings.NewReader(mustJSON(schemaBody(schema))))
	req.Header.Set("Content-Type", "application/json")
	if s.user != "" {
		req.SetBasicAuth(s.user, s.pass)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("register with Content-Type application/json: HTTP %d", resp.StatusCode)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (s *suite) sameSchemaTwoSubjects(t *testing.T) {
	schema := record("Shared", fID)
	a := s.register(t, "conformance-shared-a", schema)
	b := s.register(t, "conformance-shared-b", schema)
	if a != b {
		t.Fatalf("same schema under two subjects got ids %d and %d, want one id", a, b)
	}
	var subjects []string
	s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d/subjects", a), nil, &subjects)
	slices.Sort(subjects)
	if !slices.Equal(subjects, []string{"conformance-shared-a", "conformance-shared-b"}) {
		t.Fatalf("GET /schemas/ids/%d/subjects = %v", a, subjects)
	}
	var pairs []struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d/versions", a), nil, &pairs)
	if len(pairs) != 2 || pairs[0].Version != 1 || pairs[1].Version != 1 {
		t.Fatalf("GET /schemas/ids/%d/versions = %+v", a, pairs)
	}
	s.fails(t, "GET", "/schemas/ids/999999/subjects", nil, 404, 40403)
	s.fails(t, "GET", "/schemas/ids/999999/versions", nil, 404, 40403)
}

func (s *suite) lookup(t *testing.T) {
	subj := "conformance-lookup"
	schema := record("Lookup", fID)
	id := s.register(t, subj, schema)
	var got subjectSchema
	s.ok(t, "POST", "/subjects/"+subj, schemaBody(schema), &got)
	if got.Subject != subj || got.ID != id || got.Version != 1 || got.Schema != schema {
		t.Fatalf("lookup = %+v, want subject %s id %d version 1", got, subj, id)
	}
	s.fails(t, "POST", "/subjects/"+subj, schemaBody(record("Lookup", fID, fQty)), 404, 40403)
	s.fails(t, "POST", "/subjects/conformance-no-such-subject", schemaBody(schema), 404, 40401)
}

func (s *suite) normalize(t *testing.T) {
	subj := "conformance-normalize"
	schema := `{"type":"record","name":"Norm","namespace":"conformance","fields":[{"name":"id","type":"string"}]}`
	reordered := `{"fields":[{"type":{"type":"string"},"name":"id"}],"namespace":"conformance","name":"Norm","type":"record"}`
	id := s.register(t, subj, schema)
	s.fails(t, "POST", "/subjects/"+subj, schemaBody(reordered), 404, 40403)
	var got subjectSchema
	s.ok(t, "POST", "/subjects/"+subj+"?normalize=true", schemaBody(reordered), &got)
	if got.ID != id || got.Version != 1 {
		t.Fatalf("normalized lookup = %+v, want id %d version 1", got, id)
	}
	var out struct{ ID int }
	s.ok(t, "POST", "/subjects/"+subj+"/versions?normalize=true", schemaBody(reordered), &out)
	if out.ID != id {
		t.Fatalf("normalized register returned id %d, want %d", out.ID, id)
	}
	var vs []int
	s.ok(t, "GET", "/subjects/"+subj+"/versions", nil, &vs)
	if len(vs) != 1 {
		t.Fatalf("normalized re-register created a version: %v", vs)
	}
}

func (s *suite) invalidInput(t *testing.T) {
	subj := "/subjects/conformance-invalid/versions"
	s.fails(t, "POST", subj, schemaBody(`{"type":"record","name":"X","fields":[{"name":"a","type":"nosuchtype"}]}`), 422, 42201)
	s.fails(t, "POST", subj, schemaBody(`not json`), 422, 42201)
	s.fails(t, "POST", subj, schemaBody(``), 422, 42201)
	s.fails(t, "POST", subj, map[string]any{"schema": record("X", fID), "schemaType": "PROTOBUF"}, 422, 42201)
	r := s.do(t, "POST", subj, `{"schema": `)
	if r.status < 400 || r.status >= 500 {
		t.Fatalf("malformed JSON body: want a 4xx, got %s", r)
	}
	checkError(t, "malformed JSON body", r, r.status, r.status)
	s.fails(t, "GET", "/subjects/conformance-invalid/versions", nil, 404, 40401)
	s.fails(t, "GET", "/subjects/conformance-invalid/versions/1", nil, 404, 40401)
}

func (s *suite) versions(t *testing.T) {
	subj := "conformance-versions"
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "NONE"}, nil)
	id1 := s.register(t, subj, record("V", fID))
	id2 := s.register(t, subj, record("V", fID, fNote))
	if id1 == id2 {
		t.Fatalf("two different schemas got the same id %d", id1)
	}
	var vs []int
	s.ok(t, "GET", "/subjects/"+subj+"/versions", nil, &vs)
	if !slices.Equal(vs, []int{1, 2}) {
		t.Fatalf("versions = %v, want [1 2]", vs)
	}
	var latest subjectSchema
	s.ok(t, "GET", "/subjects/"+subj+"/versions/latest", nil, &latest)
	if latest.Version != 2 || latest.ID != id2 {
		t.Fatalf("latest = %+v, want version 2 id %d", latest, id2)
	}
	for _, bad := range []string{"abc", "0", "-2", "1.5"} {
		s.fails(t, "GET", "/subjects/"+subj+"/versions/"+bad, nil, 422, 42202)
	}
	s.fails(t, "GET", "/subjects/"+subj+"/versions/3", nil, 404, 40402)
	s.fails(t, "GET", "/subjects/conformance-nope/versions/1", nil, 404, 40401)
}

func (s *suite) references(t *testing.T) {
	money := `{"type":"record","name":"Money","namespace":"conformance.common","fields":[{"name":"cents","type":"long"},{"name":"currency","type":"string"}]}`
	moneyID := s.register(t, "conformance.common.Money", money)
	order := `{"type":"record","name":"Order","namespace":"conformance","fields":[{"name":"id","type":"string"},{"name":"total","type":"conformance.common.Money"}]}`
	mref := ref{Name: "conformance.common.Money", Subject: "conformance.common.Money", Version: 1}
	orderID := s.register(t, "conformance-order-value", order, mref)
	if orderID == moneyID {
		t.Fatalf("order got the referenced schema's id %d", orderID)
	}
	var got subjectSchema
	s.ok(t, "GET", "/subjects/conformance-order-value/versions/1", nil, &got)
	if len(got.References) != 1 || got.References[0] != mref {
		t.Fatalf("version 1 references = %+v, want [%+v]", got.References, mref)
	}
	var byID subjectSchema
	s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d", orderID), nil, &byID)
	if len(byID.References) != 1 || byID.References[0] != mref {
		t.Fatalf("GET /schemas/ids/%d references = %+v", orderID, byID.References)
	}
	var by []int
	s.ok(t, "GET", "/subjects/conformance.common.Money/versions/1/referencedby", nil, &by)
	if !slices.Equal(by, []int{orderID}) {
		t.Fatalf("referencedby = %v, want [%d]", by, orderID)
	}
	// Lookup with references finds it; without them it is a different schema.
	var lk subjectSchema
	s.ok(t, "POST", "/subjects/conformance-order-value", schemaBody(order, mref), &lk)
	if lk.ID != orderID {
		t.Fatalf("lookup with references = %+v", lk)
	}
	// Referenced schemas cannot be deleted.
	s.fails(t, "DELETE", "/subjects/conformance.common.Money/versions/1", nil, 422, 42206)
	s.fails(t, "DELETE", "/subjects/conformance.common.Money", nil, 422, 42206)
	// Unresolvable references and unresolved names are invalid schemas.
	s.fails(t, "POST", "/subjects/conformance-order2-value/versions",
		schemaBody(order, ref{Name: "conformance.common.Money", Subject: "conformance-missing", Version: 1}), 422, 42201)
	s.fails(t, "POST", "/subjects/conformance-order2-value/versions", schemaBody(order), 422, 42201)
	s.fails(t, "GET", "/subjects/conformance.common.Money/versions/9/referencedby", nil, 404, 40402)
	// Once the referrer is gone (soft-deleted) the reference no longer blocks
	// a soft delete.
	s.ok(t, "DELETE", "/subjects/conformance-order-value", nil, nil)
	s.ok(t, "GET", "/subjects/conformance.common.Money/versions/1/referencedby", nil, &by)
	if len(by) != 0 {
		t.Fatalf("referencedby after deleting the referrer = %v, want []", by)
	}
	s.ok(t, "DELETE", "/subjects/conformance.common.Money/versions/1", nil, nil)
}

func (s *suite) deletes(t *testing.T) {
	subj := "conformance-delete"
	p := "/subjects/" + subj
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "NONE"}, nil)
	s.register(t, subj, record("D", fID))
	id2 := s.register(t, subj, record("D", fCount))
	s.fails(t, "DELETE", p+"/versions/1?permanent=true", nil, 404, 40407)
	var v int
	s.ok(t, "DELETE", p+"/versions/1", nil, &v)
	if v != 1 {
		t.Fatalf("soft delete of version 1 returned %d", v)
	}
	s.fails(t, "DELETE", p+"/versions/1", nil, 404, 40406)
	s.fails(t, "GET", p+"/versions/1", nil, 404, 40402)
	var got subjectSchema
	s.ok(t, "GET", p+"/versions/1?deleted=true", nil, &got)
	if got.Version != 1 {
		t.Fatalf("GET soft-deleted version with deleted=true = %+v", got)
	}
	s.fails(t, "POST", p, schemaBody(record("D", fID)), 404, 40403)
	got = subjectSchema{}
	s.ok(t, "POST", p+"?deleted=true", schemaBody(record("D", fID)), &got)
	if got.Version != 1 {
		t.Fatalf("lookup of a soft-deleted schema with deleted=true = %+v", got)
	}
	var vs []int
	s.ok(t, "GET", p+"/versions", nil, &vs)
	if !slices.Equal(vs, []int{2}) {
		t.Fatalf("versions after soft delete = %v, want [2]", vs)
	}
	s.ok(t, "GET", p+"/versions?deleted=true", nil, &vs)
	if !slices.Equal(vs, []int{1, 2}) {
		t.Fatalf("versions?deleted=true = %v, want [1 2]", vs)
	}
	s.ok(t, "DELETE", p+"/versions/1?permanent=true", nil, &v)
	s.fails(t, "GET", p+"/versions/1?deleted=true", nil, 404, 40402)
	s.fails(t, "DELETE", p+"/versions/7", nil, 404, 40402)

	s.fails(t, "DELETE", p+"?permanent=true", nil, 404, 40405)
	s.ok(t, "DELETE", p, nil, &vs)
	if !slices.Equal(vs, []int{2}) {
		t.Fatalf("soft subject delete returned %v, want [2]", vs)
	}
	s.fails(t, "DELETE", p, nil, 404, 40404)
	s.fails(t, "GET", p+"/versions", nil, 404, 40401)
	var subjects []string
	s.ok(t, "GET", "/subjects", nil, &subjects)
	if slices.Contains(subjects, subj) {
		t.Fatalf("soft-deleted subject listed: %v", subjects)
	}
	s.ok(t, "GET", "/subjects?deleted=true", nil, &subjects)
	if !slices.Contains(subjects, subj) {
		t.Fatalf("GET /subjects?deleted=true misses %s: %v", subj, subjects)
	}
	s.ok(t, "GET", "/subjects?deletedOnly=true", nil, &subjects)
	if !slices.Contains(subjects, subj) || slices.Contains(subjects, "conformance-fetch") {
		t.Fatalf("GET /subjects?deletedOnly=true = %v", subjects)
	}
	// The schema stays reachable by ID while only soft-deleted.
	s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d", id2), nil, nil)
	s.ok(t, "DELETE", p+"?permanent=true", nil, &vs)
	if !slices.Equal(vs, []int{2}) {
		t.Fatalf("permanent subject delete returned %v, want [2]", vs)
	}
	s.ok(t, "GET", "/subjects?deleted=true", nil, &subjects)
	if slices.Contains(subjects, subj) {
		t.Fatalf("permanently deleted subject still listed: %v", subjects)
	}
	// A hard delete removes the schema's metadata, its ID included.
	s.fails(t, "GET", fmt.Sprintf("/schemas/ids/%d", id2), nil, 404, 40403)
	s.fails(t, "DELETE", "/subjects/conformance-never", nil, 404, 40401)
}

func (s *suite) compatibility(t *testing.T) {
	subj := "conformance-compat"
	p := "/compatibility/subjects/" + subj + "/versions"
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "BACKWARD"}, nil)
	s.register(t, subj, record("C", fID))
	compatible := record("C", fID, fNote)  // new optional field with default
	incompatible := record("C", fID, fQty) // new field without default: BACKWARD break

	check := func(path, schema string, want bool) []string {
		t.Helper()
		var res struct {
			Is       *bool    `json:"is_compatible"`
			Messages []string `json:"messages"`
		}
		s.ok(t, "POST", path, schemaBody(schema), &res)
		if res.Is == nil || *res.Is != want {
			t.Fatalf("POST %s: is_compatible = %v, want %v", path, res.Is, want)
		}
		return res.Messages
	}
	check(p+"/latest", compatible, true)
	check(p+"/1", compatible, true)
	check(p, compatible, true)
	check(p+"/latest", incompatible, false)
	check(p, incompatible, false)
	if msgs := check(p+"/latest?verbose=true", incompatible, false); len(msgs) == 0 {
		t.Fatalf("verbose=true: no messages explaining the incompatibility")
	}
	s.fails(t, "POST", "/subjects/"+subj+"/versions", schemaBody(incompatible), 409, s.incompatible)
	s.fails(t, "POST", p+"/9", schemaBody(compatible), 404, 40402)
	s.fails(t, "POST", "/compatibility/subjects/conformance-none/versions/1", schemaBody(compatible), 404, 40401)
	s.fails(t, "POST", p+"/abc", schemaBody(compatible), 422, 42202)
	s.fails(t, "POST", p+"/latest", schemaBody(`{"type":"nope"}`), 422, 42201)
	// NONE lets anything through.
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "NONE"}, nil)
	check(p+"/latest", incompatible, true)
	s.register(t, subj, incompatible)
}

func (s *suite) config(t *testing.T) {
	subj := "conformance-config"
	var got map[string]string
	s.ok(t, "GET", "/config", nil, &got)
	if got["compatibilityLevel"] != "BACKWARD" {
		t.Fatalf("default global config = %v, want BACKWARD", got)
	}
	s.ok(t, "PUT", "/config", map[string]string{"compatibility": "FULL"}, &got)
	if got["compatibility"] != "FULL" {
		t.Fatalf("PUT /config answered %v", got)
	}
	s.ok(t, "GET", "/config", nil, &got)
	if got["compatibilityLevel"] != "FULL" {
		t.Fatalf("global config after PUT = %v", got)
	}
	s.fails(t, "GET", "/config/"+subj, nil, 404, 40408)
	s.ok(t, "GET", "/config/"+subj+"?defaultToGlobal=true", nil, &got)
	if got["compatibilityLevel"] != "FULL" {
		t.Fatalf("defaultToGlobal = %v, want FULL", got)
	}
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "forward_transitive"}, &got)
	if got["compatibility"] != "FORWARD_TRANSITIVE" {
		t.Fatalf("PUT /config/%s answered %v", subj, got)
	}
	s.ok(t, "GET", "/config/"+subj, nil, &got)
	if got["compatibilityLevel"] != "FORWARD_TRANSITIVE" {
		t.Fatalf("subject config = %v", got)
	}
	s.fails(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "SIDEWAYS"}, 422, 42203)
	s.fails(t, "PUT", "/config", map[string]string{"compatibility": ""}, 422, 42203)
	s.ok(t, "DELETE", "/config/"+subj, nil, &got)
	if got["compatibility"] != "FORWARD_TRANSITIVE" {
		t.Fatalf("DELETE /config/%s answered %v, want the removed level", subj, got)
	}
	s.fails(t, "GET", "/config/"+subj, nil, 404, 40408)
	s.fails(t, "DELETE", "/config/"+subj, nil, 404, 40408)
	s.ok(t, "DELETE", "/config", nil, nil)
	s.ok(t, "GET", "/config", nil, &got)
	if got["compatibilityLevel"] != "BACKWARD" {
		t.Fatalf("global config after DELETE = %v, want BACKWARD", got)
	}
}

func (s *suite) mode(t *testing.T) {
	subj := "conformance-mode"
	var got map[string]string
	s.ok(t, "GET", "/mode", nil, &got)
	if got["mode"] != "READWRITE" {
		t.Fatalf("default mode = %v", got)
	}
	s.register(t, subj, record("M", fID))
	s.fails(t, "GET", "/mode/"+subj, nil, 404, 40409)
	s.ok(t, "GET", "/mode/"+subj+"?defaultToGlobal=true", nil, &got)
	if got["mode"] != "READWRITE" {
		t.Fatalf("mode with defaultToGlobal = %v", got)
	}
	s.ok(t, "PUT", "/mode/"+subj, map[string]string{"mode": "READONLY"}, &got)
	if got["mode"] != "READONLY" {
		t.Fatalf("PUT /mode/%s answered %v", subj, got)
	}
	s.fails(t, "POST", "/subjects/"+subj+"/versions", schemaBody(record("M", fID, fNote)), 422, 42205)
	s.fails(t, "DELETE", "/subjects/"+subj+"/versions/1", nil, 422, 42205)
	s.fails(t, "DELETE", "/subjects/"+subj, nil, 422, 42205)
	// Reads still work.
	s.ok(t, "GET", "/subjects/"+subj+"/versions/1", nil, nil)
	s.fails(t, "PUT", "/mode/"+subj, map[string]string{"mode": "SOMETIMES"}, 422, 42204)
	s.ok(t, "DELETE", "/mode/"+subj, nil, &got)
	if got["mode"] != "READONLY" {
		t.Fatalf("DELETE /mode/%s answered %v", subj, got)
	}
	s.fails(t, "DELETE", "/mode/"+subj, nil, 404, 40409)
	s.register(t, subj, record("M", fID, fNote))
	// Global READONLY applies to every subject without its own mode.
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READONLY"}, nil)
	s.fails(t, "POST", "/subjects/conformance-mode-2/versions", schemaBody(record("M2", fID)), 422, 42205)
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READWRITE"}, nil)
	// IMPORT needs an empty registry unless forced.
	s.fails(t, "PUT", "/mode", map[string]string{"mode": "IMPORT"}, 422, 42205)
}

func (s *suite) importMode(t *testing.T) {
	subj := "conformance-import"
	p := "/subjects/" + subj + "/versions"
	schema := record("Imp", fID)
	s.fails(t, "POST", p, map[string]any{"schema": schema, "id": 7001, "version": 3}, 422, 42205)
	s.ok(t, "PUT", "/mode/"+subj, map[string]string{"mode": "IMPORT"}, nil)
	var out struct{ ID int }
	s.ok(t, "POST", p, map[string]any{"schema": schema, "id": 7001, "version": 3}, &out)
	if out.ID != 7001 {
		t.Fatalf("import returned id %d, want 7001", out.ID)
	}
	var got subjectSchema
	s.ok(t, "GET", p+"/3", nil, &got)
	if got.ID != 7001 || got.Version != 3 {
		t.Fatalf("imported version = %+v", got)
	}
	s.ok(t, "GET", "/schemas/ids/7001", nil, nil)
	// The same schema cannot take a second id; a used id cannot take another schema.
	s.fails(t, "POST", p, map[string]any{"schema": schema, "id": 7002}, 422, 42207)
	s.fails(t, "POST", p, map[string]any{"schema": record("Imp", fCount), "id": 7001, "version": 4}, 422, 42207)
	// Under another subject the same schema may keep the id it had in its
	// source registry (Confluent allows this in IMPORT; merging
	// two registries needs it), and both ids then serve it.
	other := "conformance-import-2"
	s.ok(t, "PUT", "/mode/"+other, map[string]string{"mode": "IMPORT"}, nil)
	s.ok(t, "POST", "/subjects/"+other+"/versions", map[string]any{"schema": schema, "id": 7002, "version": 1}, &out)
	if out.ID != 7002 {
		t.Fatalf("import of a known schema under %s with id 7002 returned id %d", other, out.ID)
	}
	var byID subjectSchema
	s.ok(t, "GET", "/schemas/ids/7002", nil, &byID)
	if byID.Schema != schema {
		t.Fatalf("GET /schemas/ids/7002 = %+v, want the imported schema", byID)
	}
	s.ok(t, "DELETE", "/mode/"+other, nil, nil)
	s.ok(t, "DELETE", "/mode/"+subj, nil, nil)
	// After the import, new ids continue above the imported one.
	id := s.register(t, "conformance-after-import", record("AfterImport", fID))
	if id <= 7001 {
		t.Fatalf("id after import = %d, want > 7001 (ids are never reused)", id)
	}
}

func (s *suite) idsNeverReused(t *testing.T) {
	subj := "conformance-reuse"
	id1 := s.register(t, subj, record("Reuse", fID))
	s.ok(t, "DELETE", "/subjects/"+subj, nil, nil)
	s.ok(t, "DELETE", "/subjects/"+subj+"?permanent=true", nil, nil)
	id2 := s.register(t, subj, record("Reuse2", fID))
	if id2 <= id1 {
		t.Fatalf("new schema after a permanent delete got id %d, want > %d", id2, id1)
	}
	// Re-registering the deleted schema keeps its original id.
	if id := s.register(t, subj+"-again", record("Reuse", fID)); id != id1 && id <= id2 {
		t.Fatalf("re-registered deleted schema got id %d, want %d or a fresh id", id, id1)
	}
}
