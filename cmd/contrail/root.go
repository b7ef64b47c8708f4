package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
)

// Exit codes shared by every subcommand. They are part of the CLI's contract:
// CI pipelines branch on them.
const (
	exitOK       = 0
	exitError    = 1   // usage or tool error
	exitInvalid  = 2   // invalid schema input
	exitBreaking = 100 // breaking changes found (check, contract verify)
)

// exitCodeError is returned by a subcommand's RunE to choose the exit code
// without printing anything more (the command printed its own output).
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit code %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

// withCode wraps err so run exits with code. A nil err still sets the code,
// for results such as "breaking changes found" that are not tool failures.
func withCode(code int, err error) error { return &exitCodeError{code: code, err: err} }

// cliEnv is what every subcommand gets: its streams. Tests call run with
// buffers, so no subcommand may touch os.Stdout or os.Stderr directly.
type cliEnv struct {
	stdout io.Writer
	stderr io.Writer
}

// subcommands is filled by each subcommand file's init, so adding a command
// never edits this file.
var subcommands []func(*cliEnv) *cobra.Command

func register(f func(*cliEnv) *cobra.Command) { subcommands = append(subcommands, f) }

func newRoot(env *cliEnv) *cobra.Command {
	root := &cobra.Command{
		Use:           "contrail",
		Short:         "Schema-first events for Go on Kafka and Redpanda",
		Long:          "contrail generates typed Go events from Avro schemas, blocks breaking schema changes,\nserves a Confluent-compatible schema registry and runs the reference order flow.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	cmds := make([]*cobra.Command, 0, len(subcommands))
	for _, f := range subcommands {
		cmds = append(cmds, f(env))
	}
	sort.Slice(cmds, func(i, j int) bool { return cmds[i].Name() < cmds[j].Name() })
	root.AddCommand(cmds...)
	return root
}

// run executes the CLI with args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	env := &cliEnv{stdout: stdout, stderr: stderr}
	root := newRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ce *exitCodeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintln(stderr, "contrail:", ce.err)
		}
		return ce.code
	}
	fmt.Fprintln(stderr, "contrail:", err)
	return exitError
}
