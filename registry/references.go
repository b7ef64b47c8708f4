package registry

import (
	"fmt"
	"net/http"
	"sort"

	"github.com/hamba/avro/v2"
)

// maxRefDepth bounds reference chains, so a reference cycle cannot loop.
const maxRefDepth = 32

// resolveRefs checks a request's references against live versions and
// returns them as stored: version -1 becomes the latest version's number,
// so a stored schema never changes meaning when its reference gains a
// version. The error is a 42201 *Error.
func (r *Registry) resolveRefs(in []Reference) ([]Reference, error) {
	refs := make([]Reference, 0, len(in))
	for _, ref := range in {
		if ref.Name == "" || ref.Subject == "" {
			return nil, errInvalidSchema("Invalid reference %+v: name and subject are required.", ref)
		}
		v := r.version(ref.Subject, ref.Version, false)
		if ref.Version == 0 || v == nil {
			return nil, errInvalidSchema("Invalid schema: reference %q: subject %q has no version %d; register the referenced schema first.", ref.Name, ref.Subject, ref.Version)
		}
		refs = append(refs, Reference{Name: ref.Name, Subject: ref.Subject, Version: v.Version})
	}
	if len(refs) == 0 {
		refs = nil
	}
	return refs, nil
}

// loadRefs parses the schemas refs name, their own references first, into
// cache, so the schema that references them parses against it. Soft-deleted
// versions still serve: a schema registered against them must keep parsing.
func (r *Registry) loadRefs(refs []Reference, cache *avro.SchemaCache, seen map[VersionKey]bool, depth int) error {
	if depth > maxRefDepth {
		return fmt.Errorf("references nest deeper than %d levels", maxRefDepth)
	}
	for _, ref := range refs {
		k := VersionKey{ref.Subject, ref.Version}
		if seen[k] {
			continue
		}
		seen[k] = true
		v := r.version(ref.Subject, ref.Version, true)
		if v == nil {
			return fmt.Errorf("reference %q: subject %q has no version %d; register it first", ref.Name, ref.Subject, ref.Version)
		}
		e := r.schemas[v.ID]
		if err := r.loadRefs(e.rec.References, cache, seen, depth+1); err != nil {
			return err
		}
		if _, err := avro.ParseWithCache(e.rec.Text, "", cache); err != nil {
			return fmt.Errorf("reference %q (subject %q version %d) does not parse: %w", ref.Name, ref.Subject, ref.Version, err)
		}
		if cache.Get(ref.Name) == nil {
			return fmt.Errorf("reference %q: subject %q version %d does not define a type named %q", ref.Name, ref.Subject, ref.Version, ref.Name)
		}
	}
	return nil
}

// referrers returns the IDs of schemas referencing subject/version through
// versions that are live (or any version with includeDeleted), sorted.
func (r *Registry) referrers(subject string, version int, includeDeleted bool) []int {
	set := map[int]bool{}
	for _, s := range r.subjects {
		for _, v := range s.versions {
			if v.Deleted && !includeDeleted {
				continue
			}
			for _, ref := range r.schemas[v.ID].rec.References {
				if ref.Subject == subject && ref.Version == version {
					set[v.ID] = true
				}
			}
		}
	}
	out := make([]int, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	sort.Ints(out)
	return out
}

// ReferencedBy lists the IDs of live schemas that reference subject/version
// (-1 is the latest, soft-deleted or not). Errors: 40401, 40402.
func (r *Registry) ReferencedBy(subject string, version int) ([]int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.subjects[subject] == nil {
		return nil, errSubjectNotFound(subject)
	}
	v := r.version(subject, version, true)
	if v == nil {
		return nil, errVersionNotFound(subject, version)
	}
	return r.referrers(subject, v.Version, false), nil
}

// errReferenced refuses to delete a version other schemas still need.
func errReferenced(subject string, version int, ids []int) *Error {
	return errf(http.StatusUnprocessableEntity, CodeReferenceExists,
		"One or more references exist to the schema {subject=%s, version=%d}: schema ids %v reference it; delete those first.", subject, version, ids)
}
