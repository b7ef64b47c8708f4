package registry_test

import (
	"testing"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
)

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
			base := registrytest.ServeStore(t, tt.store(t), tt.opts...)
			registrytest.Run(t, base, tt.run...)
		})
	}
}
