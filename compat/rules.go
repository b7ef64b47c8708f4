package compat

import "slices"

// Severity says whether a finding blocks a change.
type Severity string

// The severities. Only Error findings make `contrail check` exit 100; a
// Warning is printed so it is seen in review, but passes; an Info finding
// says what a change does that passes on purpose (a new major allowed by
// its migration rule, a new domain rule) and is printed as a notice.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
	Info    Severity = "info"
)

// Scope says what a rule judges, and so which command reports its findings.
type Scope string

// The scopes, in documentation order.
const (
	// ScopeResolution rules judge one (reader, writer) pair of types (Check):
	// `contrail check` reports them, and so does `contrail contract verify`,
	// which resolves each contract's reader schema against the producer's.
	ScopeResolution Scope = "resolution"
	// ScopeTree rules judge whole schema trees and manifests against a
	// baseline (CheckTree); `contrail check` reports them.
	ScopeTree Scope = "tree"
	// ScopeExceptions rules judge the exceptions file (Exceptions.Apply);
	// `contrail check` reports them.
	ScopeExceptions Scope = "exceptions"
	// ScopeContract rules judge consumer contracts (package contract);
	// `contrail contract verify` reports them, `contrail check` never does.
	ScopeContract Scope = "contract"
)

// Rule is one compatibility rule: a stable ID, the one sentence that says
// what it protects, its severity and its scope. Rules are plain values; the
// walker in engine.go (and, for contract rules, package contract) decides
// where each applies. Every rule, contract rules included, is in one table
// (Rules), so every printer knows its severity. A Rule is immutable and safe
// for concurrent use.
type Rule struct {
	// ID is the stable identifier findings carry.
	ID RuleID
	// Purpose is one sentence: what the rule protects.
	Purpose string
	// Severity says whether its findings block (Error) or only inform.
	Severity Severity
	// Spec is false for rules that are stricter than the Avro specification
	// as implemented by Java and hamba/avro (see README: decimal policy),
	// and for contract rules, which the specification does not know.
	Spec bool
	// Scope says what the rule judges and which command reports it.
	Scope Scope
}

// Schema-resolution rules: each sees one (reader, writer) pair of types.
var (
	// ReaderFieldMissingDefault: a reader record field that the writer lacks
	// must have a default, or old data cannot be read.
	ReaderFieldMissingDefault = Rule{"READER_FIELD_MISSING_DEFAULT", "A field the reader expects but the writer never wrote must have a default the reader can fill in.", Error, true, ScopeResolution}
	// TypeChanged: the writer's type cannot be read as the reader's type,
	// even with Avro's promotions.
	TypeChanged = Rule{"TYPE_CHANGED", "A value must be readable as the reader's type: same type, or an Avro promotion (int->long/float/double, long->float/double, float->double, string<->bytes).", Error, true, ScopeResolution}
	// UnionBranchMissing: a type the writer may write has no branch in the
	// reader's union that can read it.
	UnionBranchMissing = Rule{"UNION_BRANCH_MISSING", "Every type the writer can write (each branch of its union) must be readable by some branch of the reader's union.", Error, true, ScopeResolution}
	// EnumSymbolRemovedWithoutDefault: the writer may write a symbol the
	// reader does not know, and the reader's enum has no default for it.
	EnumSymbolRemovedWithoutDefault = Rule{"ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT", "Every enum symbol the writer can write must exist in the reader's enum, unless the reader's enum has a default.", Error, true, ScopeResolution}
	// FixedSizeChanged: fixed types must keep their size.
	FixedSizeChanged = Rule{"FIXED_SIZE_CHANGED", "A fixed type must keep its size: the reader reads exactly size bytes.", Error, true, ScopeResolution}
	// NameMismatch: named types (record, enum, fixed) must keep their
	// unqualified name, or the reader must list the writer's full name as an alias.
	NameMismatch = Rule{"NAME_MISMATCH", "A record, enum or fixed must keep its unqualified name, or the reader must alias the writer's full name.", Error, true, ScopeResolution}
	// DecimalScaleChanged: a decimal's scale must not change, or every
	// amount silently changes by a power of ten.
	DecimalScaleChanged = Rule{"DECIMAL_SCALE_CHANGED", "A decimal's scale must not change: the bytes stay the same, so the value would be read 10^n times too big or too small.", Error, false, ScopeResolution}
	// DecimalPrecisionNarrowed: the reader's precision must hold every value
	// the writer's precision allows.
	DecimalPrecisionNarrowed = Rule{"DECIMAL_PRECISION_NARROWED", "A decimal's reader precision must be at least the writer's, or large values no longer fit.", Error, false, ScopeResolution}
	// LogicalTypeChanged: both sides carry different logical types on the
	// same encoding (e.g. timestamp-millis vs timestamp-micros).
	LogicalTypeChanged = Rule{"LOGICAL_TYPE_CHANGED", "A value's logical type must not change to another one (e.g. timestamp-millis to timestamp-micros): the number stays, its meaning changes.", Error, false, ScopeResolution}
)

