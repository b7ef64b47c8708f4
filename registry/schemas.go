package registry

import "strings"

// schemaByIDResponse is the body of GET /schemas/ids/{id}.
type schemaByIDResponse struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	MaxID      *int        `json:"maxId,omitempty"` // with ?fetchMaxId=true only
}

// SchemaByID returns the schema with a global ID. Error: 40403.
func (r *Registry) SchemaByID(id int) (SchemaRecord, error) {
	rec, _, err := r.schemaWithMaxID(id)
	return rec, err
}

// schemaWithMaxID returns schema id and the highest ID ever handed out
// (permanently deleted and IMPORT ones included), for ?fetchMaxId=true.
// Error: 40403.
func (r *Registry) schemaWithMaxID(id int) (SchemaRecord, int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.visible(id)
	if e == nil {
		return SchemaRecord{}, 0, errSchemaNotFound("Schema %d not found", id)
	}
	return e.rec, r.nextID - 1, nil
}

// schemaBody returns the pre-encoded GET /schemas/ids/{id} body: the
// endpoint every consumer calls per new ID, so it skips encoding.
func (r *Registry) schemaBody(id int) ([]byte, bool) {
	r.mu.RLock()
	e := r.visible(id)
	r.mu.RUnlock()
	if e == nil {
		return nil, false
	}
	return e.idBody, true
}

// SubjectVersionsOpts tunes SubjectVersionsOf. The zero value lists live
// versions only.
type SubjectVersionsOpts struct {
	// Deleted also lists soft-deleted versions. Default false.
	Deleted bool
}

// SubjectVersionsOf lists the (subject, version) pairs using schema id,
// sorted by subject and version; only Subject and Version are set.
// Error: 40403.
func (r *Registry) SubjectVersionsOf(id int, opts SubjectVersionsOpts) ([]SubjectVersion, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.visible(id) == nil {
		return nil, errSchemaNotFound("Schema %d not found", id)
	}
	out := []SubjectVersion{}
	for _, name := range r.sortedSubjects() {
		for _, v := range r.subjects[name].versions {
			if v.ID == id && (opts.Deleted || !v.Deleted) {
				out = append(out, SubjectVersion{Subject: v.Subject, Version: v.Version})
			}
		}
	}
	return out, nil
}

// SchemasOpts selects what AllSchemas lists. The zero value lists every
// live version of every subject.
type SchemasOpts struct {
	// Prefix keeps only subjects whose name starts with it. Default "": all.
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
	for _, name := range r.sortedSubjects() {
		if !strings.HasPrefix(name, opts.Prefix) {
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
