package registry

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/contrail-events/contrail/compat"
)

// CompatibilityResult is the answer of a compatibility check.
type CompatibilityResult struct {
	Compatible bool
	Findings   []compat.Finding
}

// CompatOpts tunes CheckCompatibility. The zero value checks against the
// one version asked for, comparing by compact JSON text.
type CompatOpts struct {
	// All checks against every live version the subject's level requires
	// instead of one version, which is then ignored; an unknown subject is
	// compatible. Default false.
	All bool
	// Normalize is taken for parity with Confluent's ?normalize=true; the
	// compat engine compares parsed schemas, so it does not change the
	// answer. Default false.
	Normalize bool
}

// CheckCompatibility checks req against version (-1 latest) of subject
// under the subject's level, or against every live version with opts.All.
// With a compatibilityGroup in the subject's config only versions whose
// metadata has req's value of that property are checked (Confluent's
// isCompatibleWithPrevious); req's metadata is taken as sent, as Confluent
// does, with no inheritance from earlier versions. As on Confluent
// (CompatibilityResource) a missing version is reported before the schema
// is looked at (40402, also when the subject does not exist), while
// "latest" of a subject with no live version is compatible with nothing to
// check against. The check runs on a snapshot without the registry's
// lock, so it never holds up other requests. Errors: 40402, 42201, 42203,
// 42209, 42210 (a rule of unknown kind or mode), 50001.
func (r *Registry) CheckCompatibility(subject string, version int, req SchemaRequest, opts CompatOpts) (CompatibilityResult, error) {
	if err := checkRuleKinds("ruleSet", req.RuleSet); err != nil {
		return CompatibilityResult{}, err
	}
	subject = normalizeSubject(subject)
	text := inspectSchema(req.Schema)
	r.mu.RLock()
	c, level, prev, err := r.planCheck(subject, version, &req, text, opts)
	if err == nil {
		prev = inGroup(prev, r.contractConfigOf(subject).group, c.ct.md)
	}
	r.mu.RUnlock()
	if err != nil {
		return CompatibilityResult{}, err
	}
	if err := c.parse(); err != nil {
		return CompatibilityResult{}, err
	}
	fs, err := r.findings(subject, level, c, prev)
	if err != nil {
		return CompatibilityResult{}, err
	}
	return CompatibilityResult{Compatible: len(fs) == 0, Findings: fs}, nil
}

// planCheck gathers what CheckCompatibility needs. Callers hold at least the
// read lock.
func (r *Registry) planCheck(subject string, version int, req *SchemaRequest, text schemaText, opts CompatOpts) (c *candidate, level compat.Level, prev []pendingVersion, err error) {
	subj := r.subjects[subject]
	if !opts.All {
		v := r.version(subject, version, false)
		switch {
		case v != nil:
			prev = []pendingVersion{{v.VersionRecord, r.pending(r.entry(v))}}
		case version != -1:
			return nil, "", nil, errVersionNotFound(subject, version)
		}
	} else {
		prev = r.pendingVersions(subj, false)
	}
	c, err = r.newCandidate(req, text, opts.Normalize, subject, req.contract())
	if err != nil {
		return nil, "", nil, err
	}
	return c, r.levelOf(subject), prev, nil
}

// compatSchema is a stored version as the compat engine takes it; the error
// is a 50001 *Error, since a stored schema that stops parsing is the
// store's fault, not the client's. It needs no lock.
func compatSchema(v pendingVersion) (compat.Schema, error) {
	s, err := v.parse()
	if err != nil {
		return compat.Schema{}, errStore(fmt.Errorf("stored schema id %d no longer parses: %w", v.ID, err))
	}
	return compat.Schema{Schema: s, Label: fmt.Sprintf("%s version %d", v.Subject, v.Version)}, nil
}

// findings checks parsed c against the given versions under level. It
// needs no lock: callers must not hold one, since the check can be slow.
func (r *Registry) findings(subject string, level compat.Level, c *candidate, prev []pendingVersion) ([]compat.Finding, error) {
	if level == compat.None || len(prev) == 0 {
		return nil, nil
	}
	previous := make([]compat.Schema, 0, len(prev))
	for _, v := range prev {
		s, err := compatSchema(v)
		if err != nil {
			return nil, err
		}
		previous = append(previous, s)
	}
	if r.testHookCheck != nil {
		r.testHookCheck()
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

// checkCompatible refuses (409) to register c when level finds it
// incompatible with the subject's live versions in c's compatibility
// group (group "" for none). It needs no lock.
func (r *Registry) checkCompatible(subject string, level compat.Level, group string, c *candidate, live []pendingVersion) error {
	fs, err := r.findings(subject, level, c, live)
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
	scope := fmt.Sprintf("level %s", level)
	if group != "" {
		value, ok := groupValue(c.ct.md, group)
		if !ok {
			value = "(none)"
		}
		scope += fmt.Sprintf(", compatibility group %s=%s: only versions with that metadata property were checked; "+
			"register a breaking change with a new value of metadata.properties.%s", group, value, group)
	}
	return errf(http.StatusConflict, CodeIncompatible,
		"Schema being registered is incompatible with an earlier schema for subject \"%s\" (%s), details: [%s]",
		subject, scope, strings.Join(msgs, ", "))
}
