package schemas_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

const (
	placedV2Path      = "shop/orders/Placed.v2.avsc"
	placedV2Contract  = "shop/orders/Placed.v2.contract.yaml"
	placedV1Contract  = "shop/orders/Placed.contract.yaml"
	groupedManifest   = "version: 1\ndefaults:\n  strategy: TopicRecordName\n  compatibility: BACKWARD\ntopics:\n  - name: orders\nevents:\n  - schema: shop.orders.Placed\n    topic: orders\n    key: id\n    compatibility_group: major_version\n  - schema: shop.orders.Cancelled\n    topic: orders\n    strategy: RecordName\n    key: id\n"
	placedV2          = "{\n  \"type\": \"record\",\n  \"name\": \"Placed\",\n  \"namespace\": \"shop.orders\",\n  \"fields\": [\n    {\"name\": \"id\", \"type\": \"string\"},\n    {\"name\": \"cents\", \"type\": \"long\"},\n    {\"name\": \"lines\", \"type\": {\"type\": \"array\", \"items\": \"shop.common.Money\"}}\n  ]\n}\n"
	placedV2Sidecar   = "metadata:\n  properties:\n    owner: orders-team\n  tags:\n    shop.orders.Placed.id: [PII]\n    shop.common.Money.*: [FINANCIAL]\nruleSet:\n  migrationRules:\n    - name: placedV1ToV2\n      kind: TRANSFORM\n      mode: UPDOWN\n      type: CONTRAIL_GO\n  domainRules:\n    - name: centsPositive\n      kind: CONDITION\n      mode: WRITE\n      type: CEL\n      expr: message.cents > 0\n      onFailure: DLQ\n"
	placedV1Sidecar   = "metadata:\n  tags:\n    shop.orders.Placed.note: [PII]\n"
	placedRefsPlaced  = `{"type": "record", "name": "Audit", "namespace": "shop.orders", "fields": [{"name": "placed", "type": "shop.orders.Placed"}]}`
	placedV2NoIDField = "{\"type\": \"record\", \"name\": \"Placed\", \"namespace\": \"shop.orders\", \"fields\": [{\"name\": \"orderId\", \"type\": \"string\"}]}"
)

// majorsFS is testdata/base with shop.orders.Placed in two majors, each
// with a contract, plus overrides ("" deletes a file).
func majorsFS(t testing.TB, overrides map[string]string) fstest.MapFS {
	t.Helper()
	all := map[string]string{
		"manifest.yaml":  groupedManifest,
		placedV2Path:     placedV2,
		placedV2Contract: placedV2Sidecar,
		placedV1Contract: placedV1Sidecar,
	}
	for k, v := range overrides {
		all[k] = v
	}
	return baseFS(t, all)
}

