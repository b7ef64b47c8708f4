// Package evolutionapp is the producer and consumer program of the schema
// evolution test, written once over a generated binding so that each schema
// version's fixture (contract/testdata/evolution/vN/app) is a real service
// built from that version's generated types: a few lines of main.
//
// Each version runs in its own process: generated packages register their
// named types globally, so two versions of one type cannot share a binary,
// exactly as two deployed versions of a service do not.
package evolutionapp

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/registry/regclient"
	"github.com/contrail-events/contrail/registry/serde"
)

// Main runs the program: `produce` publishes -n events built by build(i),
// `consume` handles events in consumer group -group until it has handled -n,
// printing each as one JSON line on stdout. It exits 0 on success, 1 on any
// error (printed on stderr).
func Main[T any](b *events.Binding[T], build func(i int) *T) {
	if err := run(os.Args[1:], os.Stdout, b, build); err != nil {
		fmt.Fprintln(os.Stderr, "evolutionapp:", err)
		os.Exit(1)
	}
}

func run[T any](args []string, stdout io.Writer, b *events.Binding[T], build func(i int) *T) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: produce|consume -brokers ADDR -registry URL -n N [-group G]")
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	brokers := fs.String("brokers", "", "broker address")
	registryURL := fs.String("registry", "", "schema registry URL")
	n := fs.Int("n", 1, "events to produce or consume")
	group := fs.String("group", "", "consumer group")
	timeout := fs.Duration("timeout", 60*time.Second, "give up after")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	cl, _, err := regclient.New(*registryURL, regclient.WithCredentials("", ""))
	if err != nil {
		return err
	}
	// Lookup only: the schemas were pushed by `contrail registry push`, as
	// in production.
	codec, err := serde.New(cl, serde.AutoRegister(false))
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	switch args[0] {
	case "produce":
		p, err := eventing.NewPublisher(eventing.Brokers(*brokers), eventing.WithCodec(codec), eventing.WithLogger(logger))
		if err != nil {
			return err
		}
		defer p.Close()
		for i := 0; i < *n; i++ {
			if err := p.Publish(ctx, b, build(i)); err != nil {
				return fmt.Errorf("publish %d: %w", i, err)
			}
		}
		return nil
	case "consume":
		r, err := eventing.NewRouter(eventing.Brokers(*brokers), eventing.WithCodec(codec), eventing.Group(*group),
			eventing.WithLogger(logger), eventing.CommitInterval(100*time.Millisecond))
		if err != nil {
			return err
		}
		var mu sync.Mutex
		seen := 0
		rctx, stop := context.WithCancel(ctx)
		defer stop()
		enc := json.NewEncoder(stdout)
		eventing.Handle(r, b, func(_ context.Context, e *T) error {
			mu.Lock()
			defer mu.Unlock()
			if err := enc.Encode(e); err != nil {
				return err
			}
			if seen++; seen >= *n {
				stop()
			}
			return nil
		})
		if err := r.Run(rctx); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if seen < *n {
			return fmt.Errorf("handled %d of %d events before the timeout", seen, *n)
		}
		return nil
	}
	return fmt.Errorf("unknown mode %q: use produce or consume", args[0])
}
