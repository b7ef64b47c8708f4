// Package registrytest is the conformance suite for Confluent-compatible
// schema registries: Run drives a registry over HTTP through the whole REST
// surface Contrail relies on (subjects, versions, schemas by ID, lookup,
// references, soft and permanent deletes, compatibility checks, config,
// aliases and mode, pagination, schema contexts, server metadata, data
// contracts: metadata, rule sets and compatibility groups) and checks
// every documented error code and the error body shape. Each case names the
// Confluent source or document whose behaviour it pins: "RestApiTest" and
// its siblings are Confluent's core/src/test/.../rest tests, "…Resource" its
// core/src/main/.../rest/resources classes, "KafkaSchemaRegistry" and
// "AbstractSchemaRegistry" its storage classes.
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
	base          string
	hc            *http.Client
	user, pass    string
	incompatible  int
	skipContracts bool
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
	t.Run("Pagination", s.pagination)
	t.Run("Metadata", s.metadata)
	t.Run("Aliases", s.aliases)
	t.Run("DataContracts", s.dataContracts)
	// Contexts last: GET /subjects lists every context's subjects.
	t.Run("Contexts", s.contexts)
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
		// Confluent 8 names the type of AVRO schemas too: its entities
		// dropped the SchemaTypeConverter that omitted it (SchemaString,
		// RegisterSchemaResponse).
		if got.SchemaType == nil || *got.SchemaType != "AVRO" {
			t.Errorf("GET version %s: schemaType %v, want \"AVRO\": %s", v, got.SchemaType, r.body)
		}
	}
	r := s.ok(t, "GET", "/subjects/"+subj+"/versions/1/schema", nil, nil)
	if string(r.body) != schema {
		t.Fatalf("GET .../versions/1/schema = %s, want the raw schema %s", r.body, schema)
	}
	var byID subjectSchema
	r = s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d", id), nil, &byID)
	if byID.Schema != schema || byID.SchemaType == nil || *byID.SchemaType != "AVRO" {
		t.Fatalf("GET /schemas/ids/%d = %s, want the schema with schemaType AVRO", id, r.body)
	}
	// The register answer is Confluent 8's RegisterSchemaResponse: id,
	// version, schemaType and the schema.
	var reg subjectSchema
	r = s.ok(t, "POST", "/subjects/"+subj+"/versions", schemaBody(schema), &reg)
	if reg.ID != id || reg.Version != 1 || reg.SchemaType == nil || *reg.SchemaType != "AVRO" || reg.Schema != schema {
		t.Fatalf("register answer = %s, want id %d version 1 schemaType AVRO and the schema", r.body, id)
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
	if len(all) != 1 || all[0].ID != id || all[0].Subject != subj || all[0].SchemaType == nil || *all[0].SchemaType != "AVRO" {
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
	if got.SchemaType == nil || *got.SchemaType != "AVRO" {
		t.Errorf("lookup answer schemaType %v, want AVRO", got.SchemaType)
	}
	s.fails(t, "POST", "/subjects/"+subj, schemaBody(record("Lookup", fID, fQty)), 404, 40403)
	s.fails(t, "POST", "/subjects/conformance-no-such-subject", schemaBody(schema), 404, 40401)
	// An empty schema matches nothing: SubjectsResource.lookUpSchemaUnderSubject
	// finds no canonical form for it and answers schema (or subject) not found.
	s.fails(t, "POST", "/subjects/"+subj, schemaBody(""), 404, 40403)
	s.fails(t, "POST", "/subjects/conformance-no-such-subject", schemaBody(""), 404, 40401)
	// The schema is parsed before the subject is looked for
	// (AbstractSchemaRegistry.lookUpSchemaUnderSubject canonicalizes first).
	s.fails(t, "POST", "/subjects/conformance-no-such-subject", schemaBody(`{"type":"nope"}`), 422, 42201)
	// schemaType is looked up case-sensitively among the providers
	// (AbstractSchemaRegistry.loadSchema: "Invalid schema type avro").
	s.fails(t, "POST", "/subjects/"+subj, map[string]any{"schema": schema, "schemaType": "avro"}, 422, 42201)
	s.ok(t, "POST", "/subjects/"+subj, map[string]any{"schema": schema, "schemaType": "AVRO"}, nil)
}

// normalize: Confluent identifies a schema by its canonical string
// (AbstractSchemaRegistry.canonicalizeSchema, AvroSchema.canonicalString:
// Avro's Schema.toString), so key order, {"type":"string"} for "string" and
// how a nested type's namespace is written (explicit, or inherited from the
// enclosing type through records, arrays, maps and unions) never make a new
// schema, with or without normalize=true.
func (s *suite) normalize(t *testing.T) {
	subj := "conformance-normalize"
	schema := `{"type":"record","name":"Norm","namespace":"conformance","fields":[{"name":"id","type":"string"}]}`
	reordered := `{"fields":[{"type":{"type":"string"},"name":"id"}],"namespace":"conformance","name":"Norm","type":"record"}`
	id := s.register(t, subj, schema)
	for _, q := range []string{"", "?normalize=true"} {
		var got subjectSchema
		s.ok(t, "POST", "/subjects/"+subj+q, schemaBody(reordered), &got)
		if got.ID != id || got.Version != 1 {
			t.Fatalf("lookup%s of the reordered spelling = %+v, want id %d version 1", q, got, id)
		}
		var out struct{ ID int }
		s.ok(t, "POST", "/subjects/"+subj+"/versions"+q, schemaBody(reordered), &out)
		if out.ID != id {
			t.Fatalf("register%s of the reordered spelling returned id %d, want %d", q, out.ID, id)
		}
	}
	var vs []int
	s.ok(t, "GET", "/subjects/"+subj+"/versions", nil, &vs)
	if len(vs) != 1 {
		t.Fatalf("re-registering a respelling created a version: %v", vs)
	}

	// Namespaces: each pair is one schema spelled twice.
	nested := func(wrap func(string) string, ns string) string {
		inner := `{"type":"record","name":"Inner"` + ns + `,"fields":[{"name":"v","type":"long"}]}`
		return `{"type":"record","name":"Outer","namespace":"conformance.ns","fields":[{"name":"x","type":` + wrap(inner) + `}]}`
	}
	wraps := []struct {
		name string
		wrap func(string) string
	}{
		{"record", func(s string) string { return s }},
		{"array", func(s string) string { return `{"type":"array","items":` + s + `}` }},
		{"map", func(s string) string { return `{"type":"map","values":` + s + `}` }},
		{"union", func(s string) string { return `["null",` + s + `]` }},
		{"union of arrays of maps", func(s string) string {
			return `["null",{"type":"array","items":{"type":"map","values":` + s + `}}]`
		}},
	}
	for i, w := range wraps {
		sub := fmt.Sprintf("conformance-namespace-%d", i)
		inherited := nested(w.wrap, "")
		explicit := nested(w.wrap, `,"namespace":"conformance.ns"`)
		fullName := strings.Replace(nested(w.wrap, ""), `"name":"Inner"`, `"name":"conformance.ns.Inner"`, 1)
		id := s.register(t, sub, inherited)
		for _, spelled := range []string{explicit, fullName} {
			if again := s.register(t, sub, spelled); again != id {
				t.Fatalf("%s: the same schema with the nested namespace spelled out got id %d, want %d", w.name, again, id)
			}
			var got subjectSchema
			s.ok(t, "POST", "/subjects/"+sub, schemaBody(spelled), &got)
			if got.ID != id || got.Version != 1 {
				t.Fatalf("%s: lookup of the explicit namespace = %+v, want id %d version 1", w.name, got, id)
			}
		}
		// Under another subject the respelling keeps the id.
		if other := s.register(t, sub+"-other", explicit); other != id {
			t.Fatalf("%s: respelling under another subject got id %d, want %d", w.name, other, id)
		}
		// A really different namespace is a different schema.
		moved := nested(w.wrap, `,"namespace":"conformance.elsewhere"`)
		s.ok(t, "PUT", "/config/"+sub, map[string]string{"compatibility": "NONE"}, nil)
		if other := s.register(t, sub, moved); other == id {
			t.Fatalf("%s: a nested type moved to another namespace kept id %d", w.name, id)
		}
	}
}

func (s *suite) invalidInput(t *testing.T) {
	subj := "/subjects/conformance-invalid/versions"
	s.fails(t, "POST", subj, schemaBody(`{"type":"record","name":"X","fields":[{"name":"a","type":"nosuchtype"}]}`), 422, 42201)
	s.fails(t, "POST", subj, schemaBody(`not json`), 422, 42201)
	s.fails(t, "POST", subj, schemaBody(``), 422, 42201)
	s.fails(t, "POST", subj, map[string]any{"schema": record("X", fID), "schemaType": "PROTOBUF"}, 422, 42201)
	// Types are case-sensitive (AbstractSchemaRegistry.loadSchema).
	s.fails(t, "POST", subj, map[string]any{"schema": record("X", fID), "schemaType": "avro"}, 422, 42201)
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
	// A soft-deleted referrer does not block a permanent delete either:
	// Confluent drops it from its referencedBy index when it is soft-deleted
	// (InMemoryCache.schemaDeleted), and KafkaSchemaRegistry.deleteSubject
	// only refuses live references.
	var gone []int
	s.ok(t, "DELETE", "/subjects/conformance.common.Money?permanent=true", nil, &gone)
	if !slices.Equal(gone, []int{1}) {
		t.Fatalf("permanent delete of a subject referenced only by a soft-deleted schema = %v, want [1]", gone)
	}
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
	// CompatibilityResource.testCompatibilityBySubjectName looks the version
	// up first: a missing one is 40402 even when the subject does not exist,
	// and before the schema is parsed; "latest" of no subject is compatible.
	s.fails(t, "POST", "/compatibility/subjects/conformance-none/versions/1", schemaBody(compatible), 404, 40402)
	s.fails(t, "POST", "/compatibility/subjects/conformance-none/versions/1", schemaBody(`{"type":"nope"}`), 404, 40402)
	check("/compatibility/subjects/conformance-none/versions/latest", compatible, true)
	check("/compatibility/subjects/conformance-none/versions", compatible, true)
	s.fails(t, "POST", p+"/abc", schemaBody(compatible), 422, 42202)
	s.fails(t, "POST", p+"/latest", schemaBody(`{"type":"nope"}`), 422, 42201)
	// With verbose=true an invalid schema is answered as incompatible, the
	// parse error as its message (InvalidSchemaException caught when verbose).
	if msgs := check(p+"/latest?verbose=true", `{"type":"nope"}`, false); len(msgs) == 0 {
		t.Fatalf("verbose check of an invalid schema: no message")
	}
	// NONE lets anything through.
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "NONE"}, nil)
	check(p+"/latest", incompatible, true)
	s.register(t, subj, incompatible)
}

