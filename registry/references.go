package registry

import (
	"net/http"
	"sort"
)

// maxRefDepth bounds reference chains, so a reference cycle cannot loop.
const maxRefDepth = 32

// resolveRefs checks a request's references against live versions and
// returns them as stored: version -1 becomes the latest version's number,
// so a stored schema never changes meaning when its reference gains a
// version. An unqualified reference subject lives in ctx, the referring
// schema's context, as on Confluent. The error is a 42201 *Error.
func (r *Registry) resolveRefs(in []Reference, ctx string) ([]Reference, error) {
	refs := make([]Reference, 0, len(in))
	for _, ref := range in {
		if ref.Name == "" || ref.Subject == "" {
			return nil, errInvalidSchema("Invalid reference %+v: name and subject are required.", ref)
		}
		v := r.version(qualifyWithParent(ref.Subject, ctx), ref.Version, false)
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

// referrers returns the IDs of schemas referencing subject/version through
// live versions, sorted. A soft-deleted referrer does not count: Confluent
// drops it from its referencedBy index on the soft delete, so it blocks
// neither a soft nor a permanent delete of what it references.
func (r *Registry) referrers(subject string, version int) []int {
	set := map[int]bool{}
	for _, s := range r.subjects {
		for _, v := range s.versions {
			if v.Deleted {
				continue
			}
			e := r.entry(v)
			for _, ref := range e.rec.References {
				if ref.Version == version && qualifyWithParent(ref.Subject, e.rec.Context) == subject {
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
	subject = normalizeSubject(subject)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.subjects[subject] == nil {
		return nil, errSubjectNotFound(subject)
	}
	v := r.version(subject, version, true)
	if v == nil {
		return nil, errVersionNotFound(subject, version)
	}
	return r.referrers(subject, v.Version), nil
}

// errReferenced refuses to delete a version other schemas still need.
func errReferenced(subject string, version int, ids []int) *Error {
	return errf(http.StatusUnprocessableEntity, CodeReferenceExists,
		"One or more references exist to the schema {subject=%s, version=%d}: schema ids %v reference it; delete those first.", subject, version, ids)
}
