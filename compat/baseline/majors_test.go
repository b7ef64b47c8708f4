package baseline_test

import (
	"context"
	"maps"
	"path/filepath"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/baseline"
	"github.com/contrail-events/contrail/schemas"
)

// majorsTree is a working tree whose event shop.orders.Placed has majors 1
// and 2 (grouped), major 2 with a contract holding a migration rule and a
// domain rule whose expression is expr.
func majorsTree(t *testing.T, expr string) *schemas.Set {
	t.Helper()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "manifest.yaml"), `version: 1
defaults:
  strategy: TopicRecordName
  compatibility: BACKWARD
topics:
  - name: orders
events:
  - schema: shop.orders.Placed
    topic: orders
    key: id
    compatibility_group: major_version
`)
	write(t, filepath.Join(dir, "shop/orders/Placed.avsc"), record("shop.orders", "Placed", `{"name":"total","type":"int"}`))
	write(t, filepath.Join(dir, "shop/orders/Placed.v2.avsc"), record("shop.orders", "Placed", `{"name":"cents","type":"long"}`))
	write(t, filepath.Join(dir, "shop/orders/Placed.v2.contract.yaml"), `ruleSet:
  migrationRules:
    - {name: placedV1ToV2, kind: TRANSFORM, mode: UPDOWN, type: CONTRAIL_GO}
  domainRules:
    - {name: centsPositive, kind: CONDITION, mode: WRITE, type: CEL, expr: "`+expr+`"}
`)
	set, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestRegistryBaselineMajors: a registry baseline reads each version's
// metadata and rule set (Confluent's "metadata" and "ruleSet"), so the
// tree's majors are checked against their own registered versions only
// and a changed rule is reported.
func TestRegistryBaselineMajors(t *testing.T) {
	const subject = "orders-shop.orders.Placed"
	url, cl := startRegistry(t)
	ctx := context.Background()
	set := majorsTree(t, "message.cents > 0")
	v1, v2 := set.Events[0].Majors[0], set.Events[0].Majors[1]
	v1md := &sr.SchemaMetadata{Properties: maps.Clone(v1.Metadata.Properties)}
	if _, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: v1.Type.Text, SchemaMetadata: v1md}, -1, -1); err != nil {
		t.Fatal(err)
	}
	md := &sr.SchemaMetadata{Properties: maps.Clone(v2.Metadata.Properties)}
	rs := &sr.SchemaRuleSet{
		MigrationRules: []sr.SchemaRule{{Name: "placedV1ToV2", Kind: sr.SchemaRuleKindTransform, Mode: sr.SchemaRuleModeUpdown, Type: "CONTRAIL_GO"}},
		DomainRules:    []sr.SchemaRule{{Name: "centsPositive", Kind: sr.SchemaRuleKindCondition, Mode: sr.SchemaRuleModeWrite, Type: "CEL", Expr: "message.cents >= 0"}},
	}
	if _, err := cl.RegisterSchema(ctx, subject, sr.Schema{Schema: v2.Type.Text, SchemaMetadata: md, SchemaRuleSet: rs}, -1, -1); err != nil {
		t.Fatal(err)
	}

	check := func(set *schemas.Set) map[compat.RuleID]int {
		t.Helper()
		next, err := compat.SnapshotOf(set, compat.WorkingTree)
		if err != nil {
			t.Fatal(err)
		}
		levels := map[string]compat.Level{subject: compat.Backward}
		history, err := baseline.Registry(ctx, url, []string{subject}, levels)
		if err != nil {
			t.Fatal(err)
		}
		fs, err := compat.CheckTree(next, history, compat.TreeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[compat.RuleID]int{}
		for _, f := range fs {
			got[f.Rule]++
			if f.Rule == compat.DomainRuleChanged.ID && f.Writer.Path != "/ruleSet/domainRules/0" {
				t.Errorf("writer of a registry rule: %+v", f.Writer)
			}
		}
		return got
	}
	// Against the registered majors: v2's changed rule, nothing else (v2
	// breaks v1, but each major is checked against itself).
	if got := check(set); !maps.Equal(got, map[compat.RuleID]int{compat.DomainRuleChanged.ID: 1}) {
		t.Errorf("against registered majors: %v", got)
	}
	// The tree as registered: nothing.
	if got := check(majorsTree(t, "message.cents >= 0")); len(got) != 0 {
		t.Errorf("against itself: %v", got)
	}
}
