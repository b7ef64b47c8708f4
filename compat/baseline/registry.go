package baseline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
)

// ErrRegistry is wrapped by every error from talking to the registry.
var ErrRegistry = errors.New("baseline: registry")

// ErrListSubjects is wrapped (with ErrRegistry) when RegistryOwned cannot
// list the registry's subjects, for example because its credentials may
// read given subjects only.
var ErrListSubjects = errors.New("cannot list subjects")

// ErrInvalidSchema is wrapped (with ErrRegistry) when a registered schema
// or one it references does not parse.
var ErrInvalidSchema = errors.New("invalid schema")

// Registry reads, for each of subjects, every version registered at the
// Confluent-compatible registry at url (credentials as regclient.New takes
// them: from the URL, opts or the environment) (GET /subjects/{s}/versions and
// /subjects/{s}/versions/{v}), resolving schema references, and returns them
// as history for compat.CheckTree: snapshot k holds the k-th newest-aligned
// version of each subject, the last holds each subject's latest. A subject
// the registry does not know is new and gets no versions. levels gives each
// subject's level for the entries. It asks about nothing else, so the
// snapshots are not Complete and CheckTree reports no deleted subjects; use
// RegistryOwned for that. Errors wrap ErrRegistry.
func Registry(ctx context.Context, url string, subjects []string, levels map[string]compat.Level, opts ...regclient.Opt) ([]compat.Snapshot, error) {
	return RegistryOwned(ctx, url, subjects, levels, Ownership{}, opts...)
}

// RegistryOwned is Registry plus the registry subjects own claims for the
// tree that subjects lacks. It lists the registry's subjects (GET /subjects,
// which leaves soft-deleted subjects out), reads the latest version of each
// one that is not in subjects, and reads every version of those own.Owns
// accepts, as it does for subjects. With a non-empty own the newest snapshot
// is Complete, so CheckTree reports an owned subject missing from the tree
// as SUBJECT_DELETED (SUBJECT_MOVED when its type now lives under another
// subject). A zero own lists nothing and behaves as Registry. Errors wrap
// ErrRegistry, and also ErrInvalidSchema when a registered schema does not
// parse.
func RegistryOwned(ctx context.Context, rawURL string, subjects []string, levels map[string]compat.Level, own Ownership, opts ...regclient.Opt) ([]compat.Snapshot, error) {
	cl, url, err := regclient.New(rawURL, opts...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRegistry, err)
	}
	refs := refCache{}
	perSubject := map[string][]compat.Entry{}
	most := 0
	for _, subj := range subjects {
		entries, err := subjectEntries(ctx, cl, refs, url, subj, levels[subj], own.Topics)
		if err != nil {
			return nil, err
		}
		perSubject[subj] = entries
		most = max(most, len(entries))
	}
	all := subjects
	if !own.empty() {
		extra, err := ownedSubjects(ctx, cl, url, subjects, own)
		if err != nil {
			return nil, err
		}
		for _, subj := range extra {
			entries, err := subjectEntries(ctx, cl, refs, url, subj, "", own.Topics)
			if err != nil {
				return nil, err
			}
			perSubject[subj] = entries
			most = max(most, len(entries))
		}
		all = append(slices.Clone(subjects), extra...)
	}
	snaps := make([]compat.Snapshot, most)
	for i := range snaps {
		snaps[i].Label = "registry " + url
	}
	if most > 0 && !own.empty() {
		snaps[most-1].Complete = true
	}
	for _, subj := range all {
		es := perSubject[subj]
		for i, e := range es {
			k := most - len(es) + i
			snaps[k].Entries = append(snaps[k].Entries, e)
		}
	}
	return snaps, nil
}

