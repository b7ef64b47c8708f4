package registry

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"slices"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/wire"
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

// Register registers req under subject and returns its schema ID (within
// the subject's context). An identical schema already live in the subject
// returns its ID without a new version, whatever the mode, as Confluent
// looks it up before checking the mode; a schema known under another
// subject of the context keeps its ID. Identity is the canonical form
// (normKey), as Confluent compares canonical strings, with the metadata
// and rule set: the same text with another contract is a new schema with
// a new ID. Outside IMPORT the contract stored is Confluent's: the
// request's metadata (else the latest live version's) merged over the
// config's defaultMetadata and under its overrideMetadata, the rule set
// likewise; with a compatibilityGroup in the config, compatibility is
// checked only against versions in the new schema's group. Parsing and
// the compatibility check run without the registry's lock, so reads go on
// meanwhile; the write lock is taken only to commit, and the check is redone
// when another write came first. Errors: 42201 invalid schema (or a version
// that is not the next one outside IMPORT), 42202 version taken (IMPORT),
// 42209 schema over a limit (MaxSchemaDepth, MaxRecordFields), 42210
// invalid rule set, 409 incompatible, 42205 read-only, an explicit id
// outside IMPORT, no id in IMPORT, or an id another schema of the context
// holds, 42208 invalid subject, 50001 store.
func (r *Registry) Register(ctx context.Context, subject string, req SchemaRequest, opts RegisterOpts) (int, error) {
	res, _, err := r.register(ctx, subject, req, opts)
	return res.ID, err
}

// registered is a registration's answer: the ID and the version of subject
// that has the schema.
type registered struct {
	ID, Version int
}

// register is Register that also returns the version and the write
// generation its answer holds for, so the server can cache it (see
// cachedRegister).
func (r *Registry) register(ctx context.Context, subject string, req SchemaRequest, opts RegisterOpts) (registered, uint64, error) {
	// Confluent validates the rule set before anything else.
	if err := checkRuleSet("ruleSet", req.RuleSet); err != nil {
		return registered{}, 0, err
	}
	req.Metadata, req.RuleSet = normMetadata(req.Metadata), normRuleSet(req.RuleSet)
	subject = normalizeSubject(subject)
	if _, name := splitSubject(subject); name == "" {
		return registered{}, 0, errf(http.StatusUnprocessableEntity, CodeInvalidSubject, "Invalid subject %q: the subject name is empty.", subject)
	}
	if err := checkSubjectName(subject); err != nil {
		return registered{}, 0, err
	}
	text := inspectSchema(req.Schema)
	// Fast path: identical schema already registered in the subject.
	r.mu.RLock()
	if res, ok := r.existingIn(subject, &req, text); ok {
		gen := r.gen
		r.mu.RUnlock()
		return res, gen, nil
	}
	normalize := opts.Normalize || r.normalizeOf(subject)
	r.mu.RUnlock()

	for attempt := 1; ; attempt++ {
		res, gen, retry, err := r.registerOnce(ctx, subject, &req, text, normalize, attempt >= maxRegisterAttempts)
		if !retry {
			return res, gen, err
		}
	}
}

// registerOnce plans the registration under the read lock, parses and
// checks it without a lock, and commits it under the write lock if no write
// happened since the plan (the write generation is unchanged); otherwise it
// asks to be retried. With exclusive it holds the write lock throughout,
// which blocks reads for the check but cannot be outrun by other writes:
// the last of maxRegisterAttempts.
func (r *Registry) registerOnce(ctx context.Context, subject string, req *SchemaRequest, text schemaText, normalize, exclusive bool) (res registered, gen uint64, retry bool, err error) {
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
			return registered{}, 0, true, nil
		}
	}
	res, err = r.commitRegister(ctx, p)
	return res, r.gen, false, err
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
	exactID   int              // a stored schema of the context with the same exact key
	all       []pendingEntry   // with no exact match: every schema of the context, by ascending ID
	held      *pendingEntry    // IMPORT: the schema already holding req.ID, if any
	group     string           // the compatibility group in scope, "" for none
	// asIsKey is the key of the request's own contract, looked up before
	// the stored one when no config default or override applies, as
	// Confluent's registerOrForward does; "" with tryAsIs false otherwise.
	asIsKey string
	tryAsIs bool

	// Set by decideRegister.
	found  bool // the schema is live in the subject: answer, no write
	answer registered
	id     int          // the ID to give when not found: an equal stored schema's, or 0 for new
	entry  *schemaEntry // the new schema's entry, built outside the lock
}

// pendingVersion is a stored version with what parsing its schema needs.
type pendingVersion struct {
	VersionRecord
	pendingEntry
}

