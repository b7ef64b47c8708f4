package lint

import (
	"fmt"
	"slices"
	"strings"

	"github.com/contrail-events/contrail/compat"
)

// Tier groups rules by how much they ask of a schema tree. Tiers are
// cumulative: running a tier runs every rule of the tiers below it too.
type Tier int

// The tiers, from the least strict. The zero Tier is no tier; Options and
// the manifest default to Standard.
const (
	// Minimal rules catch what is always a mistake: an attribute Avro
	// silently ignores, a file where tools will not look for it.
	Minimal Tier = iota + 1
	// Basic adds the naming conventions: PascalCase types, one field case
	// per tree, UPPER_SNAKE enum symbols, lower-case namespaces.
	Basic
	// Standard adds what keeps events evolvable and readable by every
	// consumer: enum defaults, nullable fields that default to null, record
	// unions a JSON reader can tell apart, event metadata, no dead types.
	// It is the default tier, and the one the repository's schemas pass.
	Standard
	// Docs adds documentation: a doc on every named type and field.
	Docs
)

var tierNames = []string{Minimal: "MINIMAL", Basic: "BASIC", Standard: "STANDARD", Docs: "DOCS"}

// Tiers returns every tier, from the least strict.
func Tiers() []Tier { return []Tier{Minimal, Basic, Standard, Docs} }

// String returns the tier's name as configuration spells it, e.g. "STANDARD".
func (t Tier) String() string {
	if t >= Minimal && t <= Docs {
		return tierNames[t]
	}
	return fmt.Sprintf("Tier(%d)", int(t))
}

