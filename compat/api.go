// Package compat is Contrail's one Avro compatibility engine. The registry,
// `contrail check`, `contrail contract verify` and the go test helpers all call
// it, so their verdicts can never disagree.
//
// NOTE(foundation): this file fixes the public API other packages code
// against (registry, cmd/contrail). The compat owner may add to it but must
// not change these signatures without updating every caller.
package compat

import (
	"github.com/hamba/avro/v2"
)

// Level is a subject compatibility level exactly as Confluent defines it.
type Level string

// The compatibility levels. Non-transitive levels check the new schema
// against the latest previous version only; transitive ones against all.
const (
	None               Level = "NONE"
	Backward           Level = "BACKWARD"            // new schema reads data written with the previous one
	BackwardTransitive Level = "BACKWARD_TRANSITIVE" // ... with every previous one
	Forward            Level = "FORWARD"             // previous schema reads data written with the new one
	ForwardTransitive  Level = "FORWARD_TRANSITIVE"
	Full               Level = "FULL" // both directions, latest previous
	FullTransitive     Level = "FULL_TRANSITIVE"
)

// RuleID is the stable, UPPER_SNAKE identifier of a compatibility rule. IDs
// are never deleted or reused, only deprecated.
type RuleID string

// Location points into a schema: the JSON path (a JSON Pointer such as
// "/fields/3/type") and, when the schema came from a file, file:line:col.
type Location struct {
	Path string `json:"path"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// Locator maps a JSON path inside a schema to a position in its source. A
// named type defined in another file may map to that file. ok is false when
// the position is unknown.
type Locator interface {
	Locate(fullName, path string) (loc Location, ok bool)
}

// Schema is one version of a schema as the engine sees it.
type Schema struct {
	// Schema is the parsed schema, references resolved. Required.
	Schema avro.Schema
	// Label names the version in messages, e.g. "version 3" or "git:main".
	Label string
	// Source locates findings in the schema's files; nil when the schema did
	// not come from a file (e.g. fetched from a registry).
	Source Locator
}

// Direction says which version read which in a finding.
type Direction struct {
	Reader string `json:"reader"` // label of the reading schema
	Writer string `json:"writer"` // label of the writing schema
}

// Finding is one incompatibility.
type Finding struct {
	Rule      RuleID    `json:"rule"`
	Subject   string    `json:"subject,omitempty"`
	Direction Direction `json:"direction"`
	Reader    Location  `json:"reader"`
	Writer    Location  `json:"writer"`
	// Message names the record and field, says what changed and how to fix it.
	Message string `json:"message"`
}

// ParseLevel parses a level name, case-insensitively. It returns an error
// naming the valid levels for anything else.
//
// TODO(compat owner): placeholder until the engine lands.
func ParseLevel(s string) (Level, error) { return Level(s), nil }

// Check applies Avro's schema-resolution rules to data written with writer
// and read with reader, and returns every incompatibility (nil when reader
// can read everything writer can write).
//
// TODO(compat owner): placeholder until the engine lands.
func Check(reader, writer Schema) []Finding { return nil }

// CheckLevel checks next against previous (oldest first) as level requires:
// BACKWARD means next reads the latest previous, FORWARD the reverse, FULL
// both, *_TRANSITIVE against every previous version, NONE nothing. It returns
// an error only for an unknown level.
//
// TODO(compat owner): placeholder until the engine lands.
func CheckLevel(level Level, next Schema, previous []Schema) ([]Finding, error) { return nil, nil }
