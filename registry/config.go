package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/wire"
)

// DefaultLevel is the compatibility level when neither the subject, its
// context nor the global config sets one (Confluent's default).
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

// levelOf is the level that applies to subject: the first set in its scope
// (subject, context, .__GLOBAL), else DefaultLevel. Callers hold a lock.
func (r *Registry) levelOf(subject string) compat.Level {
	for _, s := range scope(subject) {
		if c := r.configs[s]; c.Compatibility != "" {
			return compat.Level(c.Compatibility)
		}
	}
	return DefaultLevel
}

// normalizeOf reports whether subject's config in scope asks for
// normalized registrations and lookups (Confluent's config "normalize").
// Callers hold a lock.
func (r *Registry) normalizeOf(subject string) bool {
	for _, s := range scope(subject) {
		if c := r.configs[s]; c.Normalize != nil {
			return *c.Normalize
		}
	}
	return false
}

// aliasOf is the subject that subject stands for, if its own config names
// one: an unqualified alias lives in subject's context (Confluent's
// qualifySubjectWithParent). Aliases are not followed further. It takes the
// read lock.
func (r *Registry) aliasOf(subject string) (string, bool) {
	subject = normalizeSubject(subject)
	r.mu.RLock()
	c, ok := r.configs[subject]
	r.mu.RUnlock()
	if !ok || c.Alias == "" {
		return "", false
	}
	return qualifyWithParent(c.Alias, contextOf(subject)), true
}

// SubjectConfig is a config as GET /config answers it (Confluent's
// Config): each field omitted when not set.
type SubjectConfig struct {
	Compatibility      compat.Level   `json:"compatibilityLevel,omitempty"`
	Alias              string         `json:"alias,omitempty"`
	Normalize          *bool          `json:"normalize,omitempty"`
	ValidateFields     *bool          `json:"validateFields,omitempty"`
	CompatibilityGroup string         `json:"compatibilityGroup,omitempty"`
	DefaultMetadata    *wire.Metadata `json:"defaultMetadata,omitempty"`
	OverrideMetadata   *wire.Metadata `json:"overrideMetadata,omitempty"`
	DefaultRuleSet     *wire.RuleSet  `json:"defaultRuleSet,omitempty"`
	OverrideRuleSet    *wire.RuleSet  `json:"overrideRuleSet,omitempty"`
}

// MarshalJSON implements json.Marshaler: the fields in Confluent's order,
// every rule with "disabled".
func (c SubjectConfig) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Alias              string         `json:"alias,omitempty"`
		Normalize          *bool          `json:"normalize,omitempty"`
		ValidateFields     *bool          `json:"validateFields,omitempty"`
		Compatibility      compat.Level   `json:"compatibilityLevel,omitempty"`
		CompatibilityGroup string         `json:"compatibilityGroup,omitempty"`
		DefaultMetadata    *wire.Metadata `json:"defaultMetadata,omitempty"`
		OverrideMetadata   *wire.Metadata `json:"overrideMetadata,omitempty"`
		DefaultRuleSet     *ruleSetOut    `json:"defaultRuleSet,omitempty"`
		OverrideRuleSet    *ruleSetOut    `json:"overrideRuleSet,omitempty"`
	}{c.Alias, c.Normalize, c.ValidateFields, c.Compatibility, c.CompatibilityGroup,
		c.DefaultMetadata, c.OverrideMetadata, outRules(c.DefaultRuleSet), outRules(c.OverrideRuleSet)})
}

func configOut(c ConfigRecord) SubjectConfig {
	return SubjectConfig{Compatibility: compat.Level(c.Compatibility), Alias: c.Alias, Normalize: c.Normalize,
		ValidateFields: c.ValidateFields, CompatibilityGroup: c.CompatibilityGroup,
		DefaultMetadata: c.DefaultMetadata, OverrideMetadata: c.OverrideMetadata,
		DefaultRuleSet: c.DefaultRuleSet, OverrideRuleSet: c.OverrideRuleSet}
}

