// Package check is the whole of `contrail check` as a library: it loads the
// working tree's schemas, resolves and reads the baseline (package
// baseline), checks every subject at its level (compat.CheckTree), applies
// the exceptions file, and returns the findings deduplicated and sorted in
// the form every printer in compat/report takes. The CLI only parses flags,
// calls Run and prints.
//
// It is a subpackage, not part of compat, because it reads git, registries
// and files through compat/baseline, which builds on compat: compat itself
// stays the pure engine the registry also imports.
package check

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/baseline"
	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
)

// ExceptionsFile is the exceptions file's name in the schema directory,
// read when Options.Exceptions is empty and the file exists.
const ExceptionsFile = "compat-exceptions.yaml"

// Options are the inputs of one check, field for field the flags of
// `contrail check`; error messages name the flags. Only Against is required.
type Options struct {
	// Schemas is the schema tree to check: the directory that holds
	// manifest.yaml (--schemas). Default "schemas".
	Schemas string
	// Against is the baseline (--against): git:REF, an http(s) registry URL
	// or a directory; see baseline.Resolve. Required.
	Against string
	// Transitive, with git:REF, checks against every version in REF's
	// history, as *_TRANSITIVE levels need (--transitive). Default false.
	Transitive bool
	// Level, when set, overrides every subject's compatibility level (any
	// case, e.g. "none"; --level). Default "": each subject's own level
	// from the manifest.
	Level compat.Level
	// Exceptions is the exceptions file (--exceptions). Default
	// <Schemas>/compat-exceptions.yaml when it exists, else none.
	Exceptions string
	// SkipDeletedSubjects, with a registry baseline, does not list the
	// registry's subjects, so subjects the tree deleted go unreported
	// (--deleted-subjects=false), for credentials that may not list
	// subjects. Default false: they are listed and reported.
	SkipDeletedSubjects bool
	// RegistryOpts tune a registry baseline's client (credentials, TLS; see
	// regclient.New). Default none: the URL's userinfo, else the
	// environment.
	RegistryOpts []regclient.Opt
	// Now is the time exceptions' expiry dates are compared with. Default
	// time.Now().UTC().
	Now time.Time
	// OnNote is called, synchronously, with each notice about the baseline
	// that is not a finding (one line, no program name); see
	// baseline.OnNote. Default nil: notes are dropped.
	OnNote func(msg string)
	// OnProgress is called, synchronously, as each version of a git history
	// of more than one version is read; see baseline.OnProgress. Default
	// nil: no progress.
	OnProgress func(done, total int)
}

