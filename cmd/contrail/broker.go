package main

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/broker"
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
			"(and a <topic>.dlq twin for each) with --partitions partitions, and with --data-dir keeps\n" +
			"records, committed offsets and transaction state across restarts. SIGINT or SIGTERM closes\n" +
			"it cleanly, writing all state to disk first.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			topics, err := brokerTopics(f)
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
	return cmd
}

// brokerTopics lists the topics to create: the --topic flags.
func brokerTopics(f brokerFlags) ([]broker.Topic, error) {
	var out []broker.Topic
	for _, name := range f.topics {
		name = strings.TrimSpace(name)
		if name == "" {
			return nil, fmt.Errorf("broker: --topic needs a topic name")
		}
		out = append(out, broker.Topic{Name: name, Partitions: f.partitions})
	}
	return out, nil
}