func (s *suite) config(t *testing.T) {
	subj := "conformance-config"
	var got map[string]any
	s.ok(t, "GET", "/config", nil, &got)
	if got["compatibilityLevel"] != "BACKWARD" {
		t.Fatalf("default global config = %v, want BACKWARD", got)
	}
	// PUT answers Confluent's ConfigUpdateRequest ("compatibility").
	s.ok(t, "PUT", "/config", map[string]string{"compatibility": "FULL"}, &got)
	if got["compatibility"] != "FULL" {
		t.Fatalf("PUT /config answered %v", got)
	}
	// An empty update changes nothing and answers the setting in force
	// (ConfigResource.updateTopLevelConfig accepts a request without a
	// level; only a level it cannot read is 42203).
	got = nil
	s.ok(t, "PUT", "/config", map[string]any{}, &got)
	if got["compatibility"] != "FULL" {
		t.Fatalf("PUT /config {} answered %v, want the current FULL", got)
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
	// normalize is a config field too, kept beside the level.
	got = nil
	s.ok(t, "PUT", "/config/"+subj, map[string]any{"normalize": true}, &got)
	if got["compatibility"] != "FORWARD_TRANSITIVE" || got["normalize"] != true {
		t.Fatalf("PUT /config/%s {normalize} answered %v, want the level kept", subj, got)
	}
	s.fails(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "SIDEWAYS"}, 422, 42203)
	s.fails(t, "PUT", "/config", map[string]string{"compatibility": ""}, 422, 42203)
	// DELETE answers the removed Config, whose level is "compatibilityLevel"
	// (ConfigResource.deleteSubjectConfig resumes with a Config).
	got = nil
	s.ok(t, "DELETE", "/config/"+subj, nil, &got)
	if got["compatibilityLevel"] != "FORWARD_TRANSITIVE" || got["compatibility"] != nil {
		t.Fatalf("DELETE /config/%s answered %v, want {\"compatibilityLevel\": the removed level}", subj, got)
	}
	s.fails(t, "GET", "/config/"+subj, nil, 404, 40408)
	// Deleting a config that is not set is "subject not found" there.
	s.fails(t, "DELETE", "/config/"+subj, nil, 404, 40401)
	got = nil
	s.ok(t, "DELETE", "/config", nil, &got)
	if got["compatibilityLevel"] != "FULL" {
		t.Fatalf("DELETE /config answered %v, want {\"compatibilityLevel\": \"FULL\"}", got)
	}
	s.ok(t, "GET", "/config", nil, &got)
	if got["compatibilityLevel"] != "BACKWARD" {
		t.Fatalf("global config after DELETE = %v, want BACKWARD", got)
	}
	// A read-only subject refuses config writes (KafkaSchemaRegistry
	// .updateConfig and deleteSubjectConfig check isReadOnlyMode).
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "NONE"}, nil)
	s.ok(t, "PUT", "/mode/"+subj, map[string]string{"mode": "READONLY"}, nil)
	s.fails(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "FULL"}, 422, 42205)
	s.fails(t, "DELETE", "/config/"+subj, nil, 422, 42205)
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READONLY"}, nil)
	s.fails(t, "PUT", "/config", map[string]string{"compatibility": "FULL"}, 422, 42205)
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READWRITE"}, nil)
	s.ok(t, "DELETE", "/mode/"+subj, nil, nil)
	s.ok(t, "DELETE", "/config/"+subj, nil, nil)
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
	// Deleting a mode that is not set is "subject not found"
	// (ModeResource.deleteSubjectMode).
	s.fails(t, "DELETE", "/mode/"+subj, nil, 404, 40401)
	s.register(t, subj, record("M", fID, fNote))
	// Global READONLY applies to every subject without its own mode.
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READONLY"}, nil)
	s.fails(t, "POST", "/subjects/conformance-mode-2/versions", schemaBody(record("M2", fID)), 422, 42205)
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READWRITE"}, nil)
	// A global READONLY_OVERRIDE makes every subject read-only, its own
	// mode notwithstanding, and is what GET /mode/{subject} answers
	// (AbstractSchemaRegistry.getModeInScope and getMode).
	s.ok(t, "PUT", "/mode/"+subj, map[string]string{"mode": "READWRITE"}, nil)
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READONLY_OVERRIDE"}, &got)
	if got["mode"] != "READONLY_OVERRIDE" {
		t.Fatalf("PUT /mode READONLY_OVERRIDE answered %v", got)
	}
	s.fails(t, "POST", "/subjects/"+subj+"/versions", schemaBody(record("M", fID, fNote, fCount)), 422, 42205)
	s.fails(t, "DELETE", "/subjects/"+subj+"/versions/1", nil, 422, 42205)
	s.ok(t, "GET", "/mode/"+subj, nil, &got)
	if got["mode"] != "READONLY_OVERRIDE" {
		t.Fatalf("GET /mode/%s under a global READONLY_OVERRIDE = %v", subj, got)
	}
	// An identical schema is still answered: registerOrForward looks it up
	// before checkRegisterMode.
	s.register(t, subj, record("M", fID, fNote))
	s.ok(t, "PUT", "/mode", map[string]string{"mode": "READWRITE"}, nil)
	s.ok(t, "DELETE", "/mode/"+subj, nil, nil)
	// PUT echoes the request (ModeResource.updateMode returns it).
	s.ok(t, "PUT", "/mode/"+subj, map[string]string{"mode": "readonly"}, &got)
	if got["mode"] != "readonly" {
		t.Fatalf("PUT /mode/%s {readonly} answered %v, want the request echoed", subj, got)
	}
	s.ok(t, "GET", "/mode/"+subj, nil, &got)
	if got["mode"] != "READONLY" {
		t.Fatalf("mode stored from \"readonly\" = %v", got)
	}
	s.ok(t, "DELETE", "/mode/"+subj, nil, nil)
	// IMPORT needs no live subject in scope unless forced.
	s.fails(t, "PUT", "/mode", map[string]string{"mode": "IMPORT"}, 422, 42205)
}

