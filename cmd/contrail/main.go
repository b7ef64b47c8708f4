// Command contrail is the one CLI over Contrail's libraries: it generates Go
// code from schemas, checks compatibility, serves the registry and the
// embedded broker, runs the reference services and the whole platform.
//
// Every subcommand lives in its own file and is a thin wrapper: the work is
// done by the library packages it imports.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
