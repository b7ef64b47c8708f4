package serde_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/contrail-events/contrail/registry"
)

// The data-contract tests run against our registry over HTTP. Until the
// registry stores and returns a schema's metadata and rule set (issue 16's
// registry part), newRegistry puts contractShim in front of it: it keeps
// what each registration carried, by schema id, and adds it to the
// answers of GET /schemas/ids/{id} and GET /subjects/{s}/versions/{v}.
// Once the registry keeps contracts itself, serverKeepsContracts reports
// true and the tests run against it unchanged.

var (
	keepsOnce sync.Once
	keeps     bool
)

// serverKeepsContracts reports whether our registry returns the metadata a
// schema was registered with.
func serverKeepsContracts() bool {
	keepsOnce.Do(func() {
		reg, err := registry.Open(context.Background(), registry.NewMemoryStore())
		if err != nil {
			return
		}
		h, err := registry.NewServer(reg)
		if err != nil {
			return
		}
		body := `{"schema":"{\"type\":\"record\",\"name\":\"Probe\",\"fields\":[]}","metadata":{"properties":{"major_version":"2"}}}`
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/subjects/probe/versions", strings.NewReader(body)))
		var reg1 struct{ ID int }
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &reg1) != nil {
			return
		}
		for _, path := range []string{"/schemas/ids/" + strconv.Itoa(reg1.ID), "/subjects/probe/versions/1"} {
			rec = httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
			if !strings.Contains(rec.Body.String(), `"major_version":"2"`) {
				return
			}
		}
		keeps = true
	})
	return keeps
}

// contractShim adds registered contracts to our registry's answers.
type contractShim struct {
	next http.Handler
	mu   sync.Mutex
	byID map[int]contractJSON
}

type contractJSON struct {
	Metadata json.RawMessage `json:"metadata,omitempty"`
	RuleSet  json.RawMessage `json:"ruleSet,omitempty"`
}

var (
	registerPath = regexp.MustCompile(`^/subjects/[^/]+/versions$`)
	idPath       = regexp.MustCompile(`^/schemas/ids/(\d+)$`)
	versionPath  = regexp.MustCompile(`^/subjects/[^/]+/versions/[^/]+$`)
)

func newContractShim(next http.Handler) http.Handler {
	return &contractShim{next: next, byID: map[int]contractJSON{}}
}

func (s *contractShim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && registerPath.MatchString(r.URL.Path):
		body, _ := io.ReadAll(r.Body)
		var c contractJSON
		_ = json.Unmarshal(body, &c)
		r.Body = io.NopCloser(bytes.NewReader(body))
		rec := s.serve(r)
		var out struct{ ID int }
		if rec.Code == http.StatusOK && json.Unmarshal(rec.Body.Bytes(), &out) == nil && (c.Metadata != nil || c.RuleSet != nil) {
			s.mu.Lock()
			s.byID[out.ID] = c
			s.mu.Unlock()
		}
		copyResponse(w, rec, rec.Body.Bytes())
	case r.Method == http.MethodGet && (idPath.MatchString(r.URL.Path) || versionPath.MatchString(r.URL.Path)):
		rec := s.serve(r)
		var body map[string]json.RawMessage
		if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
			copyResponse(w, rec, rec.Body.Bytes())
			return
		}
		id := 0
		if m := idPath.FindStringSubmatch(r.URL.Path); m != nil {
			id, _ = strconv.Atoi(m[1])
		} else {
			_ = json.Unmarshal(body["id"], &id)
		}
		s.mu.Lock()
		c, ok := s.byID[id]
		s.mu.Unlock()
		if ok {
			if c.Metadata != nil {
				body["metadata"] = c.Metadata
			}
			if c.RuleSet != nil {
				body["ruleSet"] = c.RuleSet
			}
		}
		out, _ := json.Marshal(body)
		copyResponse(w, rec, out)
	default:
		s.next.ServeHTTP(w, r)
	}
}

func (s *contractShim) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.next.ServeHTTP(rec, r)
	return rec
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder, body []byte) {
	for k, vs := range rec.Header() {
		if k == "Content-Length" {
			continue
		}
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(body)
}