// inScope is the config of subject in force, field by field: each field
// from the first config in scope (subject, context, .__GLOBAL) that sets
// it; the level defaults to DefaultLevel. The alias is never inherited.
// Callers hold a lock.
func (r *Registry) inScope(subject string) SubjectConfig {
	out := configOut(r.configs[subject])
	cc := r.contractConfigOf(subject)
	out.Compatibility = r.levelOf(subject)
	out.CompatibilityGroup = cc.group
	out.DefaultMetadata, out.OverrideMetadata = cc.defaultMD, cc.overMD
	out.DefaultRuleSet, out.OverrideRuleSet = cc.defaultRS, cc.overRS
	for _, s := range scope(subject) {
		c := r.configs[s]
		if out.Normalize == nil {
			out.Normalize = c.Normalize
		}
		if out.ValidateFields == nil {
			out.ValidateFields = c.ValidateFields
		}
	}
	return out
}

// ConfigOpts tunes Config. The zero value reports a subject's own config
// only.
type ConfigOpts struct {
	// DefaultToGlobal answers, for a subject without a config of its own
	// (40408 otherwise), and for every field it does not set, the value
	// in scope (context, then global config). Default false.
	DefaultToGlobal bool
}

// Config returns the config of subject ("" for global, ":.ctx:" for a
// context). The global one always has a level: DefaultLevel unless set.
// Error: 40408 when the subject has no config of its own and
// opts.DefaultToGlobal is false.
func (r *Registry) Config(subject string, opts ConfigOpts) (SubjectConfig, error) {
	subject = normalizeSubject(subject)
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, ok := r.configs[subject]
	if !ok && subject != "" && !opts.DefaultToGlobal {
		return SubjectConfig{}, errf(http.StatusNotFound, CodeSubjectConfigNotSet,
			"Subject '%s' does not have subject-level compatibility configured; use defaultToGlobal=true to get the global level.", subject)
	}
	if opts.DefaultToGlobal {
		return r.inScope(subject), nil
	}
	out := configOut(c)
	if out.Compatibility == "" && subject == "" {
		out.Compatibility = r.levelOf(subject)
	}
	return out, nil
}

// ConfigUpdate is a config change, as PUT /config takes it: a nil field is
// left as it is, a field pointing at "" (Alias, CompatibilityGroup) or set
// to clear (the Clear fields) is removed.
type ConfigUpdate struct {
	// Compatibility is the new level, matched case-insensitively.
	Compatibility *string
	// Alias names the subject this one stands for; "" removes the alias.
	Alias *string
	// Normalize makes registrations and lookups normalize by default.
	Normalize *bool
	// ValidateFields is stored for Confluent clients (field names are
	// always validated).
	ValidateFields *bool
	// CompatibilityGroup names the metadata property whose value groups
	// the versions compatibility is checked against; "" removes it.
	CompatibilityGroup *string
	// DefaultMetadata, OverrideMetadata, DefaultRuleSet and
	// OverrideRuleSet replace the config's (they are not merged with
	// it); the rule sets must pass Confluent's validation (42210).
	DefaultMetadata, OverrideMetadata *wire.Metadata
	DefaultRuleSet, OverrideRuleSet   *wire.RuleSet
	// The Clear fields remove the setting (a JSON null).
	ClearCompatibility, ClearNormalize, ClearValidateFields bool
	ClearDefaultMetadata, ClearOverrideMetadata             bool
	ClearDefaultRuleSet, ClearOverrideRuleSet               bool
}

