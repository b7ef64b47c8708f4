package console

import (
	"errors"
	"net/url"
	"testing"
	"time"
)

// isBadInput reports whether err is a 4xx page.
func isBadInput(err error) bool {
	var pe *pageError
	return errors.As(err, &pe) && pe.Status >= 400 && pe.Status < 500
}

func TestParseMessagesQuery(t *testing.T) {
	tests := []struct {
		name, topic, query string
		ok                 bool
		want               messagesQuery
	}{
		{name: "defaults", topic: "orders", ok: true, want: messagesQuery{Topic: "orders", Partition: -1, Offset: -1, Limit: 50}},
		{name: "offset", topic: "orders", query: "partition=2&offset=10&limit=5", ok: true, want: messagesQuery{Topic: "orders", Partition: 2, Offset: 10, Limit: 5}},
		{name: "time", topic: "orders", query: "time=2026-01-02T15:04:05Z", ok: true,
			want: messagesQuery{Topic: "orders", Partition: -1, Offset: -1, Limit: 50, Time: time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)}},
		{name: "datetime-local", topic: "orders", query: "time=2026-01-02T15:04", ok: true,
			want: messagesQuery{Topic: "orders", Partition: -1, Offset: -1, Limit: 50, Time: time.Date(2026, 1, 2, 15, 4, 0, 0, time.UTC)}},
		{name: "millis", topic: "orders", query: "time=1000", ok: true,
			want: messagesQuery{Topic: "orders", Partition: -1, Offset: -1, Limit: 50, Time: time.UnixMilli(1000).UTC()}},
		{name: "negative offset", topic: "orders", query: "offset=-3"},
		{name: "huge offset", topic: "orders", query: "offset=99999999999999999999"},
		{name: "huge partition", topic: "orders", query: "partition=2147483648"},
		{name: "both", topic: "orders", query: "offset=1&time=1"},
		{name: "limit zero", topic: "orders", query: "limit=0"},
		{name: "bad topic", topic: "a/b"},
		{name: "empty topic", topic: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, _ := url.ParseQuery(tt.query)
			got, err := parseMessagesQuery(tt.topic, q)
			if !tt.ok {
				if !isBadInput(err) {
					t.Fatalf("err %v, want a 4xx", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// FuzzQueryParsing: whatever the query string, the parsers either accept
// it with values in range or answer a 4xx page; they never panic.
func FuzzQueryParsing(f *testing.F) {
	for _, s := range []string{"", "partition=1&offset=2", "time=2026-01-02T15:04:05Z&limit=500", "offset=-1", "from=1&to=latest&level=full",
		"partition=0&offset=9", "after=12&limit=200&within=15m&open=true", "since=1700000000000", "%zz", "limit=1e9"} {
		f.Add("orders", s)
	}
	f.Fuzz(func(t *testing.T, topic, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if m, err := parseMessagesQuery(topic, q); err == nil {
			if m.Limit < 1 || m.Limit > maxLimit || m.Partition < -1 || m.Offset < -1 || (m.Offset >= 0 && !m.Time.IsZero()) {
				t.Fatalf("accepted out-of-range %+v", m)
			}
		} else if !isBadInput(err) {
			t.Fatalf("messages: %v is not a 4xx", err)
		}
		if d, err := parseDiffQuery(q); err == nil {
			if d.From < -1 || d.To < -1 || d.From == 0 || d.To == 0 {
				t.Fatalf("accepted versions %+v", d)
			}
		} else if !isBadInput(err) {
			t.Fatalf("diff: %v is not a 4xx", err)
		}
		if r, err := parseReplayQuery(q); err == nil {
			if (r.Partition < 0) != (r.Offset < 0) {
				t.Fatalf("accepted half a record %+v", r)
			}
		} else if !isBadInput(err) {
			t.Fatalf("replay: %v is not a 4xx", err)
		}
		if o, err := parseOrdersQuery(q, time.Now()); err == nil {
			if o.Limit < 1 || o.Limit > 200 {
				t.Fatalf("accepted limit %d", o.Limit)
			}
		} else if !isBadInput(err) {
			t.Fatalf("orders: %v is not a 4xx", err)
		}
		for _, kind := range []string{"order id", "subject"} {
			if err := checkID(kind, raw); err != nil && !isBadInput(err) {
				t.Fatalf("checkID: %v", err)
			}
		}
		if err := checkSubject(raw); err != nil && !isBadInput(err) {
			t.Fatalf("checkSubject: %v", err)
		}
	})
}
