package regclient

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/wire"
)

// The one conversion between package wire's data-contract shapes and
// franz-go's pkg/sr types (both Confluent's JSON), used by `registry push`,
// registry baselines and the serde.

// ContractToSR converts a data contract to pkg/sr's shapes; a nil or empty
// part stays nil. It fails on a rule kind or mode pkg/sr does not know.
func ContractToSR(md *wire.Metadata, rs *wire.RuleSet) (*sr.SchemaMetadata, *sr.SchemaRuleSet, error) {
	var m *sr.SchemaMetadata
	if !md.IsZero() {
		m = &sr.SchemaMetadata{Tags: md.Tags, Properties: md.Properties, Sensitive: md.Sensitive}
	}
	if rs.IsZero() {
		return m, nil, nil
	}
	conv := func(in []wire.Rule) ([]sr.SchemaRule, error) {
		out := make([]sr.SchemaRule, 0, len(in))
		for _, r := range in {
			o := sr.SchemaRule{Name: r.Name, Doc: r.Doc, Type: r.Type, Tags: r.Tags, Params: r.Params, Expr: r.Expr,
				OnSuccess: r.OnSuccess, OnFailure: r.OnFailure, Disabled: r.Disabled}
			if err := o.Kind.UnmarshalText([]byte(r.Kind)); err != nil {
				return nil, fmt.Errorf("rule %q: kind %q: want CONDITION or TRANSFORM", r.Name, r.Kind)
			}
			if err := o.Mode.UnmarshalText([]byte(r.Mode)); err != nil {
				return nil, fmt.Errorf("rule %q: mode %q: want WRITE, READ, WRITEREAD, UPGRADE, DOWNGRADE or UPDOWN", r.Name, r.Mode)
			}
			out = append(out, o)
		}
		return out, nil
	}
	var out sr.SchemaRuleSet
	var err error
	if out.MigrationRules, err = conv(rs.MigrationRules); err != nil {
		return nil, nil, err
	}
	if out.DomainRules, err = conv(rs.DomainRules); err != nil {
		return nil, nil, err
	}
	return m, &out, nil
}

// ContractFromSR returns the data contract registered with s (GET
// /subjects/{s}/versions/{v} and /schemas/ids/{id} carry "metadata" and
// "ruleSet" since Confluent Platform 7.4); an absent or empty part is nil,
// so a registry that predates data contracts gives no contract.
func ContractFromSR(s sr.Schema) (*wire.Metadata, *wire.RuleSet) {
	var md *wire.Metadata
	if m := s.SchemaMetadata; m != nil {
		md = &wire.Metadata{Tags: m.Tags, Properties: m.Properties, Sensitive: m.Sensitive}
		if md.IsZero() {
			md = nil
		}
	}
	var rs *wire.RuleSet
	if r := s.SchemaRuleSet; r != nil {
		conv := func(in []sr.SchemaRule) []wire.Rule {
			var out []wire.Rule
			for _, r := range in {
				out = append(out, wire.Rule{Name: r.Name, Doc: r.Doc, Kind: wire.RuleKind(r.Kind.String()), Mode: wire.RuleMode(r.Mode.String()),
					Type: r.Type, Tags: r.Tags, Params: r.Params, Expr: r.Expr, OnSuccess: r.OnSuccess, OnFailure: r.OnFailure, Disabled: r.Disabled})
			}
			return out
		}
		rs = &wire.RuleSet{MigrationRules: conv(r.MigrationRules), DomainRules: conv(r.DomainRules)}
		if rs.IsZero() {
			rs = nil
		}
	}
	return md, rs
}
