package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/compat/report"
	"github.com/contrail-events/contrail/contract"
	"github.com/contrail-events/contrail/wire"
)

func init() { register(newContractCmd) }

func newContractCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "contract",
		Short: "Consumer-driven contracts: export, publish and verify what consumers read",
		Long: `contract manages consumer-driven contracts for Avro events. A contract is one consumer's
reader schema for one event plus the fields it relies on, stored as
contracts/<consumer>/<subject>.json and published to the registry under the reserved
subject "` + contract.SubjectPrefix + `<consumer>.<subject>".`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newContractExportCmd(env), newContractPublishCmd(env), newContractVerifyCmd(env), newContractSnapshotCmd(env))
	return cmd
}

// contractFlags are the flags the contract subcommands share.
type contractFlags struct {
	schemas   string
	contracts string
	registry  string
	consumers []string
	format    string
	noFiles   bool
}

func newContractExportCmd(env *cliEnv) *cobra.Command {
	var f contractFlags
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write one contract file per consumer and subject from the manifest's consumers lists",
		Long: `export derives a contract for every (consumer, event) pair in the manifest's consumers
lists, with the event's current schema as the consumer's reader schema, and writes it to
<contracts>/<consumer>/<subject>.json. Commit the files. A contract that already exists keeps
its "fields" list (the fields the consumer relies on; empty means every top-level field),
so narrow it by hand once and re-export freely.`,
		Example: `  contrail contract export
  contrail contract export --consumer inventory --contracts contracts`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, consumers, err := contract.ExportTree(f.schemas, f.contracts, f.consumers)
			if err != nil {
				return exitFor(err)
			}
			for _, name := range files {
				fmt.Fprintln(env.stdout, name)
			}
			fmt.Fprintf(env.stdout, "exported %d contracts of %d consumers\n", len(files), len(consumers))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.schemas, "schemas", "schemas", "schema tree (holds manifest.yaml)")
	fl.StringVar(&f.contracts, "contracts", contract.DefaultDir, "contracts directory to write")
	fl.StringSliceVar(&f.consumers, "consumer", nil, "export only these consumers (repeatable)")
	return cmd
}