// importMode follows Confluent's checkRegisterMode and
// checkIfSchemaWithIdExist (AbstractSchemaRegistry, KafkaSchemaRegistry
// .register): an explicit id needs IMPORT, IMPORT needs an explicit id, and
// an id holding another schema of the context is refused, all with 42205.
func (s *suite) importMode(t *testing.T) {
	subj := "conformance-import"
	p := "/subjects/" + subj + "/versions"
	schema := record("Imp", fID)
	s.fails(t, "POST", p, map[string]any{"schema": schema, "id": 7001, "version": 3}, 422, 42205)
	s.ok(t, "PUT", "/mode/"+subj, map[string]string{"mode": "IMPORT"}, nil)
	// IMPORT without an id: "not in read-write mode".
	s.fails(t, "POST", p, map[string]any{"schema": schema}, 422, 42205)
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
	// Importing it again with its id and version answers it unchanged.
	s.ok(t, "POST", p, map[string]any{"schema": schema, "id": 7001, "version": 3}, &out)
	if out.ID != 7001 {
		t.Fatalf("re-import returned id %d, want 7001", out.ID)
	}
	// A used id never takes another schema ("Overwrite new schema with id
	// ... is not permitted"); ids are never reused.
	s.fails(t, "POST", p, map[string]any{"schema": record("Imp", fCount), "id": 7001, "version": 4}, 422, 42205)
	// Under another subject the same schema may keep the id it had in its
	// source registry (Confluent allows this in IMPORT; merging two
	// registries needs it), and both ids then serve it.
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
	// Outside IMPORT an explicit version must be the next one
	// (KafkaSchemaRegistry.register: "Version is not one more than previous
	// version", an invalid schema).
	s.fails(t, "POST", p, map[string]any{"schema": record("Imp", fID, fNote), "version": 9}, 422, 42201)
	var next struct{ ID, Version int }
	s.ok(t, "POST", p, map[string]any{"schema": record("Imp", fID, fNote), "version": 4}, &next)
	if next.Version != 4 {
		t.Fatalf("register with the next version answered %+v, want version 4", next)
	}
	// After the import, new ids continue above the imported one.
	id := s.register(t, "conformance-after-import", record("AfterImport", fID))
	if id <= 7002 {
		t.Fatalf("id after import = %d, want > 7002 (ids are never reused)", id)
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

// pagination: offset and limit, as Confluent's list resources read them
// (SubjectsResource.list, SubjectVersionsResource.listVersions,
// SchemasResource.getSchemas, getSubjects and getVersions by ID, and the
// Confluent Cloud API reference: offset default 0, limit default -1,
// "Ignored if negative"). A limit <= 0 or over the server's maximum takes
// the server's default page (AbstractSchemaRegistry.normalizeLimit); an
// offset past the end answers [].
func (s *suite) pagination(t *testing.T) {
	subj := "conformance-page"
	s.ok(t, "PUT", "/config/"+subj, map[string]string{"compatibility": "NONE"}, nil)
	id1 := s.register(t, subj, record("P", fID))
	s.register(t, subj, record("P", fQty))
	s.register(t, subj, record("P", fCount))
	for _, other := range []string{subj + "-b", subj + "-c"} {
		s.register(t, other, record("P", fID))
	}
	ints := func(path string, want ...int) {
		t.Helper()
		var got []int
		s.ok(t, "GET", path, nil, &got)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("GET %s = %v, want %v", path, got, want)
		}
	}
	strs := func(path string, want ...string) {
		t.Helper()
		var got []string
		s.ok(t, "GET", path, nil, &got)
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("GET %s = %v, want %v", path, got, want)
		}
	}
	v := "/subjects/" + subj + "/versions"
	ints(v, 1, 2, 3)
	ints(v+"?offset=1", 2, 3)
	ints(v+"?limit=2", 1, 2)
	ints(v+"?offset=1&limit=1", 2)
	ints(v + "?offset=5")
	ints(v+"?limit=-1", 1, 2, 3)
	ints(v+"?limit=0", 1, 2, 3)
	ints(v+"?offset=-3&limit=1", 1) // a negative offset counts as 0
	all := []string{subj, subj + "-b", subj + "-c"}
	strs("/subjects?subjectPrefix="+subj, all...)
	strs("/subjects?subjectPrefix="+subj+"&offset=1&limit=1", all[1])
	strs("/subjects?subjectPrefix="+subj+"&offset=2", all[2])
	var schemas []subjectSchema
	s.ok(t, "GET", "/schemas?subjectPrefix="+subj+"&offset=1&limit=2", nil, &schemas)
	if len(schemas) != 2 || schemas[0].Subject != subj || schemas[0].Version != 2 || schemas[1].Version != 3 {
		t.Fatalf("GET /schemas?offset=1&limit=2 = %+v, want versions 2 and 3 of %s", schemas, subj)
	}
	id := fmt.Sprintf("/schemas/ids/%d", id1)
	strs(id+"/subjects", all...)
	strs(id+"/subjects?offset=1&limit=1", all[1])
	var pairs []struct {
		Subject string `json:"subject"`
		Version int    `json:"version"`
	}
	s.ok(t, "GET", id+"/versions?offset=2&limit=5", nil, &pairs)
	if len(pairs) != 1 || pairs[0].Subject != all[2] {
		t.Fatalf("GET %s/versions?offset=2 = %+v, want only %s", id, pairs, all[2])
	}
	// A value that is not an integer is a JAX-RS parameter conversion
	// failure: 404.
	s.fails(t, "GET", v+"?limit=two", nil, 404, 404)
}

