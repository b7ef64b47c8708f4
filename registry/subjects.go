package registry

import (
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/contrail-events/contrail/wire"
)

// SubjectVersion is a (subject, version) pair with its schema. Its JSON is
// Confluent's Schema entity: the rules of RuleSet each carry "disabled".
type SubjectVersion struct {
	Subject    string         `json:"subject"`
	Version    int            `json:"version"`
	ID         int            `json:"id"`
	SchemaType string         `json:"schemaType,omitempty"`
	References []Reference    `json:"references,omitempty"`
	Metadata   *wire.Metadata `json:"metadata,omitempty"`
	RuleSet    *wire.RuleSet  `json:"ruleSet,omitempty"`
	Schema     string         `json:"schema"`
}

// MarshalJSON implements json.Marshaler.
func (sv SubjectVersion) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Subject    string         `json:"subject"`
		Version    int            `json:"version"`
		ID         int            `json:"id"`
		SchemaType string         `json:"schemaType,omitempty"`
		References []Reference    `json:"references,omitempty"`
		Metadata   *wire.Metadata `json:"metadata,omitempty"`
		RuleSet    *ruleSetOut    `json:"ruleSet,omitempty"`
		Schema     string         `json:"schema"`
	}{sv.Subject, sv.Version, sv.ID, sv.SchemaType, sv.References, sv.Metadata, outRules(sv.RuleSet), sv.Schema})
}

func (r *Registry) subjectVersion(v *versionEntry) SubjectVersion {
	e := r.entry(v)
	return SubjectVersion{Subject: v.Subject, Version: v.Version, ID: v.ID, SchemaType: typeOut(e.rec.Type),
		References: e.rec.References, Metadata: e.rec.Metadata, RuleSet: e.rec.RuleSet, Schema: e.rec.Text}
}

// SubjectsOpts selects the subjects Subjects lists. The zero value lists
// every subject with a live version, of every context.
type SubjectsOpts struct {
	// Prefix keeps only subjects whose name starts with it, read as
	// Confluent reads subjectPrefix when HasPrefix is set: "" and unqualified
	// prefixes select the default context, ":.ctx:" a context, ":*:name"
	// a name in any context. Without HasPrefix every context is listed.
	Prefix    string
	HasPrefix bool
	// Deleted also lists subjects whose versions are all soft-deleted.
	// Default false.
	Deleted bool
	// DeletedOnly lists only subjects whose versions are all soft-deleted;
	// it overrides Deleted. Default false.
	DeletedOnly bool
}

