// Package lint checks a schema tree's style, the way buf lints protobuf:
// naming, enum defaults, nullable unions, record unions a JSON reader can
// tell apart, logical types Avro would silently ignore, event metadata,
// unused types and docs. Each rule is a value with a stable UPPER_SNAKE ID,
// a tier and a one-sentence purpose (Rules); a walker feeds every named
// type, field and type expression of the tree to the rules that ran.
//
// Findings are compat.Finding values, located at file:line:col of the
// offending JSON value with its JSON Pointer, so `contrail lint` prints them
// with compat/report's printers (text, json, github-actions, junit) and
// exits like `contrail check`: 100 when a finding is an error, 2 when the
// input is invalid, 1 when the tool fails.
//
// Lint runs on trees that load: what schemas.Load rejects (a type defined
// inline instead of in its own file, a file not named after its type, an
// enum default that is not a symbol, a decimal whose precision or scale is
// out of range) is invalid input for every command, not a style question,
// and no ignore could accept it.
//
// Which rules run, and which findings are accepted, is configured in the
// manifest's lint section (tier, use, except, field_case, ignore entries
// with a mandatory reason) and in schemas, with the contrail.lint.ignore
// attribute (IgnoreAttribute).
package lint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/baseline"
	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/schemas"
)

// Options are the inputs of one lint run, field for field the arguments and
// flags of `contrail lint`; error messages name the flags.
type Options struct {
	// Schemas is the schema tree: the directory that holds manifest.yaml
	// (--schemas). Default "schemas".
	Schemas string
	// Paths limit the findings reported to these files and folders inside
	// Schemas, as given on the command line (relative to the working
	// directory). The whole tree is always read, since rules such as
	// NAMED_TYPE_UNUSED judge it whole. Default none: every finding.
	Paths []string
	// Tier, when not zero, overrides the manifest's lint tier (--tier).
	// Default 0: the manifest's, else Standard.
	Tier Tier
}

// setDefaults fills the documented defaults in.
func (o *Options) setDefaults() {
	if o.Schemas == "" {
		o.Schemas = "schemas"
	}
}

// Validate reports the first problem with o that needs no schema to find:
// an unknown Tier, a path that does not exist or lies outside Schemas.
// Errors start "lint: " and say what to pass instead. Run calls it.
func (o Options) Validate() error {
	o.setDefaults()
	_, err := o.relPaths()
	return err
}

// relPaths validates o and returns Paths as slash paths under Schemas ("" for
// the whole tree).
func (o Options) relPaths() ([]string, error) {
	if o.Tier != 0 && (o.Tier < Minimal || o.Tier > Docs) {
		return nil, fmt.Errorf("lint: --tier: unknown tier %d: use MINIMAL, BASIC, STANDARD or DOCS", int(o.Tier))
	}
	root, err := filepath.Abs(o.Schemas)
	if err != nil {
		return nil, fmt.Errorf("lint: --schemas %s: %w", o.Schemas, err)
	}
	var out []string
	for _, p := range o.Paths {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("lint: %s: no such file or folder: pass files or folders inside the schema tree %s", p, o.Schemas)
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("lint: %s: %w", p, err)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("lint: %s is outside the schema tree %s: pass --schemas DIR to lint another tree", p, o.Schemas)
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			rel = ""
		}
		out = append(out, rel)
	}
	return out, nil
}

