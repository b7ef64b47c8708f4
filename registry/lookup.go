package registry

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

// Lookup finds req among subject's versions, the latest match first. With
// Normalize the schemas are parsed without the registry's lock. Errors:
// 40401 subject, 40403 schema, 42201 invalid schema, 42209 (Normalize only)
// schema over a limit.
func (r *Registry) Lookup(subject string, req SchemaRequest, opts LookupOpts) (SubjectVersion, error) {
	text := inspectSchema(req.Schema)
	r.mu.RLock()
	subj := r.subjects[subject]
	if subj == nil || (!opts.Deleted && len(subj.live()) == 0) {
		r.mu.RUnlock()
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	c, err := r.newCandidate(&req, text, opts.Normalize)
	if err != nil {
		r.mu.RUnlock()
		return SubjectVersion{}, err
	}
	if !opts.Normalize {
		defer r.mu.RUnlock()
		for i := len(subj.versions) - 1; i >= 0; i-- {
			v := subj.versions[i]
			if (opts.Deleted || !v.Deleted) && r.schemas[v.ID].exactKey == c.exactKey {
				return r.subjectVersion(v), nil
			}
		}
		return SubjectVersion{}, errSchemaNotFound("Schema not found in subject '%s'.", subject)
	}
	vs := r.pendingVersions(subj, opts.Deleted)
	answers := make([]SubjectVersion, len(vs))
	for i, v := range vs {
		answers[i] = r.subjectVersion(subj.find(v.Version))
	}
	r.mu.RUnlock()

	if err := c.parse(); err != nil {
		return SubjectVersion{}, err
	}
	for i := len(vs) - 1; i >= 0; i-- {
		if c.matches(vs[i].pendingEntry) {
			return answers[i], nil
		}
	}
	return SubjectVersion{}, errSchemaNotFound("Schema not found in subject '%s'.", subject)
}
