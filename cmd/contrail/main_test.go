package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runCLI runs the CLI in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version")
	if code != 0 || !strings.HasPrefix(out, "contrail ") {
		t.Fatalf("version: code %d, out %q", code, out)
	}
}

func TestHelpOnEverySubcommand(t *testing.T) {
	root := newRoot(&cliEnv{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}})
	for _, c := range root.Commands() {
		if c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			code, out, errOut := runCLI(t, c.Name(), "--help")
			if code != 0 || !strings.Contains(out, "Usage:") {
				t.Fatalf("%s --help: code %d\nstdout: %s\nstderr: %s", c.Name(), code, out, errOut)
			}
		})
	}
}

func TestUnknownCommandFails(t *testing.T) {
	code, _, errOut := runCLI(t, "no-such-command")
	if code != exitError || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("code %d, stderr %q", code, errOut)
	}
}
