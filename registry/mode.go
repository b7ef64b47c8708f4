package registry

import (
	"context"
	"net/http"
	"strings"
)

// Mode is what a registry, context or subject accepts: ModeReadWrite,
// ModeReadOnly, ModeReadOnlyOverride or ModeImport. Its values are
// Confluent's strings, which the HTTP API sends and takes as they are.
type Mode string

// Modes a registry, context or subject can be in.
const (
	// ModeReadWrite accepts registrations checked for compatibility.
	ModeReadWrite Mode = "READWRITE"
	// ModeReadOnly refuses registrations, deletes and config changes (42205).
	ModeReadOnly Mode = "READONLY"
	// ModeReadOnlyOverride, set globally, makes every subject read-only
	// whatever its own mode says (Confluent deprecates it for READONLY in
	// the .__GLOBAL context, which this registry honours the same way).
	ModeReadOnlyOverride Mode = "READONLY_OVERRIDE"
	// ModeImport accepts registrations with the id and version of a source
	// registry and skips compatibility checks, to copy a registry.
	ModeImport Mode = "IMPORT"
)

// DefaultMode is the mode when neither the subject, its context nor the
// global mode is set.
const DefaultMode = ModeReadWrite

// readOnly reports whether m refuses writes.
func (m Mode) readOnly() bool { return m == ModeReadOnly || m == ModeReadOnlyOverride }

// ParseMode validates a mode name case-insensitively, as Confluent does
// (Mode.valueOf(mode.toUpperCase())). It returns a 42204 *Error for anything
// but READWRITE, READONLY, READONLY_OVERRIDE or IMPORT.
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeReadWrite, ModeReadOnly, ModeReadOnlyOverride, ModeImport} {
		if strings.EqualFold(s, string(m)) {
			return m, nil
		}
	}
	return "", errf(http.StatusUnprocessableEntity, CodeInvalidMode, "Invalid mode %q. Valid values are READWRITE, READONLY, READONLY_OVERRIDE, IMPORT.", s)
}

// override is the mode that overrides every subject's own, if any: a global
// READONLY_OVERRIDE (Confluent's getModeInScope) or a read-only .__GLOBAL
// context. Callers hold a lock.
func (r *Registry) override() (Mode, bool) {
	if m := r.modes[""]; m == ModeReadOnlyOverride {
		return m, true
	}
	if m := r.modes[contextTop(GlobalContext)]; m.readOnly() {
		return m, true
	}
	return "", false
}

// modeOf is the mode that applies to subject: an override, else the first
// set in its scope (subject, context, .__GLOBAL), else DefaultMode. Callers
// hold a lock.
func (r *Registry) modeOf(subject string) Mode {
	if m, ok := r.override(); ok {
		return m
	}
	for _, s := range scope(subject) {
		if m, ok := r.modes[s]; ok {
			return m
		}
	}
	return DefaultMode
}

// ModeOpts tunes Mode. The zero value reports a subject's own mode only.
type ModeOpts struct {
	// DefaultToGlobal answers the mode in scope (context, then global) for a
	// subject without its own instead of 40409. Default false.
	DefaultToGlobal bool
}

// Mode returns subject's mode ("" for global, ":.ctx:" for a context;
// global always has one: DefaultMode unless set). A global
// READONLY_OVERRIDE is every subject's mode, as on Confluent. Error: 40409
// when the subject has no mode of its own and opts.DefaultToGlobal is false.
func (r *Registry) Mode(subject string, opts ModeOpts) (Mode, error) {
	subject = normalizeSubject(subject)
	r.mu.RLock()
	defer r.mu.RUnlock()
	if m, ok := r.override(); ok {
		return m, nil
	}
	if m, ok := r.modes[subject]; ok {
		return m, nil
	}
	if subject == "" || opts.DefaultToGlobal {
		return r.modeOf(subject), nil
	}
	return "", errf(http.StatusNotFound, CodeSubjectModeNotSet,
		"Subject '%s' does not have subject-level mode configured; use defaultToGlobal=true to get the global mode.", subject)
}

// SetModeOpts tunes SetMode. The zero value protects existing subjects
// from IMPORT.
type SetModeOpts struct {
	// Force allows IMPORT where subjects already have live versions, which
	// an import could then collide with. Default false.
	Force bool
}

// SetMode sets subject's mode ("" for global, ":.ctx:" for a context) and
// returns it as stored; mode is matched case-insensitively. As on
// Confluent, switching to IMPORT (when not already in it) needs no live
// version in scope unless opts.Force, and permanently deletes the
// soft-deleted versions left there (42206 if one is still referenced).
// Errors: 42204, 42205, 42206, 42208, 50001.
func (r *Registry) SetMode(ctx context.Context, subject string, mode Mode, opts SetModeOpts) (Mode, error) {
	m, err := ParseMode(string(mode))
	if err != nil {
		return "", err
	}
	subject = normalizeSubject(subject)
	if err := checkSettingSubject(subject); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	batch := Batch{Modes: []SettingRecord{{Subject: subject, Value: string(m)}}}
	if m == ModeImport && r.modeOf(subject) != ModeImport && !opts.Force {
		inScope := r.modeScope(subject)
		for name, s := range r.subjects {
			if inScope(name) && len(s.live()) > 0 {
				return "", errNotPermitted("Cannot import since found existing subjects; IMPORT mode needs no live subject in scope, or force=true.")
			}
		}
		for name, s := range r.subjects {
			if !inScope(name) {
				continue
			}
			for _, v := range s.versions {
				if ids := r.referrers(name, v.Version); len(ids) > 0 {
					return "", errReferenced(name, v.Version, ids)
				}
				batch.DeleteVersions = append(batch.DeleteVersions, VersionKey{name, v.Version})
			}
		}
	}
	if err := r.apply(ctx, batch); err != nil {
		return "", err
	}
	return m, nil
}

// modeScope selects the subjects a mode set on subject governs: every
// subject for the global mode, a context's for ":.ctx:", else subject alone.
func (r *Registry) modeScope(subject string) func(string) bool {
	ctx, name := splitSubject(subject)
	switch {
	case subject == "" || ctx == GlobalContext:
		return func(string) bool { return true }
	case name == "":
		return func(s string) bool { return contextOf(s) == ctx }
	default:
		return func(s string) bool { return s == subject }
	}
}

// DeleteMode removes subject's mode ("" resets the global mode to
// DefaultMode) and returns the mode it had. Error: 40401 when the subject
// has no mode of its own (Confluent's deleteSubjectMode answers "subject not
// found"), 50001.
func (r *Registry) DeleteMode(ctx context.Context, subject string) (Mode, error) {
	subject = normalizeSubject(subject)
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.modes[subject]
	if !ok {
		if subject == "" {
			return DefaultMode, nil
		}
		return "", errSubjectNotFound(subject)
	}
	if err := r.apply(ctx, Batch{Modes: []SettingRecord{{Subject: subject}}}); err != nil {
		return "", err
	}
	return old, nil
}
