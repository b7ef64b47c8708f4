package registry

import (
	"context"
	"net/http"
	"strings"
)

// Mode is what a registry or subject accepts: ModeReadWrite, ModeReadOnly
// or ModeImport. Its values are Confluent's strings, which the HTTP API
// sends and takes as they are.
type Mode string

// Modes a registry or subject can be in.
const (
	// ModeReadWrite accepts registrations checked for compatibility.
	ModeReadWrite Mode = "READWRITE"
	// ModeReadOnly refuses registrations and deletes (42205).
	ModeReadOnly Mode = "READONLY"
	// ModeImport accepts registrations with the id and version of a source
	// registry and skips compatibility checks, to copy a registry.
	ModeImport Mode = "IMPORT"
)

// DefaultMode is the mode when neither the subject nor the global mode is
// set.
const DefaultMode = ModeReadWrite

// ParseMode validates a mode name case-insensitively. It returns a 42204
// *Error for anything but READWRITE, READONLY or IMPORT.
func ParseMode(s string) (Mode, error) {
	for _, m := range []Mode{ModeReadWrite, ModeReadOnly, ModeImport} {
		if strings.EqualFold(s, string(m)) {
			return m, nil
		}
	}
	return "", errf(http.StatusUnprocessableEntity, CodeInvalidMode, "Invalid mode %q. Valid values are READWRITE, READONLY, IMPORT.", s)
}

// modeOf is the mode that applies to subject. Callers hold a lock.
func (r *Registry) modeOf(subject string) Mode {
	return effective(r.modes, subject, DefaultMode)
}

// ModeOpts tunes Mode. The zero value reports a subject's own mode only.
type ModeOpts struct {
	// DefaultToGlobal answers the global mode for a subject without its
	// own instead of 40409. Default false.
	DefaultToGlobal bool
}

// Mode returns subject's mode ("" for global, which always has one:
// DefaultMode unless set). Error: 40409 when the subject has no mode of its
// own and opts.DefaultToGlobal is false.
func (r *Registry) Mode(subject string, opts ModeOpts) (Mode, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if m, ok := r.modes[subject]; ok {
		return m, nil
	}
	if subject == "" || opts.DefaultToGlobal {
		return r.modeOf(""), nil
	}
	return "", errf(http.StatusNotFound, CodeSubjectModeNotSet,
		"Subject '%s' does not have subject-level mode configured; use defaultToGlobal=true to get the global mode.", subject)
}

// SetModeOpts tunes SetMode. The zero value protects existing subjects
// from IMPORT.
type SetModeOpts struct {
	// Force allows IMPORT on a registry (or subject) that already has
	// subjects, whose versions an import could then collide with. Default
	// false.
	Force bool
}

// SetMode sets subject's mode ("" for global) and returns it as stored;
// mode is matched case-insensitively. IMPORT needs an empty registry (or
// subject) unless opts.Force. Errors: 42204, 42205, 42208, 50001.
func (r *Registry) SetMode(ctx context.Context, subject string, mode Mode, opts SetModeOpts) (Mode, error) {
	m, err := ParseMode(string(mode))
	if err != nil {
		return "", err
	}
	if err := checkSubjectName(subject); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m == ModeImport && !opts.Force {
		nonEmpty := len(r.subjects) > 0
		if subject != "" {
			nonEmpty = r.subjects[subject] != nil
		}
		if nonEmpty {
			return "", errNotPermitted("Cannot import since found existing subjects; IMPORT mode needs an empty registry (or subject), or force=true.")
		}
	}
	if err := r.apply(ctx, Batch{Modes: []SettingRecord{{Subject: subject, Value: string(m)}}}); err != nil {
		return "", err
	}
	return m, nil
}

// DeleteMode removes subject's mode ("" resets the global mode to
// DefaultMode) and returns the mode it had. Errors: 40409, 50001.
func (r *Registry) DeleteMode(ctx context.Context, subject string) (Mode, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.modes[subject]
	if !ok {
		if subject == "" {
			return DefaultMode, nil
		}
		return "", errf(http.StatusNotFound, CodeSubjectModeNotSet, "Subject '%s' does not have subject-level mode configured.", subject)
	}
	if err := r.apply(ctx, Batch{Modes: []SettingRecord{{Subject: subject}}}); err != nil {
		return "", err
	}
	return old, nil
}
