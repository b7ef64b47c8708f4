// Package registry is Contrail's Confluent-compatible schema registry: the
// registry logic (Registry), its persistence (Store: BoltStore on disk,
// MemoryStore for tests) and the HTTP server on gin (NewServer). Subpackage
// serde frames Avro in the Confluent wire format and registrytest is the
// conformance suite any registry URL can be checked with.
//
// Compatibility is decided by the compat package, the engine the CLI and CI
// use too, so the registry can never disagree with `contrail check`.
package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/compat"
)

// Modes a registry or subject can be in.
const (
	ModeReadWrite = "READWRITE"
	ModeReadOnly  = "READONLY"
	ModeImport    = "IMPORT"
)

// DefaultLevel is the compatibility level when neither the subject nor the
// global config sets one (Confluent's default).
const DefaultLevel = compat.Backward

// schemaTypeAvro is the only schema type this registry stores.
const schemaTypeAvro = "AVRO"

// parseLevel validates a level name case-insensitively.
func parseLevel(s string) (compat.Level, *Error) {
	for _, l := range compat.Levels() {
		if strings.EqualFold(s, string(l)) {
			return l, nil
		}
	}
	return "", errf(http.StatusUnprocessableEntity, CodeInvalidLevel,
		"Invalid compatibility level %q. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.", s)
}

func parseMode(s string) (string, *Error) {
	for _, m := range []string{ModeReadWrite, ModeReadOnly, ModeImport} {
		if strings.EqualFold(s, m) {
			return m, nil
		}
	}
	return "", errf(http.StatusUnprocessableEntity, CodeInvalidMode, "Invalid mode %q. Valid values are READWRITE, READONLY, IMPORT.", s)
}

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

type versionEntry struct {
	VersionRecord
}

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

// Registry is the registry logic over a Store: schemas by global ID,
// subjects and their versions, compatibility levels and modes. The working
// set is kept in memory; writes go to the store first and are acknowledged
// only after the store accepted them. Safe for concurrent use: reads share a
// lock, writes are serialised.
type Registry struct {
	store Store

	mu       sync.RWMutex
	schemas  map[int]*schemaEntry
	byExact  map[string]int
	subjects map[string]*subjectEntry
	configs  map[string]compat.Level
	modes    map[string]string
	nextID   int
	gen      uint64 // bumped by every write; guards hot

	hotMu sync.RWMutex
	hot   map[string]map[string]hotEntry // subject -> raw request body -> answer
	hotN  int
}

// hotEntry remembers the answer to a plain register request; it is valid
// while no write happened since (gen unchanged).
type hotEntry struct {
	id  int
	gen uint64
}

// maxHot bounds the register answer cache; it is emptied when full.
const maxHot = 4096

// cachedRegister answers a plain (no query parameters) register request whose
// exact bytes were answered before with no write since: clients re-register
// the same schema on every start, and this skips decoding it.
func (r *Registry) cachedRegister(subject string, body []byte) (int, bool) {
	r.mu.RLock()
	gen := r.gen
	r.mu.RUnlock()
	r.hotMu.RLock()
	e, ok := r.hot[subject][string(body)]
	r.hotMu.RUnlock()
	if !ok || e.gen != gen {
		return 0, false
	}
	return e.id, true
}

// rememberRegister records the answer id given at write generation gen.
func (r *Registry) rememberRegister(subject string, body []byte, id int, gen uint64) {
	r.hotMu.Lock()
	defer r.hotMu.Unlock()
	if r.hot == nil || r.hotN >= maxHot {
		r.hot, r.hotN = map[string]map[string]hotEntry{}, 0
	}
	m := r.hot[subject]
	if m == nil {
		m = map[string]hotEntry{}
		r.hot[subject] = m
	}
	m[string(body)] = hotEntry{id: id, gen: gen}
	r.hotN++
}

// apply writes b to the store and, once the store accepted it, counts a
// write and mirrors b in memory. Callers hold the write lock.
func (r *Registry) apply(ctx context.Context, b Batch) *Error {
	if err := r.store.Apply(ctx, b); err != nil {
		return errStore(err)
	}
	r.gen++
	r.mirror(b)
	return nil
}

