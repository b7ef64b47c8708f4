package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/codegen"
	"github.com/contrail-events/contrail/schemas"
)

func init() { register(newGenCmd) }

type genFlags struct {
	schemas string
	out     string
	check   bool
}

func newGenCmd(env *cliEnv) *cobra.Command {
	var fl genFlags
	cmd := &cobra.Command{
		Use:   "gen",
		Short: "Generate Go types and topic bindings from schemas/ (or check they are current)",
		Long: `gen loads the schema tree (every .avsc under --schemas plus its manifest.yaml) and
writes one Go package per Avro namespace under --out (contrail.orders -> <out>/orders).

Invalid schemas fail with file:line:col and exit code 2; nothing is written.
A --schemas directory that cannot be read is exit code 1.
With --check nothing is written either: gen compares --out with what the schemas
produce and exits 1, naming every stale, missing or extra file.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runGen(env, fl) },
	}
	cmd.Flags().StringVar(&fl.schemas, "schemas", "schemas", "schema root: manifest.yaml and the .avsc files")
	cmd.Flags().StringVar(&fl.out, "out", "events", "output directory; namespace a.b.x becomes package <out>/x")
	cmd.Flags().BoolVar(&fl.check, "check", false, "write nothing; exit 1 if the generated files are stale, missing or extra")
	return cmd
}

func runGen(env *cliEnv, fl genFlags) error {
	set, err := schemas.Load(fl.schemas)
	if err != nil {
		var se *schemas.Error
		if errors.As(err, &se) || errors.Is(err, schemas.ErrNoManifest) {
			return withCode(exitInvalid, err)
		}
		// Not the schemas' fault: the directory is missing or unreadable.
		return withCode(exitError, fmt.Errorf("gen: --schemas %s: %w", fl.schemas, err))
	}
	importPath, root, err := codegen.ImportPathOf(fl.out)
	if err != nil {
		return err
	}
	files, err := codegen.Generate(set, codegen.Config{ImportPath: importPath, SourceDir: codegen.RelSlash(root, fl.schemas)})
	if err != nil {
		var list schemas.ErrorList
		if errors.As(err, &list) {
			return withCode(exitInvalid, err)
		}
		return err
	}
	if fl.check {
		d, err := codegen.Compare(fl.out, files)
		if err != nil {
			return err
		}
		if !d.Empty() {
			fmt.Fprint(env.stdout, d.String())
			return withCode(exitError, fmt.Errorf("gen --check: generated code in %s is out of date with %s: run `contrail gen` (or `go generate ./events`) and commit the result", fl.out, fl.schemas))
		}
		fmt.Fprintf(env.stdout, "contrail gen: %d files in %s are up to date\n", len(files), fl.out)
		return nil
	}
	d, err := codegen.Write(fl.out, files)
	if err != nil {
		return err
	}
	for _, p := range append(append([]string(nil), d.Stale...), d.Missing...) {
		fmt.Fprintf(env.stdout, "wrote   %s\n", p)
	}
	for _, p := range d.Extra {
		fmt.Fprintf(env.stdout, "removed %s\n", p)
	}
	fmt.Fprintf(env.stdout, "contrail gen: %d files from %d schemas in %s: %d written, %d removed, %d unchanged\n",
		len(files), len(set.Types), fl.out, len(d.Stale)+len(d.Missing), len(d.Extra), len(files)-len(d.Stale)-len(d.Missing))
	return nil
}
