package contract_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
)

// TestManifestConsumersHaveContracts checks contracts/ against the manifest
// and the services that derive it. Each reference service's provider test
// (services/<name>/provider_test.go, TestConsumerContracts) derives its
// contracts from the router its Register function fills and checks that the
// committed files under contracts/<name> are exactly those; here, every
// consumer the manifest names for an event must have a committed contract
// for it, and every committed contract must belong to such a service.
// Handled events the manifest does not list are logged.
func TestManifestConsumersHaveContracts(t *testing.T) {
	dir := filepath.Join("..", contract.DefaultDir)
	committed, err := contract.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	derivedBy := map[string]bool{} // consumer: services/<consumer> derives and checks its contracts
	for _, c := range committed {
		have[c.Consumer+"/"+c.Event] = true
		ok, seen := derivedBy[c.Consumer]
		if !seen {
			_, err := os.Stat(filepath.Join("..", "services", c.Consumer, "provider_test.go"))
			ok = err == nil
			derivedBy[c.Consumer] = ok
		}
		if !ok {
			t.Errorf("committed contract %s has no handler in its service's router: no services/%s/provider_test.go derives it; delete the file", c.Key(), c.Consumer)
		}
	}

	set, _ := defaultContracts(t)
	var notInManifest []string
	inManifest := map[string]bool{}
	for _, ev := range set.Events {
		for _, consumer := range ev.Consumers {
			inManifest[consumer+"/"+ev.Type.FullName] = true
			if !have[consumer+"/"+ev.Type.FullName] {
				t.Errorf("manifest says %s consumes %s, but no handler contract exists (go test ./services/%s -run TestConsumerContracts -update writes them)", consumer, ev.Type.FullName, consumer)
			}
		}
	}
	for k := range have {
		if !inManifest[k] {
			notInManifest = append(notInManifest, k)
		}
	}
	if len(notInManifest) > 0 {
		// Not a failure: the manifest's consumers lists are documentation;
		// the handler contracts are what is verified.
		t.Logf("handled but not listed as consumers in manifest.yaml: %s", strings.Join(notInManifest, ", "))
	}
}

// staticHandlers is a fake router for FromRouter's unit test.
type staticHandlers []events.Type

func (h staticHandlers) Types() []events.Type { return h }

func TestFromRouter(t *testing.T) {
	tests := []struct {
		name    string
		types   staticHandlers
		fields  map[string][]string
		want    []string // contract events, in order
		wantErr string   // part of the error
	}{
		{name: "one contract per handled type", types: staticHandlers{orders.OrderCancelledBinding, orders.OrderPlacedBinding},
			fields: map[string][]string{"contrail.orders.OrderCancelled": nil, "contrail.orders.OrderPlaced": {"orderId"}},
			want:   []string{"contrail.orders.OrderCancelled", "contrail.orders.OrderPlaced"}},
		{name: "handled type without a fields entry", types: staticHandlers{orders.OrderPlacedBinding},
			fields: map[string][]string{}, wantErr: "handles contrail.orders.OrderPlaced but the fields list has no entry"},
		{name: "stale fields entry", types: staticHandlers{orders.OrderPlacedBinding},
			fields: map[string][]string{"contrail.orders.OrderPlaced": nil, "contrail.orders.OrderReady": nil}, wantErr: "names contrail.orders.OrderReady, but svc has no handler"},
		{name: "unknown field", types: staticHandlers{orders.OrderPlacedBinding},
			fields: map[string][]string{"contrail.orders.OrderPlaced": {"nope"}}, wantErr: `relied-on field "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := contract.FromRouter("svc", tt.types, tt.fields)
			if tt.wantErr != "" {
				if !errors.Is(err, contract.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("FromRouter error %v, want ErrInvalid containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cs {
				got = append(got, c.Event)
				if c.Consumer != "svc" {
					t.Errorf("contract %s consumer %q", c.Key(), c.Consumer)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("contracts for %v, want %v", got, tt.want)
			}
		})
	}
}