func TestLoadMajors(t *testing.T) {
	set, err := schemas.LoadFS(majorsFS(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	ev := set.Event("shop.orders.Placed")
	if ev == nil || len(ev.Majors) != 2 {
		t.Fatalf("event = %+v", ev)
	}
	v1, v2 := ev.Majors[0], ev.Majors[1]
	if ev.CompatibilityGroup != wire.CompatibilityGroupMajorVersion {
		t.Errorf("CompatibilityGroup = %q", ev.CompatibilityGroup)
	}
	if v1.Version != 1 || v1.Type != ev.Type || v1.Type != set.Types["shop.orders.Placed"] || v1.Type.Major != 1 || v1.Type.File != placedPath {
		t.Errorf("major 1 = %+v (type %+v)", v1, v1.Type)
	}
	if v2.Version != 2 || v2.Type.Major != 2 || v2.Type.File != placedV2Path || v2.Type.FullName != "shop.orders.Placed" || v2.Type.Schema == nil {
		t.Errorf("major 2 = %+v (type %+v)", v2, v2.Type)
	}
	if ev.Major(2) != v2 || ev.Major(3) != nil {
		t.Error("Event.Major lookup wrong")
	}
	if got := strings.Join(v2.Type.References, " "); got != "shop.common.Currency shop.common.Money" {
		t.Errorf("major 2 references = %s", got)
	}
	// Order has every file once; the later major comes last.
	var order []string
	for _, ty := range set.Order() {
		order = append(order, ty.File)
	}
	if order[len(order)-1] != placedV2Path || slices.Index(order, placedPath) < 0 || len(order) != 5 {
		t.Errorf("order = %v", order)
	}
	// Metadata: every major of a grouped event says its major.
	if v1.Metadata == nil || v1.Metadata.Properties[wire.PropertyMajorVersion] != "1" || !slices.Equal(v1.Metadata.Tags["shop.orders.Placed.note"], []string{"PII"}) {
		t.Errorf("major 1 metadata = %+v", v1.Metadata)
	}
	if v1.RuleSet != nil || v1.Contract != placedV1Contract {
		t.Errorf("major 1 rule set %+v, contract %q", v1.RuleSet, v1.Contract)
	}
	if c := set.Event("shop.orders.Cancelled").Majors[0]; c.Metadata != nil {
		t.Errorf("an event without a group and a contract has metadata %+v", c.Metadata)
	}
	if m, ok := v2.Metadata.Major(); !ok || m != 2 || v2.Metadata.Properties["owner"] != "orders-team" {
		t.Errorf("major 2 metadata = %+v", v2.Metadata)
	}
	if v2.RuleSet == nil || len(v2.RuleSet.DomainRules) != 1 || v2.RuleSet.DomainRules[0].Expr != "message.cents > 0" || v2.RuleSet.DomainRules[0].OnFailure != "DLQ" {
		t.Errorf("major 2 rule set = %+v", v2.RuleSet)
	}
	if migs := v2.Migrations(); len(migs) != 1 || migs[0].Name != "placedV1ToV2" {
		t.Errorf("migrations = %+v", migs)
	}
	if up, down := v2.Migrates(); !up || !down {
		t.Errorf("Migrates = %v, %v, want both", up, down)
	}
	if up, down := v1.Migrates(); up || down {
		t.Error("major 1 migrates")
	}
	if line, col, ok := v2.ContractPos("/ruleSet/domainRules/0/expr"); !ok || line != 18 || col != 13 {
		t.Errorf("ContractPos(expr) = %d:%d %v, want 18:13", line, col, ok)
	}
	if line, _, ok := v2.ContractPos("/metadata/tags/shop.orders.Placed.id"); !ok || line != 5 {
		t.Errorf("ContractPos(tag) = %d %v, want line 5", line, ok)
	}
	if _, _, ok := v1.ContractPos("/ruleSet"); ok {
		t.Error("ContractPos of a missing value reported ok")
	}
	if got := schemas.FieldsTagged(v2.Metadata, v2.Type.Schema, wire.TagPII); !slices.Equal(got, []string{"shop.orders.Placed.id"}) {
		t.Errorf("PII fields = %v", got)
	}
	if got := schemas.FieldsTagged(v2.Metadata, v2.Type.Schema, "FINANCIAL"); !slices.Equal(got, []string{"shop.common.Money.amount", "shop.common.Money.currency"}) {
		t.Errorf("FINANCIAL fields = %v", got)
	}
}

// TestLoadMajorsWithoutSidecar: a later major without a contract still
// registers its major; the first major of an event that retired it is the
// lowest left.
func TestLoadMajorsWithoutSidecar(t *testing.T) {
	set, err := schemas.LoadFS(majorsFS(t, map[string]string{placedV2Contract: "", placedV1Contract: "", placedPath: ""}))
	if err != nil {
		t.Fatal(err)
	}
	ev := set.Event("shop.orders.Placed")
	if len(ev.Majors) != 1 || ev.Type.Major != 2 || set.Types["shop.orders.Placed"].File != placedV2Path {
		t.Fatalf("majors = %+v, type %+v", ev.Majors, ev.Type)
	}
	m := ev.Majors[0]
	if m.RuleSet != nil || m.Contract != "" || m.Metadata == nil || len(m.Metadata.Properties) != 1 || m.Metadata.Properties[wire.PropertyMajorVersion] != "2" {
		t.Errorf("major 2 = %+v, metadata %+v", m, m.Metadata)
	}
	if len(m.Migrations()) != 0 {
		t.Error("migrations without a contract")
	}
}

func TestLoadMajorErrors(t *testing.T) {
	tests := []struct {
		name      string
		overrides map[string]string
		file      string // the file of the error
		at        string // needle in that file; "" for 1:1
		want      string
	}{
		{
			name:      "no compatibility group",
			overrides: map[string]string{"manifest.yaml": strings.Replace(groupedManifest, "    compatibility_group: major_version\n", "", 1)},
			file:      "manifest.yaml", at: "schema: shop.orders.Placed",
			want: "event shop.orders.Placed has major 2 (shop/orders/Placed.v2.avsc) but no compatibility_group: add `compatibility_group: major_version`",
		},
		{
			name:      "unknown compatibility group",
			overrides: map[string]string{"manifest.yaml": strings.Replace(groupedManifest, "major_version", "majors", 1)},
			file:      "manifest.yaml", at: "majors",
			want: `unknown compatibility_group "majors"`,
		},
		{
			name:      "major 1 spelled v1",
			overrides: map[string]string{"shop/orders/Placed.v1.avsc": placedV2},
			file:      "shop/orders/Placed.v1.avsc",
			want:      "major 1 is Placed.avsc",
		},
		{
			name:      "a major is missing",
			overrides: map[string]string{placedV2Path: "", placedV2Contract: "", "shop/orders/Placed.v3.avsc": placedV2},
			file:      "shop/orders/Placed.v3.avsc", at: "{",
			want: "shop.orders.Placed has majors 1 and 3 but not the ones between: majors are consecutive and retire oldest first; restore shop/orders/Placed.v2.avsc",
		},
		{
			name: "a major of a shared record",
			overrides: map[string]string{"shop/common/Money.v2.avsc": `{"type": "record", "name": "Money", "namespace": "shop.common",
  "fields": [{"name": "cents", "type": "long"}]}`},
			file: "shop/common/Money.v2.avsc", at: `"Money"`,
			want: "shop/common/Money.v2.avsc is major 2 of shop.common.Money, which is not an event in manifest.yaml: only events have majors",
		},
		{
			name:      "a major of an enum",
			overrides: map[string]string{"shop/common/Currency.v2.avsc": `{"type": "enum", "name": "Currency", "namespace": "shop.common", "symbols": ["EUR"]}`},
			file:      "shop/common/Currency.v2.avsc", at: "{",
			want: "shop.common.Currency is a enum: only records (manifest events) have major versions",
		},
		{
			name:      "a reference to an event with two majors",
			overrides: map[string]string{"shop/orders/Audit.avsc": placedRefsPlaced},
			file:      "shop/orders/Audit.avsc", at: `"shop.orders.Placed"`,
			want: "shop.orders.Placed has 2 live majors (shop/orders/Placed.avsc to shop/orders/Placed.v2.avsc): a reference by full name cannot say which",
		},
		{
			name:      "the key is not a field of a later major",
			overrides: map[string]string{placedV2Path: placedV2NoIDField, placedV2Contract: ""},
			file:      "manifest.yaml", at: "id\n    compatibility_group",
			want: `key field "id" is not a field of shop.orders.Placed (major 2, shop/orders/Placed.v2.avsc)`,
		},
		{
			name:      "a sidecar without a schema",
			overrides: map[string]string{"shop/orders/Plaecd.contract.yaml": placedV1Sidecar},
			file:      "shop/orders/Plaecd.contract.yaml",
			want:      "there is no schema file shop/orders/Plaecd.avsc beside it",
		},
		{
			name:      "a sidecar named .yml",
			overrides: map[string]string{"shop/orders/Placed.contract.yml": placedV1Sidecar},
			file:      "shop/orders/Placed.contract.yml",
			want:      "rename it to shop/orders/Placed.contract.yaml",
		},
		{
			name:      "a sidecar of a shared type",
			overrides: map[string]string{"shop/common/Money.contract.yaml": "metadata:\n  tags:\n    shop.common.Money.amount: [PII]\n"},
			file:      "shop/common/Money.contract.yaml",
			want:      "shop.common.Money is not an event in manifest.yaml, and only events have data contracts",
		},
		{
			name:      "unknown top-level key",
			overrides: map[string]string{placedV1Contract: "metdata:\n  tags: {}\n"},
			file:      placedV1Contract, at: "metdata",
			want: `unknown key "metdata" (did you mean "metadata"?): remove it or use one of metadata, ruleSet`,
		},
		{
			name:      "unknown rule key",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "expr:", "exp:", 1)},
			file:      placedV2Contract, at: "exp:",
			want: `unknown key "exp" (did you mean "expr"?)`,
		},
		{
			name:      "tags as a list",
			overrides: map[string]string{placedV1Contract: "metadata:\n  tags: [PII]\n"},
			file:      placedV1Contract, at: "[PII]",
			want: "tags: want a mapping of names to values",
		},
		{
			name:      "disabled is not a boolean",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "onFailure: DLQ", "disabled: sometimes", 1)},
			file:      placedV2Contract, at: "sometimes",
			want: `disabled: want true or false, got "sometimes"`,
		},
		{
			name:      "invalid YAML",
			overrides: map[string]string{placedV1Contract: "metadata:\n  tags: [\n"},
			file:      placedV1Contract, at: "  tags: [",
			want: "invalid YAML",
		},
		{
			name:      "empty sidecar",
			overrides: map[string]string{placedV1Contract: "# nothing yet\n"},
			file:      placedV1Contract,
			want:      "empty data contract",
		},
		{
			name:      "bad kind",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "kind: CONDITION", "kind: CHECK", 1)},
			file:      placedV2Contract, at: "CHECK",
			want: `rule "centsPositive": unknown kind "CHECK": use CONDITION or TRANSFORM`,
		},
		{
			name:      "bad mode",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "mode: WRITE", "mode: WRTIE", 1)},
			file:      placedV2Contract, at: "WRTIE",
			want: `rule "centsPositive": unknown mode "WRTIE": use one of WRITE, READ, WRITEREAD`,
		},
		{
			name:      "a migration mode on a domain rule",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "mode: WRITE", "mode: UPGRADE", 1)},
			file:      placedV2Contract, at: "UPGRADE",
			want: `rule "centsPositive": mode UPGRADE belongs to migrationRules`,
		},
		{
			name:      "duplicate rule names",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "name: centsPositive", "name: placedV1ToV2", 1)},
			file:      placedV2Contract, at: "placedV1ToV2\n      kind: CONDITION",
			want: `rule name "placedV1ToV2" is also used at line 9: rule names are unique in a contract`,
		},
		{
			name:      "invalid rule name",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "name: centsPositive", "name: cents-positive", 1)},
			file:      placedV2Contract, at: "cents-positive",
			want: `invalid rule name "cents-positive"`,
		},
		{
			name:      "a CEL rule without expr",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "      expr: message.cents > 0\n", "", 1)},
			file:      placedV2Contract, at: "name: centsPositive",
			want: `rule "centsPositive": a CEL rule needs "expr"`,
		},
		{
			name:      "a domain rule of another type",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "type: CEL", "type: JSONATA", 1)},
			file:      placedV2Contract, at: "JSONATA",
			want: `domain rule type "JSONATA": Contrail runs CEL conditions on the whole message: use type CEL`,
		},
		{
			name:      "a migration rule of another type",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "type: CONTRAIL_GO", "type: JSONATA", 1)},
			file:      placedV2Contract, at: "JSONATA",
			want: `migration rule type "JSONATA": Contrail runs migrations written in Go between generated majors: use type CONTRAIL_GO`,
		},
		{
			name:      "a migration rule on major 1",
			overrides: map[string]string{placedV1Contract: "ruleSet:\n  migrationRules:\n    - name: up\n      kind: TRANSFORM\n      mode: UPGRADE\n      type: CONTRAIL_GO\n"},
			file:      placedV1Contract, at: "name: up",
			want: `rule "up": major 1 has no earlier major to migrate from`,
		},
		{
			name: "two upgrades",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "  domainRules:\n",
				"    - name: again\n      kind: TRANSFORM\n      mode: UPGRADE\n      type: CONTRAIL_GO\n  domainRules:\n", 1)},
			file: placedV2Contract, at: "UPGRADE",
			want: `rule "again": the upgrade from major 1 is already declared at line 9`,
		},
		{
			name:      "an unknown action",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "onFailure: DLQ", "onFailure: RETRY", 1)},
			file:      placedV2Contract, at: "RETRY",
			want: `rule "centsPositive": onFailure: unknown action "RETRY": use ERROR, DLQ, NONE`,
		},
		{
			name:      "two actions on a one-way rule",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "onFailure: DLQ", "onFailure: ERROR,DLQ", 1)},
			file:      placedV2Contract, at: "ERROR,DLQ",
			want: `onFailure "ERROR,DLQ": name one action, or two`,
		},
		{
			name:      "a tag on a field that does not exist",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "shop.orders.Placed.id:", "shop.orders.Placed.idd:", 1)},
			file:      placedV2Contract, at: "shop.orders.Placed.idd",
			want: `tag path "shop.orders.Placed.idd" matches no field of shop.orders.Placed (shop/orders/Placed.v2.avsc)`,
		},
		{
			name:      "a tag that matches only another major's field",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "shop.orders.Placed.id:", "shop.orders.Placed.note:", 1)},
			file:      placedV2Contract, at: "shop.orders.Placed.note",
			want: `tag path "shop.orders.Placed.note" matches no field`,
		},
		{
			name:      "an empty tag list",
			overrides: map[string]string{placedV1Contract: "metadata:\n  tags:\n    shop.orders.Placed.note: []\n"},
			file:      placedV1Contract, at: "[]",
			want: "tags of shop.orders.Placed.note: list at least one tag",
		},
		{
			name:      "a contradicting major_version",
			overrides: map[string]string{placedV2Contract: strings.Replace(placedV2Sidecar, "owner: orders-team", `major_version: "3"`, 1)},
			file:      placedV2Contract, at: `"3"`,
			want: `major_version is "3", but this is the contract of major 2`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := majorsFS(t, tt.overrides)
			_, err := schemas.LoadFS(fsys)
			var list schemas.ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("err = %v, want an ErrorList", err)
			}
			want := tt.file + ":1:1"
			if tt.at != "" {
				want = posOf(t, tt.file, string(fsys[tt.file].Data), tt.at)
			}
			for _, e := range list {
				if e.Location() == want && strings.Contains(e.Msg, tt.want) {
					return
				}
			}
			t.Fatalf("error:\n%v\nwant %s: ...%s...", err, want, tt.want)
		})
	}
}

