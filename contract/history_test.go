package contract_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/schemas"
)

var historyDir = filepath.Join("..", "schemas", "history")

// TestGoldenHistory decodes every golden payload of every historical schema
// version with every current reader: the tree's schema, the generated Go
// type and each consumer contract. A schema change that breaks old data
// still in a topic fails here even when no diff rule catches it.
func TestGoldenHistory(t *testing.T) {
	set, exs := loadExamples(t)
	hist, err := contract.LoadHistory(historyDir)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := contract.Load(filepath.Join("..", contract.DefaultDir))
	if err != nil {
		t.Fatal(err)
	}
	goTypes := map[string]events.Type{}
	for _, et := range eventTypes {
		goTypes[et.FullName()] = et
	}
	// The current version of every event with examples has been snapshotted.
	current := map[string]bool{}
	for _, v := range hist {
		if tt := set.Types[v.Event]; tt != nil && contract.Fingerprint(tt.Schema) == v.Fingerprint {
			current[v.Event] = true
		}
	}
	for _, ex := range exs {
		if !current[ex.Event] {
			t.Errorf("%s changed since the last snapshot: run `contrail contract snapshot` and commit %s", ex.Event, contract.HistoryDir)
		}
	}
	payloads := 0
	for _, v := range hist {
		for name, data := range v.Payloads {
			payloads++
			tt := set.Types[v.Event]
			if tt == nil {
				t.Errorf("%s/%s: event %s no longer exists", v.Dir, name, v.Event)
				continue
			}
			var generic any
			if err := contract.DecodeAs(tt.Schema, v.Writer, data, &generic); err != nil {
				t.Errorf("%s/%s: current schema cannot read it: %v", v.Dir, name, err)
			}
			if gt := goTypes[v.Event]; gt != nil {
				if err := contract.DecodeAs(gt.Schema(), v.Writer, data, gt.New()); err != nil {
					t.Errorf("%s/%s: generated type cannot read it: %v", v.Dir, name, err)
				}
			}
			for _, c := range cs {
				if c.Event != v.Event {
					continue
				}
				if err := readAs(c, v.Writer, data); err != nil {
					t.Errorf("%s/%s: consumer %s cannot read it: %v", v.Dir, name, c.Consumer, err)
				}
			}
		}
	}
	if payloads < 2*len(set.Events) {
		t.Fatalf("only %d golden payloads in %s", payloads, historyDir)
	}
}

// TestSnapshotKeepsHistory snapshots two versions of an event into one
// directory and checks both stay, and that a payload written by the old
// version is read by the new schema with the new field's default.
func TestSnapshotKeepsHistory(t *testing.T) {
	dir := t.TempDir()
	v1 := copyTree(t, nil)
	v2 := copyTree(t, map[string][][2]string{"contrail/orders/OrderPlaced.avsc": {{`{"name": "couponCode"`, `{"name": "giftNote", "type": "string", "default": "none"},` + "\n    " + `{"name": "couponCode"`}}})
	var sets []*schemas.Set
	for _, tree := range []string{v1, v2} {
		set, err := schemas.Load(tree)
		if err != nil {
			t.Fatal(err)
		}
		exs, err := contract.LoadExamples(examplesDir, set)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := contract.Snapshot(dir, set, exs); err != nil {
			t.Fatal(err)
		}
		sets = append(sets, set)
	}
	hist, err := contract.LoadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range hist {
		if v.Event == "contrail.orders.OrderPlaced" {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("OrderPlaced versions in history: %d, want 2", n)
	}
	newest := sets[1].Types["contrail.orders.OrderPlaced"].Schema
	for _, v := range hist {
		if v.Event != "contrail.orders.OrderPlaced" || v.Fingerprint == contract.Fingerprint(newest) {
			continue
		}
		var got any
		if err := contract.DecodeAs(newest, v.Writer, v.Payloads["card-web"], &got); err != nil {
			t.Fatal(err)
		}
		if got.(map[string]any)["giftNote"] != "none" {
			t.Fatalf("default not filled: %#v", got.(map[string]any)["giftNote"])
		}
	}
	// A hand-edited writer schema is caught.
	for _, v := range hist {
		p := filepath.Join(dir, v.Event, v.Fingerprint, contract.WriterFile)
		if err := os.WriteFile(p, []byte(`{"type":"record","name":"X","fields":[]}`), 0o644); err != nil {
			t.Fatal(err)
		}
		break
	}
	if _, err := contract.LoadHistory(dir); !errors.Is(err, contract.ErrBadExample) {
		t.Fatalf("edited history: %v", err)
	}
}
