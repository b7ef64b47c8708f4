package jaegerapi

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// WaterfallOptions shapes Waterfall's drawing.
type WaterfallOptions struct {
	// Width is the bar area in columns. Default: 40.
	Width int
	// Color uses ANSI colors (red for errors). Default: off.
	Color bool
}

// Waterfall draws t as a terminal waterfall: one line per span in causal
// order (children under their parent, indented, by start time), with the
// service, the operation, the duration and a bar placed on the trace's
// time axis. Failed spans are marked with "✗" and their error type; retry
// and dead-letter events are listed under their span.
func Waterfall(w io.Writer, t Trace, o WaterfallOptions) error {
	if o.Width <= 0 {
		o.Width = 40
	}
	if len(t.Spans) == 0 {
		return fmt.Errorf("jaegerapi: trace %s has no spans", t.TraceID)
	}
	rows, start, end := t.Layout()
	total := max(end-start, 1)

	svcW, opW := len("SERVICE"), len("OPERATION")
	failed := 0
	for _, r := range rows {
		svcW = max(svcW, utf8.RuneCountInString(t.Service(r.Span)))
		opW = max(opW, 2*r.Depth+utf8.RuneCountInString(r.Span.OperationName))
		if r.Span.Failed() {
			failed++
		}
	}
	opW = min(opW, 60)

	red, reset := "", ""
	if o.Color {
		red, reset = "\x1b[31m", "\x1b[0m"
	}
	summary := fmt.Sprintf("trace %s: %d spans, %d services, %s", t.TraceID, len(t.Spans), len(t.Services()), fmtDur(total))
	if failed > 0 {
		summary += fmt.Sprintf(", %s%d failed%s", red, failed, reset)
	}
	fmt.Fprintln(w, summary)
	axis := fmt.Sprintf("|0%s%s|", strings.Repeat(" ", max(o.Width-1-len(fmtDur(total)), 0)), fmtDur(total))
	fmt.Fprintf(w, "  %-*s  %-*s  %9s  %s\n", svcW, "SERVICE", opW, "OPERATION", "DURATION", axis)
	for _, r := range rows {
		s := r.Span
		from := int((s.StartTime - start) * int64(o.Width) / total)
		n := max(int(s.Duration*int64(o.Width)/total), 1)
		from = min(from, o.Width-1)
		n = min(n, o.Width-from)
		bar := strings.Repeat(" ", from) + strings.Repeat("█", n) + strings.Repeat(" ", o.Width-from-n)
		mark, color, note := " ", "", ""
		if s.Failed() {
			mark, color = "✗", red
			if et := s.Tag("error.type"); et != "" {
				note = " " + et
			}
		}
		op := strings.Repeat("  ", r.Depth) + s.OperationName
		if utf8.RuneCountInString(op) > opW {
			op = string([]rune(op)[:opW-1]) + "…"
		}
		fmt.Fprintf(w, "%s%s %-*s  %-*s  %9s  |%s|%s%s\n", color, mark, svcW, t.Service(s), opW, op, fmtDur(s.Duration), bar, note, reset)
		for _, l := range s.Logs {
			ev, detail, ok := l.Handling()
			if !ok {
				continue
			}
			fmt.Fprintf(w, "  %-*s  %-*s  %9s   %s↳ %s %s%s\n", svcW, "", opW, "", "+"+fmtDur(l.Timestamp-start), red, ev, detail, reset)
		}
	}
	return nil
}

// fmtDur formats microseconds compactly: 850µs, 12.3ms, 1.20s.
func fmtDur(us int64) string {
	d := time.Duration(us) * time.Microsecond
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", us)
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(us)/1e3)
	default:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
}

func sortNewestFirst(ts []Trace) {
	first := func(t Trace) int64 {
		if len(t.Spans) == 0 {
			return 0
		}
		m := t.Spans[0].StartTime
		for _, s := range t.Spans {
			m = min(m, s.StartTime)
		}
		return m
	}
	sort.SliceStable(ts, func(i, j int) bool { return first(ts[i]) > first(ts[j]) })
}
