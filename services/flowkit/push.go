package flowkit

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/schemas"
)

// PushResult is one subject PushSchemas registered.
type PushResult struct {
	Subject string
	ID      int
	Version int
}

// PushSchemas registers every schema of set with the registry behind cl, in
// dependency order: shared named types first under their RecordName
// subjects (at set.TypesCompatibility), then each event under its manifest
// subject and compatibility level, with references to the shared types.
// Registering an unchanged schema again returns its existing id, so pushing
// on every start is safe. It stops at the first error, which names the
// subject; an incompatible change is refused by the registry.
func PushSchemas(ctx context.Context, cl *sr.Client, set *schemas.Set) ([]PushResult, error) {
	subjectOf := func(t *schemas.Type) (subject, level string) {
		if ev := set.Event(t.FullName); ev != nil {
			return ev.Subject, ev.Compatibility
		}
		return t.FullName, set.TypesCompatibility
	}
	versions := map[string]int{} // subject -> registered version
	var out []PushResult
	for _, t := range set.Order() {
		subject, level := subjectOf(t)
		if level != "" {
			var l sr.CompatibilityLevel
			if err := l.UnmarshalText([]byte(level)); err == nil {
				for _, r := range cl.SetCompatibility(ctx, sr.SetCompatibility{Level: l}, subject) {
					if r.Err != nil {
						return out, fmt.Errorf("flowkit: set compatibility %s of %q: %w", level, subject, r.Err)
					}
				}
			}
		}
		refs := make([]sr.SchemaReference, 0, len(t.References))
		for _, name := range t.References {
			rt := set.Types[name]
			if rt == nil {
				return out, fmt.Errorf("flowkit: %s refers to unknown type %s", t.FullName, name)
			}
			rs, _ := subjectOf(rt)
			v, ok := versions[rs]
			if !ok {
				return out, fmt.Errorf("flowkit: %s refers to %s before it was registered", t.FullName, name)
			}
			refs = append(refs, sr.SchemaReference{Name: name, Subject: rs, Version: v})
		}
		sch := sr.Schema{Schema: t.Text, Type: sr.TypeAvro, References: refs}
		id, err := cl.RegisterSchema(ctx, subject, sch, -1, -1)
		if err != nil {
			return out, fmt.Errorf("flowkit: register %s under subject %q: %w", t.FullName, subject, err)
		}
		ss, err := cl.LookupSchema(ctx, subject, sch)
		if err != nil {
			return out, fmt.Errorf("flowkit: look up version of %q: %w", subject, err)
		}
		versions[subject] = ss.Version
		out = append(out, PushResult{Subject: subject, ID: id, Version: ss.Version})
	}
	return out, nil
}
