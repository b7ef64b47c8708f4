package baseline_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"
)

// fakeRegistry is the part of Confluent's REST API that baseline reads and
// these tests write, in memory: register, list subjects and versions, read
// a version (or latest), find a schema's usages, soft-delete a subject.
// compat sits below the registry package, so its tests cannot serve the
// real one; cmd/contrail's tests check baselines against it end to end.
type fakeRegistry struct {
	mu       sync.Mutex
	subjects map[string][]sr.SubjectSchema // by subject, oldest first
	deleted  map[string]bool               // soft-deleted subjects
	ids      map[string]int                // schema text and references -> id
}

// startRegistry serves a fakeRegistry on a loopback port and returns its
// URL and a client for it.
func startRegistry(t *testing.T) (string, *sr.Client) {
	t.Helper()
	f := &fakeRegistry{subjects: map[string][]sr.SubjectSchema{}, deleted: map[string]bool{}, ids: map[string]int{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cl, err := sr.NewClient(sr.URLs(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, cl
}

func (f *fakeRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "subjects":
		var out []string
		for s := range f.subjects {
			if !f.deleted[s] {
				out = append(out, s)
			}
		}
		slices.Sort(out)
		reply(w, http.StatusOK, out)
	case len(parts) >= 2 && parts[0] == "subjects":
		f.subject(w, r, parts[1], parts[2:])
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "schemas" && parts[1] == "ids" && parts[3] == "versions":
		id, _ := strconv.Atoi(parts[2])
		type usage struct {
			Subject string `json:"subject"`
			Version int    `json:"version"`
		}
		var out []usage
		for s, vs := range f.subjects {
			for _, v := range vs {
				if v.ID == id && !f.deleted[s] {
					out = append(out, usage{s, v.Version})
				}
			}
		}
		reply(w, http.StatusOK, out)
	default:
		fail(w, http.StatusNotFound, 404, "not in the fake")
	}
}

func (f *fakeRegistry) subject(w http.ResponseWriter, r *http.Request, subj string, rest []string) {
	vs, live := f.subjects[subj], len(f.subjects[subj]) > 0 && !f.deleted[subj]
	switch {
	case r.Method == http.MethodPost && len(rest) == 1 && rest[0] == "versions":
		var s sr.Schema
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			fail(w, http.StatusUnprocessableEntity, 42201, err.Error())
			return
		}
		// As in Confluent's registry, the metadata and rule set are part of
		// what a schema is: the same text with other rules is a new version.
		refs, _ := json.Marshal(s.References)
		contract, _ := json.Marshal([]any{s.SchemaMetadata, s.SchemaRuleSet})
		key := s.Schema + "\x00" + string(refs) + "\x00" + string(contract)
		id, ok := f.ids[key]
		if !ok {
			id = len(f.ids) + 1
			f.ids[key] = id
		}
		if f.deleted[subj] {
			vs, f.deleted[subj] = nil, false
		}
		if i := slices.IndexFunc(vs, func(v sr.SubjectSchema) bool { return v.ID == id }); i < 0 {
			vs = append(vs, sr.SubjectSchema{Subject: subj, Version: len(vs) + 1, ID: id, Schema: s})
			f.subjects[subj] = vs
		}
		reply(w, http.StatusOK, map[string]int{"id": id})
	case !live:
		fail(w, http.StatusNotFound, 40401, "Subject '"+subj+"' not found.")
	case r.Method == http.MethodDelete && len(rest) == 0:
		f.deleted[subj] = true
		var out []int
		for _, v := range vs {
			out = append(out, v.Version)
		}
		reply(w, http.StatusOK, out)
	case r.Method == http.MethodGet && len(rest) == 1 && rest[0] == "versions":
		var out []int
		for _, v := range vs {
			out = append(out, v.Version)
		}
		reply(w, http.StatusOK, out)
	case r.Method == http.MethodGet && len(rest) == 2 && rest[0] == "versions":
		n, err := strconv.Atoi(rest[1])
		if rest[1] == "latest" || n == -1 {
			n, err = len(vs), nil
		}
		if err != nil || n < 1 || n > len(vs) {
			fail(w, http.StatusNotFound, 40402, "Version "+rest[1]+" not found.")
			return
		}
		reply(w, http.StatusOK, vs[n-1])
	default:
		fail(w, http.StatusNotFound, 404, "not in the fake")
	}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func fail(w http.ResponseWriter, status, code int, msg string) {
	reply(w, status, map[string]any{"error_code": code, "message": msg})
}