// subjectEntries reads every Avro version of subj, oldest first; none when
// the registry does not know subj.
func subjectEntries(ctx context.Context, cl *sr.Client, refs refCache, url, subj string, level compat.Level, topics []string) ([]compat.Entry, error) {
	ss, err := cl.Schemas(ctx, subj)
	if err != nil {
		if notFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: %s: subject %s: %v (is --against the registry's base URL?)", ErrRegistry, url, subj, err)
	}
	var entries []compat.Entry
	for _, s := range ss {
		if s.Type != sr.TypeAvro {
			continue
		}
		label := fmt.Sprintf("registry %s v%d", subj, s.Version)
		parsed, err := parseWithRefs(ctx, cl, refs, s.Schema)
		if err != nil {
			return nil, fmt.Errorf("%w: %w: %s version %d does not parse: %v", ErrRegistry, ErrInvalidSchema, subj, s.Version, err)
		}
		name := ""
		if n, ok := parsed.(avro.NamedSchema); ok {
			name = n.FullName()
		}
		topic, strategy := subjectNaming(subj, name, topics)
		md, rs := regclient.ContractFromSR(s.Schema)
		major, _ := md.Major() // absent: major 1
		entries = append(entries, compat.Entry{
			Subject: subj, FullName: name, Level: level, Text: s.Schema.Schema,
			Topic: topic, Strategy: strategy,
			Schema: compat.Schema{Schema: parsed, Label: label},
			Major:  major, Metadata: md, RuleSet: rs,
		})
	}
	return entries, nil
}

func notFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusNotFound || re.ErrorCode == 40401)
}

// ownedSubjects lists the registry's live subjects that own claims and
// known lacks, sorted. It reads each candidate's latest version (a few at a
// time) to learn its full name.
func ownedSubjects(ctx context.Context, cl *sr.Client, url string, known []string, own Ownership) ([]string, error) {
	listed, err := cl.Subjects(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w (GET /subjects, to find the tree's deleted subjects): %v (is --against the registry's base URL, and may its credentials list subjects?)", ErrRegistry, url, ErrListSubjects, err)
	}
	have := map[string]bool{}
	for _, s := range known {
		have[s] = true
	}
	var cands []string
	for _, s := range listed {
		if !have[s] && !reserved(s) {
			cands = append(cands, s)
		}
	}
	owned := make([]bool, len(cands))
	errs := make([]error, len(cands))
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i, subj := range cands {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			latest, err := cl.SchemaByVersion(ctx, subj, -1)
			switch {
			case notFound(err):
				return // deleted since the listing
			case err != nil:
				errs[i] = fmt.Errorf("%w: %s: subject %s: latest version: %v", ErrRegistry, url, subj, err)
				return
			}
			name := ""
			if latest.Type == sr.TypeAvro {
				name = schemaFullName(latest.Schema.Schema)
			}
			owned[i] = own.Owns(subj, name)
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err // the first, not one per subject of a failing registry
		}
	}
	var out []string
	for i, s := range cands {
		if owned[i] {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out, nil
}

// contractSubjectPrefix is contract.SubjectPrefix (contract imports this
// package, so it cannot be imported here): published consumer contracts,
// never a tree's own subjects.
const contractSubjectPrefix = "_contracts."

// reserved reports whether subj is never a tree's own subject: a published
// contract, or a subject qualified by a registry context (":.ctx:subject",
// e.g. copied in by schema linking).
func reserved(subj string) bool {
	return strings.HasPrefix(subj, contractSubjectPrefix) || strings.HasPrefix(subj, ":.")
}

// schemaFullName is the full name of the named type text defines at its top
// level, read without resolving references; "" for any other schema.
func schemaFullName(text string) string {
	var top struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	}
	if json.Unmarshal([]byte(text), &top) != nil || top.Name == "" {
		return ""
	}
	if strings.Contains(top.Name, ".") || top.Namespace == "" {
		return top.Name
	}
	return top.Namespace + "." + top.Name
}

// Ownership says which registry subjects belong to a schema tree although
// the tree does not have them (any more): a production registry is shared by
// many repositories, so "every subject not in the tree" would flag other
// teams' subjects. A subject is owned when its name derives from one of
// Topics (TopicName "<topic>-value", TopicRecordName "<topic>-<full name>"),
// or its latest schema is a named type whose namespace is exactly one of
// Namespaces. Published contracts ("_contracts.") and context-qualified
// subjects (":.ctx:subject") are never owned, and soft-deleted subjects are
// never listed. The zero value owns nothing.
type Ownership struct {
	// Namespaces are the Avro namespaces the tree defines, e.g.
	// "contrail.orders"; sub-namespaces are not included.
	Namespaces []string
	// Topics are the tree's topics.
	Topics []string
}