// setDefaults fills the documented defaults in.
func (o *Options) setDefaults() {
	if o.Schemas == "" {
		o.Schemas = "schemas"
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
}

// Validate reports the first problem with o that needs no I/O to find, in
// flag order: no Against, an unknown Level, an Against that is not a
// baseline spec, Transitive without git. Errors start "check: " and say
// what to pass instead. Run calls it; callers may call it first to reject
// flags before other work.
func (o Options) Validate() error {
	_, _, err := o.validate()
	return err
}

// validate is Validate returning the parsed level and resolved baseline.
func (o Options) validate() (compat.Level, *baseline.Baseline, error) {
	if o.Against == "" {
		return "", nil, errors.New("check: --against is required: git:REF, a registry URL or a directory")
	}
	var level compat.Level
	if o.Level != "" {
		l, err := compat.ParseLevel(string(o.Level))
		if err != nil {
			return "", nil, fmt.Errorf("check: --level: %w", err)
		}
		level = l
	}
	b, err := baseline.Resolve(o.Against,
		baseline.SchemaDir(o.Schemas),
		baseline.Transitive(o.Transitive),
		baseline.DeletedSubjects(!o.SkipDeletedSubjects),
		baseline.RegistryOpts(o.RegistryOpts...),
		baseline.OnNote(o.OnNote),
		baseline.OnProgress(o.OnProgress),
	)
	if err != nil {
		return "", nil, fmt.Errorf("check: %w", err)
	}
	return level, b, nil
}

// Rules returns the rules Run reports (every rule but the contract rules),
// in documentation order. The slice is a copy.
func Rules() []compat.Rule {
	return compat.RulesIn(compat.ScopeResolution, compat.ScopeTree, compat.ScopeExceptions)
}

// Run checks the schema tree o.Schemas against the baseline o.Against and
// returns what a printer needs (report.Write): the findings with exceptions
// applied (silenced ones apart, expired and unused exceptions reported),
// deduplicated (compat.Dedupe) and sorted (compat.Sort), the subjects
// checked, both labels, and the prefixes that turn file names into paths
// from the repository's top. Result.Breaking says whether any finding
// blocks the change.
//
// An error means no verdict. It wraps compat.ErrInvalidInput when input does
// not parse (the working tree, the baseline's schemas, the exceptions file),
// and is a usage or tool error otherwise (see Validate; git, the registry or
// a file that cannot be read). Every message starts "check: " and says what
// to do; none contains a registry password.
func Run(ctx context.Context, o Options) (*report.Result, error) {
	o.setDefaults()
	level, base, err := o.validate()
	if err != nil {
		return nil, err
	}
	set, err := schemas.Load(o.Schemas)
	if err != nil {
		return nil, inputErr(fmt.Errorf("check: %s: %w", compat.WorkingTree, err))
	}
	next, err := compat.SnapshotOf(set, compat.WorkingTree)
	if err != nil {
		return nil, compat.InvalidInput(err)
	}
	ex, err := loadExceptions(o.Schemas, o.Exceptions)
	if err != nil {
		return nil, err
	}

	res := &report.Result{Next: next.Label, Baseline: base.String()}
	for _, e := range next.Entries {
		// An event in several majors is one subject with an entry per major.
		if !slices.Contains(res.Subjects, e.Subject) {
			res.Subjects = append(res.Subjects, e.Subject)
		}
	}
	res.PathPrefix = baseline.PathPrefix(ctx, o.Schemas)
	res.BaselinePrefix = base.FilePrefix(res.PathPrefix)

	history, err := base.History(ctx, set, next)
	if err != nil {
		return nil, inputErr(fmt.Errorf("check: %w", err))
	}
	findings, err := compat.CheckTree(next, history, compat.TreeOptions{Level: level})
	if err != nil {
		return nil, compat.InvalidInput(err)
	}
	res.Findings, res.Silenced = ex.Apply(findings, o.Now)
	res.Findings = compat.Dedupe(res.Findings)
	compat.Sort(res.Findings)
	return res, nil
}

// inputErr marks err as invalid input when its cause is a schema tree or
// registered schema that does not load, and returns it unchanged otherwise.
func inputErr(err error) error {
	if errors.Is(err, baseline.ErrInvalidSchema) || errors.Is(err, compat.ErrUnknownLevel) {
		return compat.InvalidInput(err)
	}
	return compat.SchemaLoadErr(err)
}

// loadExceptions reads the exceptions file: file, else ExceptionsFile in
// schemaDir when it exists, else none (nil, which keeps every finding).
func loadExceptions(schemaDir, file string) (*compat.Exceptions, error) {
	path := file
	if path == "" {
		path = filepath.Join(schemaDir, ExceptionsFile)
		if _, err := os.Stat(path); err != nil {
			return nil, nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("check: exceptions: %w", err)
	}
	ex, err := compat.ParseExceptions(filepath.ToSlash(path), data)
	if err != nil {
		return nil, compat.InvalidInput(fmt.Errorf("check: %w", err))
	}
	// Findings about the file are located like schema files: relative to
	// the schema root, which the report prefixes with the root's path from
	// the repository top ("../ci/x.yaml" under "schemas/" is "ci/x.yaml").
	if rel, err := relTo(schemaDir, path); err == nil {
		ex.File = rel
	}
	return ex, nil
}

// relTo is target's slash path relative to dir.
func relTo(dir, target string) (string, error) {
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	absTarget, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absDir, absTarget)
	return filepath.ToSlash(rel), err
}