// Subjects lists subject names, sorted, as opts selects.
func (r *Registry) Subjects(opts SubjectsOpts) []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := []string{}
	match := subjectMatcher(opts.Prefix, opts.HasPrefix)
	for name, s := range r.subjects {
		if !match(name) {
			continue
		}
		live := len(s.live()) > 0
		if (opts.DeletedOnly && live) || (!opts.DeletedOnly && !opts.Deleted && !live) {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// VersionsOpts selects the versions Versions lists. The zero value lists
// live versions only.
type VersionsOpts struct {
	// Deleted also lists soft-deleted versions. Default false.
	Deleted bool
	// DeletedOnly lists only soft-deleted versions; it overrides Deleted.
	// Default false.
	DeletedOnly bool
}

// Versions lists subject's version numbers, ascending, as opts selects.
// Error: 40401 when the subject is unknown or, without DeletedOnly, has no
// version to list.
func (r *Registry) Versions(subject string, opts VersionsOpts) ([]int, error) {
	subject = normalizeSubject(subject)
	r.mu.RLock()
	defer r.mu.RUnlock()
	subj := r.subjects[subject]
	out := []int{}
	if subj != nil {
		for _, v := range subj.versions {
			if (opts.DeletedOnly && v.Deleted) || (!opts.DeletedOnly && (opts.Deleted || !v.Deleted)) {
				out = append(out, v.Version)
			}
		}
	}
	if subj == nil || (len(out) == 0 && !opts.DeletedOnly) {
		return nil, errSubjectNotFound(subject)
	}
	return out, nil
}

// VersionOpts tunes Version. The zero value sees live versions only.
type VersionOpts struct {
	// Deleted also finds a soft-deleted version (and, for -1, lets the
	// latest be one). Default false.
	Deleted bool
}

// Version returns one version of subject (-1 for the latest). An
// unqualified subject that does not have the version in the default context
// is looked for in every other context, in name order, as Confluent's
// getUsingContexts does, so a client unaware of contexts still reads it.
// Errors: 40401, 40402.
func (r *Registry) Version(subject string, version int, opts VersionOpts) (SubjectVersion, error) {
	subject = normalizeSubject(subject)
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, s := range r.inContexts(subject) {
		if v := r.version(s, version, opts.Deleted); v != nil {
			return r.subjectVersion(v), nil
		}
	}
	subj := r.subjects[subject]
	if subj == nil || (!opts.Deleted && len(subj.live()) == 0) {
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	return SubjectVersion{}, errVersionNotFound(subject, version)
}

// LatestWithMetadata returns the latest version of subject whose metadata
// properties include every key and value of props (all versions with
// metadata, when props is empty): Confluent's getLatestWithMetadata,
// behind GET /subjects/{subject}/metadata, which serializers configured
// with use.latest.with.metadata (e.g. major_version=2) call to find the
// schema of the major they were built for. Soft-deleted versions count
// with opts.Deleted. Errors: 40401 when the subject has no version,
// 40403 when none matches.
func (r *Registry) LatestWithMetadata(subject string, props map[string]string, opts VersionOpts) (SubjectVersion, error) {
	subject = normalizeSubject(subject)
	r.mu.RLock()
	defer r.mu.RUnlock()
	subj := r.subjects[subject]
	if subj == nil || (!opts.Deleted && len(subj.live()) == 0) {
		return SubjectVersion{}, errSubjectNotFound(subject)
	}
	for i := len(subj.versions) - 1; i >= 0; i-- {
		v := subj.versions[i]
		md := r.entry(v).rec.Metadata
		if (v.Deleted && !opts.Deleted) || md == nil {
			continue
		}
		match := true
		for k, want := range props {
			if got, ok := md.Properties[k]; !ok || got != want {
				match = false
				break
			}
		}
		if match {
			return r.subjectVersion(v), nil
		}
	}
	return SubjectVersion{}, errSchemaNotFound("No version of subject '%s' has metadata properties %v.", subject, props)
}

// inContexts lists where an unqualified subject is looked for by readers
// that fall back across contexts: itself, then the same name in every
// context, sorted. A qualified subject is only itself. Callers hold a lock.
func (r *Registry) inContexts(subject string) []string {
	out := []string{subject}
	if strings.HasPrefix(subject, ":.") {
		return out
	}
	ctxs := make([]string, 0, len(r.contexts))
	for c := range r.contexts {
		ctxs = append(ctxs, c)
	}
	sort.Strings(ctxs)
	for _, c := range ctxs {
		out = append(out, qualify(c, subject))
	}
	return out
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

// checkSubjectName refuses (42208) a subject name the registry could not
// keep as sent: longer than MaxSubjectBytes, not valid UTF-8 (stores keep
// names in JSON, which would turn the bad bytes into U+FFFD and merge
// distinct names), or with control characters (U+0000 to U+001F, U+007F to
// U+009F), as Confluent refuses them: they cannot be typed, printed or put
// in a topic name. The global "" is fine. Like Confluent's isValidSubject
// it also refuses the reserved names __GLOBAL and __EMPTY, and subjects of
// the .__GLOBAL context, which holds settings only (see checkSettingSubject).
func checkSubjectName(subject string) error {
	if err := checkSettingSubject(subject); err != nil {
		return err
	}
	if contextOf(subject) == GlobalContext {
		return errf(http.StatusUnprocessableEntity, CodeInvalidSubject,
			"Invalid subject %q: the %s context holds config and mode only, not schemas.", truncate(subject, 64), GlobalContext)
	}
	return nil
}

// checkSettingSubject is checkSubjectName for config and mode writes, which
// may name the .__GLOBAL context.
func checkSettingSubject(subject string) error {
	if _, name := splitSubject(subject); name == "__GLOBAL" || name == "__EMPTY" {
		return errf(http.StatusUnprocessableEntity, CodeInvalidSubject,
			"Invalid subject %q: __GLOBAL and __EMPTY are reserved names.", subject)
	}
	if len(subject) > MaxSubjectBytes {
		return errf(http.StatusUnprocessableEntity, CodeInvalidSubject,
			"Invalid subject %q: the name is %d bytes long, more than the limit of %d bytes (MaxSubjectBytes); use a shorter subject name.",
			truncate(subject, 64), len(subject), MaxSubjectBytes)
	}
	if i := invalidUTF8At(subject); i >= 0 {
		return errf(http.StatusUnprocessableEntity, CodeInvalidSubject,
			"Invalid subject %q: the name is not valid UTF-8 (byte 0x%02X at offset %d); subject names are UTF-8 text, percent-encoded in URLs.",
			truncate(subject, 64), subject[i], i)
	}
	for _, c := range subject {
		if c < 0x20 || (c >= 0x7f && c <= 0x9f) {
			return errf(http.StatusUnprocessableEntity, CodeInvalidSubject,
				"Invalid subject %q: subject names may not contain control characters.", truncate(subject, 64))
		}
	}
	return nil
}
