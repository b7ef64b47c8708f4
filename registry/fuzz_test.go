package registry_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/wire"
)

// FuzzRequestBodies sends arbitrary bodies and subject names to every
// endpoint that reads a body. The server must never panic or answer 500,
// and every error must have the Confluent body shape.
func FuzzRequestBodies(f *testing.F) {
	reg, err := registry.Open(context.Background(), registry.NewMemoryStore())
	if err != nil {
		f.Fatal(err)
	}
	srv, err := registry.NewServer(reg, registry.WithMaxRequestBytes(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		`{"schema":"{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"}`,
		`{"schema":"\"string\""}`,
		`{"schema":"{\"type\":\"record\",\"name\":\"B\",\"fields\":[{\"name\":\"m\",\"type\":\"A\"}]}","references":[{"name":"A","subject":"s","version":1}]}`,
		`{"schema":"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"X\"]}","id":5,"version":2}`,
		`{"compatibility":"FULL"}`, `{"mode":"IMPORT"}`, `{"mode":"READONLY"}`, `{"mode":"READWRITE"}`,
		`{"schema":"{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":\"long\"}}","schemaType":"avro"}`,
		`null`, `[]`, `{"schema":1}`, `{"references":[{}]}`, "", "\x00\xff",
		// Data contracts: metadata, rule sets and the config fields for them.
		`{"schema":"\"string\"","metadata":{"tags":{"**.ssn":["PII"]},"properties":{"major_version":1}},"ruleSet":{"domainRules":[{"name":"checkSsnLen","kind":"CONDITION","type":"CEL","mode":"WRITE","expr":"size(message.ssn) == 9","onFailure":"DLQ"}]}}`,
		`{"schema":"\"string\"","ruleSet":{"migrationRules":[{"name":"up","type":"JSONATA","mode":"UPGRADE"}],"encodingRules":[{"name":"e"}]}}`,
		`{"compatibilityGroup":"major_version","defaultMetadata":{"properties":{"a":"b"}},"overrideRuleSet":{"domainRules":[{"name":"r","type":"CEL","mode":"READ"}]},"validateFields":true}`,
		`{"defaultRuleSet":{"domainRules":[{"name":"1","kind":"X"}]},"overrideMetadata":null}`,
	}
	for i, s := range seeds {
		f.Add("s", s, uint8(i))
	}
	// Subjects the registry refuses, and bodies it must not store changed.
	f.Add("u\xfex", seeds[0], uint8(0))
	f.Add(strings.Repeat("s", 1100), seeds[0], uint8(4))
	f.Add("s", `{"schema":"{\"type\":\"record\",\"name\":\"A\",\"doc\":\"\ud800\",\"fields\":[]}"}`, uint8(0))
	f.Add("s", `{"schema":"\"string\"","references":[{"name":"A","subject":"s\udc00","version":1}]}`, uint8(2))
	f.Add("s", `{"schema":"`+strings.Repeat("[", 1200)+`"}`, uint8(0))
	endpoints := []struct{ method, path string }{
		{"POST", "/subjects/%s/versions"},
		{"POST", "/subjects/%s"},
		{"POST", "/compatibility/subjects/%s/versions/latest"},
		{"POST", "/compatibility/subjects/%s/versions"},
		{"PUT", "/config/%s"},
		{"PUT", "/mode/%s?force=true"},
		{"PUT", "/config"},
		{"DELETE", "/subjects/%s/versions/latest"},
		{"GET", "/subjects/%s/versions/1/referencedby"},
		{"PUT", "/mode"},
	}
	f.Fuzz(func(t *testing.T, subject, body string, which uint8) {
		ep := endpoints[int(which)%len(endpoints)]
		path := strings.Replace(ep.path, "%s", url.PathEscape(subject), 1)
		req := httptest.NewRequest(ep.method, "/", strings.NewReader(body))
		req.URL.Path, req.URL.RawPath = path, ""
		if u, err := url.Parse(path); err == nil {
			req.URL = u
		}
		req.Header.Set("Content-Type", wire.ContentTypeRegistry)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: HTTP %d %s", ep.method, path, body, w.Code, w.Body)
		}
		if w.Code >= 400 {
			var e struct {
				Code    int    `json:"error_code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Code == 0 || e.Message == "" {
				t.Fatalf("%s %s: error body %q is not {error_code, message}", ep.method, path, w.Body)
			}
		}
		// Leave the registry writable for the next input.
		if ep.path == "/mode" || strings.HasPrefix(ep.path, "/mode/") {
			for _, p := range []string{"/mode", "/mode/" + url.PathEscape(subject)} {
				r := httptest.NewRequest("DELETE", p, nil)
				srv.ServeHTTP(httptest.NewRecorder(), r)
			}
		}
		_ = http.StatusOK
	})
}

// FuzzParseUsers feeds arbitrary users files to ParseUsers: it must never
// panic, every user it accepts has a name without a colon and a non-empty
// password on one line, and an error names a line.
func FuzzParseUsers(f *testing.F) {
	for _, s := range []string{
		"alice:abc,evil:pw", "# c\n\nbob:pa:ss\r\n", "no-colon", ":pw", "a:", "a:1\na:2",
		"erin:$2a$10$short", "  carol : x \t", "\xff:\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		users, err := registry.ParseUsers(in)
		if err != nil {
			if !strings.Contains(err.Error(), "line ") {
				t.Fatalf("error %q names no line", err)
			}
			return
		}
		for name, pw := range users {
			if name == "" || strings.Contains(name, ":") || pw == "" || strings.ContainsAny(pw, "\n") {
				t.Fatalf("ParseUsers(%q) accepted user %q with password %q", in, name, pw)
			}
		}
	})
}

// FuzzSubjectSurvivesRestart registers a schema under an arbitrary subject
// (any bytes, escaped into the path) on the bbolt store: the answer is a 4xx
// or a success, never a 5xx, and a subject acknowledged with 200 is listed
// byte for byte, with the same id, after the store is closed and reopened
// (spelled as Confluent names it: ":.:x", the default context spelled out,
// is listed as "x").
func FuzzSubjectSurvivesRestart(f *testing.F) {
	for _, s := range []string{"orders-value", "u\xfex", "u\xfdx", "u\uFFFDx", "", "a/b", "%41", strings.Repeat("s", 1100), "\x00", "é", ":.:x", ":.c:x", ":.c:", ":*:x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		dir := t.TempDir()
		base, stop := serveBolt(t, dir)
		code, _, body := call(t, "POST", base+"/subjects/"+url.PathEscape(subject)+"/versions", tinySchema)
		if code >= 500 {
			t.Fatalf("subject %q: HTTP %d %s", subject, code, body)
		}
		stop()
		if code != http.StatusOK {
			return
		}
		var ack struct{ ID int }
		if err := json.Unmarshal([]byte(body), &ack); err != nil || ack.ID == 0 {
			t.Fatalf("subject %q: 200 with body %s", subject, body)
		}
		again, _ := serveBolt(t, dir)
		_, _, list := call(t, "GET", again+"/subjects", "")
		var subjects []string
		if err := json.Unmarshal([]byte(list), &subjects); err != nil {
			t.Fatal(err)
		}
		listed, _ := strings.CutPrefix(subject, ":.:")
		if !slices.Contains(subjects, listed) {
			t.Fatalf("acknowledged subject %q is gone after a restart: %q", subject, subjects)
		}
		code, _, v := call(t, "GET", again+"/subjects/"+url.PathEscape(subject)+"/versions/1", "")
		var got struct{ ID int }
		if code != http.StatusOK || json.Unmarshal([]byte(v), &got) != nil || got.ID != ack.ID {
			t.Fatalf("subject %q after a restart: HTTP %d %s, want id %d", subject, code, v, ack.ID)
		}
	})
}
