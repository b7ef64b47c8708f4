// Package jaegerapi reads traces from Jaeger's HTTP query API (the JSON API
// the Jaeger UI uses: /api/services, /api/traces, /api/traces/{id}) and
// draws one as a terminal waterfall. It works against Jaeger v1 and v2.
package jaegerapi

import (
	"fmt"
	"sort"
	"strings"
)

// Reference types Jaeger uses. OpenTelemetry parents become CHILD_OF;
// span links become FOLLOWS_FROM.
const (
	RefChildOf     = "CHILD_OF"
	RefFollowsFrom = "FOLLOWS_FROM"
)

// Trace is one trace as Jaeger returns it.
type Trace struct {
	TraceID   string             `json:"traceID"`
	Spans     []Span             `json:"spans"`
	Processes map[string]Process `json:"processes"`
	Warnings  []string           `json:"warnings"`
}

// Span is one span. StartTime is microseconds since the Unix epoch and
// Duration is microseconds, as in Jaeger's model.
type Span struct {
	TraceID       string      `json:"traceID"`
	SpanID        string      `json:"spanID"`
	OperationName string      `json:"operationName"`
	References    []Reference `json:"references"`
	StartTime     int64       `json:"startTime"`
	Duration      int64       `json:"duration"`
	Tags          []KeyValue  `json:"tags"`
	Logs          []Log       `json:"logs"`
	ProcessID     string      `json:"processID"`
	Warnings      []string    `json:"warnings"`
}

// Reference points from a span to another span.
type Reference struct {
	RefType string `json:"refType"`
	TraceID string `json:"traceID"`
	SpanID  string `json:"spanID"`
}