// mirror applies b to the in-memory working set, the way Store.Apply applies
// it to the store: an empty setting Value removes the setting.
func (r *Registry) mirror(b Batch) {
	for _, s := range b.Schemas {
		r.addSchema(s)
	}
	for _, v := range b.Versions {
		r.putVersion(v)
	}
	for _, k := range b.DeleteVersions {
		r.removeVersion(k.Subject, k.Version)
	}
	for _, c := range b.Configs {
		if c.Value == "" {
			delete(r.configs, c.Subject)
		} else {
			r.configs[c.Subject] = compat.Level(c.Value)
		}
	}
	for _, m := range b.Modes {
		if m.Value == "" {
			delete(r.modes, m.Subject)
		} else {
			r.modes[m.Subject] = m.Value
		}
	}
}

// Open loads the registry from store. It fails when the store cannot be read.
func Open(ctx context.Context, store Store) (*Registry, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store: use NewMemoryStore or OpenBoltStore", ErrStore)
	}
	st, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	r := &Registry{
		store:    store,
		schemas:  map[int]*schemaEntry{},
		byExact:  map[string]int{},
		subjects: map[string]*subjectEntry{},
		configs:  map[string]compat.Level{},
		modes:    map[string]string{},
		nextID:   1,
	}
	r.mirror(Batch{Schemas: st.Schemas, Versions: st.Versions, Configs: st.Configs, Modes: st.Modes})
	return r, nil
}

func refsKey(refs []Reference) string {
	var b strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&b, "|%s,%s,%d", r.Name, r.Subject, r.Version)
	}
	return b.String()
}

// compactKey is the identity of a schema text without normalize: its JSON
// value with object keys sorted and whitespace dropped, plus its references.
// Confluent compares the parsed schema's canonical string, so key order and
// whitespace never make a new version there either; array order (fields,
// symbols, union branches), docs and defaults still count.
func compactKey(text string, refs []Reference) (string, bool) {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber() // 1.0 and 1 stay as written
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return "", false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // maps encode with sorted keys
		return "", false
	}
	return strings.TrimSuffix(buf.String(), "\n") + refsKey(refs), true
}

func (r *Registry) addSchema(rec SchemaRecord) {
	key, ok := compactKey(rec.Text, rec.References)
	if !ok {
		key = rec.Text + refsKey(rec.References)
	}
	e := &schemaEntry{rec: rec, exactKey: key}
	e.idBody, _ = marshal(schemaByIDResponse{Schema: rec.Text, SchemaType: typeOut(rec.Type), References: rec.References})
	r.schemas[rec.ID] = e
	if prev, dup := r.byExact[key]; !dup || rec.ID < prev {
		// One text may have several ids (IMPORT); new registrations reuse
		// the lowest, whatever order the store returns them in.
		r.byExact[key] = rec.ID
	}
	if rec.ID >= r.nextID {
		r.nextID = rec.ID + 1
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

// typeOut is the schemaType a response carries: omitted for AVRO, as
// Confluent does.
func typeOut(t string) string {
	if t == "" || strings.EqualFold(t, schemaTypeAvro) {
		return ""
	}
	return t
}

// parse returns e's parsed schema (references resolved) and its normalized
// key. Callers hold at least the read lock.
func (r *Registry) parse(e *schemaEntry) (avro.Schema, error) {
	e.parseOnce.Do(func() {
		e.parsed, e.parseErr = r.parseText(e.rec.Text, e.rec.References)
		if e.parseErr == nil {
			e.normKey = normKey(e.parsed, e.rec.References)
		}
	})
	return e.parsed, e.parseErr
}

func normKey(s avro.Schema, refs []Reference) string {
	b, err := json.Marshal(s)
	if err != nil {
		return s.String() + refsKey(refs)
	}
	return string(b) + refsKey(refs)
}

// parseText parses text with its references resolved from registered
// versions. Callers hold at least the read lock.
func (r *Registry) parseText(text string, refs []Reference) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	if err := r.loadRefs(refs, cache, map[VersionKey]bool{}, 0); err != nil {
		return nil, err
	}
	return avro.ParseWithCache(text, "", cache)
}

// maxRefDepth bounds reference chains, so a reference cycle cannot loop.
const maxRefDepth = 32

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

// ParseVersion parses a version path segment: "latest", -1 or a positive
// integer. It returns a 42202 *Error for anything else.
func ParseVersion(s string) (int, error) {
	if s == "latest" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n == 0 || n < -1 || n > 1<<31-1 {
		return 0, errf(http.StatusUnprocessableEntity, CodeInvalidVersion,
			"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", s)
	}
	return n, nil
}

// effective settings

func (r *Registry) levelOf(subject string) compat.Level {
	if l, ok := r.configs[subject]; ok {
		return l
	}
	if l, ok := r.configs[""]; ok {
		return l
	}
	return DefaultLevel
}

func (r *Registry) modeOf(subject string) string {
	if m, ok := r.modes[subject]; ok {
		return m
	}
	if m, ok := r.modes[""]; ok {
		return m
	}
	return ModeReadWrite
}

// SchemaRequest is the body of register, lookup and compatibility requests.
type SchemaRequest struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	// ID and Version are honoured only in IMPORT mode.
	ID      int `json:"id,omitempty"`
	Version int `json:"version,omitempty"`
}

