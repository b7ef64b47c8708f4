package registrytest

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/contrail-events/contrail/registry"
)

// Serve starts Contrail's registry over real HTTP on a loopback port for
// the length of t, with an empty memory store and opts (for example
// registry.WithBasicAuth), and returns its base URL. It is the registry
// other packages' tests meet, the way a user's client would.
func Serve(t testing.TB, opts ...registry.Opt) string {
	t.Helper()
	return ServeStore(t, registry.NewMemoryStore(), opts...)
}

// ServeStore is Serve over store.
func ServeStore(t testing.TB, store registry.Store, opts ...registry.Opt) string {
	t.Helper()
	reg, err := registry.Open(context.Background(), store)
	if err != nil {
		t.Fatalf("registrytest: open registry: %v", err)
	}
	h, err := registry.NewServer(reg, opts...)
	if err != nil {
		t.Fatalf("registrytest: registry server: %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
