package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/compat/check"
	"github.com/contrail-events/contrail/compat/report"
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
	for _, r := range check.Rules() {
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
	opts := check.Options{
		Schemas: f.schemas, Against: f.against, Transitive: f.transitive, Level: compat.Level(f.level),
		Exceptions: f.exceptions, SkipDeletedSubjects: !f.deleted,
		OnNote: func(msg string) { fmt.Fprintln(env.stderr, "contrail check:", msg) },
	}
	if err := opts.Validate(); err != nil {
		return withCode(exitError, err)
	}
	if !validFormat(f.format) {
		return withCode(exitError, fmt.Errorf("check: unknown --format %q: use one of %s", f.format, strings.Join(report.Formats, ", ")))
	}
	if terminal(env.stderr) {
		opts.OnProgress = func(done, total int) {
			fmt.Fprintf(env.stderr, "\rcontrail check: loading %s history: %d/%d versions", f.against, done, total)
			if done == total {
				fmt.Fprintln(env.stderr)
			}
		}
	}
	res, err := check.Run(ctx, opts)
	if err != nil {
		return exitFor(err)
	}
	if err := report.Write(env.stdout, f.format, res); err != nil {
		return withCode(exitError, fmt.Errorf("check: %w", err))
	}
	if res.Breaking() {
		return withCode(exitBreaking, nil)
	}
	return nil
}

// exitFor maps a library error to its exit code: 2 for invalid input
// (compat.ErrInvalidInput), 1 for any other failure.
func exitFor(err error) error {
	if errors.Is(err, compat.ErrInvalidInput) {
		return withCode(exitInvalid, err)
	}
	return withCode(exitError, err)
}

// validFormat reports whether s is one of report.Formats.
func validFormat(s string) bool { return slices.Contains(report.Formats, s) }

// terminal reports whether w is a terminal: progress goes there, never to CI logs.
func terminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isatty.IsTerminal(f.Fd())
}
