// Package compat is Contrail's one Avro compatibility engine. The registry,
// `contrail check`, `contrail contract verify` and the go test helpers all call
// it, so their verdicts can never disagree.
//
// The engine implements the Avro specification's schema-resolution rules
// (Java's and Confluent's reading of them for names and aliases) and reports
// every incompatibility as a Finding with a stable rule ID (see Rules), the
// direction, a JSON Pointer and, where a Locator knows it, file:line:col.
// Invalid schemas never reach it: parsing (hamba/avro, schemas.Load) rejects
// them, e.g. a default that does not match its type.
package compat

import (
	"errors"
	"fmt"
	"strings"

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
// With File set, Path points into that file; without, it points into the
// schema as a whole, each named type written out where it is first used.
type Location struct {
	Path string `json:"path"`
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
	Col  int    `json:"col,omitempty"`
}

// Locator maps a JSON path inside a schema to a position in its source. A
// named type defined in another file may map to that file. ok is false when
// the position is unknown. The engine calls Locate with the full name of the
// named type whose definition the path starts at (path relative to that
// definition), or with "" and a path from the root when no named type
// encloses it. Implementations must be safe for concurrent use when the
// Schema is checked concurrently.
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

// ErrUnknownLevel is returned (wrapped) by ParseLevel and CheckLevel for a
// level name Confluent does not define.
var ErrUnknownLevel = errors.New("compat: unknown compatibility level")

// Levels lists every level, in Confluent's documentation order.
func Levels() []Level {
	return []Level{Backward, BackwardTransitive, Forward, ForwardTransitive, Full, FullTransitive, None}
}

// ParseLevel parses a level name, case-insensitively. It returns an error
// wrapping ErrUnknownLevel, naming the valid levels, for anything else.
func ParseLevel(s string) (Level, error) {
	u := Level(strings.ToUpper(strings.TrimSpace(s)))
	for _, l := range Levels() {
		if u == l {
			return l, nil
		}
	}
	names := make([]string, 0, 7)
	for _, l := range Levels() {
		names = append(names, string(l))
	}
	return "", fmt.Errorf("%w %q: use one of %s", ErrUnknownLevel, s, strings.Join(names, ", "))
}

// Transitive reports whether l checks against every previous version.
func (l Level) Transitive() bool {
	return l == BackwardTransitive || l == ForwardTransitive || l == FullTransitive
}

// Check applies Avro's schema-resolution rules to data written with writer
// and read with reader, and returns every incompatibility (nil when reader
// can read everything writer can write). A named type used in several places
// is walked, and reported, once. Check is safe for concurrent use; it panics
// only when a Schema field is nil.
func Check(reader, writer Schema) []Finding { return check(reader, writer, unknownSide) }

func check(reader, writer Schema, next side) []Finding {
	w := newWalker(reader, writer)
	w.next = next
	w.check(reader.Schema, writer.Schema)
	return w.findings
}

// Compatible reports whether reader can read everything writer can write,
// without building findings: the fast path for callers that only need the
// verdict. It agrees with len(Check(reader, writer)) == 0.
func Compatible(reader, writer avro.Schema) bool {
	w := newWalker(Schema{Schema: reader}, Schema{Schema: writer})
	w.silent = 1
	w.check(reader, writer)
	return !w.failed
}

// CheckLevel checks next against previous (oldest first) as level requires:
// BACKWARD means next reads the latest previous, FORWARD the reverse, FULL
// both, *_TRANSITIVE against every previous version, NONE nothing. Findings
// come in version order, newest previous version first, backward before
// forward. It returns an error wrapping ErrUnknownLevel only for an unknown level.
func CheckLevel(level Level, next Schema, previous []Schema) ([]Finding, error) {
	var backward, forward bool
	switch level {
	case None:
		return nil, nil
	case Backward, BackwardTransitive:
		backward = true
	case Forward, ForwardTransitive:
		forward = true
	case Full, FullTransitive:
		backward, forward = true, true
	default:
		return nil, fmt.Errorf("%w %q", ErrUnknownLevel, string(level))
	}
	olds := previous
	if !level.Transitive() && len(previous) > 0 {
		olds = previous[len(previous)-1:]
	}
	var out []Finding
	for i := len(olds) - 1; i >= 0; i-- {
		if backward {
			out = append(out, check(next, olds[i], readerIsNext)...)
		}
		if forward {
			out = append(out, check(olds[i], next, writerIsNext)...)
		}
	}
	return out, nil
}
