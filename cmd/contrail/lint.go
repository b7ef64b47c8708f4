package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/lint"
)

func init() { register(newLintCmd) }

// lintFlags are `contrail lint`'s flags.
type lintFlags struct {
	schemas   string
	tier      string
	format    string
	listRules bool
}

func newLintCmd(env *cliEnv) *cobra.Command {
	var f lintFlags
	cmd := &cobra.Command{
		Use:   "lint [PATH...]",
		Short: "Check the schemas' style: naming, enum defaults, unions, logical types, docs",
		Long: `lint checks the schema tree against style rules with stable IDs, in tiers (MINIMAL,
BASIC, STANDARD, DOCS; each includes the ones before it), and reports every finding
with its rule and file:line:col. PATHs (files or folders inside the tree) limit the
findings reported; the whole tree is always read.

The manifest's lint section chooses the rules (tier, use, except, field_case) and
accepts findings with ignore entries, each with a mandatory reason; a schema accepts
its own with "contrail.lint.ignore": [{"rule": "RULE_ID", "reason": "..."}].

Exit codes:
  0    no error findings (warnings may be printed)
  100  lint findings
  1    usage or tool error (bad flag, unreadable file)
  2    invalid input (the schemas or the lint configuration do not parse)

contrail lint --list-rules prints every rule with its tier and purpose.`,
		Example: `  contrail lint
  contrail lint --tier DOCS schemas/contrail/orders
  contrail lint --format github-actions`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLint(cmd.Context(), env, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.schemas, "schemas", "schemas", "schema tree to lint (holds manifest.yaml)")
	fl.StringVar(&f.tier, "tier", "", "rule tier to run, overriding the manifest's: MINIMAL, BASIC, STANDARD or DOCS (default the manifest's, else STANDARD)")
	fl.StringVar(&f.format, "format", "text", "output format: "+strings.Join(report.Formats, ", "))
	fl.BoolVar(&f.listRules, "list-rules", false, "print every rule (ID, tier, purpose) and exit")
	return cmd
}

func runLint(ctx context.Context, env *cliEnv, f lintFlags, paths []string) error {
	if f.listRules {
		for _, r := range lint.Rules() {
			fmt.Fprintf(env.stdout, "%-32s %-8s %s\n", r.ID, r.Tier, r.Purpose)
		}
		return nil
	}
	opts := lint.Options{Schemas: f.schemas, Paths: paths}
	if f.tier != "" {
		t, err := lint.ParseTier(f.tier)
		if err != nil {
			return withCode(exitError, fmt.Errorf("%w (--tier)", err))
		}
		opts.Tier = t
	}
	if !validFormat(f.format) {
		return withCode(exitError, fmt.Errorf("lint: unknown --format %q: use one of %s", f.format, strings.Join(report.Formats, ", ")))
	}
	if err := opts.Validate(); err != nil {
		return withCode(exitError, err)
	}
	res, err := lint.Run(ctx, opts)
	if err != nil {
		return exitFor(err)
	}
	if err := report.Write(env.stdout, f.format, res); err != nil {
		return withCode(exitError, fmt.Errorf("lint: %w", err))
	}
	if res.Breaking() {
		return withCode(exitBreaking, nil)
	}
	return nil
}
