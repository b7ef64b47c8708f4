package registry

import (
	"sort"
	"sync"

	"github.com/hamba/avro/v2"
)

// schemaEntry is one schema in memory with its comparison keys.
type schemaEntry struct {
	rec      SchemaRecord
	exactKey string // compact JSON text + references

	parseOnce sync.Once
	parsed    avro.Schema
	parseErr  error
	normKey   string // canonical (hamba) JSON + references; set with parsed

	idBody []byte // the GET /schemas/ids/{id} response, built once
	uses   int    // versions (soft-deleted ones too) using this schema
}

// versionEntry is one version of a subject in memory.
type versionEntry struct {
	VersionRecord
}

// subjectEntry is one subject in memory: every version the store holds,
// soft-deleted ones included.
type subjectEntry struct {
	versions []*versionEntry // ascending by version
}

func (s *subjectEntry) live() []*versionEntry {
	var out []*versionEntry
	for _, v := range s.versions {
		if !v.Deleted {
			out = append(out, v)
		}
	}
	return out
}

func (s *subjectEntry) find(version int) *versionEntry {
	for _, v := range s.versions {
		if v.Version == version {
			return v
		}
	}
	return nil
}

// newSchemaEntry builds the in-memory entry of rec; key is its exact key
// when the caller computed it already, else "". It reads no registry
// state, so registrations build their entry before taking the write lock.
func newSchemaEntry(rec SchemaRecord, key string) *schemaEntry {
	if key == "" {
		k, ok := compactKey(rec.Text, rec.References)
		if !ok {
			k = rec.Text + refsKey(rec.References)
		}
		key = k
	}
	e := &schemaEntry{rec: rec, exactKey: key}
	e.idBody, _ = marshal(schemaByIDResponse{Schema: rec.Text, SchemaType: typeOut(rec.Type), References: rec.References})
	return e
}

// addSchema makes e the schema with ID e.rec.ID. Callers hold the write
// lock.
func (r *Registry) addSchema(e *schemaEntry) {
	id, key := e.rec.ID, e.exactKey
	r.schemas[id] = e
	if prev, dup := r.byExact[key]; !dup || id < prev {
		// One text may have several ids (IMPORT); new registrations reuse
		// the lowest, whatever order the store returns them in.
		r.byExact[key] = id
	}
	if id >= r.nextID {
		r.nextID = id + 1
	}
}

func (r *Registry) putVersion(v VersionRecord) {
	s := r.subjects[v.Subject]
	if s == nil {
		s = &subjectEntry{}
		r.subjects[v.Subject] = s
	}
	if old := s.find(v.Version); old != nil {
		r.use(old.ID, -1)
		old.VersionRecord = v
		r.use(v.ID, 1)
		return
	}
	r.use(v.ID, 1)
	s.versions = append(s.versions, &versionEntry{v})
	sort.Slice(s.versions, func(i, j int) bool { return s.versions[i].Version < s.versions[j].Version })
}

func (r *Registry) removeVersion(subject string, version int) {
	s := r.subjects[subject]
	if s == nil {
		return
	}
	for i, v := range s.versions {
		if v.Version == version {
			r.use(v.ID, -1)
			s.versions = append(s.versions[:i], s.versions[i+1:]...)
			break
		}
	}
	if len(s.versions) == 0 {
		delete(r.subjects, subject)
	}
}

func (r *Registry) use(id, delta int) {
	if e := r.schemas[id]; e != nil {
		e.uses += delta
	}
}

// visible returns the schema with id unless every version using it was
// permanently deleted: then, as on Confluent, reads answer 40403, while the
// record stays so the ID is never given to another schema.
func (r *Registry) visible(id int) *schemaEntry {
	e := r.schemas[id]
	if e == nil || e.uses <= 0 {
		return nil
	}
	return e
}

// version returns a version of subject; version -1 is the latest. Soft-deleted
// versions count only with deleted.
func (r *Registry) version(subject string, version int, deleted bool) *versionEntry {
	s := r.subjects[subject]
	if s == nil {
		return nil
	}
	if version == -1 {
		for i := len(s.versions) - 1; i >= 0; i-- {
			if deleted || !s.versions[i].Deleted {
				return s.versions[i]
			}
		}
		return nil
	}
	v := s.find(version)
	if v == nil || (v.Deleted && !deleted) {
		return nil
	}
	return v
}

func (r *Registry) sortedSubjects() []string {
	names := make([]string, 0, len(r.subjects))
	for n := range r.subjects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// effective is subject's own setting in m, else the global one (subject
// ""), else def: the fallback Confluent applies to levels and modes alike.
func effective[T any](m map[string]T, subject string, def T) T {
	if v, ok := m[subject]; ok {
		return v
	}
	if v, ok := m[""]; ok {
		return v
	}
	return def
}