// Schema-tree rules: `contrail check` applies them to whole schema trees and
// manifests (see CompareSets), not to one pair of types.
var (
	// SubjectDeleted: a subject in the baseline no longer exists.
	SubjectDeleted = Rule{"SUBJECT_DELETED", "A subject that exists in the baseline must still exist: consumers and the registry still use it.", Error, true, ScopeTree}
	// SubjectMoved: an event now travels under another subject (topic or
	// naming strategy changed), so its history no longer applies.
	SubjectMoved = Rule{"SUBJECT_MOVED", "An event must keep its subject: a new topic or strategy starts a new subject whose compatibility history is empty.", Error, true, ScopeTree}
	// StrategyChanged: the subject naming strategy of an event changed.
	StrategyChanged = Rule{"STRATEGY_CHANGED", "An event must keep its subject naming strategy: serializers on both sides must agree on it.", Error, true, ScopeTree}
	// SchemaFileDeleted: a schema file in the baseline is gone.
	SchemaFileDeleted = Rule{"SCHEMA_FILE_DELETED", "A schema file in the baseline must not disappear while a type it defined is still in use.", Error, true, ScopeTree}
	// SchemaFileRenamed: a schema file was renamed (its type renamed or moved
	// to another namespace), which gives it a new full name, a new Go type
	// and, unless its subject is a TopicName subject, a new subject.
	SchemaFileRenamed = Rule{"SCHEMA_FILE_RENAMED", "A type must keep its file and full name: a renamed type gets a new Go type and (except under TopicName) a new subject with an empty history, and readers need an alias to match it.", Error, true, ScopeTree}
	// MajorAdded: a new major version of an event, which may break the one
	// before it because its data contract declares the Go migration between
	// them. It passes; the finding says so.
	MajorAdded = Rule{"MAJOR_ADDED", "A new major version may break the previous major only when its contract declares a CONTRAIL_GO migration rule; the check passes and says which rule allowed it.", Info, false, ScopeTree}
	// MajorWithoutMigration: a new major version of an event whose data
	// contract declares no migration rule.
	MajorWithoutMigration = Rule{"MAJOR_WITHOUT_MIGRATION", "A new major version must declare a CONTRAIL_GO migration rule in its contract, or readers of one major cannot read data written in the other.", Error, false, ScopeTree}
	// MajorRetired: a major version's file was deleted while the event
	// lives on in a later major.
	MajorRetired = Rule{"MAJOR_RETIRED", "Retiring a major (deleting its file) is done only once nothing writes it, its data has left the topics and every consumer reads a later major.", Warning, false, ScopeTree}
	// MigrationRuleRemoved: a live major lost the migration rule that
	// connects it to the major before it.
	MigrationRuleRemoved = Rule{"MIGRATION_RULE_REMOVED", "A major must keep the migration rule that connects it to the previous major while both may be read.", Error, false, ScopeTree}
	// MigrationRuleChanged: a migration rule's definition changed (a
	// direction dropped, for example).
	MigrationRuleChanged = Rule{"MIGRATION_RULE_CHANGED", "A migration rule's mode, kind or type must change only on purpose: dropping a direction leaves readers of the other major without a migration.", Warning, false, ScopeTree}
	// DomainRuleAdded: a domain rule was added to a data contract.
	DomainRuleAdded = Rule{"DOMAIN_RULE_ADDED", "A new domain rule can reject messages that producers write today (WRITE) or dead-letter ones consumers accept today (READ); the check says so.", Info, false, ScopeTree}
	// DomainRuleRemoved: a domain rule was removed from a data contract.
	DomainRuleRemoved = Rule{"DOMAIN_RULE_REMOVED", "A domain rule that consumers may rely on (every message they read satisfies it) is removed only on purpose.", Warning, false, ScopeTree}
	// DomainRuleChanged: a domain rule's expression, mode, action or other
	// definition changed, or it was disabled.
	DomainRuleChanged = Rule{"DOMAIN_RULE_CHANGED", "A domain rule's condition, mode or actions change only on purpose: consumers may rely on what it guaranteed.", Warning, false, ScopeTree}
	// PIITagRemoved: a field that was tagged PII is no longer.
	PIITagRemoved = Rule{"PII_TAG_REMOVED", "A field tagged PII keeps the tag while it exists: without it, logs, dead-letter listings and the console show its value.", Warning, false, ScopeTree}
	// DataContractChanged: other changes to a data contract: metadata
	// properties, sensitive names, tags other than a removed PII tag, an
	// added migration rule.
	DataContractChanged = Rule{"DATA_CONTRACT_CHANGED", "Changes to a schema's metadata (properties, tags, sensitive names) and added migration rules are listed so that review sees them.", Info, false, ScopeTree}
	// ExceptionUnused: an exception in the exceptions file matched nothing.
	ExceptionUnused = Rule{"EXCEPTION_UNUSED", "Every entry in the exceptions file must still silence a finding; delete entries that no longer do.", Warning, true, ScopeExceptions}
	// ExceptionExpired: an exception's expiry date has passed; it no longer
	// silences anything.
	ExceptionExpired = Rule{"EXCEPTION_EXPIRED", "An exception stops applying on its expires date; fix the change or renew the exception with a new reason.", Error, true, ScopeExceptions}
)

