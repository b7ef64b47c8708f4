package main

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/broker"
	"github.com/contrail-events/contrail/schemas"
)

func init() { register(newBrokerCmd) }

type brokerFlags struct {
	addr       string
	dataDir    string
	partitions int
	syncWrites bool
	topics     []string
	noManifest bool
	schemasDir string
}

func newBrokerCmd(env *cliEnv) *cobra.Command {
	var f brokerFlags
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Run the embedded Kafka-protocol broker (kfake) until interrupted",
		Long: "broker runs a single-node Kafka-protocol broker on --addr. It creates the manifest's topics\n" +
			"(and a <topic>.dlq twin for each) with the manifest's partition counts, or --partitions when\n" +
			"given, and other topics on first use; with --data-dir it keeps\n" +
			"records, committed offsets and transaction state across restarts. SIGINT or SIGTERM closes\n" +
			"it cleanly, writing all state to disk first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			topics, err := brokerTopics(f, cmd.Flags().Changed("partitions"))
			if err != nil {
				return withCode(exitError, err)
			}
			log := slog.New(slog.NewTextHandler(env.stderr, nil))
			b, err := broker.New(broker.Addr(f.addr), broker.DataDir(f.dataDir), broker.SyncWrites(f.syncWrites),
				broker.Partitions(f.partitions), broker.Topics(topics...), broker.Logger(log))
			if err != nil {
				return withCode(exitError, err)
			}
			if err := b.Start(); err != nil {
				return withCode(exitError, err)
			}
			fmt.Fprintf(env.stdout, "broker listening on %s\n", b.Addr())
			<-cmd.Context().Done()
			return b.Close()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.addr, "addr", broker.DefaultAddr, "address to listen on (port 0 picks a free port)")
	fl.StringVar(&f.dataDir, "data-dir", "", "directory to persist state in (empty: memory only)")
	fl.IntVar(&f.partitions, "partitions", broker.DefaultPartitions, "partitions per created topic")
	fl.BoolVar(&f.syncWrites, "sync-writes", true, "fsync every write before acknowledging it (with --data-dir)")
	fl.StringSliceVar(&f.topics, "topic", nil, "extra topic to create (repeatable)")
	fl.StringVar(&f.schemasDir, "schemas", "", "schema tree whose manifest lists the topics (default: the built-in schemas)")
	fl.BoolVar(&f.noManifest, "no-manifest", false, "create only the --topic topics, none from a manifest")
	return cmd
}

// brokerTopics lists the topics to create: the manifest's (with its
// partition counts unless --partitions was given) and the --topic flags.
func brokerTopics(f brokerFlags, partitionsSet bool) ([]broker.Topic, error) {
	var out []broker.Topic
	if !f.noManifest {
		var (
			set *schemas.Set
			err error
		)
		if f.schemasDir != "" {
			set, err = schemas.Load(f.schemasDir)
		} else {
			set, err = schemas.Default()
		}
		if err != nil {
			return nil, fmt.Errorf("broker: load the manifest's topics: %w", err)
		}
		for _, t := range set.Topics {
			if partitionsSet || t.Partitions == 0 {
				t.Partitions = f.partitions
			}
			out = append(out, broker.Topic{Name: t.Name, Partitions: t.Partitions})
		}
	}
	for _, name := range f.topics {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("broker: --topic needs a topic name")
		}
		if !slices.ContainsFunc(out, func(t broker.Topic) bool { return t.Name == name }) {
			out = append(out, broker.Topic{Name: name, Partitions: f.partitions})
		}
	}
	return out, nil
}
