package registry

import (
	"sort"
	"strconv"
	"sync"

	"github.com/hamba/avro/v2"
)

// schemaKey names a schema: its ID within its context ("" default).
type schemaKey struct {
	ctx string
	id  int
}

// schemaEntry is one schema in memory with its comparison keys.
type schemaEntry struct {
	rec      SchemaRecord
	exactKey string // compact JSON text + references
	contract string // contract{rec.Metadata, rec.RuleSet}.key()

	parseOnce sync.Once
	parsed    avro.Schema
	parseErr  error
	normKey   string // canonical form (full names resolved) + references; set with parsed

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
	e := &schemaEntry{rec: rec, exactKey: key, contract: contract{rec.Metadata, rec.RuleSet}.key()}
	e.idBody, _ = marshal(schemaByIDResponse{Schema: rec.Text, SchemaType: typeOut(rec.Type), References: rec.References,
		Metadata: rec.Metadata, RuleSet: outRules(rec.RuleSet)})
	return e
}

// identityKey is the byExact key of a schema of context ctx with exact
// key exact and contract key ct: the same text with another contract is
// another schema, as on Confluent.
func identityKey(ctx, exact, ct string) string {
	return ctx + "\x00" + strconv.Itoa(len(ct)) + ":" + ct + exact
}

// addSchema makes e the schema with ID e.rec.ID in its context. Callers
// hold the write lock.
func (r *Registry) addSchema(e *schemaEntry) {
	ctx, id := e.rec.Context, e.rec.ID
	key := identityKey(ctx, e.exactKey, e.contract)
	r.schemas[schemaKey{ctx, id}] = e
	if prev, dup := r.byExact[key]; !dup || id < prev {
		// One text may have several ids (IMPORT); new registrations reuse
		// the lowest, whatever order the store returns them in.
		r.byExact[key] = id
	}
	if id >= r.nextIDIn(ctx) {
		r.nextID[ctx] = id + 1
	}
}

// nextIDIn is the ID the next new schema of ctx gets. Callers hold a lock.
func (r *Registry) nextIDIn(ctx string) int {
	if n := r.nextID[ctx]; n > 0 {
		return n
	}
	return 1
}

// entry is the schema a version uses. Callers hold a lock.
func (r *Registry) entry(v *versionEntry) *schemaEntry {
	return r.schemas[schemaKey{contextOf(v.Subject), v.ID}]
}

func (r *Registry) putVersion(v VersionRecord) {
	s := r.subjects[v.Subject]
	if s == nil {
		s = &subjectEntry{}
		r.subjects[v.Subject] = s
	}
	ctx := contextOf(v.Subject)
	if old := s.find(v.Version); old != nil {
		r.use(ctx, old.ID, -1)
		old.VersionRecord = v
		r.use(ctx, v.ID, 1)
		return
	}
	r.use(ctx, v.ID, 1)
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
			r.use(contextOf(subject), v.ID, -1)
			s.versions = append(s.versions[:i], s.versions[i+1:]...)
			break
		}
	}
	if len(s.versions) == 0 {
		delete(r.subjects, subject)
	}
}

func (r *Registry) use(ctx string, id, delta int) {
	if e := r.schemas[schemaKey{ctx, id}]; e != nil {
		e.uses += delta
	}
}

// visible returns the schema with id in ctx unless every version using it
// was permanently deleted: then, as on Confluent, reads answer 40403, while
// the record stays so the ID is never given to another schema.
func (r *Registry) visible(ctx string, id int) *schemaEntry {
	e := r.schemas[schemaKey{ctx, id}]
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

// scope lists where a setting of subject is looked up, in order, as
// Confluent's getConfigInScope and getModeInScope do: the subject's own, its
// context's (":.ctx:", or "" the global one for the default context), then
// the ".__GLOBAL" context's, which applies to every context.
func scope(subject string) []string {
	ctx := contextOf(subject)
	top := contextTop(ctx)
	out := make([]string, 0, 3)
	if subject != top {
		out = append(out, subject)
	}
	out = append(out, top)
	if g := contextTop(GlobalContext); g != top {
		out = append(out, g)
	}
	return out
}