// Consumer-contract rules: `contrail contract verify` (package contract, which
// also applies the schema-resolution rules to each contract) reports them.
// They live in this table so that every printer and every caller of
// SeverityOf knows them; package contract re-exports them under its own names.
var (
	// ContractFieldNotWritten: a field the consumer relies on is no longer
	// written by the producer. Resolution still succeeds (the reader has a
	// default), so no schema-level rule fires, but the consumer silently
	// reads the default instead of the data it depends on.
	ContractFieldNotWritten = Rule{"CONTRACT_FIELD_NOT_WRITTEN", "Every field a consumer's contract relies on must still be written by the producer; a reader default must not silently replace it.", Error, false, ScopeContract}
	// ContractEventMissing: the producer's schemas no longer define the
	// event a consumer's contract reads.
	ContractEventMissing = Rule{"CONTRACT_EVENT_MISSING", "An event a consumer has a contract for must still be produced under its subject.", Error, false, ScopeContract}
	// ContractSubjectMoved: the event is produced under another subject than
	// the one the consumer reads (topic or naming strategy changed).
	ContractSubjectMoved = Rule{"CONTRACT_SUBJECT_MOVED", "An event must stay under the subject its consumers read; a new topic or strategy leaves them reading nothing.", Error, false, ScopeContract}
)

var allRules = []Rule{
	ReaderFieldMissingDefault, TypeChanged, UnionBranchMissing, EnumSymbolRemovedWithoutDefault,
	FixedSizeChanged, NameMismatch, DecimalScaleChanged, DecimalPrecisionNarrowed, LogicalTypeChanged,
	SubjectDeleted, SubjectMoved, StrategyChanged, SchemaFileDeleted, SchemaFileRenamed,
	MajorAdded, MajorWithoutMigration, MajorRetired, MigrationRuleRemoved, MigrationRuleChanged,
	DomainRuleAdded, DomainRuleRemoved, DomainRuleChanged, PIITagRemoved, DataContractChanged,
	ExceptionUnused, ExceptionExpired,
	ContractFieldNotWritten, ContractEventMissing, ContractSubjectMoved,
}

// Rules returns every rule, contract rules included, in documentation
// order. The slice is a copy.
func Rules() []Rule { return append([]Rule(nil), allRules...) }

// RulesIn returns the rules of the given scopes, in documentation order
// (not in the order of scopes); none for no scopes. The slice is a copy.
func RulesIn(scopes ...Scope) []Rule {
	var out []Rule
	for _, r := range allRules {
		if slices.Contains(scopes, r.Scope) {
			out = append(out, r)
		}
	}
	return out
}

// RuleByID returns the rule with id; ok is false for an unknown ID.
func RuleByID(id RuleID) (r Rule, ok bool) {
	for _, r := range allRules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// SeverityOf returns the severity of the rule id; unknown IDs count as Error.
func SeverityOf(id RuleID) Severity {
	if r, ok := RuleByID(id); ok {
		return r.Severity
	}
	return Error
}
