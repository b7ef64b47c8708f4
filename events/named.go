package events

import (
	"fmt"
	"slices"
	"sync"

	"github.com/hamba/avro/v2"
)

// NamedType is one generated named Avro type (record, enum or fixed) as
// `contrail gen` saw it: the .avsc text exactly as registered and the named
// types it refers to.
type NamedType struct {
	// FullName is the fully qualified Avro name.
	FullName string
	// Text is the schema text exactly as in its .avsc file.
	Text string
	// References are the full names of the named types Text uses, directly
	// or not, in dependency order (each before the types that use it).
	References []string
}

var named = struct {
	sync.RWMutex
	types   map[string]NamedType
	schemas sync.Map // full name -> *parsedNamed
}{types: map[string]NamedType{}}

type parsedNamed struct {
	once   sync.Once
	schema avro.Schema
	err    error
}

// RegisterNamedType records t so that references to it can be resolved by
// name. Generated packages call it from init for every type they define, so
// a type is known once its package is linked in. Registering the same name
// twice with a different text panics: two generated trees disagree. Safe for
// concurrent use.
func RegisterNamedType(t NamedType) {
	named.Lock()
	defer named.Unlock()
	if prev, ok := named.types[t.FullName]; ok && prev.Text != t.Text {
		panic(fmt.Sprintf("events: named type %s registered twice with different schema texts", t.FullName))
	}
	named.types[t.FullName] = NamedType{FullName: t.FullName, Text: t.Text, References: slices.Clone(t.References)}
}

// LookupNamedType returns the registered named type fullName. Serializers
// use it to register a schema's references before the schema itself.
func LookupNamedType(fullName string) (NamedType, bool) {
	named.RLock()
	defer named.RUnlock()
	t, ok := named.types[fullName]
	t.References = slices.Clone(t.References)
	return t, ok
}

// ParseWithReferences parses the texts of refs, in order, and then text, in
// a fresh schema cache, so text may name the referenced types. Each
// reference must be a registered named type; the error names a missing one.
func ParseWithReferences(text string, refs []Reference) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	for _, r := range refs {
		nt, ok := LookupNamedType(r.Name)
		if !ok {
			return nil, fmt.Errorf("events: reference %s is not a registered named type: import its generated package", r.Name)
		}
		if _, err := Parse(nt.Text, cache); err != nil {
			return nil, fmt.Errorf("events: parse reference %s: %w", r.Name, err)
		}
	}
	s, err := Parse(text, cache)
	if err != nil {
		return nil, fmt.Errorf("events: parse schema: %w", err)
	}
	return s, nil
}

// NamedTypeSchema returns the parsed schema of the registered named type
// fullName, references resolved. It parses once and caches the result.
func NamedTypeSchema(fullName string) (avro.Schema, error) {
	v, _ := named.schemas.LoadOrStore(fullName, &parsedNamed{})
	p := v.(*parsedNamed)
	p.once.Do(func() {
		nt, ok := LookupNamedType(fullName)
		if !ok {
			p.err = fmt.Errorf("events: %s is not a registered named type: import its generated package", fullName)
			return
		}
		refs := make([]Reference, len(nt.References))
		for i, r := range nt.References {
			refs[i] = Reference{Name: r, Subject: r, Version: -1}
		}
		p.schema, p.err = ParseWithReferences(nt.Text, refs)
	})
	return p.schema, p.err
}

// ConvertGeneric fills out (a pointer to the generated Go type of the named
// type fullName) from generic, the map[string]any form hamba/avro decodes a
// union branch into when its API has no type registered for it. Generated
// union types call it; it round-trips through the Avro binary encoding, so
// logical types and nested unions convert exactly.
func ConvertGeneric(fullName string, generic, out any) error {
	s, err := NamedTypeSchema(fullName)
	if err != nil {
		return err
	}
	data, err := avro.Marshal(s, generic)
	if err != nil {
		return fmt.Errorf("events: convert generic %s: %w", fullName, err)
	}
	if err := avro.Unmarshal(s, data, out); err != nil {
		return fmt.Errorf("events: convert generic %s: %w", fullName, err)
	}
	return nil
}

// Validator is implemented by every generated record. Validate reports the
// values hamba/avro cannot encode (a nil decimal, on which hamba panics; a
// nil required union; an enum value outside its symbols), so a serializer
// can call it first and fail with a clear error instead.
type Validator interface {
	Validate() error
}