// metadata: the server metadata resource (ServerMetadataResource):
// /v1/metadata/id answers a ServerClusterId ({"scope": {"path": [],
// "clusters": {...}}}) and /v1/metadata/version a
// SchemaRegistryServerVersion (its fields omitted when unknown).
func (s *suite) metadata(t *testing.T) {
	var id struct {
		Scope struct {
			Path     []string          `json:"path"`
			Clusters map[string]string `json:"clusters"`
		} `json:"scope"`
	}
	r := s.ok(t, "GET", "/v1/metadata/id", nil, &id)
	if id.Scope.Path == nil || id.Scope.Clusters == nil {
		t.Fatalf("GET /v1/metadata/id = %s, want {\"scope\": {\"path\": [], \"clusters\": {...}}}", r.body)
	}
	if _, ok := id.Scope.Clusters["schema-registry-cluster"]; !ok {
		t.Fatalf("GET /v1/metadata/id = %s: no schema-registry-cluster", r.body)
	}
	var version map[string]string
	s.ok(t, "GET", "/v1/metadata/version", nil, &version)
}

// aliases: a subject whose config names an alias stands for the aliased
// subject under /subjects/{s}/... and /compatibility/subjects/{s}/...
// (AliasFilter rewrites the path before matching; /config and /mode still
// address the alias itself), and an unqualified alias lives in the aliasing
// subject's context (QualifiedSubject.qualifySubjectWithParent).
func (s *suite) aliases(t *testing.T) {
	target, alias := "conformance-alias-target", "conformance-alias"
	id := s.register(t, target, record("Aliased", fID))
	var got map[string]any
	s.ok(t, "PUT", "/config/"+alias, map[string]string{"alias": target}, &got)
	if got["alias"] != target {
		t.Fatalf("PUT /config/%s {alias} answered %v", alias, got)
	}
	s.ok(t, "GET", "/config/"+alias, nil, &got)
	if got["alias"] != target {
		t.Fatalf("GET /config/%s = %v, want the alias", alias, got)
	}
	var sv subjectSchema
	s.ok(t, "GET", "/subjects/"+alias+"/versions/1", nil, &sv)
	if sv.Subject != target || sv.ID != id {
		t.Fatalf("GET /subjects/%s/versions/1 = %+v, want %s's version 1", alias, sv, target)
	}
	s.ok(t, "POST", "/subjects/"+alias, schemaBody(record("Aliased", fID)), &sv)
	if sv.Subject != target || sv.ID != id {
		t.Fatalf("lookup under the alias = %+v", sv)
	}
	// Registering under the alias registers under the target.
	id2 := s.register(t, alias, record("Aliased", fID, fNote))
	var vs []int
	s.ok(t, "GET", "/subjects/"+target+"/versions", nil, &vs)
	if !slices.Equal(vs, []int{1, 2}) {
		t.Fatalf("versions of %s after registering under its alias = %v, want [1 2]", target, vs)
	}
	var res struct {
		Is bool `json:"is_compatible"`
	}
	s.ok(t, "POST", "/compatibility/subjects/"+alias+"/versions/latest", schemaBody(record("Aliased", fID, fNote, fQty)), &res)
	if res.Is {
		t.Fatalf("compatibility under the alias did not check %s's latest version", target)
	}
	var subjects []string
	s.ok(t, "GET", fmt.Sprintf("/schemas/ids/%d/subjects?subject=%s", id2, alias), nil, &subjects)
	if !slices.Equal(subjects, []string{target}) {
		t.Fatalf("GET /schemas/ids/%d/subjects?subject=%s = %v", id2, alias, subjects)
	}
	// The alias is a config like any other: removing it ends the aliasing.
	s.ok(t, "PUT", "/config/"+alias, map[string]any{"alias": nil}, nil)
	s.fails(t, "GET", "/subjects/"+alias+"/versions/1", nil, 404, 40401)
}

