package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/contrail-events/contrail/registry/regclient"
	"io"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/schemas"
	"github.com/contrail-events/contrail/wire"
)

// ErrPushIncompatible marks a push refused because a schema is incompatible
// with what the registry holds; the CLI exits with the "breaking" code.
var ErrPushIncompatible = errors.New("registry: push: incompatible schema")

// PushStep is one schema of a push, in dependency order: a shared type, or
// one major of an event (an event with several majors has a step per major,
// lowest first).
type PushStep struct {
	// Subject is where the schema goes: the manifest's subject for events,
	// the full name (RecordName) for shared types.
	Subject  string
	FullName string
	File     string
	Text     string
	// Refs are the full names of every named type the schema uses, directly
	// or not, in dependency order: the same list generated bindings send,
	// so a serde registering a pushed schema finds it unchanged.
	Refs []string
	// Compatibility is the level the subject is set to.
	Compatibility string
	// Group is the subject's compatibilityGroup, set together with the
	// level before the step registers: the manifest's compatibility_group
	// ("major_version"), "" for none.
	Group string
	// Event is true for manifest events, false for shared types.
	Event bool
	// Major is the event major the step registers; 1 for shared types.
	Major int
	// Metadata and RuleSet are the data contract registered with the schema
	// (the event major's, see schemas.Major); nil when it has none.
	Metadata *wire.Metadata
	RuleSet  *wire.RuleSet
}

// PlanPush returns the schemas a push registers, in dependency order: every
// named type that is not an event under its full name at the manifest's
// types_compatibility, and every major of every event under its manifest
// subject at its level and compatibility group, with the major's metadata
// and rule set. The later majors of an event come after everything else, so
// its first major (and the subject's group) is registered before them.
func PlanPush(set *schemas.Set) []PushStep {
	events := map[string]*schemas.Event{}
	for _, e := range set.Events {
		events[e.Type.FullName] = e
	}
	var steps []PushStep
	for _, t := range set.Order() {
		st := PushStep{FullName: t.FullName, File: t.File, Text: t.Text, Refs: t.References, Major: max(t.Major, 1)}
		if e := events[t.FullName]; e != nil {
			st.Subject, st.Compatibility, st.Group, st.Event = e.Subject, e.Compatibility, e.CompatibilityGroup, true
			if m := e.Major(st.Major); m != nil {
				st.Metadata, st.RuleSet = m.Metadata, m.RuleSet
			}
		} else {
			st.Subject, st.Compatibility = t.FullName, set.TypesCompatibility
		}
		steps = append(steps, st)
	}
	return steps
}

// PushResult is what happened to one step.
type PushResult struct {
	Step PushStep
	// Action is "unchanged", "registered" or "would register" (dry run).
	Action string
	// ConfigAction is "", "set" or "would set".
	ConfigAction string
	ID, Version  int
}

