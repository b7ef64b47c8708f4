package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/contract"
)

// registryNotFound reports whether err is the registry's "no such subject
// or version" answer.
func registryNotFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && (re.StatusCode == http.StatusNotFound || re.ErrorCode == 40401 || re.ErrorCode == 40402)
}

func (c *Console) registryErr(err error) error {
	return backendError("schema registry "+c.regShown+" (is it running? check --registry and its credentials)", err)
}

// consumerRef is a consumer of a subject: from the manifest, a contract
// file, or both; Fields are the fields its contract relies on.
type consumerRef struct {
	Name     string
	Manifest bool
	Contract bool
	Fields   []string
}

// subjectInfo is what the schema tree and the contracts say about a
// subject.
type subjectInfo struct {
	Kind          string // "event", "shared type", "published contract" or "" (unknown to the tree)
	Event         string
	Topic         string
	Key           string
	ManifestLevel string
	Producers     []string
	Consumers     []consumerRef
}

// info looks subject up in the schema tree and the contracts.
func (c *Console) info(subject string) subjectInfo {
	var si subjectInfo
	for _, e := range c.set.Events {
		if e.Subject == subject {
			si = subjectInfo{Kind: "event", Event: e.Type.FullName, Topic: e.Topic, Key: e.Key,
				ManifestLevel: e.Compatibility, Producers: e.Producers}
			for _, name := range e.Consumers {
				si.Consumers = append(si.Consumers, consumerRef{Name: name, Manifest: true})
			}
			break
		}
	}
	if si.Kind == "" {
		if _, ok := c.set.Types[subject]; ok {
			si = subjectInfo{Kind: "shared type", Event: subject, ManifestLevel: c.set.TypesCompatibility}
		} else if strings.HasPrefix(subject, contract.SubjectPrefix) {
			si.Kind = "published contract"
		}
	}
	for _, ct := range c.contracts {
		if ct.Subject != subject {
			continue
		}
		i := slices.IndexFunc(si.Consumers, func(r consumerRef) bool { return r.Name == ct.Consumer })
		if i < 0 {
			si.Consumers = append(si.Consumers, consumerRef{Name: ct.Consumer})
			i = len(si.Consumers) - 1
		}
		si.Consumers[i].Contract = true
		si.Consumers[i].Fields = append(si.Consumers[i].Fields, ct.Fields...)
	}
	sort.Slice(si.Consumers, func(i, j int) bool { return si.Consumers[i].Name < si.Consumers[j].Name })
	return si
}

// levels returns each subject's compatibility level in the registry (the
// global one where the subject has none); a failed lookup is "?".
func (c *Console) levels(ctx context.Context, subjects ...string) map[string]string {
	out := map[string]string{}
	for _, r := range c.reg.Compatibility(sr.WithParams(ctx, sr.DefaultToGlobal), subjects...) {
		if r.Err != nil {
			out[r.Subject] = "?"
			continue
		}
		out[r.Subject] = r.Level.String()
	}
	return out
}

type subjectRow struct {
	Subject string
	Version int
	ID      int
	Level   string
	subjectInfo
}

type schemasData struct {
	Groups []subjectGroup
	Total  int
	Source string
}

type subjectGroup struct {
	Title string
	Rows  []subjectRow
}

// schemasPage lists every live subject with its latest version.
func (c *Console) schemasPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	ctx := r.Context()
	latest, err := c.reg.AllSchemas(sr.WithParams(ctx, sr.LatestOnly))
	if err != nil {
		return "", nil, c.registryErr(err)
	}
	subjects := make([]string, len(latest))
	for i, s := range latest {
		subjects[i] = s.Subject
	}
	lv := c.levels(ctx, subjects...)
	groups := map[string][]subjectRow{}
	for _, s := range latest {
		row := subjectRow{Subject: s.Subject, Version: s.Version, ID: s.ID, Level: lv[s.Subject], subjectInfo: c.info(s.Subject)}
		k := row.Kind
		if k == "" {
			k = "other"
		}
		groups[k] = append(groups[k], row)
	}
	d := schemasData{Total: len(latest), Source: c.schemaSource()}
	for _, k := range []string{"event", "shared type", "published contract", "other"} {
		rows := groups[k]
		if len(rows) == 0 {
			continue
		}
		sort.Slice(rows, func(i, j int) bool { return rows[i].Subject < rows[j].Subject })
		title := map[string]string{"event": "Events", "shared type": "Shared types", "published contract": "Published consumer contracts", "other": "Other subjects (not in the schema tree)"}[k]
		d.Groups = append(d.Groups, subjectGroup{Title: title, Rows: rows})
	}
	return "schemas", &page{Title: "Schemas", Data: d}, nil
}

func (c *Console) schemaSource() string {
	if c.cfg.schemaDir != "" {
		return c.cfg.schemaDir
	}
	if c.cfg.set != nil {
		return "the schema set given to the console"
	}
	return "the schemas built into this binary"
}

type versionRow struct {
	Version    int
	Prev       int // the version before, 0 for the first
	ID         int
	References []sr.SchemaReference
}

