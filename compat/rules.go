package compat

// Severity says whether a finding blocks a change.
type Severity string

// The severities. Only Error findings make `contrail check` exit 100; a
// Warning is printed so it is seen in review, but passes.
const (
	Error   Severity = "error"
	Warning Severity = "warning"
)

// Rule is one compatibility rule: a stable ID, the one sentence that says
// what it protects, and its severity. Rules are plain values; the walker in
// engine.go decides where each applies. A Rule is immutable and safe for
// concurrent use.
type Rule struct {
	// ID is the stable identifier findings carry.
	ID RuleID
	// Purpose is one sentence: what the rule protects.
	Purpose string
	// Severity says whether its findings block (Error) or only inform.
	Severity Severity
	// Spec is false for rules that are stricter than the Avro specification
	// as implemented by Java and hamba/avro (see README: decimal policy).
	Spec bool
}

// Schema-resolution rules: each sees one (reader, writer) pair of types.
var (
	// ReaderFieldMissingDefault: a reader record field that the writer lacks
	// must have a default, or old data cannot be read.
	ReaderFieldMissingDefault = Rule{"READER_FIELD_MISSING_DEFAULT", "A field the reader expects but the writer never wrote must have a default the reader can fill in.", Error, true}
	// TypeChanged: the writer's type cannot be read as the reader's type,
	// even with Avro's promotions.
	TypeChanged = Rule{"TYPE_CHANGED", "A value must be readable as the reader's type: same type, or an Avro promotion (int->long/float/double, long->float/double, float->double, string<->bytes).", Error, true}
	// UnionBranchMissing: a type the writer may write has no branch in the
	// reader's union that can read it.
	UnionBranchMissing = Rule{"UNION_BRANCH_MISSING", "Every type the writer can write (each branch of its union) must be readable by some branch of the reader's union.", Error, true}
	// EnumSymbolRemovedWithoutDefault: the writer may write a symbol the
	// reader does not know, and the reader's enum has no default for it.
	EnumSymbolRemovedWithoutDefault = Rule{"ENUM_SYMBOL_REMOVED_WITHOUT_DEFAULT", "Every enum symbol the writer can write must exist in the reader's enum, unless the reader's enum has a default.", Error, true}
	// FixedSizeChanged: fixed types must keep their size.
	FixedSizeChanged = Rule{"FIXED_SIZE_CHANGED", "A fixed type must keep its size: the reader reads exactly size bytes.", Error, true}
	// NameMismatch: named types (record, enum, fixed) must keep their
	// unqualified name, or the reader must list the writer's full name as an alias.
	NameMismatch = Rule{"NAME_MISMATCH", "A record, enum or fixed must keep its unqualified name, or the reader must alias the writer's full name.", Error, true}
	// DecimalScaleChanged: a decimal's scale must not change, or every
	// amount silently changes by a power of ten.
	DecimalScaleChanged = Rule{"DECIMAL_SCALE_CHANGED", "A decimal's scale must not change: the bytes stay the same, so the value would be read 10^n times too big or too small.", Error, false}
	// DecimalPrecisionNarrowed: the reader's precision must hold every value
	// the writer's precision allows.
	DecimalPrecisionNarrowed = Rule{"DECIMAL_PRECISION_NARROWED", "A decimal's reader precision must be at least the writer's, or large values no longer fit.", Error, false}
	// LogicalTypeChanged: both sides carry different logical types on the
	// same encoding (e.g. timestamp-millis vs timestamp-micros).
	LogicalTypeChanged = Rule{"LOGICAL_TYPE_CHANGED", "A value's logical type must not change to another one (e.g. timestamp-millis to timestamp-micros): the number stays, its meaning changes.", Error, false}
)

// Schema-tree rules: `contrail check` applies them to whole schema trees and
// manifests (see CompareSets), not to one pair of types.
var (
	// SubjectDeleted: a subject in the baseline no longer exists.
	SubjectDeleted = Rule{"SUBJECT_DELETED", "A subject that exists in the baseline must still exist: consumers and the registry still use it.", Error, true}
	// SubjectMoved: an event now travels under another subject (topic or
	// naming strategy changed), so its history no longer applies.
	SubjectMoved = Rule{"SUBJECT_MOVED", "An event must keep its subject: a new topic or strategy starts a new subject whose compatibility history is empty.", Error, true}
	// StrategyChanged: the subject naming strategy of an event changed.
	StrategyChanged = Rule{"STRATEGY_CHANGED", "An event must keep its subject naming strategy: serializers on both sides must agree on it.", Error, true}
	// SchemaFileDeleted: a schema file in the baseline is gone.
	SchemaFileDeleted = Rule{"SCHEMA_FILE_DELETED", "A schema file in the baseline must not disappear while a type it defined is still in use.", Error, true}
	// SchemaFileRenamed: a schema file was renamed (its type renamed or moved
	// to another namespace), which gives it a new full name, a new Go type
	// and, unless its subject is a TopicName subject, a new subject.
	SchemaFileRenamed = Rule{"SCHEMA_FILE_RENAMED", "A type must keep its file and full name: a renamed type gets a new Go type and (except under TopicName) a new subject with an empty history, and readers need an alias to match it.", Error, true}
	// ExceptionUnused: an exception in the exceptions file matched nothing.
	ExceptionUnused = Rule{"EXCEPTION_UNUSED", "Every entry in the exceptions file must still silence a finding; delete entries that no longer do.", Warning, true}
	// ExceptionExpired: an exception's expiry date has passed; it no longer
	// silences anything.
	ExceptionExpired = Rule{"EXCEPTION_EXPIRED", "An exception stops applying on its expires date; fix the change or renew the exception with a new reason.", Error, true}
)

var allRules = []Rule{
	ReaderFieldMissingDefault, TypeChanged, UnionBranchMissing, EnumSymbolRemovedWithoutDefault,
	FixedSizeChanged, NameMismatch, DecimalScaleChanged, DecimalPrecisionNarrowed, LogicalTypeChanged,
	SubjectDeleted, SubjectMoved, StrategyChanged, SchemaFileDeleted, SchemaFileRenamed,
	ExceptionUnused, ExceptionExpired,
}

// Rules returns every rule, in documentation order. The slice is a copy.
func Rules() []Rule { return append([]Rule(nil), allRules...) }

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
