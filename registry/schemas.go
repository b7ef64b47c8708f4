package registry

import "github.com/contrail-events/contrail/wire"

// schemaByIDResponse is the body of GET /schemas/ids/{id}: Confluent's
// SchemaString, metadata and rule set included.
type schemaByIDResponse struct {
	Schema     string         `json:"schema"`
	SchemaType string         `json:"schemaType,omitempty"`
	References []Reference    `json:"references,omitempty"`
	Metadata   *wire.Metadata `json:"metadata,omitempty"`
	RuleSet    *ruleSetOut    `json:"ruleSet,omitempty"`
	MaxID      *int           `json:"maxId,omitempty"` // with ?fetchMaxId=true only
}

// IDOpts names the context a schema ID is read in. The zero value reads the
// default context.
type IDOpts struct {
	// Subject picks the context, as Confluent's ?subject= does: a qualified
	// subject (":.ctx:name", or ":.ctx:" for the context alone) reads its
	// context; an unqualified one reads the default context, or the first
	// context (in name order) where that name uses the ID. A named subject
	// that does not use the ID finds nothing (40403). Default "".
	Subject string
}

// idEntry finds schema id as opts names it. Callers hold a lock.
func (r *Registry) idEntry(id int, opts IDOpts) *schemaEntry {
	subject := normalizeSubject(opts.Subject)
	ctx, name := splitSubject(subject)
	if name == "" {
		return r.visible(ctx, id)
	}
	for _, s := range r.inContexts(subject) {
		if subj := r.subjects[s]; subj != nil {
			for _, v := range subj.versions {
				if v.ID == id {
					return r.visible(contextOf(s), id)
				}
			}
		}
	}
	if ctx != "" {
		return nil
	}
	return r.visible("", id)
}

// SchemaByID returns the schema with an ID in the context opts names. Error:
// 40403.
func (r *Registry) SchemaByID(id int, opts IDOpts) (SchemaRecord, error) {
	rec, _, err := r.schemaWithMaxID(id, opts)
	return rec, err
}

// schemaWithMaxID returns schema id and the highest ID its context ever
// handed out (permanently deleted and IMPORT ones included), for
// ?fetchMaxId=true. Error: 40403.
func (r *Registry) schemaWithMaxID(id int, opts IDOpts) (SchemaRecord, int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.idEntry(id, opts)
	if e == nil {
		return SchemaRecord{}, 0, errSchemaNotFound("Schema %d not found", id)
	}
	return e.rec, r.nextIDIn(e.rec.Context) - 1, nil
}

// schemaBody returns the pre-encoded GET /schemas/ids/{id} body: the
// endpoint every consumer calls per new ID, so it skips encoding.
func (r *Registry) schemaBody(id int, opts IDOpts) ([]byte, bool) {
	r.mu.RLock()
	e := r.idEntry(id, opts)
	r.mu.RUnlock()
	if e == nil {
		return nil, false
	}
	return e.idBody, true
}

// SubjectVersionsOpts tunes SubjectVersionsOf. The zero value lists live
// versions of the default context.
type SubjectVersionsOpts struct {
	IDOpts
	// Deleted also lists soft-deleted versions. Default false.
	Deleted bool
}

// SubjectVersionsOf lists the (subject, version) pairs of the schema's
// context using schema id, sorted by subject and version; only Subject and
// Version are set. Error: 40403.
func (r *Registry) SubjectVersionsOf(id int, opts SubjectVersionsOpts) ([]SubjectVersion, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.idEntry(id, opts.IDOpts)
	if e == nil {
		return nil, errSchemaNotFound("Schema %d not found", id)
	}
	out := []SubjectVersion{}
	for _, name := range r.sortedSubjects() {
		if contextOf(name) != e.rec.Context {
			continue
		}
		for _, v := range r.subjects[name].versions {
			if v.ID == id && (opts.Deleted || !v.Deleted) {
				out = append(out, SubjectVersion{Subject: v.Subject, Version: v.Version})
			}
		}
	}
	return out, nil
}

// SchemasOpts selects what AllSchemas lists. The zero value lists every
// live version of every subject of the default context.
type SchemasOpts struct {
	// Prefix keeps only subjects it matches, read as SubjectsOpts.Prefix is
	// with HasPrefix set (Confluent's GET /schemas defaults subjectPrefix to
	// "", the default context; ":*:" lists every context). Default "".
	Prefix string
	// Deleted also lists soft-deleted versions. Default false.
	Deleted bool
	// LatestOnly keeps each subject's latest listed version. Default false.
	LatestOnly bool
}

// AllSchemas lists (subject, version) pairs with their schemas, sorted by
// subject and version, as opts selects.
func (r *Registry) AllSchemas(opts SchemasOpts) []SubjectVersion {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []SubjectVersion{}
	match := subjectMatcher(opts.Prefix, true)
	for _, name := range r.sortedSubjects() {
		if !match(name) {
			continue
		}
		var vs []*versionEntry
		for _, v := range r.subjects[name].versions {
			if opts.Deleted || !v.Deleted {
				vs = append(vs, v)
			}
		}
		if opts.LatestOnly && len(vs) > 0 {
			vs = vs[len(vs)-1:]
		}
		for _, v := range vs {
			out = append(out, r.subjectVersion(v))
		}
	}
	return out
}
