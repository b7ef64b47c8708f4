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
// comparing canonical forms (Confluent's lookUpSchemaUnderSubject), with
// the metadata and rule set sent; when that finds nothing and the subject
// has a live version, it looks again with the metadata and rule set a
// registration would store (the request's, else the latest version's,
// merged with the config's defaults and overrides), as Confluent does. As
// on Confluent the schema is checked first (42201 even for an unknown
// subject), an empty schema matches nothing (40403, or 40401 for an
// unknown subject), and an unqualified subject without a match in the
// default context is looked up in every other context. The schemas are
// parsed without the registry's lock. Errors: 40401 subject, 40403 schema,
// 42201 invalid schema, 42209 schema over a limit, 42210 a rule of unknown
// kind or mode.
func (r *Registry) Lookup(subject string, req SchemaRequest, opts LookupOpts) (SubjectVersion, error) {
	if err := checkRuleKinds("ruleSet", req.RuleSet); err != nil {
		return SubjectVersion{}, err
	}
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
	asIs := req.contract()
	r.mu.RLock()
	places := r.inContexts(subject)
	type place struct {
		c        *candidate
		keys     []string // contract keys to look for, in order
		vs       []pendingVersion
		answers  []SubjectVersion
		checkErr error
	}
	plan := make([]place, 0, len(places))
	for _, s := range places {
		c, err := r.newCandidate(&req, text, opts.Normalize, s, asIs)
		p := place{c: c, checkErr: err}
		if subj := r.subjects[s]; subj != nil && err == nil {
			p.keys = []string{c.ctKey}
			live := r.pendingVersions(subj, false)
			if prev := latestContract(live); prev != nil {
				if next := r.contractConfigOf(s).effective(asIs, prev).key(); next != c.ctKey {
					p.keys = append(p.keys, next)
				}
			}
			p.vs = live
			if opts.Deleted {
				p.vs = r.pendingVersions(subj, true)
			}
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
		for _, key := range p.keys {
			// Compact text first: no parse when the schema is sent as stored.
			for j := len(p.vs) - 1; j >= 0; j-- {
				if e := p.vs[j].e; e.exactKey == p.c.exactKey && e.contract == key {
					return p.answers[j], nil
				}
			}
			if err := p.c.parse(); err != nil {
				if i == 0 {
					return SubjectVersion{}, err
				}
				break
			}
			for j := len(p.vs) - 1; j >= 0; j-- {
				if p.c.matchesWith(p.vs[j].pendingEntry, key) {
					return p.answers[j], nil
				}
			}
		}
	}
	if err := plan[0].c.parse(); err != nil {
		return SubjectVersion{}, err
	}
	return SubjectVersion{}, notFound()
}