func newContractPublishCmd(env *cliEnv) *cobra.Command {
	var f contractFlags
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Register the contract files with the schema registry so producers elsewhere can verify against them",
		Long: `publish registers every contract in --contracts under the reserved subject
"` + contract.SubjectPrefix + `<consumer>.<subject>" (compatibility NONE: consumers may change what
they read; the contract constrains producers). The contract's metadata travels in the
schema's "` + contract.MetaProp + `" property. Publishing an unchanged contract is a no-op.
` + contractAuthHelp,
		Example: `  contrail contract publish --registry http://localhost:8081 --consumer inventory
  CONTRAIL_REGISTRY_USER=ci CONTRAIL_REGISTRY_PASSWORD=... contrail contract publish --registry https://registry.example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pubs, err := contract.PublishDir(cmd.Context(), contract.PublishOptions{Contracts: f.contracts, Registry: f.registry, Consumers: f.consumers})
			for _, p := range pubs {
				fmt.Fprintf(env.stdout, "%s: id %d version %d\n", p.Subject, p.ID, p.Version)
			}
			if err != nil {
				return exitFor(err)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.contracts, "contracts", contract.DefaultDir, "contracts directory to publish")
	fl.StringVar(&f.registry, "registry", wire.DefaultRegistryURL, "schema registry URL")
	fl.StringSliceVar(&f.consumers, "consumer", nil, "publish only these consumers' contracts (repeatable)")
	return cmd
}

func newContractVerifyCmd(env *cliEnv) *cobra.Command {
	var f contractFlags
	var rules strings.Builder
	for _, r := range contract.Rules() {
		fmt.Fprintf(&rules, "  %-36s %s\n", r.ID, r.Purpose)
	}
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Can I deploy? Check that every consumer contract can read the producer schemas",
		Long: `verify checks every consumer contract (from --contracts files and, with --registry, the
contracts published there) against the event schemas in --schemas: each contract's reader
schema must read the producer's schema under Avro resolution (the rules of ` + "`contrail check`" + `),
and every field the consumer relies on must still be written. Findings name the consumer,
the event and the field.
` + contractAuthHelp + `
Exit codes:
  0    every contract holds
  100  a contract breaks
  1    usage or tool error (bad flag, registry unreachable)
  2    invalid input (schemas or contract files do not parse)

Contract rules (in addition to check's schema-resolution rules):
` + rules.String(),
		Example: `  contrail contract verify
  contrail contract verify --registry http://localhost:8081 --format github-actions`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runContractVerify(cmd.Context(), env, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.schemas, "schemas", "schemas", "producer schema tree (holds manifest.yaml)")
	fl.StringVar(&f.contracts, "contracts", contract.DefaultDir, "contracts directory (a missing directory holds no contracts)")
	fl.BoolVar(&f.noFiles, "no-files", false, "ignore --contracts; use only the registry's contracts")
	fl.StringVar(&f.registry, "registry", "", "also verify the contracts published at this registry URL")
	fl.StringSliceVar(&f.consumers, "consumer", nil, "verify only these consumers' contracts (repeatable)")
	fl.StringVar(&f.format, "format", "text", "output format: "+strings.Join(report.Formats, ", "))
	return cmd
}

func runContractVerify(ctx context.Context, env *cliEnv, f contractFlags) error {
	if !validFormat(f.format) {
		return withCode(exitError, fmt.Errorf("contract verify: unknown --format %q: use one of %s", f.format, strings.Join(report.Formats, ", ")))
	}
	res, err := contract.VerifyTree(ctx, contract.VerifyOptions{
		Schemas: f.schemas, Contracts: f.contracts, NoFiles: f.noFiles, Registry: f.registry, Consumers: f.consumers,
	})
	if err != nil {
		return exitFor(err)
	}
	if err := report.Write(env.stdout, f.format, res); err != nil {
		return withCode(exitError, fmt.Errorf("contract verify: %w", err))
	}
	if res.Breaking() {
		return withCode(exitBreaking, nil)
	}
	return nil
}

// contractAuthHelp is the registry credentials paragraph of publish's and
// verify's help.
const contractAuthHelp = `
Registry basic auth comes from the URL (https://user:password@host) or from
$CONTRAIL_REGISTRY_USER and $CONTRAIL_REGISTRY_PASSWORD, as for ` + "`contrail check`" + `.
The password is never printed.
`

type snapshotFlags struct {
	schemas, examples, history string
}

func newContractSnapshotCmd(env *cliEnv) *cobra.Command {
	var f snapshotFlags
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Encode the example events with the current schemas as golden payloads",
		Long: `snapshot validates every example event (<examples>/<event full name>/*.json, Avro JSON
encoding), encodes it with the event's current schema and writes the payloads and the writer
schema to <history>/<event>/<fingerprint>/. Directories of earlier schema versions are kept:
they are the golden history every current reader must still decode (go test ./contract checks
it). Run it after every schema change and commit the result.

Exit codes: 0 written, 1 tool error, 2 invalid schemas or examples.`,
		Example: `  contrail contract snapshot`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			dirs, examples, err := contract.SnapshotTree(f.schemas, f.examples, f.history)
			if err != nil {
				return exitFor(err)
			}
			for _, d := range dirs {
				fmt.Fprintln(env.stdout, d)
			}
			fmt.Fprintf(env.stdout, "snapshot: %d examples of %d events encoded\n", examples, len(dirs))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.schemas, "schemas", "schemas", "schema tree (holds manifest.yaml)")
	fl.StringVar(&f.examples, "examples", "", "example events directory (default <schemas>/examples)")
	fl.StringVar(&f.history, "history", "", "golden payload directory (default <schemas>/history)")
	return cmd
}