// Push registers set's schemas with the registry behind cl, in dependency
// order with references (PlanPush), each event major with its metadata and
// rule set, and sets each subject's compatibility level (and group) first,
// so the registry checks the new schema at the manifest's level, and a later
// major only against its own major. It is idempotent: a schema registered
// with the same metadata and rule set keeps its version, and an unchanged
// level and group are not written. With dryRun nothing is written and the
// results say what would happen. Each result is also printed to w (nil: no
// output). A refused registration stops the push with an error wrapping
// ErrPushIncompatible.
func Push(ctx context.Context, cl *sr.Client, set *schemas.Set, dryRun bool, w io.Writer) ([]PushResult, error) {
	if w == nil {
		w = io.Discard
	}
	versions := map[string]int{} // subject -> version pushed or found
	var results []PushResult
	for _, st := range PlanPush(set) {
		res := PushResult{Step: st}
		level, group, err := currentConfig(ctx, cl, st.Subject)
		if err != nil {
			var re *sr.ResponseError
			if !errors.As(err, &re) {
				return results, fmt.Errorf("registry: push: cannot reach the registry (is it running? start one with `contrail registry serve` or pass --registry): %w", err)
			}
			return results, fmt.Errorf("registry: push %s: read compatibility of %q: %w", st.FullName, st.Subject, err)
		}
		var want sr.CompatibilityLevel
		if err := want.UnmarshalText([]byte(st.Compatibility)); err != nil {
			return results, fmt.Errorf("registry: push %s: manifest compatibility %q of subject %q: %w", st.FullName, st.Compatibility, st.Subject, err)
		}
		if level != want.String() || (st.Group != "" && group != st.Group) {
			if dryRun {
				res.ConfigAction = "would set"
			} else {
				r := cl.SetCompatibility(ctx, sr.SetCompatibility{Level: want, Group: st.Group}, st.Subject)
				if r[0].Err != nil {
					return results, fmt.Errorf("registry: push %s: set compatibility of %q to %s%s: %w", st.FullName, st.Subject, st.Compatibility, groupText(st.Group), r[0].Err)
				}
				res.ConfigAction = "set"
			}
		}
		refs := make([]sr.SchemaReference, 0, len(st.Refs))
		missingRef := false
		for _, r := range st.Refs {
			v, ok := versions[r]
			if !ok {
				missingRef = true
			}
			refs = append(refs, sr.SchemaReference{Name: r, Subject: r, Version: v})
		}
		schema := sr.Schema{Schema: st.Text, References: refs}
		if schema.SchemaMetadata, schema.SchemaRuleSet, err = regclient.ContractToSR(st.Metadata, st.RuleSet); err != nil {
			return results, fmt.Errorf("registry: push %s: data contract: %w", st.FullName, err)
		}
		if missingRef {
			if !dryRun {
				return results, fmt.Errorf("registry: push %s: a reference was not pushed first (internal ordering error)", st.FullName)
			}
			res.Action = "would register" // a reference is new, so this is too
		} else {
			got, err := cl.LookupSchema(ctx, st.Subject, schema)
			var re *sr.ResponseError
			if err == nil && !sameContract(got.Schema, schema) {
				// Registered with other metadata or rules: a registry that
				// matches text only found it; register the new contract.
				err = &sr.ResponseError{ErrorCode: CodeSchemaNotFound, Message: "registered with another data contract"}
			}
			switch {
			case err == nil:
				res.Action, res.ID, res.Version = "unchanged", got.ID, got.Version
				versions[st.Subject] = got.Version
			case errors.As(err, &re) && (re.ErrorCode == CodeSubjectNotFound || re.ErrorCode == CodeSchemaNotFound):
				if dryRun {
					res.Action = "would register"
					break
				}
				id, err := cl.RegisterSchema(ctx, st.Subject, schema, -1, -1)
				if err != nil {
					if errors.As(err, &re) && re.StatusCode == 409 {
						return results, fmt.Errorf("%w: %s (%s) under subject %q: %s", ErrPushIncompatible, st.FullName, st.File, st.Subject, re.Message)
					}
					return results, fmt.Errorf("registry: push %s (%s) under subject %q: %w", st.FullName, st.File, st.Subject, err)
				}
				got, err := cl.LookupSchema(ctx, st.Subject, schema)
				if err != nil {
					return results, fmt.Errorf("registry: push %s: look up registered version: %w", st.FullName, err)
				}
				res.Action, res.ID, res.Version = "registered", id, got.Version
				versions[st.Subject] = got.Version
			default:
				return results, fmt.Errorf("registry: push %s: look up subject %q: %w", st.FullName, st.Subject, err)
			}
		}
		results = append(results, res)
		printResult(w, res)
	}
	return results, nil
}

func printResult(w io.Writer, r PushResult) {
	where := ""
	if r.ID != 0 {
		where = fmt.Sprintf(" id %d version %d", r.ID, r.Version)
	}
	cfg := ""
	if r.ConfigAction != "" {
		cfg = fmt.Sprintf(", %s compatibility %s%s", r.ConfigAction, r.Step.Compatibility, groupText(r.Step.Group))
	}
	fmt.Fprintf(w, "%-15s %s%s (%s%s)\n", r.Action, r.Step.Subject, where, r.Step.File, cfg)
}

// currentConfig is the subject's own level and compatibility group, ""
// when it has none.
func currentConfig(ctx context.Context, cl *sr.Client, subject string) (level, group string, err error) {
	r := cl.Compatibility(ctx, subject)
	var re *sr.ResponseError
	if r[0].Err != nil {
		if errors.As(r[0].Err, &re) && (re.ErrorCode == CodeSubjectConfigNotSet || re.ErrorCode == CodeSubjectNotFound) {
			return "", "", nil
		}
		return "", "", r[0].Err
	}
	return r[0].Level.String(), r[0].Group, nil
}

func groupText(group string) string {
	if group == "" {
		return ""
	}
	return " and group " + group
}

// sameContract reports whether a registered schema carries the data
// contract want does. Absent, null and empty values count as equal (a
// registry may send "tags": [] where the request had none).
func sameContract(got, want sr.Schema) bool {
	norm := func(v any) string {
		b, _ := json.Marshal(v)
		var m any
		_ = json.Unmarshal(b, &m)
		b, _ = json.Marshal(dropEmpty(m))
		return string(b)
	}
	return norm(got.SchemaMetadata) == norm(want.SchemaMetadata) && norm(got.SchemaRuleSet) == norm(want.SchemaRuleSet)
}

// dropEmpty removes null, false, "", and empty lists and objects from a
// decoded JSON value, recursively; it returns nil when nothing is left.
func dropEmpty(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x = dropEmpty(x); x == nil {
				delete(v, k)
			} else {
				v[k] = x
			}
		}
		if len(v) == 0 {
			return nil
		}
	case []any:
		out := v[:0]
		for _, x := range v {
			if x = dropEmpty(x); x != nil {
				out = append(out, x)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case string:
		if v == "" {
			return nil
		}
	case bool:
		if !v {
			return nil
		}
	}
	return v
}