// SetConfig changes subject's config ("" for global, ":.ctx:" for a
// context) and returns it as stored; an empty update changes nothing and
// answers the config as it is (for the global config, with the level in
// force). In a read-only mode it is refused, as Confluent's updateConfig
// does. Errors: 42203, 42205, 42208, 42210, 50001.
func (r *Registry) SetConfig(ctx context.Context, subject string, u ConfigUpdate) (SubjectConfig, error) {
	var level compat.Level
	if u.Compatibility != nil {
		l, err := parseLevel(*u.Compatibility)
		if err != nil {
			return SubjectConfig{}, err
		}
		level = l
	}
	for _, rs := range []struct {
		where string
		set   *wire.RuleSet
	}{{"defaultRuleSet", u.DefaultRuleSet}, {"overrideRuleSet", u.OverrideRuleSet}} {
		if err := checkRuleSet(rs.where, rs.set); err != nil {
			return SubjectConfig{}, err
		}
	}
	for _, t := range []struct {
		md *wire.Metadata
		rs *wire.RuleSet
	}{{u.DefaultMetadata, u.DefaultRuleSet}, {u.OverrideMetadata, u.OverrideRuleSet}} {
		if what, v := contractText(t.md, t.rs); what != "" {
			return SubjectConfig{}, errf(http.StatusUnprocessableEntity, CodeInvalidSchema,
				"Invalid config: a %s is not valid UTF-8 (%q); send UTF-8 text.", what, truncate(v, 64))
		}
	}
	subject = normalizeSubject(subject)
	if err := checkSettingSubject(subject); err != nil {
		return SubjectConfig{}, err
	}
	if u.Alias != nil && *u.Alias != "" {
		if err := checkSubjectName(normalizeSubject(*u.Alias)); err != nil {
			return SubjectConfig{}, err
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.modeOf(subject); m.readOnly() {
		return SubjectConfig{}, errNotPermitted("Subject '%s' is in read-only mode (%s); config changes are refused until the mode is READWRITE.", subject, m)
	}
	old := r.configs[subject]
	c := old
	c.Subject = subject
	switch {
	case u.ClearCompatibility:
		c.Compatibility = ""
	case u.Compatibility != nil:
		c.Compatibility = string(level)
	}
	if u.Alias != nil {
		c.Alias = *u.Alias
	}
	if u.CompatibilityGroup != nil {
		c.CompatibilityGroup = *u.CompatibilityGroup
	}
	setBool := func(dst **bool, v *bool, clear bool) {
		switch {
		case clear:
			*dst = nil
		case v != nil:
			b := *v
			*dst = &b
		}
	}
	setBool(&c.Normalize, u.Normalize, u.ClearNormalize)
	setBool(&c.ValidateFields, u.ValidateFields, u.ClearValidateFields)
	setMetadata := func(dst **wire.Metadata, v *wire.Metadata, clear bool) {
		switch {
		case clear:
			*dst = nil
		case v != nil:
			*dst = normMetadata(v)
		}
	}
	setMetadata(&c.DefaultMetadata, u.DefaultMetadata, u.ClearDefaultMetadata)
	setMetadata(&c.OverrideMetadata, u.OverrideMetadata, u.ClearOverrideMetadata)
	setRules := func(dst **wire.RuleSet, v *wire.RuleSet, clear bool) {
		switch {
		case clear:
			*dst = nil
		case v != nil:
			*dst = normRuleSet(v)
		}
	}
	setRules(&c.DefaultRuleSet, u.DefaultRuleSet, u.ClearDefaultRuleSet)
	setRules(&c.OverrideRuleSet, u.OverrideRuleSet, u.ClearOverrideRuleSet)
	same := c
	same.Subject = old.Subject // a subject without a config has none
	oldJSON, _ := json.Marshal(old)
	newJSON, _ := json.Marshal(same)
	if !bytes.Equal(oldJSON, newJSON) {
		if err := r.apply(ctx, Batch{Configs: []ConfigRecord{c}}); err != nil {
			return SubjectConfig{}, err
		}
	}
	out := configOut(c)
	if subject == "" && out.Compatibility == "" {
		out.Compatibility = r.levelOf("")
	}
	return out, nil
}

// DeleteConfig removes subject's config ("" resets the global config) and
// returns the config it had (the global one with its level in force). In a
// read-only mode it is refused. Errors: 40401 when the subject has no
// config of its own (Confluent's deleteSubjectConfig answers "subject not
// found"), 42205, 50001.
func (r *Registry) DeleteConfig(ctx context.Context, subject string) (SubjectConfig, error) {
	subject = normalizeSubject(subject)
	r.mu.Lock()
	defer r.mu.Unlock()
	old, ok := r.configs[subject]
	if !ok && subject != "" {
		return SubjectConfig{}, errSubjectNotFound(subject)
	}
	if m := r.modeOf(subject); m.readOnly() {
		return SubjectConfig{}, errNotPermitted("Subject '%s' is in read-only mode (%s); config changes are refused until the mode is READWRITE.", subject, m)
	}
	out := configOut(old)
	if out.Compatibility == "" && subject == "" {
		out.Compatibility = r.levelOf("")
	}
	if ok {
		if err := r.apply(ctx, Batch{Configs: []ConfigRecord{{Subject: subject}}}); err != nil {
			return SubjectConfig{}, err
		}
	}
	return out, nil
}