type subjectData struct {
	Subject  string
	Level    string
	Info     subjectInfo
	Versions []versionRow
	Latest   string // indented text of the latest version
	From, To int    // the diff form's defaults
}

// subjectPage shows one subject's versions and who uses it.
func (c *Console) subjectPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	subject := r.PathValue("subject")
	if err := checkSubject(subject); err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	all, err := c.reg.Schemas(ctx, subject)
	if registryNotFound(err) || (err == nil && len(all) == 0) {
		return "", nil, notFound("The registry has no subject %q. The schemas page lists every subject.", subject)
	}
	if err != nil {
		return "", nil, c.registryErr(err)
	}
	d := subjectData{Subject: subject, Level: c.levels(ctx, subject)[subject], Info: c.info(subject)}
	prev := 0
	for _, s := range all {
		d.Versions = append(d.Versions, versionRow{Version: s.Version, Prev: prev, ID: s.ID, References: s.References})
		prev = s.Version
	}
	last := all[len(all)-1]
	d.Latest = indentJSON(last.Schema.Schema)
	d.To = last.Version
	d.From = last.Version
	if len(all) > 1 {
		d.From = all[len(all)-2].Version
	}
	return "subject", &page{Title: subject, Data: d}, nil
}

// checkSubject accepts a registry subject: 1 to 249 characters without
// control characters.
func checkSubject(s string) error {
	if s == "" || len(s) > maxNameLen {
		return badRequest("%q is not a subject name", clip(s))
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return badRequest("subject %q contains a control character", clip(s))
		}
	}
	return nil
}

type diffData struct {
	Subject     string
	Versions    []int
	From, To    sr.SubjectSchema
	Level       compat.Level
	LevelSource string
	Levels      []compat.Level
	Changes     []Change
	Other       []DiffFinding
	Breaking    int
	Lines       []DiffLine
	Info        subjectInfo
}

// diffPage compares two versions of a subject.
func (c *Console) diffPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	subject := r.PathValue("subject")
	if err := checkSubject(subject); err != nil {
		return "", nil, err
	}
	q, err := parseDiffQuery(r.URL.Query())
	if err != nil {
		return "", nil, err
	}
	ctx := r.Context()
	versions, err := c.reg.SubjectVersions(ctx, subject)
	if registryNotFound(err) || (err == nil && len(versions) == 0) {
		return "", nil, notFound("The registry has no subject %q. The schemas page lists every subject.", subject)
	}
	if err != nil {
		return "", nil, c.registryErr(err)
	}
	sort.Ints(versions)
	get := func(v int) (sr.SubjectSchema, error) {
		if v != -1 && !slices.Contains(versions, v) {
			return sr.SubjectSchema{}, notFound("Subject %q has no version %d; it has versions %v.", subject, v, versions)
		}
		s, err := c.reg.SchemaByVersion(ctx, subject, v)
		if registryNotFound(err) {
			return s, notFound("Subject %q has no version %d; it has versions %v.", subject, v, versions)
		}
		if err != nil {
			return s, c.registryErr(err)
		}
		return s, nil
	}
	d := diffData{Subject: subject, Versions: versions, Levels: compat.Levels(), Info: c.info(subject)}
	if d.From, err = get(q.From); err != nil {
		return "", nil, err
	}
	if d.To, err = get(q.To); err != nil {
		return "", nil, err
	}
	oldS, err := c.serde.WriterSchema(ctx, d.From.ID)
	if err != nil {
		return "", nil, c.registryErr(fmt.Errorf("version %d (schema id %d): %w", d.From.Version, d.From.ID, err))
	}
	newS, err := c.serde.WriterSchema(ctx, d.To.ID)
	if err != nil {
		return "", nil, c.registryErr(fmt.Errorf("version %d (schema id %d): %w", d.To.Version, d.To.ID, err))
	}
	switch {
	case q.Level != "":
		d.Level, d.LevelSource = q.Level, "chosen on this page"
	default:
		lv := c.levels(ctx, subject)[subject]
		if l, err := compat.ParseLevel(lv); err == nil {
			d.Level, d.LevelSource = l, "the subject's level in the registry"
		} else if l, err := compat.ParseLevel(d.Info.ManifestLevel); err == nil {
			d.Level, d.LevelSource = l, "the manifest (the registry did not say)"
		} else {
			d.Level, d.LevelSource = compat.Backward, "the default (neither the registry nor the manifest said)"
		}
	}
	d.Changes, d.Other = SemanticDiff(oldS, newS, fmt.Sprintf("version %d", d.From.Version), fmt.Sprintf("version %d", d.To.Version), d.Level)
	for _, ch := range d.Changes {
		if ch.Breaking() {
			d.Breaking++
		}
	}
	for _, f := range d.Other {
		if f.Breaking {
			d.Breaking++
		}
	}
	d.Lines = TextDiff(d.From.Schema.Schema, d.To.Schema.Schema)
	return "diff", &page{Title: fmt.Sprintf("%s: version %d → %d", subject, d.From.Version, d.To.Version), Data: d}, nil
}