// OwnershipOf returns the namespaces of every named type in set and the
// topics of its manifest (declared ones and those events name).
func OwnershipOf(set *schemas.Set) Ownership {
	var o Ownership
	for _, t := range set.Types {
		if t.Namespace != "" {
			o.Namespaces = append(o.Namespaces, t.Namespace)
		}
	}
	for _, t := range set.Topics {
		o.Topics = append(o.Topics, t.Name)
	}
	for _, e := range set.Events {
		o.Topics = append(o.Topics, e.Topic)
	}
	slices.Sort(o.Namespaces)
	slices.Sort(o.Topics)
	o.Namespaces = slices.Compact(o.Namespaces)
	o.Topics = slices.Compact(o.Topics)
	return o
}

func (o Ownership) empty() bool { return len(o.Namespaces) == 0 && len(o.Topics) == 0 }

// Owns reports whether the registry subject subj, whose latest schema has
// the full name fullName ("" when it is not a named Avro type), belongs to
// the tree o describes.
func (o Ownership) Owns(subj, fullName string) bool {
	if reserved(subj) {
		return false
	}
	if topic, _ := subjectNaming(subj, fullName, o.Topics); topic != "" {
		return true
	}
	if i := strings.LastIndexByte(fullName, '.'); i > 0 {
		return slices.Contains(o.Namespaces, fullName[:i])
	}
	return false
}

// subjectNaming infers the topic and naming strategy a subject name was
// derived from: "<topic>-value" (TopicName) or "<topic>-<fullName>"
// (TopicRecordName) for one of topics, or fullName itself (RecordName, no
// topic); both "" when it matches none.
func subjectNaming(subj, fullName string, topics []string) (topic, strategy string) {
	for _, t := range topics {
		switch {
		case subj == t+"-value":
			return t, "TopicName"
		case fullName != "" && subj == t+"-"+fullName:
			return t, "TopicRecordName"
		}
	}
	if fullName != "" && subj == fullName {
		return "", "RecordName"
	}
	return "", ""
}

// refCache holds the referenced schemas read so far, by "subject/version":
// every version of every subject that uses a shared type names it again,
// and a numbered version never changes.
type refCache map[string]sr.SubjectSchema

func (c refCache) get(ctx context.Context, cl *sr.Client, subject string, version int) (sr.SubjectSchema, error) {
	if version <= 0 { // "latest" (-1) may move: always ask
		return cl.SchemaByVersion(ctx, subject, version)
	}
	k := subject + "/" + strconv.Itoa(version)
	if s, ok := c[k]; ok {
		return s, nil
	}
	s, err := cl.SchemaByVersion(ctx, subject, version)
	if err == nil {
		c[k] = s
	}
	return s, err
}

// parseWithRefs parses s after parsing the schemas it references (depth
// first) into the same cache.
func parseWithRefs(ctx context.Context, cl *sr.Client, fetched refCache, s sr.Schema) (avro.Schema, error) {
	cache := &avro.SchemaCache{}
	if err := loadRefs(ctx, cl, fetched, s.References, cache, map[string]bool{}); err != nil {
		return nil, err
	}
	return events.Parse(s.Schema, cache)
}

func loadRefs(ctx context.Context, cl *sr.Client, fetched refCache, refs []sr.SchemaReference, cache *avro.SchemaCache, seen map[string]bool) error {
	for _, ref := range refs {
		key := fmt.Sprintf("%s/%d", ref.Subject, ref.Version)
		if seen[key] {
			continue
		}
		seen[key] = true
		rs, err := fetched.get(ctx, cl, ref.Subject, ref.Version)
		if err != nil {
			return fmt.Errorf("reference %s (subject %s version %d): %v", ref.Name, ref.Subject, ref.Version, err)
		}
		if err := loadRefs(ctx, cl, fetched, rs.References, cache, seen); err != nil {
			return err
		}
		if _, err := events.Parse(rs.Schema.Schema, cache); err != nil {
			return fmt.Errorf("reference %s: %v", ref.Name, err)
		}
	}
	return nil
}