// SubjectVersion is a (subject, version) pair with its schema.
type SubjectVersion struct {
	Subject    string      `json:"subject"`
	Version    int         `json:"version"`
	ID         int         `json:"id"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	Schema     string      `json:"schema"`
}

type schemaByIDResponse struct {
	Schema     string      `json:"schema"`
	SchemaType string      `json:"schemaType,omitempty"`
	References []Reference `json:"references,omitempty"`
	MaxID      *int        `json:"maxId,omitempty"` // with ?fetchMaxId=true only
}

func (r *Registry) subjectVersion(v *versionEntry) SubjectVersion {
	e := r.schemas[v.ID]
	return SubjectVersion{Subject: v.Subject, Version: v.Version, ID: v.ID, SchemaType: typeOut(e.rec.Type),
		References: e.rec.References, Schema: e.rec.Text}
}

// checkRequest validates a schema request's type and references (resolving
// version -1 to the latest) and returns the references to store.
func (r *Registry) checkRequest(req *SchemaRequest) ([]Reference, *Error) {
	if strings.TrimSpace(req.Schema) == "" {
		return nil, errInvalidSchema("Empty schema: send {\"schema\": \"<Avro schema JSON as a string>\"}.")
	}
	if req.SchemaType != "" && !strings.EqualFold(req.SchemaType, schemaTypeAvro) {
		return nil, errInvalidSchema("Schema type %q is not supported: this registry stores AVRO schemas only.", req.SchemaType)
	}
	refs := make([]Reference, 0, len(req.References))
	for _, ref := range req.References {
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

// candidate is a parsed request ready for comparison with stored schemas.
type candidate struct {
	text      string
	refs      []Reference
	exactKey  string
	normKey   string
	parsed    avro.Schema
	normalize bool
}

func (r *Registry) newCandidate(req *SchemaRequest, normalize, mustParse bool) (*candidate, *Error) {
	refs, err := r.checkRequest(req)
	if err != nil {
		return nil, err
	}
	c := &candidate{text: req.Schema, refs: refs, normalize: normalize}
	key, ok := compactKey(req.Schema, refs)
	if !ok {
		return nil, errInvalidSchema("Invalid schema: the schema is not valid JSON; send the Avro schema as a JSON string in \"schema\".")
	}
	c.exactKey = key
	if normalize || mustParse {
		if err := c.parse(r); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *candidate) parse(r *Registry) *Error {
	if c.parsed != nil {
		return nil
	}
	s, err := r.parseText(c.text, c.refs)
	if err != nil {
		if msg := explainDefault(c.text, err); msg != "" {
			return errInvalidSchema("Invalid schema: %s", msg)
		}
		return errInvalidSchema("Invalid schema: %v", err)
	}
	c.parsed = s
	c.normKey = normKey(s, c.refs)
	return nil
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

// findID returns the ID of a stored schema equal to c, or 0.
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

// Register registers req under subject and returns its global schema ID.
// An identical schema already live in the subject returns its ID without a
// new version; a schema known under another subject keeps its ID. Errors:
// 42201 invalid schema, 409 incompatible, 42205 read-only or explicit
// id/version outside IMPORT mode, 42207 id mismatch, 50001 store.
func (r *Registry) Register(ctx context.Context, subject string, req SchemaRequest, normalize bool) (int, error) {
	id, _, err := r.register(ctx, subject, req, normalize)
	return id, err
}

// register is Register that also returns the write generation its answer
// holds for.
func (r *Registry) register(ctx context.Context, subject string, req SchemaRequest, normalize bool) (int, uint64, error) {
	if subject == "" {
		return 0, 0, errf(http.StatusUnprocessableEntity, CodeInvalidSubject, "Invalid subject: the subject name is empty.")
	}
	if err := checkSubjectName(subject); err != nil {
		return 0, 0, err
	}
	// Fast path: identical schema already registered in the subject.
	r.mu.RLock()
	if id, ok := r.existingIn(subject, &req, normalize); ok {
		gen := r.gen
		r.mu.RUnlock()
		return id, gen, nil
	}
	r.mu.RUnlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.registerLocked(ctx, subject, req, normalize)
	return id, r.gen, err
}

func (r *Registry) registerLocked(ctx context.Context, subject string, req SchemaRequest, normalize bool) (int, error) {
	mode := r.modeOf(subject)
	if mode == ModeReadOnly {
		return 0, errNotPermitted("Subject '%s' is in read-only mode; set the mode to READWRITE to register.", subject)
	}
	importing := mode == ModeImport
	if !importing && (req.ID > 0 || req.Version > 0) {
		return 0, errNotPermitted("Registering with an explicit id or version needs IMPORT mode (PUT /mode {\"mode\":\"IMPORT\"}).")
	}
	c, err := r.newCandidate(&req, normalize, true)
	if err != nil {
		return 0, err
	}
	subj := r.subjects[subject]
	if subj != nil {
		for _, v := range subj.live() {
			if r.matches(c, r.schemas[v.ID]) {
				if req.ID > 0 && req.ID != v.ID {
					return 0, errf(http.StatusUnprocessableEntity, CodeIDMismatch,
						"Schema already registered under id %d in subject '%s', not %d.", v.ID, subject, req.ID)
				}
				return v.ID, nil
			}
		}
	}
	if !importing {
		if err := r.checkCompatible(subject, c); err != nil {
			return 0, err
		}
	}
	id := r.findID(c)
	var batch Batch
	switch {
	case req.ID > 0 && id != req.ID:
		// (IMPORT only.) A new schema, or one known under another id in
		// other subjects: as on Confluent, an import keeps the id the source
		// registry gave it, and both ids serve the schema.
		if _, taken := r.schemas[req.ID]; taken {
			return 0, errf(http.StatusUnprocessableEntity, CodeIDMismatch,
				"Schema id %d is already used by a different schema; ids are never reused.", req.ID)
		}
		id = req.ID
	case id == 0:
		id = r.nextID
	}
	_, known := r.schemas[id]
	if !known {
		batch.Schemas = []SchemaRecord{{ID: id, Text: req.Schema, References: c.refs}}
	}
	version := 1
	if subj != nil && len(subj.versions) > 0 {
		version = subj.versions[len(subj.versions)-1].Version + 1
	}
	if req.Version > 0 {
		if subj != nil && subj.find(req.Version) != nil {
			return 0, errf(http.StatusUnprocessableEntity, CodeInvalidVersion,
				"Version %d already exists in subject '%s'; versions are never overwritten.", req.Version, subject)
		}
		version = req.Version
	}
	vr := VersionRecord{Subject: subject, Version: version, ID: id}
	batch.Versions = []VersionRecord{vr}
	if err := r.apply(ctx, batch); err != nil {
		return 0, err
	}
	if !known {
		e := r.schemas[id]
		e.parseOnce.Do(func() { e.parsed, e.normKey = c.parsed, c.normKey })
	}
	return id, nil
}

// existingIn is the read-locked fast path of Register: the exact schema (by
// compact text) is already live in subject.
func (r *Registry) existingIn(subject string, req *SchemaRequest, normalize bool) (int, bool) {
	if req.ID > 0 || req.Version > 0 || normalize || r.modeOf(subject) == ModeReadOnly {
		return 0, false
	}
	if req.SchemaType != "" && !strings.EqualFold(req.SchemaType, schemaTypeAvro) {
		return 0, false
	}
	subj := r.subjects[subject]
	if subj == nil {
		return 0, false
	}
	for _, ref := range req.References {
		if ref.Version <= 0 {
			return 0, false
		}
	}
	key, ok := compactKey(req.Schema, req.References)
	if !ok {
		return 0, false
	}
	for i := len(subj.versions) - 1; i >= 0; i-- {
		v := subj.versions[i]
		if !v.Deleted && r.schemas[v.ID].exactKey == key {
			return v.ID, true
		}
	}
	return 0, false
}

func (r *Registry) compatSchema(v *versionEntry) (compat.Schema, *Error) {
	s, err := r.parse(r.schemas[v.ID])
	if err != nil {
		return compat.Schema{}, errStore(fmt.Errorf("stored schema id %d no longer parses: %w", v.ID, err))
	}
	return compat.Schema{Schema: s, Label: fmt.Sprintf("%s version %d", v.Subject, v.Version)}, nil
}

// findings checks c against the given versions under level.
func (r *Registry) findings(subject string, level compat.Level, c *candidate, prev []*versionEntry) ([]compat.Finding, *Error) {
	if level == compat.None || len(prev) == 0 {
		return nil, nil
	}
	previous := make([]compat.Schema, 0, len(prev))
	for _, v := range prev {
		s, err := r.compatSchema(v)
		if err != nil {
			return nil, err
		}
		previous = append(previous, s)
	}
	next := compat.Schema{Schema: c.parsed, Label: "new schema"}
	fs, err := compat.CheckLevel(level, next, previous)
	if err != nil {
		return nil, errf(http.StatusUnprocessableEntity, CodeInvalidLevel, "Compatibility level of subject '%s': %v", subject, err)
	}
	for i := range fs {
		if fs[i].Subject == "" {
			fs[i].Subject = subject
		}
	}
	return fs, nil
}

func (r *Registry) checkCompatible(subject string, c *candidate) *Error {
	subj := r.subjects[subject]
	if subj == nil {
		return nil
	}
	fs, err := r.findings(subject, r.levelOf(subject), c, subj.live())
	if err != nil {
		return err
	}
	if len(fs) == 0 {
		return nil
	}
	msgs := make([]string, len(fs))
	for i, f := range fs {
		msgs[i] = fmt.Sprintf("{rule:%s, reader:%s, writer:%s, message:%s}", f.Rule, f.Direction.Reader, f.Direction.Writer, f.Message)
	}
	return errf(http.StatusConflict, CodeIncompatible,
		"Schema being registered is incompatible with an earlier schema for subject \"%s\" (level %s), details: [%s]",
		subject, r.levelOf(subject), strings.Join(msgs, ", "))
}

// Lookup finds req among subject's versions (soft-deleted ones too with
// deleted). Errors: 40401 subject, 40403 schema, 42201 invalid schema.
func (r *Registry) Lookup(subject string, req SchemaRequest, normalize, deleted bool) (SubjectVersion, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	subj := r.subjects[subject]
	if subj == nil || (!deleted && len(subj.live()) == 0) {
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	c, err := r.newCandidate(&req, normalize, false)
	if err != nil {
		return SubjectVersion{}, err
	}
	for i := len(subj.versions) - 1; i >= 0; i-- {
		v := subj.versions[i]
		if (deleted || !v.Deleted) && r.matches(c, r.schemas[v.ID]) {
			return r.subjectVersion(v), nil
		}
	}
	return SubjectVersion{}, errSchemaNotFound("Schema not found in subject '%s'.", subject)
}

// Subjects lists subject names, sorted. With deleted, subjects whose versions
// are all soft-deleted are included; with deletedOnly only those are listed.
func (r *Registry) Subjects(prefix string, deleted, deletedOnly bool) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []string{}
	for name, s := range r.subjects {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		live := len(s.live()) > 0
		if (deletedOnly && live) || (!deletedOnly && !deleted && !live) {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Versions lists subject's version numbers (soft-deleted ones too with
// deleted, only those with deletedOnly). Error: 40401.
func (r *Registry) Versions(subject string, deleted, deletedOnly bool) ([]int, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	subj := r.subjects[subject]
	out := []int{}
	if subj != nil {
		for _, v := range subj.versions {
			if (deletedOnly && v.Deleted) || (!deletedOnly && (deleted || !v.Deleted)) {
				out = append(out, v.Version)
			}
		}
	}
	if subj == nil || (len(out) == 0 && !deletedOnly) {
		return nil, errSubjectNotFound(subject)
	}
	return out, nil
}

// Version returns one version (-1 for the latest). Errors: 40401, 40402.
func (r *Registry) Version(subject string, version int, deleted bool) (SubjectVersion, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	subj := r.subjects[subject]
	if subj == nil || (!deleted && len(subj.live()) == 0) {
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	v := r.version(subject, version, deleted)
	if v == nil {
		return SubjectVersion{}, errVersionNotFound(subject, version)
	}
	return r.subjectVersion(v), nil
}

// SchemaByID returns the schema with a global ID. Error: 40403.
func (r *Registry) SchemaByID(id int) (SchemaRecord, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	e := r.visible(id)
	if e == nil {
		return SchemaRecord{}, errSchemaNotFound("Schema %d not found", id)
	}
	return e.rec, nil
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

// schemaBody returns the pre-encoded GET /schemas/ids/{id} body.
func (r *Registry) schemaBody(id int) ([]byte, bool) {
	r.mu.RLock()
	e := r.visible(id)
	r.mu.RUnlock()
	if e == nil {
		return nil, false
	}
	return e.idBody, true
}

// SubjectVersionsOf lists the (subject, version) pairs using schema id.
// Error: 40403.
func (r *Registry) SubjectVersionsOf(id int, deleted bool) ([]SubjectVersion, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.visible(id) == nil {
		return nil, errSchemaNotFound("Schema %d not found", id)
	}
	out := []SubjectVersion{}
	for _, name := range r.sortedSubjects() {
		for _, v := range r.subjects[name].versions {
			if v.ID == id && (deleted || !v.Deleted) {
				out = append(out, SubjectVersion{Subject: v.Subject, Version: v.Version})
			}
		}
	}
	return out, nil
}

func (r *Registry) sortedSubjects() []string {
	names := make([]string, 0, len(r.subjects))
	for n := range r.subjects {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// AllSchemas lists every (subject, version) with its schema, sorted by
// subject and version; latestOnly keeps each subject's latest.
func (r *Registry) AllSchemas(prefix string, deleted, latestOnly bool) []SubjectVersion {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []SubjectVersion{}
	for _, name := range r.sortedSubjects() {
		if !strings.HasPrefix(name, prefix) {
			continue
		}
		var vs []*versionEntry
		for _, v := range r.subjects[name].versions {
			if deleted || !v.Deleted {
				vs = append(vs, v)
			}
		}
		if latestOnly && len(vs) > 0 {
			vs = vs[len(vs)-1:]
		}
		for _, v := range vs {
			out = append(out, r.subjectVersion(v))
		}
	}
	return out
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

// ReferencedBy lists the IDs of live schemas that reference subject/version.
// Errors: 40401, 40402.
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

func errReferenced(subject string, version int, ids []int) *Error {
	return errf(http.StatusUnprocessableEntity, CodeReferenceExists,
		"One or more references exist to the schema {subject=%s, version=%d}: schema ids %v reference it; delete those first.", subject, version, ids)
}

// DeleteSubject deletes every version of subject: softly, or permanently
// after a soft delete. It returns the deleted versions. Errors: 40401,
// 40404 (already soft-deleted), 40405 (permanent before soft), 42205
// (read-only), 42206 (referenced), 50001.
func (r *Registry) DeleteSubject(ctx context.Context, subject string, permanent bool) ([]int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	subj := r.subjects[subject]
	if subj == nil {
		return nil, errSubjectNotFound(subject)
	}
	if r.modeOf(subject) == ModeReadOnly {
		return nil, errNotPermitted("Subject '%s' is in read-only mode.", subject)
	}
	var batch Batch
	out := []int{}
	if !permanent {
		live := subj.live()
		if len(live) == 0 {
			return nil, errf(http.StatusNotFound, CodeSubjectSoftDeleted,
				"Subject '%s' was soft deleted. Set permanent=true to delete permanently", subject)
		}
		for _, v := range live {
			if ids := r.referrers(subject, v.Version, false); len(ids) > 0 {
				return nil, errReferenced(subject, v.Version, ids)
			}
			rec := v.VersionRecord
			rec.Deleted = true
			batch.Versions = append(batch.Versions, rec)
			out = append(out, v.Version)
		}
	} else {
		if len(subj.live()) > 0 {
			return nil, errf(http.StatusNotFound, CodeSubjectNotSoftDeleted,
				"Subject '%s' was not deleted first before being permanently deleted; delete it without permanent=true first.", subject)
		}
		for _, v := range subj.versions {
			if ids := r.referrers(subject, v.Version, true); len(ids) > 0 {
				return nil, errReferenced(subject, v.Version, ids)
			}
			batch.DeleteVersions = append(batch.DeleteVersions, VersionKey{subject, v.Version})
			out = append(out, v.Version)
		}
		if _, ok := r.configs[subject]; ok {
			batch.Configs = []SettingRecord{{Subject: subject}}
		}
		if _, ok := r.modes[subject]; ok {
			batch.Modes = []SettingRecord{{Subject: subject}}
		}
	}
	if err := r.apply(ctx, batch); err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteVersion deletes one version (-1 is the latest): softly, or
// permanently after a soft delete. Errors: 40401, 40402, 40406 (already
// soft-deleted), 40407 (permanent before soft), 42205, 42206, 50001.
func (r *Registry) DeleteVersion(ctx context.Context, subject string, version int, permanent bool) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.subjects[subject] == nil {
		return 0, errSubjectNotFound(subject)
	}
	if r.modeOf(subject) == ModeReadOnly {
		return 0, errNotPermitted("Subject '%s' is in read-only mode.", subject)
	}
	v := r.version(subject, version, permanent)
	if v == nil {
		if version != -1 && r.version(subject, version, true) != nil {
			return 0, errf(http.StatusNotFound, CodeVersionSoftDeleted,
				"Subject '%s' Version %d was soft deleted. Set permanent=true to delete permanently", subject, version)
		}
		return 0, errVersionNotFound(subject, version)
	}
	var batch Batch
	if !permanent {
		if ids := r.referrers(subject, v.Version, false); len(ids) > 0 {
			return 0, errReferenced(subject, v.Version, ids)
		}
		rec := v.VersionRecord
		rec.Deleted = true
		batch.Versions = []VersionRecord{rec}
	} else {
		if !v.Deleted {
			return 0, errf(http.StatusNotFound, CodeVersionNotSoftDeleted,
				"Subject '%s' Version %d was not deleted first before being permanently deleted; delete it without permanent=true first.", subject, v.Version)
		}
		if ids := r.referrers(subject, v.Version, true); len(ids) > 0 {
			return 0, errReferenced(subject, v.Version, ids)
		}
		batch.DeleteVersions = []VersionKey{{subject, v.Version}}
	}
	if err := r.apply(ctx, batch); err != nil {
		return 0, err
	}
	return v.Version, nil
}

// CompatibilityResult is the answer of a compatibility check.
type CompatibilityResult struct {
	Compatible bool
	Findings   []compat.Finding
}

// CheckCompatibility checks req against version (-1 latest) of subject, or
// against every version the subject's level requires when all is true.
// Errors: 40401, 40402, 42201.
func (r *Registry) CheckCompatibility(subject string, version int, all bool, req SchemaRequest, normalize bool) (CompatibilityResult, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, err := r.newCandidate(&req, normalize, true)
	if err != nil {
		return CompatibilityResult{}, err
	}
	subj := r.subjects[subject]
	var prev []*versionEntry
	if all {
		if subj != nil {
			prev = subj.live()
		}
	} else {
		if subj == nil || len(subj.live()) == 0 {
			return CompatibilityResult{}, errSubjectNotFound(subject)
		}
		v := r.version(subject, version, false)
		if v == nil {
			return CompatibilityResult{}, errVersionNotFound(subject, version)
		}
		prev = []*versionEntry{v}
	}
	fs, ferr := r.findings(subject, r.levelOf(subject), c, prev)
	if ferr != nil {
		return CompatibilityResult{}, ferr
	}
	return CompatibilityResult{Compatible: len(fs) == 0, Findings: fs}, nil
}

// Config returns the compatibility level of subject ("" for global). For a
// subject without its own level it returns the global one with
// defaultToGlobal and 40408 otherwise.
func (r *Registry) Config(subject string, defaultToGlobal bool) (compat.Level, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if l, ok := r.configs[subject]; ok {
		return l, nil
	}
	if subject == "" || defaultToGlobal {
		return r.levelOf(""), nil
	}
	return "", errf(http.StatusNotFound, CodeSubjectConfigNotSet,
		"Subject '%s' does not have subject-level compatibility configured; use defaultToGlobal=true to get the global level.", subject)
}

// SetConfig sets subject's level ("" for global). Errors: 42203, 50001.
func (r *Registry) SetConfig(ctx context.Context, subject, level string) (compat.Level, error) {
	l, err := parseLevel(level)
	if err != nil {
		return "", err
	}
	if err := checkSubjectName(subject); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.apply(ctx, Batch{Configs: []SettingRecord{{Subject: subject, Value: string(l)}}}); err != nil {
		return "", err
	}
	return l, nil
}

// DeleteConfig removes subject's level ("" resets the global level to
// BACKWARD) and returns the level it had. Errors: 40408, 50001.
func (r *Registry) DeleteConfig(ctx context.Context, subject string) (compat.Level, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.configs[subject]
	if !ok {
		if subject == "" {
			return DefaultLevel, nil
		}
		return "", errf(http.StatusNotFound, CodeSubjectConfigNotSet, "Subject '%s' does not have subject-level compatibility configured.", subject)
	}
	if err := r.apply(ctx, Batch{Configs: []SettingRecord{{Subject: subject}}}); err != nil {
		return "", err
	}
	return old, nil
}

// Mode returns subject's mode ("" for global); like Config, a subject without
// its own mode gets the global one with defaultToGlobal and 40409 otherwise.
func (r *Registry) Mode(subject string, defaultToGlobal bool) (string, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if m, ok := r.modes[subject]; ok {
		return m, nil
	}
	if subject == "" || defaultToGlobal {
		return r.modeOf(""), nil
	}
	return "", errf(http.StatusNotFound, CodeSubjectModeNotSet,
		"Subject '%s' does not have subject-level mode configured; use defaultToGlobal=true to get the global mode.", subject)
}

// SetMode sets subject's mode ("" for global). IMPORT needs an empty registry
// (or subject) unless force. Errors: 42204, 42205, 50001.
func (r *Registry) SetMode(ctx context.Context, subject, mode string, force bool) (string, error) {
	m, err := parseMode(mode)
	if err != nil {
		return "", err
	}
	if err := checkSubjectName(subject); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m == ModeImport && !force {
		nonEmpty := len(r.subjects) > 0
		if subject != "" {
			nonEmpty = r.subjects[subject] != nil
		}
		if nonEmpty {
			return "", errNotPermitted("Cannot import since found existing subjects; IMPORT mode needs an empty registry (or subject), or force=true.")
		}
	}
	if err := r.apply(ctx, Batch{Modes: []SettingRecord{{Subject: subject, Value: m}}}); err != nil {
		return "", err
	}
	return m, nil
}

// DeleteMode removes subject's mode ("" resets the global mode to
// READWRITE) and returns the mode it had. Errors: 40409, 50001.
func (r *Registry) DeleteMode(ctx context.Context, subject string) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.modes[subject]
	if !ok {
		if subject == "" {
			return ModeReadWrite, nil
		}
		return "", errf(http.StatusNotFound, CodeSubjectModeNotSet, "Subject '%s' does not have subject-level mode configured.", subject)
	}
	if err := r.apply(ctx, Batch{Modes: []SettingRecord{{Subject: subject}}}); err != nil {
		return "", err
	}
	return old, nil
}

// Stats is a snapshot of the registry's size, for metrics.
type Stats struct{ Schemas, Subjects int }

// Stats returns the current counts.
func (r *Registry) Stats() Stats {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return Stats{Schemas: len(r.schemas), Subjects: len(r.subjects)}
}

// explainDefault rewrites hamba's "invalid default for field x. <nil> not a
// int" (which shows the decoded value, not the one sent) into a message that
// names the field, quotes its default and says how to fix it. It returns ""
// when err is not about a default or the field cannot be found in text.
func explainDefault(text string, err error) string {
	const marker = "invalid default for field "
	msg := err.Error()
	i := strings.Index(msg, marker)
	if i < 0 {
		return ""
	}
	name := msg[i+len(marker):]
	if j := strings.Index(name, ". "); j >= 0 {
		name = name[:j]
	}
	var root any
	if json.Unmarshal([]byte(text), &root) != nil {
		return ""
	}
	typ, def, ok := findField(root, name, 0)
	if !ok {
		return ""
	}
	defJSON, _ := json.Marshal(def)
	typJSON, _ := json.Marshal(typ)
	switch t := typ.(type) {
	case []any:
		if len(t) == 0 {
			return ""
		}
		first, _ := json.Marshal(t[0])
		return fmt.Sprintf("field %q has default %s, which does not match its union %s: a union's default must match its first branch (%s); reorder the branches or change the default", name, defJSON, typJSON, first)
	default:
		if def == nil {
			return fmt.Sprintf("field %q has default null, but its type %s cannot be null; make the field optional with [\"null\", %s] and default null, or give a default of its type", name, typJSON, typJSON)
		}
		return fmt.Sprintf("field %q has default %s, which is not a value of its type %s; change the default to a value of that type", name, defJSON, typJSON)
	}
}

// findField finds the first record field called name (depth first) that has
// a default, and returns its type and default.
func findField(n any, name string, depth int) (typ, def any, ok bool) {
	if depth > 64 {
		return nil, nil, false
	}
	switch v := n.(type) {
	case map[string]any:
		if fields, isList := v["fields"].([]any); isList {
			for _, f := range fields {
				fm, _ := f.(map[string]any)
				if d, has := fm["default"]; has && fm["name"] == name {
					return fm["type"], d, true
				}
			}
		}
		for _, k := range []string{"fields", "type", "items", "values"} {
			if typ, def, ok := findField(v[k], name, depth+1); ok {
				return typ, def, true
			}
		}
	case []any:
		for _, e := range v {
			if typ, def, ok := findField(e, name, depth+1); ok {
				return typ, def, true
			}
		}
	}
	return nil, nil, false
}

// checkSubjectName refuses subject names with control characters (U+0000 to
// U+001F, U+007F to U+009F), as Confluent does (42208): they cannot be
// typed, printed or put in a topic name. The global "" is fine.
func checkSubjectName(subject string) *Error {
	for _, c := range subject {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			return errf(http.StatusUnprocessableEntity, CodeInvalidSubject,
				"Invalid subject %q: subject names may not contain control characters.", subject)
		}
	}
	return nil
}
