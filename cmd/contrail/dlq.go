package main

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/eventing/host"
)

func init() { register(newDLQCmd) }

func newDLQCmd(env *cliEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Work with dead-letter topics",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newDLQReplayCmd(env))
	return cmd
}

// defaultBrokers reads the Kafka-style broker list from KAFKA_BROKERS, then
// CONTRAIL_BROKERS, else the embedded broker's address.
func defaultBrokers() string {
	if b := host.EnvBrokers(nil); len(b) > 0 {
		return strings.Join(b, ",")
	}
	return strings.Join(eventing.DefaultBrokers, ",")
}

func newDLQReplayCmd(env *cliEnv) *cobra.Command {
	var (
		cfg     eventing.ReplayConfig
		brokers string
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "replay --topic <topic>.dlq",
		Short: "Republish dead letters to their original topics",
		Long: "replay republishes the dead letters of --topic that were not replayed before (progress is kept\n" +
			"in the consumer group --group) to the topic named in their contrail-dlq-topic header, with the\n" +
			"original key, value and headers. Fix the cause first: records that fail again are dead-lettered again.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, b := range strings.Split(brokers, ",") {
				if b = strings.TrimSpace(b); b != "" {
					cfg.Brokers = append(cfg.Brokers, b)
				}
			}
			if verbose {
				cfg.Logger = slog.New(slog.NewTextHandler(env.stderr, nil))
			}
			if err := cfg.Validate(); err != nil {
				return withCode(exitError, err)
			}
			res, err := eventing.ReplayDLQ(cmd.Context(), cfg)
			if err != nil {
				return withCode(exitError, err)
			}
			verb := "replayed"
			if cfg.DryRun {
				verb = "would replay"
			}
			topics := make([]string, 0, len(res.Replayed))
			total := 0
			for t, n := range res.Replayed {
				topics = append(topics, t)
				total += n
			}
			sort.Strings(topics)
			fmt.Fprintf(env.stdout, "%s %d dead letters from %s\n", verb, total, cfg.Topic)
			for _, t := range topics {
				fmt.Fprintf(env.stdout, "  %s: %d\n", t, res.Replayed[t])
			}
			if len(res.Skipped) > 0 {
				fmt.Fprintf(env.stdout, "skipped %d records without a contrail-dlq-topic header (left in %s): %s\n",
					len(res.Skipped), cfg.Topic, strings.Join(res.Skipped, ", "))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.Topic, "topic", "", "dead-letter topic to replay, e.g. orders.dlq (required)")
	fl.StringVar(&brokers, "brokers", defaultBrokers(), "comma-separated seed brokers (env KAFKA_BROKERS)")
	fl.StringVar(&cfg.Group, "group", "contrail-dlq-replay", "consumer group that remembers replay progress")
	fl.BoolVar(&cfg.DryRun, "dry-run", false, "list what would be replayed; produce and commit nothing")
	fl.BoolVarP(&verbose, "verbose", "v", false, "log every replayed record to stderr")
	_ = cmd.MarkFlagRequired("topic")
	return cmd
}
