package registry

import "strings"

// LookupOpts tunes Lookup. The zero value compares against live versions.
type LookupOpts struct {
	// Normalize is taken for parity with Confluent's ?normalize=true; the
	// comparison is by canonical form either way (see normKey). Default
	// false.
	Normalize bool
	// Deleted also matches soft-deleted versions, and finds a subject whose
	// versions are all soft-deleted. Default false.
	Deleted bool
}

// Lookup finds req among subject's versions, the latest match first,
// comparing canonical forms (Confluent's lookUpSchemaUnderSubject). As on
// Confluent the schema is checked first (42201 even for an unknown
// subject), an empty schema matches nothing (40403, or 40401 for an unknown
// subject), and an unqualified subject without a match in the default
// context is looked up in every other context. The schemas are parsed
// without the registry's lock. Errors: 40401 subject, 40403 schema, 42201
// invalid schema, 42209 schema over a limit.
func (r *Registry) Lookup(subject string, req SchemaRequest, opts LookupOpts) (SubjectVersion, error) {
	subject = normalizeSubject(subject)
	notFound := func() error {
		r.mu.RLock()
		defer r.mu.RUnlock()
		subj := r.subjects[subject]
		if subj == nil || (!opts.Deleted && len(subj.live()) == 0) {
			return errSubjectNotFound(subject)
		}
		return errSchemaNotFound("Schema not found in subject '%s'.", subject)
	}
	if strings.TrimSpace(req.Schema) == "" {
		return SubjectVersion{}, notFound()
	}
	text := inspectSchema(req.Schema)
	r.mu.RLock()
	places := r.inContexts(subject)
	type place struct {
		c        *candidate
		vs       []pendingVersion
		answers  []SubjectVersion
		checkErr error
	}
	plan := make([]place, 0, len(places))
	for _, s := range places {
		c, err := r.newCandidate(&req, text, opts.Normalize, s)
		p := place{c: c, checkErr: err}
		if subj := r.subjects[s]; subj != nil && err == nil {
			p.vs = r.pendingVersions(subj, opts.Deleted)
			for _, v := range p.vs {
				p.answers = append(p.answers, r.subjectVersion(subj.find(v.Version)))
			}
		}
		plan = append(plan, p)
	}
	r.mu.RUnlock()

	if plan[0].checkErr != nil {
		return SubjectVersion{}, plan[0].checkErr
	}
	for i, p := range plan {
		if p.checkErr != nil || len(p.vs) == 0 {
			continue
		}
		// Compact text first: no parse when the schema is sent as stored.
		for j := len(p.vs) - 1; j >= 0; j-- {
			if p.vs[j].e.exactKey == p.c.exactKey {
				return p.answers[j], nil
			}
		}
		if err := p.c.parse(); err != nil {
			if i == 0 {
				return SubjectVersion{}, err
			}
			continue
		}
		for j := len(p.vs) - 1; j >= 0; j-- {
			if p.c.matches(p.vs[j].pendingEntry) {
				return p.answers[j], nil
			}
		}
	}
	if err := plan[0].c.parse(); err != nil {
		return SubjectVersion{}, err
	}
	return SubjectVersion{}, notFound()
}
