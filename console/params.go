package console

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/contrail-events/contrail/compat"
)

// Limits of the query parameters.
const (
	defaultLimit = 50
	maxLimit     = 500
	maxNameLen   = 249 // Kafka's topic name limit; also bounds ids and subjects
)

// messagesQuery is what /topics/{topic}/messages reads.
type messagesQuery struct {
	Topic     string
	Partition int32 // -1: every partition
	Offset    int64 // -1: not given
	Time      time.Time
	Limit     int
}

// parseMessagesQuery reads partition, offset or time, and limit. Errors
// are 400 pages that say which parameter is wrong and what it takes.
func parseMessagesQuery(topic string, q url.Values) (messagesQuery, error) {
	m := messagesQuery{Topic: topic, Partition: -1, Offset: -1, Limit: defaultLimit}
	if err := checkTopic(topic); err != nil {
		return m, err
	}
	if v := q.Get("partition"); v != "" {
		p, err := strconv.ParseInt(v, 10, 32)
		if err != nil || p < 0 {
			return m, badRequest("partition %q is not a partition number: use 0, 1, ... or leave it empty for every partition", clip(v))
		}
		m.Partition = int32(p)
	}
	off, tm := q.Get("offset"), q.Get("time")
	if off != "" && tm != "" {
		return m, badRequest("give offset or time, not both")
	}
	if off != "" {
		o, err := strconv.ParseInt(off, 10, 64)
		if err != nil || o < 0 {
			return m, badRequest("offset %q is not an offset: use a number from 0 up (the topic page shows each partition's range)", clip(off))
		}
		m.Offset = o
	}
	if tm != "" {
		t, err := parseTime(tm)
		if err != nil {
			return m, err
		}
		m.Time = t
	}
	l, err := parseLimit(q.Get("limit"), defaultLimit, maxLimit)
	if err != nil {
		return m, err
	}
	m.Limit = l
	return m, nil
}

// parseTime accepts RFC 3339 ("2026-01-02T15:04:05Z"), the HTML
// datetime-local form ("2026-01-02T15:04", read as UTC) and Unix
// milliseconds.
func parseTime(v string) (time.Time, error) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		if ms < 0 || ms > 1<<52 {
			return time.Time{}, badRequest("time %q is out of range", clip(v))
		}
		return time.UnixMilli(ms).UTC(), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				break
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, badRequest("time %q is not a time: use RFC 3339 such as 2026-01-02T15:04:05Z (UTC), or Unix milliseconds", clip(v))
}

func parseLimit(v string, def, most int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > most {
		return 0, badRequest("limit %q is out of range: use 1 to %d", clip(v), most)
	}
	return n, nil
}

// checkTopic accepts Kafka topic names: 1 to 249 of [A-Za-z0-9._-].
func checkTopic(t string) error {
	if t == "" || len(t) > maxNameLen || t == "." || t == ".." {
		return badRequest("%q is not a topic name", clip(t))
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return badRequest("%q is not a topic name: topics use letters, digits, '.', '_' and '-'", clip(t))
		}
	}
	return nil
}

// checkID accepts order ids, trace ids and subjects' path segments: 1 to
// 249 printable characters without spaces or slashes.
func checkID(kind, v string) error {
	if v == "" || len(v) > maxNameLen {
		return badRequest("%s %q is empty or too long", kind, clip(v))
	}
	for _, r := range v {
		if r <= ' ' || r == 0x7f || r == '/' || r == '\\' {
			return badRequest("%s %q contains a space, a slash or a control character", kind, clip(v))
		}
	}
	return nil
}

// diffQuery is what /schemas/{subject}/diff reads: two versions (numbers,
// or "latest") and an optional level override.
type diffQuery struct {
	From, To int // -1: latest
	Level    compat.Level
}

func parseDiffQuery(q url.Values) (diffQuery, error) {
	d := diffQuery{}
	var err error
	if d.From, err = parseVersion("from", q.Get("from")); err != nil {
		return d, err
	}
	if d.To, err = parseVersion("to", q.Get("to")); err != nil {
		return d, err
	}
	if q.Get("from") == "" || q.Get("to") == "" {
		return d, badRequest("give both versions to compare, e.g. ?from=1&to=2")
	}
	if v := q.Get("level"); v != "" {
		l, err := compat.ParseLevel(v)
		if err != nil {
			return d, badRequest("level: %v", err)
		}
		d.Level = l
	}
	return d, nil
}

func parseVersion(name, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	if strings.EqualFold(v, "latest") {
		return -1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, badRequest("%s %q is not a version: use 1, 2, ... or latest", name, clip(v))
	}
	return n, nil
}

// replayQuery is the record a replay names; Partition -1 means every
// waiting dead letter.
type replayQuery struct {
	Partition int32
	Offset    int64
}

func parseReplayQuery(q url.Values) (replayQuery, error) {
	p, o := q.Get("partition"), q.Get("offset")
	if p == "" && o == "" {
		return replayQuery{Partition: -1, Offset: -1}, nil
	}
	if p == "" || o == "" {
		return replayQuery{}, badRequest("to replay one dead letter give its partition and offset; give neither to replay every waiting one")
	}
	pn, err := strconv.ParseInt(p, 10, 32)
	if err != nil || pn < 0 {
		return replayQuery{}, badRequest("partition %q is not a partition number", clip(p))
	}
	on, err := strconv.ParseInt(o, 10, 64)
	if err != nil || on < 0 {
		return replayQuery{}, badRequest("offset %q is not an offset", clip(o))
	}
	return replayQuery{Partition: int32(pn), Offset: on}, nil
}

// ordersQuery is what /orders reads and passes on to the order service.
type ordersQuery struct {
	After  string // the order service's cursor (digits)
	Limit  int
	Since  time.Time
	Within string // a preset such as "15m", shown back in the form
	Open   bool
}

func parseOrdersQuery(q url.Values, now time.Time) (ordersQuery, error) {
	o := ordersQuery{}
	if a := q.Get("after"); a != "" {
		if n, err := strconv.ParseInt(a, 10, 64); err != nil || n < 0 {
			return o, badRequest("after %q is not a page cursor: use the Next link", clip(a))
		}
		o.After = a
	}
	var err error
	if o.Limit, err = parseLimit(q.Get("limit"), 50, 200); err != nil {
		return o, err
	}
	since, within := q.Get("since"), q.Get("within")
	if since != "" && within != "" {
		return o, badRequest("give since or within, not both")
	}
	if since != "" {
		if o.Since, err = parseTime(since); err != nil {
			return o, err
		}
	}
	if within != "" {
		d, err := time.ParseDuration(within)
		if err != nil || d <= 0 || d > 366*24*time.Hour {
			return o, badRequest("within %q is not a duration: use e.g. 15m or 24h", clip(within))
		}
		o.Within = within
		o.Since = now.Add(-d).UTC()
	}
	switch v := q.Get("open"); v {
	case "", "false", "0":
	case "true", "1", "on":
		o.Open = true
	default:
		return o, badRequest("open %q: use true or false", clip(v))
	}
	return o, nil
}

// clip keeps a quoted user value short in messages.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