// Run lints the schema tree o.Schemas and returns what a printer needs
// (report.Write): the findings of the rules that ran, sorted by file and
// position, those accepted by ignores apart (Silenced), the files linted,
// the rules that ran as the Next label ("tier STANDARD"), the path prefix
// that turns file names into paths from the repository's top, and lint's
// severities. Result.Breaking says whether any finding is an error.
//
// An error means no verdict. It wraps compat.ErrInvalidInput when the tree
// does not load (schemas.Load's ErrorList) or the lint configuration is
// invalid (Errors: an unknown tier or rule, an ignore without a reason),
// and is a usage or tool error otherwise (see Validate; a file that cannot
// be read). Every message starts "lint: " or names the file and says what
// to do.
func Run(ctx context.Context, o Options) (*report.Result, error) {
	o.setDefaults()
	paths, err := o.relPaths()
	if err != nil {
		return nil, err
	}
	set, err := schemas.Load(o.Schemas)
	if err != nil {
		return nil, compat.SchemaLoadErr(fmt.Errorf("lint: %w", err))
	}
	manifest, err := os.ReadFile(filepath.Join(o.Schemas, schemas.ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("lint: %w", err)
	}
	res, err := lintSet(set, manifest, o.Tier, paths)
	var list Errors
	if errors.As(err, &list) {
		for _, e := range list {
			e.File = filepath.ToSlash(filepath.Join(o.Schemas, filepath.FromSlash(e.File)))
		}
	}
	if err != nil {
		return nil, err
	}
	res.PathPrefix = baseline.PathPrefix(ctx, o.Schemas)
	return res, nil
}

// lintSet is Run on a loaded tree and its manifest's text, with paths
// already relative to the tree's root.
func lintSet(set *schemas.Set, manifest []byte, tier Tier, paths []string) (*report.Result, error) {
	lc, err := schemas.ParseLintConfig(manifest)
	if err != nil {
		return nil, compat.InvalidInput(fmt.Errorf("lint: %w", err))
	}
	cfg, errs := resolveConfig(lc, tier)
	t, err := newTree(set)
	if err != nil {
		return nil, err
	}
	errs = append(errs, t.inlineIgnores(cfg)...)
	if len(errs) > 0 {
		return nil, compat.InvalidInput(errs.sorted())
	}
	t.fieldCase, t.fieldCaseWhy = cfg.fieldCase, "lint.field_case in manifest.yaml"
	if t.fieldCase == "" {
		t.fieldCase, t.fieldCaseWhy = t.majorityCase()
	}

	var found []compat.Finding
	for _, r := range cfg.enabled {
		found = append(found, t.run(r)...)
	}
	res := &report.Result{Kind: report.KindLint, Next: cfg.label(), Severity: SeverityOf}
	for _, f := range found {
		if ig := firstMatch(cfg.ignores, f); ig != nil {
			ig.used = true
			res.Silenced = append(res.Silenced, f)
			continue
		}
		res.Findings = append(res.Findings, f)
	}
	if cfg.on(IgnoreUnused) {
		for _, ig := range cfg.ignores {
			if ig.used || (ig.rule != "" && !cfg.on(ig.rule)) {
				continue // a rule that did not run cannot use its ignores
			}
			hint := ""
			if ig.file != "" && !ig.inline && !t.hasPath(ig.file) {
				hint = fmt.Sprintf(" (the tree has no file or folder %s)", ig.file)
			}
			res.Findings = append(res.Findings, compat.Finding{
				Rule:    IgnoreUnused,
				Reader:  ig.at,
				Message: fmt.Sprintf("%s (reason %q) accepted no finding%s: delete it", ig.describe(), ig.reason, hint),
			})
		}
	}
	res.Findings = filterPaths(res.Findings, paths)
	res.Silenced = filterPaths(res.Silenced, paths)
	compat.Sort(res.Findings)
	compat.Sort(res.Silenced)
	for _, d := range t.defs {
		if inPaths(d.t.File, paths) {
			res.Subjects = append(res.Subjects, d.t.File)
		}
	}
	return res, nil
}

// firstMatch returns the ignore that accepts f, attributes before manifest
// entries; LINT_IGNORE_UNUSED findings are never accepted.
func firstMatch(igs []*ignore, f compat.Finding) *ignore {
	if f.Rule == IgnoreUnused {
		return nil
	}
	for _, inline := range []bool{true, false} {
		for _, ig := range igs {
			if ig.inline == inline && ig.matches(f) {
				return ig
			}
		}
	}
	return nil
}

// inlineIgnores adds every contrail.lint.ignore attribute of the tree (on
// a definition, a field or a type object) to cfg and returns the problems.
func (t *tree) inlineIgnores(cfg *config) Errors {
	var errs Errors
	add := func(d *def, ptr string, obj map[string]any) {
		v, ok := obj[IgnoreAttribute]
		if !ok {
			return
		}
		igs, e := parseIgnoreAttr(d.t.File, ptr, v, d.t.Pos)
		cfg.ignores = append(cfg.ignores, igs...)
		errs = append(errs, e...)
	}
	for _, s := range t.types {
		if obj := s.object(); obj != nil {
			add(s.def, s.ptr, obj)
		}
	}
	for _, f := range t.fields {
		add(f.def, f.ptr, f.obj)
	}
	return errs
}

// majorityCase is the field case most of the tree's fields already follow
// (names that are both, such as "sku", count for neither); camelCase on a
// tie.
func (t *tree) majorityCase() (conv, why string) {
	var camel, snake int
	for _, f := range t.fields {
		switch c, s := isCamel(f.name), isSnake(f.name); {
		case c && !s:
			camel++
		case s && !c:
			snake++
		}
	}
	if snake > camel {
		return snakeCase, fmt.Sprintf("the tree's convention: %d of its fields are snake_case, %d camelCase; set lint.field_case in manifest.yaml to choose", snake, camel)
	}
	return camelCase, fmt.Sprintf("the tree's convention: %d of its fields are camelCase, %d snake_case; set lint.field_case in manifest.yaml to choose", camel, snake)
}

// hasPath reports whether the tree has a file or folder p.
func (t *tree) hasPath(p string) bool {
	return p == schemas.ManifestFile || slices.ContainsFunc(t.defs, func(d *def) bool {
		return d.t.File == p || strings.HasPrefix(d.t.File, p+"/")
	})
}

func inPaths(file string, paths []string) bool {
	if len(paths) == 0 {
		return true
	}
	for _, p := range paths {
		if p == "" || file == p || strings.HasPrefix(file, p+"/") {
			return true
		}
	}
	return false
}

func filterPaths(fs []compat.Finding, paths []string) []compat.Finding {
	return slices.DeleteFunc(fs, func(f compat.Finding) bool { return !inPaths(f.Reader.File, paths) })
}