// contexts: schema contexts as Confluent implements them (QualifiedSubject,
// ContextFilter, ContextsResource; RestApiContextTest testQualifiedSubjects
// and testContextPaths): ":.ctx:subject" names a subject of a context, every
// context numbers its schema IDs from 1, /contexts/{ctx}/... addresses the
// context, GET /contexts lists "." and every context used, ":.ctx:" holds
// the context's own config and mode, and readers of an unqualified subject
// fall back to the same name in other contexts.
func (s *suite) contexts(t *testing.T) {
	var ctxs []string
	s.ok(t, "GET", "/contexts", nil, &ctxs)
	if !slices.Contains(ctxs, ".") {
		t.Fatalf("GET /contexts = %v, want the default context \".\"", ctxs)
	}
	// Every context numbers its schemas from 1.
	a := record("CtxA", fID)
	b := record("CtxB", fID)
	if id := s.register(t, ":.conf1:topic-value", a); id != 1 {
		t.Fatalf("first schema of context .conf1 got id %d, want 1", id)
	}
	if id := s.register(t, ":.conf1:topic-value", a); id != 1 {
		t.Fatalf("re-registering in .conf1 got id %d, want 1", id)
	}
	// The same through the context path (ContextFilter).
	var reg struct{ ID int }
	s.ok(t, "POST", "/contexts/.conf2/subjects/topic-value/versions", schemaBody(b), &reg)
	if reg.ID != 1 {
		t.Fatalf("first schema of context .conf2 got id %d, want 1", reg.ID)
	}
	var byID subjectSchema
	s.ok(t, "GET", "/schemas/ids/1?subject=:.conf1:", nil, &byID)
	if byID.Schema != a {
		t.Fatalf("id 1 of .conf1 = %+v, want %s", byID, a)
	}
	s.ok(t, "GET", "/contexts/.conf2/schemas/ids/1", nil, &byID)
	if byID.Schema != b {
		t.Fatalf("id 1 of .conf2 = %+v, want %s", byID, b)
	}
	// An unqualified subject that uses the id elsewhere finds its context.
	s.ok(t, "GET", "/schemas/ids/1?subject=topic-value", nil, &byID)
	if byID.Schema != a {
		t.Fatalf("id 1 for the unqualified subject topic-value = %+v, want .conf1's", byID)
	}
	s.ok(t, "GET", "/contexts", nil, &ctxs)
	if !slices.Contains(ctxs, ".conf1") || !slices.Contains(ctxs, ".conf2") || ctxs[0] != "." {
		t.Fatalf("GET /contexts = %v, want . first and .conf1, .conf2", ctxs)
	}
	var page []string
	s.ok(t, "GET", "/contexts?contextPrefix=.conf&limit=1", nil, &page)
	if !slices.Equal(page, []string{".conf1"}) {
		t.Fatalf("GET /contexts?contextPrefix=.conf&limit=1 = %v", page)
	}
	// Subjects: qualified names; a prefix of ":.ctx:" stays in the context,
	// "" stays in the default one, ":*:" spans all, and no prefix lists all.
	var subjects []string
	s.ok(t, "GET", "/subjects?subjectPrefix=:.conf1:", nil, &subjects)
	if !slices.Equal(subjects, []string{":.conf1:topic-value"}) {
		t.Fatalf("subjects of .conf1 = %v", subjects)
	}
	s.ok(t, "GET", "/contexts/.conf2/subjects", nil, &subjects)
	if !slices.Equal(subjects, []string{":.conf2:topic-value"}) {
		t.Fatalf("subjects under /contexts/.conf2 = %v", subjects)
	}
	s.ok(t, "GET", "/subjects?subjectPrefix=:*:topic-", nil, &subjects)
	if !slices.Equal(subjects, []string{":.conf1:topic-value", ":.conf2:topic-value"}) {
		t.Fatalf("subjects matching :*:topic- = %v", subjects)
	}
	s.ok(t, "GET", "/subjects", nil, &subjects)
	if !slices.Contains(subjects, ":.conf1:topic-value") || !slices.Contains(subjects, "conformance-fetch") {
		t.Fatalf("GET /subjects = %v, want every context's subjects", subjects)
	}
	s.ok(t, "GET", "/subjects?subjectPrefix=", nil, &subjects)
	if slices.Contains(subjects, ":.conf1:topic-value") {
		t.Fatalf("GET /subjects?subjectPrefix= = %v, want the default context only", subjects)
	}
	// ":.:" spells the default context out.
	var vs []int
	s.ok(t, "GET", "/subjects/:.:conformance-fetch/versions", nil, &vs)
	if !slices.Equal(vs, []int{1}) {
		t.Fatalf("versions of :.:conformance-fetch = %v", vs)
	}
	// Readers of an unqualified subject fall back to other contexts
	// (getUsingContexts, lookUpSchemaUnderSubjectUsingContexts).
	var sv subjectSchema
	s.ok(t, "GET", "/subjects/topic-value/versions/1", nil, &sv)
	if sv.Subject != ":.conf1:topic-value" {
		t.Fatalf("GET /subjects/topic-value/versions/1 = %+v, want .conf1's", sv)
	}
	s.ok(t, "POST", "/subjects/topic-value", schemaBody(b), &sv)
	if sv.Subject != ":.conf2:topic-value" || sv.ID != 1 {
		t.Fatalf("lookup of .conf2's schema unqualified = %+v", sv)
	}
	// A context's own config and mode: ":.ctx:", or /contexts/{ctx}/config.
	var cfg map[string]any
	s.ok(t, "PUT", "/contexts/.conf1/config", map[string]string{"compatibility": "NONE"}, &cfg)
	s.ok(t, "GET", "/config/:.conf1:", nil, &cfg)
	if cfg["compatibilityLevel"] != "NONE" {
		t.Fatalf("GET /config/:.conf1: = %v, want NONE", cfg)
	}
	s.ok(t, "GET", "/config/:.conf1:topic-value?defaultToGlobal=true", nil, &cfg)
	if cfg["compatibilityLevel"] != "NONE" {
		t.Fatalf("level in scope of :.conf1:topic-value = %v, want the context's NONE", cfg)
	}
	s.register(t, ":.conf1:topic-value", record("CtxA", fQty)) // a break, allowed by NONE
	s.fails(t, "POST", "/subjects/:.conf2:topic-value/versions", schemaBody(record("CtxB", fQty)), 409, s.incompatible)
	var mode map[string]string
	s.ok(t, "PUT", "/contexts/.conf2/mode", map[string]string{"mode": "READONLY"}, &mode)
	s.ok(t, "GET", "/mode/:.conf2:", nil, &mode)
	if mode["mode"] != "READONLY" {
		t.Fatalf("GET /mode/:.conf2: = %v", mode)
	}
	s.fails(t, "POST", "/contexts/.conf2/subjects/other-value/versions", schemaBody(b), 422, 42205)
	s.register(t, "conformance-ctx-unaffected", b) // the default context is not read-only
	s.ok(t, "DELETE", "/mode/:.conf2:", nil, nil)
	s.ok(t, "DELETE", "/config/:.conf1:", nil, nil)
	// A context name with a colon inside is refused (ContextFilter: 400).
	s.fails(t, "GET", "/contexts/a:b/subjects", nil, 400, 400)
	// The .__GLOBAL context holds settings only.
	s.fails(t, "POST", "/subjects/:.__GLOBAL:x/versions", schemaBody(a), 422, 42208)
}
