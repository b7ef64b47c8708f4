package registry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"slices"

	"github.com/contrail-events/contrail/compat"
)

// RegisterOpts tunes Register. The zero value compares schemas by their
// compact JSON text.
type RegisterOpts struct {
	// Normalize compares schemas by their canonical form, so a schema that
	// differs from a registered one in spelling only reuses its version and
	// ID. Default false.
	Normalize bool
}

// maxRegisterAttempts is how many times a registration is checked without
// the write lock before it gives up on that and checks under the write
// lock, so that a stream of other writes cannot starve it.
const maxRegisterAttempts = 3

// Register registers req under subject and returns its global schema ID.
// An identical schema already live in the subject returns its ID without a
// new version; a schema known under another subject keeps its ID. Parsing
// and the compatibility check run without the registry's lock, so reads go
// on meanwhile; the write lock is taken only to commit, and the check is
// redone when another write came first. Errors: 42201 invalid schema, 42209
// schema over a limit (MaxSchemaDepth, MaxRecordFields), 409 incompatible,
// 42205 read-only or explicit id/version outside IMPORT mode, 42207 id
// mismatch, 42208 invalid subject, 50001 store.
func (r *Registry) Register(ctx context.Context, subject string, req SchemaRequest, opts RegisterOpts) (int, error) {
	id, _, err := r.register(ctx, subject, req, opts)
	return id, err
}

// register is Register that also returns the write generation its answer
// holds for, so the server can cache it (see cachedRegister).
func (r *Registry) register(ctx context.Context, subject string, req SchemaRequest, opts RegisterOpts) (int, uint64, error) {
	if subject == "" {
		return 0, 0, errf(http.StatusUnprocessableEntity, CodeInvalidSubject, "Invalid subject: the subject name is empty.")
	}
	if err := checkSubjectName(subject); err != nil {
		return 0, 0, err
	}
	text := inspectSchema(req.Schema)
	// Fast path: identical schema already registered in the subject.
	r.mu.RLock()
	if id, ok := r.existingIn(subject, &req, text, opts.Normalize); ok {
		gen := r.gen
		r.mu.RUnlock()
		return id, gen, nil
	}
	r.mu.RUnlock()

	for attempt := 1; ; attempt++ {
		id, gen, retry, err := r.registerOnce(ctx, subject, &req, text, opts.Normalize, attempt >= maxRegisterAttempts)
		if !retry {
			return id, gen, err
		}
	}
}

// registerOnce plans the registration under the read lock, parses and
// checks it without a lock, and commits it under the write lock if no write
// happened since the plan (the write generation is unchanged); otherwise it
// asks to be retried. With exclusive it holds the write lock throughout,
// which blocks reads for the check but cannot be outrun by other writes:
// the last of maxRegisterAttempts.
func (r *Registry) registerOnce(ctx context.Context, subject string, req *SchemaRequest, text schemaText, normalize, exclusive bool) (id int, gen uint64, retry bool, err error) {
	if exclusive {
		r.mu.Lock()
		defer r.mu.Unlock()
	} else {
		r.mu.RLock()
	}
	p, err := r.planRegister(subject, req, text, normalize)
	if !exclusive {
		r.mu.RUnlock()
	}
	if err == nil {
		err = r.decideRegister(p)
	}
	if err != nil || p.found {
		// Nothing is written: the answer holds at the plan's generation.
		return p.answer, p.gen, false, err
	}
	if !exclusive {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.gen != p.gen {
			return 0, 0, true, nil
		}
	}
	id, err = r.commitRegister(ctx, p)
	return id, r.gen, false, err
}

// registerPlan is a registration planned from the registry as it was at
// write generation gen.
type registerPlan struct {
	gen       uint64
	subject   string
	req       *SchemaRequest
	importing bool
	c         *candidate
	level     compat.Level
	live      []pendingVersion // the subject's live versions
	exactID   int              // a stored schema with the same exact key
	all       []pendingEntry   // with normalize and no exact match: every schema, by ascending ID

	// Set by decideRegister.
	found  bool // the schema is live in the subject: answer, no write
	answer int
	id     int          // the ID to give when not found: an equal stored schema's, or 0 for new
	entry  *schemaEntry // the new schema's entry, built outside the lock
}

// pendingVersion is a stored version with what parsing its schema needs.
type pendingVersion struct {
	VersionRecord
	pendingEntry
}

