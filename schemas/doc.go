// Package schemas loads Contrail's schema tree: every .avsc file under a root
// plus the root's manifest.yaml, which says which event travels on which
// topic under which subject.
//
// Loading is strict and positional. A JSON scanner written for this package
// keeps the line and column of every value, so a malformed schema (bad JSON,
// an unknown type, a duplicate field, a default of the wrong type, a name
// that no file defines) is reported as file:line:col with what to do about
// it, before hamba/avro ever sees it. Files then parse with hamba/avro in
// dependency order into one schema cache, so a schema can name a type from
// another file (contrail.common.Money) and Type.Schema has every reference
// resolved.
//
// Conventions the loader enforces: one named type (record, enum or fixed)
// per file, at <namespace as folders>/<Name>.avsc, with named types defined
// in their own file and referred to by full name elsewhere. Directories named
// testdata or starting with "." or "_" are skipped.
//
// Major versions and data contracts: major N >= 2 of a manifest event is
// <Name>.v<N>.avsc beside <Name>.avsc (major 1), with the same full name; the
// live majors are the files present and must be consecutive, and the event's
// manifest entry must say compatibility_group: major_version. Beside any
// major's file, <Name>[.v<N>].contract.yaml (SidecarSuffix) holds the
// metadata and rule set registered with it, in Confluent's shape
// (wire.Metadata, wire.RuleSet), checked as strictly as the schemas: keys,
// kinds, modes, rule types, names, actions and tag paths, each problem at
// file:line:col. Event.Majors has the result; see Major.
//
// Load never writes anything. A *Set is immutable after loading and safe for
// concurrent use.
package schemas

import (
	"embed"
	"sync"
)

// FS holds the repository's own schemas (the reference order flow) and
// manifest, so tools and tests can load them without a checkout.
//
//go:embed manifest.yaml contrail
var FS embed.FS

var (
	defaultOnce sync.Once
	defaultSet  *Set
	defaultErr  error
)

// Default loads FS once and returns the same *Set on every call. An error
// means the committed schemas are broken, which `make test` rules out.
func Default() (*Set, error) {
	defaultOnce.Do(func() { defaultSet, defaultErr = LoadFS(FS) })
	return defaultSet, defaultErr
}