// ParseTier parses a tier name, case-insensitively. It returns an error
// naming the tiers for anything else.
func ParseTier(s string) (Tier, error) {
	for _, t := range Tiers() {
		if strings.EqualFold(strings.TrimSpace(s), t.String()) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("lint: unknown tier %q: use MINIMAL, BASIC, STANDARD or DOCS", s)
}

// Rule is one lint rule: a stable ID, the tier that turns it on, one
// sentence saying what it asks for, the severity of its findings and the
// check the walker runs. IDs are UPPER_SNAKE, never reused and never
// deleted, only deprecated; they never collide with compat's rule IDs, so
// one finding type and one set of printers serve both. A Rule is
// immutable and safe for concurrent use.
type Rule struct {
	// ID is the stable identifier findings carry and configuration names.
	ID compat.RuleID
	// Tier is the least strict tier that runs the rule.
	Tier Tier
	// Purpose is one sentence: what the rule asks for.
	Purpose string
	// Severity says whether a finding fails the lint (Error) or only
	// informs (Warning).
	Severity compat.Severity

	check check
}

// check is what a rule looks at: the walker calls each non-nil hook for
// every element of its kind, in file order. A rule with no hook is applied
// by Run itself (LINT_IGNORE_UNUSED).
type check struct {
	named  func(*pass, *def)    // every record, enum and fixed
	field  func(*pass, *field)  // every record field
	schema func(*pass, *schema) // every type expression, the definitions included
	tree   func(*pass)          // once, for rules about the whole tree
}

// IgnoreUnused is the rule Run applies to the ignores themselves.
const IgnoreUnused compat.RuleID = "LINT_IGNORE_UNUSED"

// rules is the table, in documentation order: by tier, then by topic.
var rules = []Rule{
	// MINIMAL: layout and silent no-ops.
	{ID: "NAMESPACE_DIRECTORY_MISMATCH", Tier: Minimal, Severity: compat.Error,
		Purpose: "A type's file must sit exactly in the folders its namespace spells, from the schema root (contrail.orders.OrderPlaced in contrail/orders/OrderPlaced.avsc).",
		check:   check{named: namespaceDirectory}},
	{ID: "LOGICAL_TYPE_UNKNOWN", Tier: Minimal, Severity: compat.Error,
		Purpose: "A logicalType must be one Avro defines and Contrail's codec implements, spelled exactly; any other is silently ignored.",
		check:   check{schema: logicalTypeUnknown}},
	{ID: "LOGICAL_TYPE_WRONG_BASE", Tier: Minimal, Severity: compat.Error,
		Purpose: "A logical type must annotate the type it is defined on (duration a fixed of 12 bytes, uuid a string, ...); elsewhere it is silently ignored.",
		check:   check{schema: logicalTypeWrongBase}},
	{ID: "LOGICAL_TYPE_ON_FIELD", Tier: Minimal, Severity: compat.Error,
		Purpose: "A logicalType belongs inside the field's type object, not beside it on the field, where Avro ignores it.",
		check:   check{field: logicalTypeOnField}},
	{ID: "DECIMAL_WITHOUT_LOGICAL_TYPE", Tier: Minimal, Severity: compat.Error,
		Purpose: "precision and scale mean nothing without \"logicalType\": \"decimal\" on the same bytes or fixed type; without it the value is plain bytes.",
		check:   check{schema: decimalWithoutLogicalType}},
	{ID: IgnoreUnused, Tier: Minimal, Severity: compat.Warning,
		Purpose: "Every ignore (in the manifest's lint section or a contrail.lint.ignore attribute) must still accept a finding of a rule that ran; delete the ones that no longer do."},

	// BASIC: naming.
	{ID: "TYPE_NAME_CASE", Tier: Basic, Severity: compat.Error,
		Purpose: "Records, enums and fixed types are named in PascalCase (OrderPlaced), as the Go types generated from them.",
		check:   check{named: typeNameCase}},
	{ID: "FIELD_NAME_CASE", Tier: Basic, Severity: compat.Error,
		Purpose: "Field names follow one convention across the tree, camelCase or snake_case (lint.field_case, else the one most fields follow).",
		check:   check{field: fieldNameCase}},
	{ID: "ENUM_SYMBOL_CASE", Tier: Basic, Severity: compat.Error,
		Purpose: "Enum symbols are UPPER_SNAKE_CASE (OUT_OF_STOCK).",
		check:   check{named: enumSymbolCase}},
	{ID: "NAMESPACE_CASE", Tier: Basic, Severity: compat.Error,
		Purpose: "Namespaces are lower-case words separated by dots (contrail.orders), the folders they live in.",
		check:   check{named: namespaceCase}},

	// STANDARD: evolution and interoperability.
	{ID: "ENUM_DEFAULT_MISSING", Tier: Standard, Severity: compat.Error,
		Purpose: "An enum has a default symbol, so readers can read symbols added after them instead of failing.",
		check:   check{named: enumDefaultMissing}},
	{ID: "UNION_NULL_NOT_FIRST", Tier: Standard, Severity: compat.Error,
		Purpose: "In a union with null, null is the first branch, so a field of that type can default to null.",
		check:   check{schema: unionNullNotFirst}},
	{ID: "NULLABLE_FIELD_DEFAULT_MISSING", Tier: Standard, Severity: compat.Error,
		Purpose: "A nullable field (a union with null first) has \"default\": null, so it can be added and removed compatibly.",
		check:   check{field: nullableFieldDefaultMissing}},
	{ID: "UNION_RECORDS_AMBIGUOUS", Tier: Standard, Severity: compat.Error,
		Purpose: "The records of a union can be told apart in plain JSON: each pair differs in a field one of them requires and the other lacks.",
		check:   check{schema: unionRecordsAmbiguous}},
	{ID: "EVENT_METADATA_MISSING", Tier: Standard, Severity: compat.Error,
		Purpose: "Every event in the manifest has a \"metadata\" record field with a string eventId, which the runtime uses for ids, deduplication and tracing headers.",
		check:   check{tree: eventMetadataMissing}},
	{ID: "NAMED_TYPE_UNUSED", Tier: Standard, Severity: compat.Error,
		Purpose: "Every named type is an event in the manifest or is used, directly or not, by one.",
		check:   check{tree: namedTypeUnused}},

	// DOCS: documentation.
	{ID: "TYPE_DOC_MISSING", Tier: Docs, Severity: compat.Error,
		Purpose: "Every record, enum and fixed has a doc saying what it is.",
		check:   check{named: typeDocMissing}},
	{ID: "FIELD_DOC_MISSING", Tier: Docs, Severity: compat.Error,
		Purpose: "Every record field has a doc saying what it holds.",
		check:   check{field: fieldDocMissing}},
}

// Rules returns every rule in documentation order (by tier). The slice is
// a copy.
func Rules() []Rule { return slices.Clone(rules) }

// RuleByID returns the rule with id; ok is false for an unknown ID.
func RuleByID(id compat.RuleID) (r Rule, ok bool) {
	for _, r := range rules {
		if r.ID == id {
			return r, true
		}
	}
	return Rule{}, false
}

// SeverityOf returns the severity of lint rule id; unknown IDs count as
// Error. It is what lint results set as report.Result.Severity.
func SeverityOf(id compat.RuleID) compat.Severity {
	if r, ok := RuleByID(id); ok {
		return r.Severity
	}
	return compat.Error
}