// planRegister gathers what a registration needs from the registry and
// checks the mode as Confluent's checkRegisterMode does. Callers hold at
// least the read lock.
func (r *Registry) planRegister(subject string, req *SchemaRequest, text schemaText, normalize bool) (*registerPlan, error) {
	p := &registerPlan{gen: r.gen, subject: subject, req: req}
	mode := r.modeOf(subject)
	switch {
	case mode.readOnly():
		return p, errNotPermitted("Subject '%s' is in read-only mode (%s); set the mode to READWRITE to register.", subject, mode)
	case req.ID > 0 && mode != ModeImport:
		return p, errNotPermitted("Subject '%s' is not in import mode: registering with an explicit id needs IMPORT mode (PUT /mode {\"mode\":\"IMPORT\"}).", subject)
	case req.ID <= 0 && mode != ModeReadWrite:
		return p, errNotPermitted("Subject '%s' is not in read-write mode (%s): in IMPORT mode every registration names its id.", subject, mode)
	}
	p.importing = mode == ModeImport
	p.live = r.pendingVersions(r.subjects[subject], false)
	cc := r.contractConfigOf(subject)
	asIs := req.contract()
	ct := asIs
	if !p.importing {
		// IMPORT stores what the source registry had, as Confluent skips
		// maybePopulateFromPrevious there.
		ct = cc.effective(asIs, latestContract(p.live))
	}
	p.group = cc.group
	p.asIsKey, p.tryAsIs = asIs.key(), !cc.hasDefaultOverride
	c, err := r.newCandidate(req, text, normalize, subject, ct)
	if err != nil {
		return p, err
	}
	p.c = c
	p.level = r.levelOf(subject)
	p.exactID = r.byExact[identityKey(c.ctx, c.exactKey, c.ctKey)]
	if req.ID > 0 {
		if e := r.schemas[schemaKey{c.ctx, req.ID}]; e != nil {
			pe := r.pending(e)
			p.held = &pe
		}
	}
	if p.exactID == 0 {
		for k, e := range r.schemas {
			if k.ctx == c.ctx {
				p.all = append(p.all, r.pending(e))
			}
		}
		slices.SortFunc(p.all, func(a, b pendingEntry) int { return a.e.rec.ID - b.e.rec.ID })
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
			out = append(out, pendingVersion{v.VersionRecord, r.pending(r.entry(v))})
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
	// The request as sent first (Confluent's registerOrForward lookup),
	// then as it would be stored.
	keys := []string{c.ctKey}
	if p.tryAsIs && p.asIsKey != c.ctKey {
		keys = []string{p.asIsKey, c.ctKey}
	}
	for _, key := range keys {
		for i := len(p.live) - 1; i >= 0; i-- {
			v := p.live[i]
			if (req.ID <= 0 || req.ID == v.ID) && (req.Version <= 0 || req.Version == v.Version) && c.matchesWith(v.pendingEntry, key) {
				p.found, p.answer = true, registered{v.ID, v.Version}
				return nil
			}
		}
	}
	if !p.importing {
		if err := r.checkCompatible(p.subject, p.level, p.group, c, inGroup(p.live, p.group, c.ct.md)); err != nil {
			return err
		}
	}
	if req.ID > 0 {
		// (IMPORT only.) The id the source registry gave the schema: as on
		// Confluent (checkIfSchemaWithIdExist), it may name this schema
		// already, but never another one, so an id is never reused.
		if p.held != nil && !c.matches(*p.held) {
			return errNotPermitted("Overwrite new schema with id %d in context %s is not permitted: the id holds another schema, and ids are never reused.", req.ID, contextName(c.ctx))
		}
		p.id = req.ID
	} else {
		p.id = p.exactID
		for _, e := range p.all {
			if p.id != 0 {
				break
			}
			if c.matches(e) {
				p.id = e.e.rec.ID
			}
		}
	}
	p.entry = newSchemaEntry(SchemaRecord{Context: c.ctx, Text: req.Schema, References: c.refs, Metadata: c.ct.md, RuleSet: c.ct.rs}, c.exactKey)
	p.entry.parseOnce.Do(func() { p.entry.parsed, p.entry.normKey = c.parsed, c.normKey })
	return nil
}

// contextName is ctx as Confluent names it in messages and GET /contexts.
func contextName(ctx string) string {
	if ctx == "" {
		return DefaultContext
	}
	return ctx
}

// commitRegister writes the version p decided on. Callers hold the write
// lock, and the registry is still at p.gen.
func (r *Registry) commitRegister(ctx context.Context, p *registerPlan) (registered, error) {
	req, subject := p.req, p.subject
	sctx := p.c.ctx
	id := p.id
	if id == 0 {
		id = r.nextIDIn(sctx)
	}
	var batch Batch
	var prepared *schemaEntry
	if _, known := r.schemas[schemaKey{sctx, id}]; !known {
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
		switch {
		case !p.importing && req.Version != version:
			// Confluent: "Version is not one more than previous version".
			return registered{}, errInvalidSchema("Invalid schema: version %d is not one more than the previous version of subject '%s'; send version %d or none (other versions need IMPORT mode).", req.Version, subject, version)
		case subj != nil && subj.find(req.Version) != nil:
			return registered{}, errf(http.StatusUnprocessableEntity, CodeInvalidVersion,
				"Version %d already exists in subject '%s'; versions are never overwritten.", req.Version, subject)
		}
		version = req.Version
	}
	batch.Versions = []VersionRecord{{Subject: subject, Version: version, ID: id}}
	r.noteContext(&batch, subject)
	if err := r.applyPrepared(ctx, batch, prepared); err != nil {
		return registered{}, err
	}
	return registered{id, version}, nil
}

// existingIn is the read-locked fast path of Register: the exact schema (by
// compact text) is already live in subject, with the id and version the
// request names, if any, and the request's metadata and rule set, or
// those a registration would store. Like Confluent's registerOrForward it
// answers before the mode is checked.
func (r *Registry) existingIn(subject string, req *SchemaRequest, text schemaText) (registered, bool) {
	if text.err != nil || !isAvro(req.SchemaType) {
		return registered{}, false
	}
	subj := r.subjects[subject]
	if subj == nil {
		return registered{}, false
	}
	for _, ref := range req.References {
		if ref.Version <= 0 {
			return registered{}, false
		}
	}
	key := text.compact + refsKey(req.References)
	cc := r.contractConfigOf(subject)
	asIs := req.contract()
	var latest *contract
	if v := r.version(subject, -1, false); v != nil {
		e := r.entry(v)
		latest = &contract{e.rec.Metadata, e.rec.RuleSet}
	}
	cts := []string{cc.effective(asIs, latest).key()}
	if !cc.hasDefaultOverride {
		cts = append([]string{asIs.key()}, cts...)
	}
	for _, ct := range cts {
		for i := len(subj.versions) - 1; i >= 0; i-- {
			v := subj.versions[i]
			if e := r.entry(v); !v.Deleted && e.exactKey == key && e.contract == ct &&
				(req.ID <= 0 || req.ID == v.ID) && (req.Version <= 0 || req.Version == v.Version) {
				return registered{v.ID, v.Version}, true
			}
		}
	}
	return registered{}, false
}

// latestContract is the contract of the last of vs (ascending), nil when
// vs is empty.
func latestContract(vs []pendingVersion) *contract {
	if len(vs) == 0 {
		return nil
	}
	rec := vs[len(vs)-1].e.rec
	return &contract{rec.Metadata, rec.RuleSet}
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
	res registered
	gen uint64
}

// maxHot bounds the register answer cache; it is emptied when full. An
// entry is 48 bytes (digest and answer), so the cache holds well under
// 1 MiB however large the bodies it answered.
const maxHot = 4096

// cachedRegister answers a plain (no query parameters) register request whose
// exact bytes were answered before with no write since: clients re-register
// the same schema on every start, and this skips decoding it.
func (r *Registry) cachedRegister(k hotKey) (registered, bool) {
	r.mu.RLock()
	gen := r.gen
	r.mu.RUnlock()
	r.hotMu.RLock()
	e, ok := r.hot[k]
	r.hotMu.RUnlock()
	if !ok || e.gen != gen {
		return registered{}, false
	}
	return e.res, true
}

// rememberRegister records the answer given at write generation gen to the
// request with digest k.
func (r *Registry) rememberRegister(k hotKey, res registered, gen uint64) {
	r.hotMu.Lock()
	defer r.hotMu.Unlock()
	if r.hot == nil || len(r.hot) >= maxHot {
		r.hot = make(map[hotKey]hotEntry, 64)
	}
	r.hot[k] = hotEntry{res: res, gen: gen}
}

// registerResponse is the body of POST /subjects/{subject}/versions, as
// Confluent 8 answers it (RegisterSchemaResponse): the ID, the version and
// the schema with its type, references, metadata and rule set.
type registerResponse struct {
	ID         int            `json:"id"`
	Version    int            `json:"version,omitempty"`
	SchemaType string         `json:"schemaType,omitempty"`
	References []Reference    `json:"references,omitempty"`
	Metadata   *wire.Metadata `json:"metadata,omitempty"`
	RuleSet    *ruleSetOut    `json:"ruleSet,omitempty"`
	Schema     string         `json:"schema,omitempty"`
}

// registeredBody encodes the answer res to a registration under subject.
func (r *Registry) registeredBody(subject string, res registered) ([]byte, error) {
	r.mu.RLock()
	e := r.schemas[schemaKey{contextOf(normalizeSubject(subject)), res.ID}]
	r.mu.RUnlock()
	out := registerResponse{ID: res.ID, Version: res.Version}
	if e != nil {
		out.SchemaType, out.References, out.Schema = typeOut(e.rec.Type), e.rec.References, e.rec.Text
		out.Metadata, out.RuleSet = e.rec.Metadata, outRules(e.rec.RuleSet)
	}
	return marshal(out)
}
