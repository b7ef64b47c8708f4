package wire

import (
	"strconv"
)

// Data contracts: the schema metadata and rule sets of Confluent's REST API
// (since Confluent Platform 7.4), in their JSON shapes, so that the registry
// stores them, the CLI pushes them, the serde evaluates them and the console
// redacts by them without importing each other.

// Metadata is a schema's metadata: free-form properties, tags on field
// paths and the names of properties whose values are secret. Its JSON is
// Confluent's: {"tags":{...},"properties":{...},"sensitive":[...]}.
type Metadata struct {
	// Tags maps a field path (e.g. "contrail.orders.OrderPlaced.customerId")
	// to the tags on that field, e.g. ["PII"].
	Tags map[string][]string `json:"tags,omitempty" yaml:"tags,omitempty"`
	// Properties are free-form key/values; PropertyMajorVersion is the one
	// Contrail gives meaning to.
	Properties map[string]string `json:"properties,omitempty" yaml:"properties,omitempty"`
	// Sensitive names properties whose values must not be shown.
	Sensitive []string `json:"sensitive,omitempty" yaml:"sensitive,omitempty"`
}

// PropertyMajorVersion is the metadata property that names a schema's major
// version; with CompatibilityGroupMajorVersion on a subject, schemas whose
// values differ belong to different compatibility groups.
const PropertyMajorVersion = "major_version"

// CompatibilityGroupMajorVersion is the value of a subject's
// compatibilityGroup config that groups schemas by PropertyMajorVersion.
const CompatibilityGroupMajorVersion = PropertyMajorVersion

// TagPII marks a field that holds personal data: the platform redacts it in
// logs, dead-letter listings and anything it prints.
const TagPII = "PII"

// Major returns the major version m declares in PropertyMajorVersion and
// whether it declares one. A nil m, a missing property or a value that is
// not a positive integer declares none.
func (m *Metadata) Major() (int, bool) {
	if m == nil {
		return 0, false
	}
	v, ok := m.Properties[PropertyMajorVersion]
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, false
	}
	return n, true
}

// IsZero reports whether m carries nothing.
func (m *Metadata) IsZero() bool {
	return m == nil || (len(m.Tags) == 0 && len(m.Properties) == 0 && len(m.Sensitive) == 0)
}

// RuleKind is a rule's kind.
type RuleKind string

// The rule kinds. A CONDITION checks a message and fails it; a TRANSFORM
// changes it.
const (
	RuleKindCondition RuleKind = "CONDITION"
	RuleKindTransform RuleKind = "TRANSFORM"
)

// RuleMode says when a rule runs. WRITE, READ and WRITEREAD apply to domain
// rules; UPGRADE, DOWNGRADE and UPDOWN to migration rules.
type RuleMode string

// The rule modes.
const (
	RuleModeWrite     RuleMode = "WRITE"
	RuleModeRead      RuleMode = "READ"
	RuleModeWriteRead RuleMode = "WRITEREAD"
	RuleModeUpgrade   RuleMode = "UPGRADE"
	RuleModeDowngrade RuleMode = "DOWNGRADE"
	RuleModeUpDown    RuleMode = "UPDOWN"
)

// OnWrite reports whether a rule in mode m runs when a message is published.
func (m RuleMode) OnWrite() bool { return m == RuleModeWrite || m == RuleModeWriteRead }

// OnRead reports whether a rule in mode m runs when a message is consumed.
func (m RuleMode) OnRead() bool { return m == RuleModeRead || m == RuleModeWriteRead }

// The rule actions Contrail executes in a rule's onSuccess/onFailure: ERROR
// fails the publish (or the record, which is dead-lettered as a poison
// message), DLQ dead-letters the record naming the rule, NONE logs and
// goes on. An empty action means NONE on success and ERROR on failure, as in
// Confluent's serializers. A rule may name one action per direction as
// "WRITE_ACTION,READ_ACTION" (Confluent's form), e.g. "ERROR,DLQ".
const (
	RuleActionError = "ERROR"
	RuleActionDLQ   = "DLQ"
	RuleActionNone  = "NONE"
)

// Rule types Contrail executes: CEL conditions on the whole message, and
// migrations written in Go and registered by generated code.
const (
	RuleTypeCEL = "CEL"
	// RuleTypeGoMigration is a migration rule whose transform is a Go
	// function between two generated major versions (events.Migration).
	RuleTypeGoMigration = "CONTRAIL_GO"
)

// Rule is one data-contract rule in Confluent's JSON shape.
type Rule struct {
	Name      string            `json:"name" yaml:"name"`
	Doc       string            `json:"doc,omitempty" yaml:"doc,omitempty"`
	Kind      RuleKind          `json:"kind" yaml:"kind"`
	Mode      RuleMode          `json:"mode" yaml:"mode"`
	Type      string            `json:"type" yaml:"type"`
	Tags      []string          `json:"tags,omitempty" yaml:"tags,omitempty"`
	Params    map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	Expr      string            `json:"expr,omitempty" yaml:"expr,omitempty"`
	OnSuccess string            `json:"onSuccess,omitempty" yaml:"onSuccess,omitempty"`
	OnFailure string            `json:"onFailure,omitempty" yaml:"onFailure,omitempty"`
	Disabled  bool              `json:"disabled,omitempty" yaml:"disabled,omitempty"`
}

// RuleSet holds a schema's rules: migration rules run between major
// versions, domain rules on every message.
type RuleSet struct {
	MigrationRules []Rule `json:"migrationRules,omitempty" yaml:"migrationRules,omitempty"`
	DomainRules    []Rule `json:"domainRules,omitempty" yaml:"domainRules,omitempty"`
}

// IsZero reports whether s holds no rule.
func (s *RuleSet) IsZero() bool {
	return s == nil || (len(s.MigrationRules) == 0 && len(s.DomainRules) == 0)
}
