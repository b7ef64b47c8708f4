package registry_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/registrytest"
	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// majorsTree writes a schema tree whose event shop.orders.Placed has two
// majors (v2 breaks v1: total becomes cents, a long) grouped by
// major_version, each with a contract, and returns its directory.
func majorsTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"manifest.yaml": `version: 1
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
`,
		"shop/common/Note.avsc":   `{"type": "record", "name": "Note", "namespace": "shop.common", "fields": [{"name": "text", "type": "string"}]}`,
		"shop/orders/Placed.avsc": `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [{"name": "id", "type": "string"}, {"name": "email", "type": "string"}, {"name": "total", "type": "string"}]}`,
		"shop/orders/Placed.contract.yaml": `metadata:
  tags:
    shop.orders.Placed.email: [PII]
`,
		"shop/orders/Placed.v2.avsc": `{"type": "record", "name": "Placed", "namespace": "shop.orders", "fields": [{"name": "id", "type": "string"}, {"name": "cents", "type": "long"}, {"name": "note", "type": "shop.common.Note"}]}`,
		"shop/orders/Placed.v2.contract.yaml": `ruleSet:
  migrationRules:
    - {name: placedV1ToV2, kind: TRANSFORM, mode: UPDOWN, type: CONTRAIL_GO}
  domainRules:
    - {name: centsPositive, kind: CONDITION, mode: WRITE, type: CEL, expr: "message.cents > 0", onFailure: DLQ}
`,
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadTree(t *testing.T, dir string) *schemas.Set {
	t.Helper()
	set, err := schemas.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestPlanPushMajors: every major is a step of the event's subject, the
// later one after everything else, each with its major's data contract.
func TestPlanPushMajors(t *testing.T) {
	steps := registry.PlanPush(loadTree(t, majorsTree(t)))
	var got []string
	for _, st := range steps {
		got = append(got, st.File)
	}
	if want := "shop/common/Note.avsc shop/orders/Placed.avsc shop/orders/Placed.v2.avsc"; strings.Join(got, " ") != want {
		t.Fatalf("steps %v, want %s", got, want)
	}
	v1, v2 := steps[1], steps[2]
	if v1.Subject != "orders-shop.orders.Placed" || v2.Subject != v1.Subject || v1.Major != 1 || v2.Major != 2 ||
		v1.Group != wire.CompatibilityGroupMajorVersion || v2.Group != v1.Group || !v2.Event {
		t.Errorf("majors %+v / %+v", v1, v2)
	}
	if m, _ := v1.Metadata.Major(); m != 1 || len(v1.Metadata.Tags["shop.orders.Placed.email"]) != 1 || v1.RuleSet != nil {
		t.Errorf("major 1 contract %+v %+v", v1.Metadata, v1.RuleSet)
	}
	if m, _ := v2.Metadata.Major(); m != 2 || v2.RuleSet == nil || len(v2.RuleSet.MigrationRules) != 1 {
		t.Errorf("major 2 contract %+v %+v", v2.Metadata, v2.RuleSet)
	}
	if steps[0].Major != 1 || steps[0].Metadata != nil || steps[0].Group != "" {
		t.Errorf("shared type step %+v", steps[0])
	}
}

// TestPushMajors pushes an event in two majors, the second breaking the
// first, to Contrail's registry over HTTP: the subject's compatibility group
// is set before the second major registers, each major carries its
// metadata and rule set, a second push changes nothing, and a changed rule
// registers a new version.
func TestPushMajors(t *testing.T) {
	ctx := context.Background()
	url := registrytest.Serve(t)
	cl, err := sr.NewClient(sr.URLs(url))
	if err != nil {
		t.Fatal(err)
	}
	dir := majorsTree(t)
	const subject = "orders-shop.orders.Placed"

	var out bytes.Buffer
	res, err := registry.Push(ctx, cl, loadTree(t, dir), true, &out)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || res[2].Action != "would register" || res[1].ConfigAction != "would set" {
		t.Fatalf("dry run %+v\n%s", res, out.String())
	}
	if ss, err := cl.Subjects(ctx); err != nil || len(ss) != 0 {
		t.Fatalf("after a dry run: subjects %v, %v", ss, err)
	}

	out.Reset()
	res, err = registry.Push(ctx, cl, loadTree(t, dir), false, &out)
	if err != nil {
		t.Fatalf("push: %v\n%s", err, out.String())
	}
	for _, r := range res {
		if r.Action != "registered" {
			t.Errorf("first push: %s %s", r.Action, r.Step.File)
		}
	}
	if !strings.Contains(out.String(), "set compatibility BACKWARD and group major_version") {
		t.Errorf("output does not say the group was set:\n%s", out.String())
	}
	cfg := cl.Compatibility(ctx, subject)
	if cfg[0].Err != nil || cfg[0].Group != wire.CompatibilityGroupMajorVersion || cfg[0].Level != sr.CompatBackward {
		t.Fatalf("config of %s: %+v", subject, cfg[0])
	}
	for v, want := range map[int]string{1: "1", 2: "2"} {
		got, err := cl.SchemaByVersion(ctx, subject, v)
		if err != nil {
			t.Fatal(err)
		}
		if got.SchemaMetadata == nil || got.SchemaMetadata.Properties[wire.PropertyMajorVersion] != want {
			t.Errorf("version %d metadata %+v, want major_version %s", v, got.SchemaMetadata, want)
		}
		if v == 1 && (len(got.SchemaMetadata.Tags["shop.orders.Placed.email"]) != 1 || got.SchemaRuleSet != nil) {
			t.Errorf("version 1 contract %+v %+v", got.SchemaMetadata, got.SchemaRuleSet)
		}
		if v == 2 && (got.SchemaRuleSet == nil || len(got.SchemaRuleSet.DomainRules) != 1 || got.SchemaRuleSet.DomainRules[0].Expr != "message.cents > 0" ||
			got.SchemaRuleSet.MigrationRules[0].Mode != sr.SchemaRuleModeUpdown) {
			t.Errorf("version 2 rule set %+v", got.SchemaRuleSet)
		}
	}

	out.Reset()
	res, err = registry.Push(ctx, cl, loadTree(t, dir), false, &out)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Action != "unchanged" || r.ConfigAction != "" {
			t.Errorf("second push: %s%s %s", r.Action, r.ConfigAction, r.Step.File)
		}
	}

	// A changed rule is a new version of major 2.
	p := filepath.Join(dir, "shop/orders/Placed.v2.contract.yaml")
	b, _ := os.ReadFile(p)
	if err := os.WriteFile(p, []byte(strings.Replace(string(b), "message.cents > 0", "message.cents >= 0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err = registry.Push(ctx, cl, loadTree(t, dir), false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[1].Action != "unchanged" || res[2].Action != "registered" || res[2].Version != 3 {
		t.Fatalf("after a rule change: %+v", res)
	}
}
