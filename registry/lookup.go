package registry

import "sort"

// LookupOpts tunes Lookup. The zero value compares by compact JSON text
// against live versions.
type LookupOpts struct {
	// Normalize compares schemas by their canonical form, as RegisterOpts
	// does. Default false.
	Normalize bool
	// Deleted also matches soft-deleted versions, and finds a subject whose
	// versions are all soft-deleted. Default false.
	Deleted bool
}

// Lookup finds req among subject's versions, the latest match first.
// Errors: 40401 subject, 40403 schema, 42201 invalid schema.
func (r *Registry) Lookup(subject string, req SchemaRequest, opts LookupOpts) (SubjectVersion, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	subj := r.subjects[subject]
	if subj == nil || (!opts.Deleted && len(subj.live()) == 0) {
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	c, err := r.newCandidate(&req, opts.Normalize, false)
	if err != nil {
		return SubjectVersion{}, err
	}
	for i := len(subj.versions) - 1; i >= 0; i-- {
		v := subj.versions[i]
		if (opts.Deleted || !v.Deleted) && r.matches(c, r.schemas[v.ID]) {
			return r.subjectVersion(v), nil
		}
	}
	return SubjectVersion{}, errSchemaNotFound("Schema not found in subject '%s'.", subject)
}

// matches reports whether stored schema e is c.
func (r *Registry) matches(c *candidate, e *schemaEntry) bool {
	if e.exactKey == c.exactKey {
		return true
	}
	if !c.normalize {
		return false
	}
	if _, err := r.parse(e); err != nil {
		return false
	}
	return e.normKey == c.normKey
}

// findID returns the ID of a stored schema equal to c, or 0. With
// normalize it tries IDs in ascending order, so the oldest match wins.
func (r *Registry) findID(c *candidate) int {
	if id, ok := r.byExact[c.exactKey]; ok {
		return id
	}
	if !c.normalize {
		return 0
	}
	ids := make([]int, 0, len(r.schemas))
	for id := range r.schemas {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	for _, id := range ids {
		if r.matches(c, r.schemas[id]) {
			return id
		}
	}
	return 0
}