// planRegister gathers what a registration needs from the registry.
// Callers hold at least the read lock.
func (r *Registry) planRegister(subject string, req *SchemaRequest, text schemaText, normalize bool) (*registerPlan, error) {
	p := &registerPlan{gen: r.gen, subject: subject, req: req}
	mode := r.modeOf(subject)
	if mode == ModeReadOnly {
		return p, errNotPermitted("Subject '%s' is in read-only mode; set the mode to READWRITE to register.", subject)
	}
	p.importing = mode == ModeImport
	if !p.importing && (req.ID > 0 || req.Version > 0) {
		return p, errNotPermitted("Registering with an explicit id or version needs IMPORT mode (PUT /mode {\"mode\":\"IMPORT\"}).")
	}
	c, err := r.newCandidate(req, text, normalize)
	if err != nil {
		return p, err
	}
	p.c = c
	p.level = r.levelOf(subject)
	p.live = r.pendingVersions(r.subjects[subject], false)
	p.exactID = r.byExact[c.exactKey]
	if normalize && p.exactID == 0 {
		ids := make([]int, 0, len(r.schemas))
		for id := range r.schemas {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		p.all = make([]pendingEntry, len(ids))
		for i, id := range ids {
			p.all[i] = r.pending(r.schemas[id])
		}
	}
	return p, nil
}

// pendingVersions lists subj's live versions (all of them with deleted),
// ascending. Callers hold at least the read lock.
func (r *Registry) pendingVersions(subj *subjectEntry, deleted bool) []pendingVersion {
	if subj == nil {
		return nil
	}
	var out []pendingVersion
	for _, v := range subj.versions {
		if deleted || !v.Deleted {
			out = append(out, pendingVersion{v.VersionRecord, r.pending(r.schemas[v.ID])})
		}
	}
	return out
}

// decideRegister parses the candidate, looks for it among the subject's
// live versions and checks compatibility: the slow part, run without the
// lock on what planRegister gathered.
func (r *Registry) decideRegister(p *registerPlan) error {
	c, req := p.c, p.req
	if err := c.parse(); err != nil {
		return err
	}
	for _, v := range p.live {
		if c.matches(v.pendingEntry) {
			if req.ID > 0 && req.ID != v.ID {
				return errf(http.StatusUnprocessableEntity, CodeIDMismatch,
					"Schema already registered under id %d in subject '%s', not %d.", v.ID, p.subject, req.ID)
			}
			p.found, p.answer = true, v.ID
			return nil
		}
	}
	if !p.importing {
		if err := r.checkCompatible(p.subject, p.level, c, p.live); err != nil {
			return err
		}
	}
	p.id = p.exactID
	for _, e := range p.all {
		if p.id != 0 {
			break
		}
		if c.matches(e) {
			p.id = e.e.rec.ID
		}
	}
	p.entry = newSchemaEntry(SchemaRecord{Text: req.Schema, References: c.refs}, c.exactKey)
	p.entry.parseOnce.Do(func() { p.entry.parsed, p.entry.normKey = c.parsed, c.normKey })
	return nil
}

// commitRegister writes the version p decided on. Callers hold the write
// lock, and the registry is still at p.gen.
func (r *Registry) commitRegister(ctx context.Context, p *registerPlan) (int, error) {
	req, subject := p.req, p.subject
	id := p.id
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
	var batch Batch
	var prepared *schemaEntry
	if _, known := r.schemas[id]; !known {
		prepared = p.entry
		prepared.rec.ID = id
		batch.Schemas = []SchemaRecord{prepared.rec}
	}
	subj := r.subjects[subject]
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
	batch.Versions = []VersionRecord{{Subject: subject, Version: version, ID: id}}
	if err := r.applyPrepared(ctx, batch, prepared); err != nil {
		return 0, err
	}
	return id, nil
}

// existingIn is the read-locked fast path of Register: the exact schema (by
// compact text) is already live in subject.
func (r *Registry) existingIn(subject string, req *SchemaRequest, text schemaText, normalize bool) (int, bool) {
	if req.ID > 0 || req.Version > 0 || normalize || text.err != nil || r.modeOf(subject) == ModeReadOnly {
		return 0, false
	}
	if !isAvro(req.SchemaType) {
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
	key := text.compact + refsKey(req.References)
	for i := len(subj.versions) - 1; i >= 0; i-- {
		v := subj.versions[i]
		if !v.Deleted && r.schemas[v.ID].exactKey == key {
			return v.ID, true
		}
	}
	return 0, false
}

// hotKey is the SHA-256 of a plain register request's subject and body:
// the register cache keeps this digest, never the body, so what it holds
// does not grow with the bodies clients send.
type hotKey [sha256.Size]byte

func hotKeyOf(subject string, body []byte) hotKey {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(subject))) // no subject+body pair spells another
	h.Write(n[:])
	h.Write([]byte(subject))
	h.Write(body)
	var k hotKey
	h.Sum(k[:0])
	return k
}

// hotEntry remembers the answer to a plain register request; it is valid
// while no write happened since (gen unchanged).
type hotEntry struct {
	id  int
	gen uint64
}

// maxHot bounds the register answer cache; it is emptied when full. An
// entry is 48 bytes (digest and answer), so the cache holds well under
// 1 MiB however large the bodies it answered.
const maxHot = 4096

// cachedRegister answers a plain (no query parameters) register request whose
// exact bytes were answered before with no write since: clients re-register
// the same schema on every start, and this skips decoding it.
func (r *Registry) cachedRegister(k hotKey) (int, bool) {
	r.mu.RLock()
	gen := r.gen
	r.mu.RUnlock()
	r.hotMu.RLock()
	e, ok := r.hot[k]
	r.hotMu.RUnlock()
	if !ok || e.gen != gen {
		return 0, false
	}
	return e.id, true
}

// rememberRegister records the answer id given at write generation gen to
// the request with digest k.
func (r *Registry) rememberRegister(k hotKey, id int, gen uint64) {
	r.hotMu.Lock()
	defer r.hotMu.Unlock()
	if r.hot == nil || len(r.hot) >= maxHot {
		r.hot = make(map[hotKey]hotEntry, 64)
	}
	r.hot[k] = hotEntry{id: id, gen: gen}
}
