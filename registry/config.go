package registry

import (
	"context"
	"net/http"
	"strings"

	"github.com/contrail-events/contrail/compat"
)

// DefaultLevel is the compatibility level when neither the subject nor the
// global config sets one (Confluent's default).
const DefaultLevel = compat.Backward

// parseLevel validates a level name case-insensitively, so "full" means
// FULL. The error is a 42203 *Error.
func parseLevel(s string) (compat.Level, error) {
	for _, l := range compat.Levels() {
		if strings.EqualFold(s, string(l)) {
			return l, nil
		}
	}
	return "", errf(http.StatusUnprocessableEntity, CodeInvalidLevel,
		"Invalid compatibility level %q. Valid values are NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE.", s)
}

// levelOf is the level that applies to subject. Callers hold a lock.
func (r *Registry) levelOf(subject string) compat.Level {
	return effective(r.configs, subject, DefaultLevel)
}

// ConfigOpts tunes Config. The zero value reports a subject's own level
// only.
type ConfigOpts struct {
	// DefaultToGlobal answers the global level for a subject without its
	// own instead of 40408. Default false.
	DefaultToGlobal bool
}

// Config returns the compatibility level of subject ("" for global, which
// always has one: DefaultLevel unless set). Error: 40408 when the subject
// has no level of its own and opts.DefaultToGlobal is false.
func (r *Registry) Config(subject string, opts ConfigOpts) (compat.Level, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if l, ok := r.configs[subject]; ok {
		return l, nil
	}
	if subject == "" || opts.DefaultToGlobal {
		return r.levelOf(""), nil
	}
	return "", errf(http.StatusNotFound, CodeSubjectConfigNotSet,
		"Subject '%s' does not have subject-level compatibility configured; use defaultToGlobal=true to get the global level.", subject)
}

// SetConfig sets subject's level ("" for global); level is matched
// case-insensitively. Errors: 42203, 42208, 50001.
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
// DefaultLevel) and returns the level it had. Errors: 40408, 50001.
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
