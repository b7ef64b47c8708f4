package registry_test

import (
	"net/http"
	"strings"
	"testing"
)

// A schema on which hamba/avro's parser panics (a field typed as an empty
// union, with a default) is refused like any invalid schema, on every route
// that parses, and the registry keeps serving reads and writes: a panic
// under the registry's lock would otherwise leave the lock held.
func TestParserPanicIsAnInvalidSchema(t *testing.T) {
	base, _ := serveBolt(t, t.TempDir())
	bad := `{"schema":"{\"type\":\"record\",\"name\":\"A\",\"fields\":[{\"name\":\"a\",\"type\":[],\"default\":null}]}"}`
	if code, _, body := call(t, "POST", base+"/subjects/s/versions", tinySchema); code != http.StatusOK {
		t.Fatalf("register: HTTP %d %s", code, body)
	}
	for _, path := range []string{"/subjects/s/versions", "/compatibility/subjects/s/versions/latest"} {
		code, _, body := call(t, "POST", base+path, bad)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "42201") {
			t.Fatalf("POST %s: HTTP %d %s, want 422 42201", path, code, body)
		}
	}
	// A lookup matches registered texts first: an unknown text is 40403.
	if code, _, body := call(t, "POST", base+"/subjects/s", bad); code >= 500 {
		t.Fatalf("lookup: HTTP %d %s, want a 4xx", code, body)
	}
	if code, _, body := call(t, "POST", base+"/subjects/s2/versions", tinySchema); code != http.StatusOK {
		t.Fatalf("a write after the refused schema: HTTP %d %s", code, body)
	}
	if code, _, body := call(t, "GET", base+"/subjects", ""); code != http.StatusOK || !strings.Contains(body, "s2") {
		t.Fatalf("a read after the refused schema: HTTP %d %s", code, body)
	}
}