func TestMatchTagPath(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          bool
	}{
		{"contrail.orders.OrderPlaced.customerId", "contrail.orders.OrderPlaced.customerId", true},
		{"contrail.orders.OrderPlaced.customerId", "contrail.orders.OrderPlaced.customer", false},
		{"eve*", "eve", true},
		{"a*.bob.eve", "alice.bob.eve", true},
		{"a*.bob.e*", "alice.bob.eve", true},
		{"a*", "alice.bob.eve", false},
		{"a**", "alice.bob.eve", true},
		{"alice.bob*", "alice.bob.eve", false},
		{"alice.bob**", "alice.bob.eve", true},
		{"**.ssn", "shop.Customer.ssn", true},
		{"**.*", "shop.Customer.ssn", true},
		{"**.ssn", "shop.Customer.ssnx", false},
		{"shop.?ustomer.ssn", "shop.Customer.ssn", true},
		{"shop?Customer.ssn", "shop.Customer.ssn", false},
		{`shop.Customer.s\*n`, "shop.Customer.s*n", true},
		{`shop.Customer.s\*n`, "shop.Customer.ssn", false},
		{"", "", true},
		{"", "a", false},
	}
	for _, tt := range tests {
		if got := schemas.MatchTagPath(tt.pattern, tt.path); got != tt.want {
			t.Errorf("MatchTagPath(%q, %q) = %v, want %v", tt.pattern, tt.path, got, tt.want)
		}
	}
}
