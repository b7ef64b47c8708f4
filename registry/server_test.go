package registry_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
)

// newTestServer starts our registry on a real loopback listener.
func newTestServer(t testing.TB, store registry.Store, opts ...registry.Opt) *httptest.Server {
	t.Helper()
	reg, err := registry.Open(context.Background(), store)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := registry.NewServer(reg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}

func TestConformance(t *testing.T) {
	memory := func(*testing.T) registry.Store { return registry.NewMemoryStore() }
	bolt := func(t *testing.T) registry.Store {
		s, err := registry.OpenBoltStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	tests := []struct {
		name  string
		store func(t *testing.T) registry.Store
		opts  []registry.Opt
		run   []registrytest.Opt
	}{
		{name: "memory", store: memory},
		{name: "bolt", store: bolt},
		{name: "bolt with basic auth", store: bolt,
			opts: []registry.Opt{registry.WithBasicAuth(map[string]string{"ci": "pw"})},
			run:  []registrytest.Opt{registrytest.BasicAuth("ci", "pw")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.store(t), tt.opts...)
			registrytest.Run(t, ts.URL, tt.run...)
		})
	}
}
