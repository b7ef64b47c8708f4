package regclient_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/wire"
)

// TestContractRoundTrip: a data contract survives wire -> pkg/sr -> wire
// unchanged, empty parts become nil, and an unknown mode is an error that
// names the rule.
func TestContractRoundTrip(t *testing.T) {
	md := &wire.Metadata{Tags: map[string][]string{"a.B.c": {wire.TagPII}}, Properties: map[string]string{wire.PropertyMajorVersion: "2"}, Sensitive: []string{"k"}}
	rs := &wire.RuleSet{
		MigrationRules: []wire.Rule{{Name: "up", Kind: wire.RuleKindTransform, Mode: wire.RuleModeUpDown, Type: wire.RuleTypeGoMigration}},
		DomainRules: []wire.Rule{{Name: "pos", Doc: "d", Kind: wire.RuleKindCondition, Mode: wire.RuleModeWriteRead, Type: wire.RuleTypeCEL,
			Expr: "message.x > 0", Tags: []string{"PII"}, Params: map[string]string{"p": "v"}, OnSuccess: "NONE", OnFailure: "ERROR,DLQ", Disabled: true}},
	}
	m, r, err := regclient.ContractToSR(md, rs)
	if err != nil {
		t.Fatal(err)
	}
	gotMD, gotRS := regclient.ContractFromSR(sr.Schema{SchemaMetadata: m, SchemaRuleSet: r})
	if !reflect.DeepEqual(gotMD, md) || !reflect.DeepEqual(gotRS, rs) {
		t.Fatalf("round trip:\n got %+v %+v\nwant %+v %+v", gotMD, gotRS, md, rs)
	}
	if m, r, err := regclient.ContractToSR(&wire.Metadata{}, &wire.RuleSet{}); m != nil || r != nil || err != nil {
		t.Fatalf("empty contract: %v %v %v, want nil nil nil", m, r, err)
	}
	if md, rs := regclient.ContractFromSR(sr.Schema{SchemaMetadata: &sr.SchemaMetadata{}, SchemaRuleSet: &sr.SchemaRuleSet{}}); md != nil || rs != nil {
		t.Fatalf("empty registered contract: %v %v, want nil nil", md, rs)
	}
	bad := &wire.RuleSet{DomainRules: []wire.Rule{{Name: "odd", Kind: wire.RuleKindCondition, Mode: "SIDEWAYS", Type: wire.RuleTypeCEL}}}
	if _, _, err := regclient.ContractToSR(nil, bad); err == nil || !strings.Contains(err.Error(), `rule "odd"`) {
		t.Fatalf("unknown mode: %v", err)
	}
}
