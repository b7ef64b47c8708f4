package registry

import (
	"context"
	"net/http"
)

// RegisterOpts tunes Register. The zero value compares schemas by their
// compact JSON text.
type RegisterOpts struct {
	// Normalize compares schemas by their canonical form, so a schema that
	// differs from a registered one in spelling only reuses its version and
	// ID. Default false.
	Normalize bool
}

// Register registers req under subject and returns its global schema ID.
// An identical schema already live in the subject returns its ID without a
// new version; a schema known under another subject keeps its ID. Errors:
// 42201 invalid schema, 409 incompatible, 42205 read-only or explicit
// id/version outside IMPORT mode, 42207 id mismatch, 42208 invalid subject,
// 50001 store.
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
	// Fast path: identical schema already registered in the subject.
	r.mu.RLock()
	if id, ok := r.existingIn(subject, &req, opts.Normalize); ok {
		gen := r.gen
		r.mu.RUnlock()
		return id, gen, nil
	}
	r.mu.RUnlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.registerLocked(ctx, subject, req, opts.Normalize)
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
