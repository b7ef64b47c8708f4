package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/baseline"
	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/schemas"
)

func init() { register(newCheckCmd) }

// checkFlags are `contrail check`'s flags.
type checkFlags struct {
	schemas    string
	against    string
	transitive bool
	level      string
	format     string
	exceptions string
	deleted    bool
}

func newCheckCmd(env *cliEnv) *cobra.Command {
	var f checkFlags
	var ruleList strings.Builder
	for _, r := range compat.Rules() {
		fmt.Fprintf(&ruleList, "  %-36s %s\n", r.ID, r.Purpose)
	}
	cmd := &cobra.Command{
		Use:   "check --against BASELINE",
		Short: "Block breaking schema changes: compare the schemas with a baseline",
		Long: `check compares the schemas in the working tree with a baseline, subject by subject, at
each subject's compatibility level from the manifest (--level overrides), and reports
every breaking change with its rule, subject and file:line:col.

BASELINE is one of:
  git:REF         the schema tree at a git ref (read with git, nothing is checked out);
                  with --transitive, every version of it in REF's history
  http(s)://URL   a Confluent-compatible schema registry (every registered version);
                  its subjects in a namespace the tree defines or named after a manifest
                  topic (<topic>-value, <topic>-<full name>) that the tree lacks are
                  reported deleted; other teams' subjects and _contracts.* are not;
                  basic auth from https://user:password@host or from
                  $CONTRAIL_REGISTRY_USER and $CONTRAIL_REGISTRY_PASSWORD
  DIR             another schema tree on disk

Exit codes:
  0    compatible (warnings may be printed)
  100  breaking changes found
  1    usage or tool error (bad flag, git or registry unreachable)
  2    invalid schema input (the schemas or the exceptions file do not parse)

Exceptions: <schemas>/compat-exceptions.yaml (or --exceptions FILE) lists accepted breaks,
each with rule, subject or path, a mandatory reason and an optional expires date.
Expired and unused exceptions are reported.

Rules:
` + ruleList.String(),
		Example: `  contrail check --against git:origin/main
  contrail check --against git:main --transitive --format github-actions
  contrail check --against http://localhost:8081 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd.Context(), env, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.schemas, "schemas", "schemas", "schema tree to check (holds manifest.yaml)")
	fl.StringVar(&f.against, "against", "", "baseline: git:REF, a registry URL, or a directory (required)")
	fl.BoolVar(&f.transitive, "transitive", false, "with git:REF, check against every version in REF's history (needed for *_TRANSITIVE levels)")
	fl.StringVar(&f.level, "level", "", "override every subject's compatibility level (BACKWARD, FULL_TRANSITIVE, ...)")
	fl.StringVar(&f.format, "format", "text", "output format: "+strings.Join(report.Formats, ", "))
	fl.BoolVar(&f.deleted, "deleted-subjects", true, "with a registry baseline, list its subjects to report the ones the tree owns but no longer has (needs permission to list subjects; false skips it)")
	fl.StringVar(&f.exceptions, "exceptions", "", "exceptions file (default <schemas>/compat-exceptions.yaml when present)")
	return cmd
}

func runCheck(ctx context.Context, env *cliEnv, f checkFlags) error {
	if f.against == "" {
		return withCode(exitError, errors.New("check: --against is required: git:REF, a registry URL or a directory"))
	}
	if !validFormat(f.format) {
		return withCode(exitError, fmt.Errorf("check: unknown --format %q: use one of %s", f.format, strings.Join(report.Formats, ", ")))
	}
	var opts compat.TreeOptions
	if f.level != "" {
		l, err := compat.ParseLevel(f.level)
		if err != nil {
			return withCode(exitError, fmt.Errorf("check: --level: %w", err))
		}
		opts.Level = l
	}
	registryURL := ""
	if strings.HasPrefix(f.against, "http://") || strings.HasPrefix(f.against, "https://") {
		// Credentials come out of the URL or from the environment
		// (regclient); labels and errors show the URL without them.
		shown, _, err := regclient.Parse(f.against)
		if err != nil {
			return withCode(exitError, fmt.Errorf("check: --against: %w", err))
		}
		registryURL, f.against = f.against, shown
	}
	if f.transitive && !strings.HasPrefix(f.against, "git:") {
		return withCode(exitError, errors.New("check: --transitive works with --against git:REF only (a registry baseline always has every version)"))
	}

	set, err := schemas.Load(f.schemas)
	if err != nil {
		return loadErr("check", "working tree", err)
	}
	next, err := compat.SnapshotOf(set, "working tree")
	if err != nil {
		return withCode(exitInvalid, err)
	}
	ex, err := loadExceptions(f)
	if err != nil {
		return err
	}

	res := &report.Result{Next: next.Label, Baseline: f.against}
	for _, e := range next.Entries {
		res.Subjects = append(res.Subjects, e.Subject)
	}
	repo, repoErr := baseline.OpenRepo(ctx, f.schemas)
	if repoErr == nil {
		res.PathPrefix = repo.Prefix()
	} else {
		res.PathPrefix = filepath.ToSlash(filepath.Clean(f.schemas)) + "/"
	}
	switch {
	case strings.HasPrefix(f.against, "git:"):
		res.BaselinePrefix = res.PathPrefix
	case !strings.HasPrefix(f.against, "http://") && !strings.HasPrefix(f.against, "https://"):
		res.BaselinePrefix = filepath.ToSlash(filepath.Clean(strings.TrimPrefix(f.against, "dir:"))) + "/"
	}

	history, err := loadBaseline(ctx, env, f, repo, repoErr, set, next, registryURL)
	if err != nil {
		return err
	}
	findings, err := compat.CheckTree(next, history, opts)
	if err != nil {
		return withCode(exitInvalid, err)
	}
	res.Findings, res.Silenced = ex.Apply(findings, time.Now().UTC())
	res.Findings = compat.Dedupe(res.Findings)
	compat.Sort(res.Findings)
	if err := report.Write(env.stdout, f.format, res); err != nil {
		return withCode(exitError, fmt.Errorf("check: %w", err))
	}
	if res.Breaking() {
		return withCode(exitBreaking, nil)
	}
	return nil
}

// validFormat reports whether s is one of report.Formats.
func validFormat(s string) bool { return slices.Contains(report.Formats, s) }

// loadErr prefixes a schema loading error with cmd and what, and maps it to
// exit 2 (the input is invalid) or 1 (the tool could not read it).
func loadErr(cmd, what string, err error) error {
	var se *schemas.Error
	if errors.As(err, &se) || errors.Is(err, schemas.ErrNoManifest) {
		return withCode(exitInvalid, fmt.Errorf("%s: %s: %w", cmd, what, err))
	}
	return withCode(exitError, fmt.Errorf("%s: %s: %w", cmd, what, err))
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

func loadExceptions(f checkFlags) (*compat.Exceptions, error) {
	path := f.exceptions
	if path == "" {
		path = filepath.Join(f.schemas, "compat-exceptions.yaml")
		if _, err := os.Stat(path); err != nil {
			return nil, nil
		}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, withCode(exitError, fmt.Errorf("check: exceptions: %w", err))
	}
	ex, err := compat.ParseExceptions(filepath.ToSlash(path), data)
	if err != nil {
		return nil, withCode(exitInvalid, fmt.Errorf("check: %w", err))
	}
	// Findings about the file are located like schema files: relative to
	// the schema root, which the report prefixes with the root's path from
	// the repository top ("../ci/x.yaml" under "schemas/" is "ci/x.yaml").
	if rel, err := relTo(f.schemas, path); err == nil {
		ex.File = rel
	}
	return ex, nil
}

func loadBaseline(ctx context.Context, env *cliEnv, f checkFlags, repo *baseline.Repo, repoErr error, set *schemas.Set, next compat.Snapshot, registryURL string) ([]compat.Snapshot, error) {
	switch {
	case strings.HasPrefix(f.against, "git:"):
		ref := strings.TrimPrefix(f.against, "git:")
		if repoErr != nil {
			return nil, withCode(exitError, fmt.Errorf("check: --against %s: %w", f.against, repoErr))
		}
		var versions []baseline.Version
		if f.transitive {
			vs, err := repo.History(ctx, ref)
			if err != nil {
				return nil, withCode(exitError, fmt.Errorf("check: %w", err))
			}
			versions = vs
		} else {
			v, err := repo.Tree(ctx, ref)
			if err != nil {
				return nil, withCode(exitError, fmt.Errorf("check: %w", err))
			}
			versions = []baseline.Version{v}
		}
		var history []compat.Snapshot
		progress := terminal(env.stderr) && len(versions) > 1
		for i, v := range versions {
			if progress {
				fmt.Fprintf(env.stderr, "\rcontrail check: loading %s history: %d/%d versions", f.against, i+1, len(versions))
				if i == len(versions)-1 {
					fmt.Fprintln(env.stderr)
				}
			}
			label := v.Label(ref)
			if entries, err := fs.ReadDir(v.FS, "."); err == nil && len(entries) == 0 {
				// The schema directory does not exist at this commit (the
				// change that adopts Contrail, or one before it): there is
				// nothing to be compatible with, which is not invalid input.
				if i == len(versions)-1 {
					fmt.Fprintf(env.stderr, "contrail check: %s has no %s: every subject is new, nothing to compare with\n", label, schemaDirName(repo, f.schemas))
				}
				continue
			}
			set, err := schemas.LoadFS(v.FS)
			if err == nil {
				var snap compat.Snapshot
				snap, err = compat.SnapshotOf(set, label)
				if err == nil {
					history = append(history, snap)
					continue
				}
			}
			if i == len(versions)-1 {
				return nil, loadErr("check", label, err)
			}
			// An old commit that did not load is skipped, visibly.
			fmt.Fprintf(env.stderr, "contrail check: skipping %s: it does not load: %v\n", label, firstLine(err))
		}
		return history, nil
	case strings.HasPrefix(f.against, "http://"), strings.HasPrefix(f.against, "https://"):
		var subjects []string
		levels := map[string]compat.Level{}
		for _, e := range next.Entries {
			subjects = append(subjects, e.Subject)
			levels[e.Subject] = e.Level
		}
		// Registry subjects the tree owns but no longer has are reported
		// as deleted; other teams' subjects in a shared registry are not.
		own := baseline.OwnershipOf(set)
		if !f.deleted {
			own = baseline.Ownership{} // lists nothing: deleted subjects go unreported
		}
		h, err := baseline.RegistryOwned(ctx, registryURL, subjects, levels, own)
		if errors.Is(err, baseline.ErrListSubjects) {
			return nil, withCode(exitError, fmt.Errorf("check: %w; grant the credentials read on the subject list, or pass --deleted-subjects=false to check only the tree's subjects (deleted subjects then go unreported)", err))
		} else if errors.Is(err, baseline.ErrInvalidSchema) {
			return nil, withCode(exitInvalid, fmt.Errorf("check: %w", err))
		} else if err != nil {
			return nil, withCode(exitError, fmt.Errorf("check: %w", err))
		}
		return h, nil
	default:
		dir := strings.TrimPrefix(f.against, "dir:")
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, withCode(exitError, fmt.Errorf("check: --against %q is not git:REF, an http(s) registry URL or a directory", f.against))
		}
		set, err := schemas.Load(dir)
		if err != nil {
			return nil, loadErr("check", "baseline "+dir, err)
		}
		snap, err := compat.SnapshotOf(set, dir)
		if err != nil {
			return nil, withCode(exitInvalid, err)
		}
		return []compat.Snapshot{snap}, nil
	}
}

// schemaDirName names the schema directory as the repository knows it
// ("schemas/"), for messages.
func schemaDirName(repo *baseline.Repo, dir string) string {
	if p := repo.Prefix(); p != "" {
		return p
	}
	return filepath.ToSlash(filepath.Clean(dir)) + "/"
}

// terminal reports whether w is a terminal: progress goes there, never to CI logs.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}