// KeyValue is a tag or a log field.
type KeyValue struct {
	Key   string `json:"key"`
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// Log is a span event: a timestamp in microseconds and its fields (the
// event name is the field "event").
type Log struct {
	Timestamp int64      `json:"timestamp"`
	Fields    []KeyValue `json:"fields"`
}

// Process is the emitting service of a span.
type Process struct {
	ServiceName string     `json:"serviceName"`
	Tags        []KeyValue `json:"tags"`
}

// Tag returns the value of the tag key as a string ("" if absent).
func (s Span) Tag(key string) string { return fieldString(s.Tags, key) }

// HasTag reports whether the span has the tag key.
func (s Span) HasTag(key string) bool {
	for _, kv := range s.Tags {
		if kv.Key == key {
			return true
		}
	}
	return false
}

// Parent returns the span id of the span's parent as Jaeger's UI draws it:
// the CHILD_OF reference, else the first reference in the same trace (a
// span whose parent is also linked, as Contrail's consumer spans are, comes
// back from this API with one FOLLOWS_FROM reference), else "" for a root.
func (s Span) Parent() string {
	for _, r := range s.References {
		if r.RefType == RefChildOf {
			return r.SpanID
		}
	}
	for _, r := range s.References {
		if r.TraceID == s.TraceID {
			return r.SpanID
		}
	}
	return ""
}

// Links returns the span ids of the FOLLOWS_FROM references (OpenTelemetry
// links).
func (s Span) Links() []string {
	var out []string
	for _, r := range s.References {
		if r.RefType == RefFollowsFrom {
			out = append(out, r.SpanID)
		}
	}
	return out
}

// Kind returns the span kind ("server", "producer", ...), from span.kind.
func (s Span) Kind() string { return s.Tag("span.kind") }

// Failed reports whether the span ended with an error: tag error=true or
// otel.status_code=ERROR.
func (s Span) Failed() bool {
	return s.Tag("error") == "true" || s.Tag("otel.status_code") == "ERROR"
}

// Event returns the name of a log (its "event" field).
func (l Log) Event() string { return fieldString(l.Fields, "event") }

// Field returns a log field as a string ("" if absent).
func (l Log) Field(key string) string { return fieldString(l.Fields, key) }

// Handling returns the event name and a one-line detail of a retry or
// dead-letter span event (the attempt or dead-letter topic, the error type
// and message), and ok false for any other event.
func (l Log) Handling() (event, detail string, ok bool) {
	ev := l.Event()
	if ev != "retry" && ev != "dead_letter" {
		return "", "", false
	}
	detail = l.Field("error.type")
	if a := l.Field("contrail.retry.attempt"); a != "" {
		detail = "attempt " + a + ": " + detail
	}
	if d := l.Field("contrail.dead_letter.topic"); d != "" {
		detail = "to " + d + ": " + detail
	}
	if m := l.Field("exception.message"); m != "" {
		detail += " (" + m + ")"
	}
	return ev, detail, true
}

func fieldString(kvs []KeyValue, key string) string {
	for _, kv := range kvs {
		if kv.Key == key {
			switch v := kv.Value.(type) {
			case string:
				return v
			case float64:
				if v == float64(int64(v)) {
					return fmt.Sprintf("%d", int64(v))
				}
				return fmt.Sprint(v)
			default:
				return fmt.Sprint(v)
			}
		}
	}
	return ""
}

// Service returns the service name of span s.
func (t Trace) Service(s Span) string { return t.Processes[s.ProcessID].ServiceName }

// Services returns the distinct service names in t, sorted.
func (t Trace) Services() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range t.Spans {
		if n := t.Service(s); !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// Span returns the span with id, or false.
func (t Trace) Span(id string) (Span, bool) {
	for _, s := range t.Spans {
		if s.SpanID == id {
			return s, true
		}
	}
	return Span{}, false
}

// Find returns the spans whose operation name is op (or, if op ends in
// "*", starts with it), in start order.
func (t Trace) Find(op string) []Span {
	var out []Span
	for _, s := range t.Spans {
		if s.OperationName == op || (strings.HasSuffix(op, "*") && strings.HasPrefix(s.OperationName, strings.TrimSuffix(op, "*"))) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartTime < out[j].StartTime })
	return out
}

// SpanAt is one span of a laid-out trace and its depth in the span tree.
type SpanAt struct {
	Span  Span
	Depth int
}

// Layout returns t's spans in tree order, each after its parent and
// siblings by start time, with their depths, and the trace's start and end
// (microseconds since the epoch, as StartTime). A span whose parent is not
// in the trace, or is itself, is a root; spans reachable from no root (a
// reference cycle in a broken trace) are left out, and a span is never
// listed twice. Both waterfalls (the terminal's and
// the console's) draw from it.
func (t Trace) Layout() (rows []SpanAt, start, end int64) {
	if len(t.Spans) == 0 {
		return nil, 0, 0
	}
	start, end = t.Spans[0].StartTime, t.Spans[0].StartTime+t.Spans[0].Duration
	ids := map[string]bool{}
	for _, s := range t.Spans {
		start = min(start, s.StartTime)
		end = max(end, s.StartTime+s.Duration)
		ids[s.SpanID] = true
	}
	children := map[string][]Span{}
	var roots []Span
	for _, s := range t.Spans {
		if p := s.Parent(); p != "" && ids[p] && p != s.SpanID {
			children[p] = append(children[p], s)
		} else {
			roots = append(roots, s)
		}
	}
	byStart := func(ss []Span) {
		sort.SliceStable(ss, func(i, j int) bool { return ss[i].StartTime < ss[j].StartTime })
	}
	seen := map[string]bool{}
	var walk func(s Span, depth int)
	walk = func(s Span, depth int) {
		if seen[s.SpanID] {
			return
		}
		seen[s.SpanID] = true
		rows = append(rows, SpanAt{s, depth})
		cs := children[s.SpanID]
		byStart(cs)
		for _, c := range cs {
			walk(c, depth+1)
		}
	}
	byStart(roots)
	for _, r := range roots {
		walk(r, 0)
	}
	return rows, start, end
}
