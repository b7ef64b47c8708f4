package jaegerapi

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OrderTags are the span tags Lookup searches for an order id: the order id
// attribute services set and the Kafka message key (Contrail keys order
// events by order id).
var OrderTags = []string{"contrail.order.id", "messaging.kafka.message.key"}

// Lookup finds the trace for ref, which is a trace id (hex) or an order id.
// A ref that looks like a trace id is fetched directly; otherwise, or if no
// such trace exists, every service is searched for spans tagged with ref
// under OrderTags within lookback. It returns the newest matching trace and
// the ids of any older ones. It returns ErrNotFound if nothing matches.
func (c *Client) Lookup(ctx context.Context, ref string, lookback time.Duration) (Trace, []string, error) {
	if isTraceID(ref) {
		t, err := c.Trace(ctx, ref)
		if err == nil {
			return t, nil, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return Trace{}, nil, err
		}
	}
	var found []Trace
	seen := map[string]bool{}
	for _, tag := range OrderTags {
		ts, err := c.FindAnyService(ctx, Query{Tags: map[string]string{tag: ref}, Lookback: lookback})
		if err != nil {
			return Trace{}, nil, err
		}
		for _, t := range ts {
			if !seen[t.TraceID] {
				seen[t.TraceID] = true
				found = append(found, t)
			}
		}
	}
	if len(found) == 0 {
		return Trace{}, nil, fmt.Errorf("%w: no trace with id %q and no span tagged %v=%q in the last %v", ErrNotFound, ref, OrderTags, ref, lookback)
	}
	sortNewestFirst(found)
	var others []string
	for _, t := range found[1:] {
		others = append(others, t.TraceID)
	}
	// Search results may be partial; fetch the whole trace.
	full, err := c.Trace(ctx, found[0].TraceID)
	if err != nil {
		return found[0], others, nil
	}
	return full, others, nil
}

func isTraceID(s string) bool {
	if len(s) < 16 || len(s) > 32 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
