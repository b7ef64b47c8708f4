package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/contract"
)

// TestCheckAgainstRegistryDeletedSubject: the repository's schemas are
// registered in Contrail's registry over real HTTP beside another team's
// subject and a published contract; an event removed from the working tree
// (manifest entry and .avsc) is reported as SUBJECT_DELETED with exit 100,
// the other subjects are not, and an exception for it passes the check.
func TestCheckAgainstRegistryDeletedSubject(t *testing.T) {
	ctx := context.Background()
	srvURL, cl := servePushed(t)
	foreign := map[string]string{
		"billing-value": `{"type":"record","name":"Invoiced","namespace":"acme.billing","fields":[{"name":"id","type":"string"}]}`,
		contract.SubjectPrefix + "audit.orders-contrail.orders.OrderCancelled": `{"type":"record","name":"OrderCancelled","namespace":"contrail.orders","fields":[]}`,
	}
	for subj, text := range foreign {
		if _, err := cl.CreateSchema(ctx, subj, sr.Schema{Schema: text}); err != nil {
			t.Fatalf("register %s: %v", subj, err)
		}
	}

	dir := filepath.Join(t.TempDir(), "schemas")
	copySchemas(t, dir)
	code, out, errOut := runCLI(t, "check", "--schemas", dir, "--against", srvURL)
	if code != exitOK {
		t.Fatalf("unchanged tree against registry: exit %d\n%s\n%s", code, out, errOut)
	}

	edit(t, filepath.Join(dir, "manifest.yaml"), `  - schema: contrail.orders.OrderCancelled
    topic: orders
    strategy: TopicRecordName
    key: orderId
    producers: [order]
    consumers: [inventory, payment]
`, "")
	if err := os.Remove(filepath.Join(dir, "contrail/orders/OrderCancelled.avsc")); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "check", "--schemas", dir, "--against", srvURL)
	deleted := "error SUBJECT_DELETED [orders-contrail.orders.OrderCancelled]"
	if code != exitBreaking || !strings.Contains(out, deleted) || !strings.Contains(out, "registry orders-contrail.orders.OrderCancelled v1") {
		t.Fatalf("event removed from the tree: exit %d, want %d and %q\n%s\n%s", code, exitBreaking, deleted, out, errOut)
	}
	if n := strings.Count(out, "SUBJECT_DELETED"); n != 1 || strings.Contains(out, "billing-value") || strings.Contains(out, contract.SubjectPrefix) {
		t.Fatalf("want exactly one SUBJECT_DELETED and no other team's or contract subject, got %d:\n%s", n, out)
	}
	code, out, errOut = runCLI(t, "check", "--schemas", dir, "--against", srvURL, "--deleted-subjects=false")
	if code != exitOK || strings.Contains(out, "SUBJECT_DELETED") {
		t.Fatalf("--deleted-subjects=false: exit %d, want %d and no SUBJECT_DELETED\n%s\n%s", code, exitOK, out, errOut)
	}
	code, out, _ = runCLI(t, "check", "--schemas", dir, "--against", srvURL, "--format", "github-actions")
	if code != exitBreaking || !strings.Contains(out, "::error file="+filepath.ToSlash(dir)+"/manifest.yaml,title=SUBJECT_DELETED::") {
		t.Fatalf("github-actions: exit %d, want the annotation on the manifest\n%s", code, out)
	}

	if err := os.WriteFile(filepath.Join(dir, "compat-exceptions.yaml"), []byte(`exceptions:
  - rule: SUBJECT_DELETED
    subject: orders-contrail.orders.OrderCancelled
    reason: "cancellations are OrderVoided since 2026-10; the subject is deleted after the last consumer moved"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, "check", "--schemas", dir, "--against", srvURL)
	if code != exitOK || !strings.Contains(out, "1 silenced by exceptions") {
		t.Fatalf("with an exception for the deleted subject: exit %d\n%s\n%s", code, out, errOut)
	}
}

// TestCheckAgainstRegistryCannotListSubjects: credentials that may read
// subjects but not list them fail the check with advice, and
// --deleted-subjects=false checks the tree's subjects without listing.
func TestCheckAgainstRegistryCannotListSubjects(t *testing.T) {
	srvURL, _ := servePushed(t)
	target, err := url.Parse(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var listed atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.TrimSuffix(r.URL.Path, "/") == "/subjects" {
			listed.Add(1)
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"error_code":40301,"message":"User is denied operation Describe on subjects"}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	dir := filepath.Join(t.TempDir(), "schemas")
	copySchemas(t, dir)

	code, out, errOut := runCLI(t, "check", "--schemas", dir, "--against", front.URL)
	if code != exitError || !strings.Contains(errOut, "cannot list subjects") || !strings.Contains(errOut, "--deleted-subjects=false") {
		t.Fatalf("listing refused: exit %d, want %d naming the flag\n%s\n%s", code, exitError, out, errOut)
	}
	before := listed.Load()
	code, out, errOut = runCLI(t, "check", "--schemas", dir, "--against", front.URL, "--deleted-subjects=false")
	if code != exitOK || listed.Load() != before {
		t.Fatalf("--deleted-subjects=false: exit %d (want %d), subject listings %d (want none)\n%s\n%s", code, exitOK, listed.Load()-before, out, errOut)
	}
}
