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
// under the subject's level, or against every version with opts.All.
// Errors: 40401, 40402, 42201, 42203, 50001.
func (r *Registry) CheckCompatibility(subject string, version int, req SchemaRequest, opts CompatOpts) (CompatibilityResult, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	c, err := r.newCandidate(&req, opts.Normalize, true)
	if err != nil {
		return CompatibilityResult{}, err
	}
	subj := r.subjects[subject]
	var prev []*versionEntry
	if opts.All {
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
	fs, err := r.findings(subject, r.levelOf(subject), c, prev)
	if err != nil {
		return CompatibilityResult{}, err
	}
	return CompatibilityResult{Compatible: len(fs) == 0, Findings: fs}, nil
}

// compatSchema is a stored version as the compat engine takes it; the error
// is a 50001 *Error, since a stored schema that stops parsing is the
// store's fault, not the client's.
func (r *Registry) compatSchema(v *versionEntry) (compat.Schema, error) {
	s, err := r.parse(r.schemas[v.ID])
	if err != nil {
		return compat.Schema{}, errStore(fmt.Errorf("stored schema id %d no longer parses: %w", v.ID, err))
	}
	return compat.Schema{Schema: s, Label: fmt.Sprintf("%s version %d", v.Subject, v.Version)}, nil
}

// findings checks c against the given versions under level.
func (r *Registry) findings(subject string, level compat.Level, c *candidate, prev []*versionEntry) ([]compat.Finding, error) {
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

// checkCompatible refuses (409) to register c when the subject's level
// finds it incompatible with the live versions.
func (r *Registry) checkCompatible(subject string, c *candidate) error {
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
