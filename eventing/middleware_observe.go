package eventing

import (
	"context"
	"log/slog"
	"time"
)

// observeMiddleware is the outermost stage: it times the whole handling,
// counts the outcome and logs it with the event id, the key (the order id
// in the order flow), the trace id and the record's position.
func observeMiddleware(log *slog.Logger, hm *handlerMetrics) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, m *Message) error {
			start := time.Now()
			err := next(ctx, m)
			hm.latency.Observe(time.Since(start).Seconds())
			switch {
			case err != nil:
				log.LogAttrs(ctx, slog.LevelError, "handling failed; record not committed", append(logAttrs(m), slog.String("error", err.Error()))...)
			case m.duplicate:
				hm.duplicates.Inc()
				log.LogAttrs(ctx, slog.LevelInfo, "duplicate event dropped by the inbox", logAttrs(m)...)
			case m.deadLettered:
				// counted and logged by the dead-letter hook
			default:
				hm.handled.Inc()
				if log.Enabled(ctx, slog.LevelDebug) {
					log.LogAttrs(ctx, slog.LevelDebug, "event handled", logAttrs(m)...)
				}
			}
			return err
		}
	}
}

func logAttrs(m *Message) []slog.Attr {
	return []slog.Attr{
		slog.String("event_id", m.EventID),
		slog.String("event_type", m.EventType),
		slog.String("order_id", m.Key),
		slog.String("trace_id", m.TraceID),
		slog.String("topic", m.Record.Topic),
		slog.Int("partition", int(m.Record.Partition)),
		slog.Int64("offset", m.Record.Offset),
		slog.Int("attempt", m.Attempt),
	}
}
