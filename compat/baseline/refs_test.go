package baseline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat/baseline"
)

// TestRegistryReadsReferenceOnce: three versions of a subject that all
// reference the same shared type read that type's version once, not once
// per version (through a proxy that counts the requests), and every version
// still parses with it.
func TestRegistryReadsReferenceOnce(t *testing.T) {
	ctx := context.Background()
	srvURL, cl := startRegistry(t)
	const shared = "shop.common.Money"
	if _, err := cl.CreateSchema(ctx, shared, sr.Schema{Schema: `{"type":"record","name":"Money","namespace":"shop.common","fields":[{"name":"cents","type":"long"}]}`}); err != nil {
		t.Fatal(err)
	}
	ref := []sr.SchemaReference{{Name: shared, Subject: shared, Version: 1}}
	for _, extra := range []string{"", `,{"name":"note","type":["null","string"],"default":null}`, `,{"name":"note","type":["null","string"],"default":null},{"name":"n","type":"int","default":0}`} {
		text := `{"type":"record","name":"Placed","namespace":"shop.orders","fields":[{"name":"id","type":"string"},{"name":"total","type":"shop.common.Money"}` + extra + `]}`
		if _, err := cl.CreateSchema(ctx, "orders-value", sr.Schema{Schema: text, References: ref}); err != nil {
			t.Fatal(err)
		}
	}

	target, err := url.Parse(srvURL)
	if err != nil {
		t.Fatal(err)
	}
	var refReads atomic.Int32
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/subjects/"+shared+"/versions/1" {
			refReads.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	snaps, err := baseline.Registry(ctx, front.URL, []string{"orders-value"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 3 {
		t.Fatalf("%d snapshots, want one per version (3)", len(snaps))
	}
	for i, s := range snaps {
		if len(s.Entries) != 1 || s.Entries[0].FullName != "shop.orders.Placed" {
			t.Fatalf("snapshot %d: %+v", i, s.Entries)
		}
	}
	if n := refReads.Load(); n != 1 {
		t.Fatalf("the referenced %s version 1 was read %d times, want once", shared, n)
	}
}
