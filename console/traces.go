package console

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/contrail-events/contrail/tracing/jaegerapi"
)

// traceLookback is how far back an order id is searched for in Jaeger.
const traceLookback = 48 * time.Hour

// spanRow is one span of a waterfall: its place in the tree and on the
// trace's time axis.
type spanRow struct {
	Depth     int
	Indent    int // Depth in em, for the template
	Service   string
	Operation string
	Kind      string
	Start     time.Duration // from the trace's start
	Duration  time.Duration
	// X and W place the bar on a 0..1000 axis.
	X, W      float64
	Failed    bool
	ErrorType string
	Events    []spanEvent
	Tags      []jaegerapi.KeyValue
}

// spanEvent is a retry or dead-letter event of a span.
type spanEvent struct {
	At     time.Duration
	Name   string
	Detail string
}

// Waterfall is a trace laid out as the trace page draws it: one row per
// span in causal order (each span under its parent, siblings by start
// time), with its bar on the trace's time axis.
type Waterfall struct {
	TraceID  string
	Rows     []spanRow
	Services []string
	Total    time.Duration
	Failed   int
}

// NewWaterfall lays t out. A span whose parent is not in the trace is a
// root.
func NewWaterfall(t jaegerapi.Trace) Waterfall {
	w := Waterfall{TraceID: t.TraceID, Services: t.Services()}
	if len(t.Spans) == 0 {
		return w
	}
	rows, start, end := t.Layout()
	total := max(end-start, 1)
	w.Total = time.Duration(total) * time.Microsecond
	for _, r := range rows {
		s, depth := r.Span, r.Depth
		row := spanRow{Depth: depth, Indent: min(depth, 20), Service: t.Service(s), Operation: s.OperationName, Kind: s.Kind(),
			Start: time.Duration(s.StartTime-start) * time.Microsecond, Duration: time.Duration(s.Duration) * time.Microsecond,
			X: float64(s.StartTime-start) * 1000 / float64(total), W: max(float64(s.Duration)*1000/float64(total), 2),
			Failed: s.Failed(), ErrorType: s.Tag("error.type"), Tags: s.Tags}
		row.X = min(row.X, 998)
		if row.Failed {
			w.Failed++
		}
		for _, l := range s.Logs {
			ev, detail, ok := l.Handling()
			if !ok {
				continue
			}
			row.Events = append(row.Events, spanEvent{At: time.Duration(l.Timestamp-start) * time.Microsecond, Name: ev, Detail: detail})
		}
		w.Rows = append(w.Rows, row)
	}
	return w
}

// traceSearch redirects the search form (?ref=) to the trace page.
func (c *Console) traceSearch(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	ref := strings.TrimSpace(r.URL.Query().Get("ref"))
	if err := checkID("order or trace id", ref); err != nil {
		return "", nil, err
	}
	return redirect(w, r, "/traces/"+url.PathEscape(ref))
}

// search is the navigation bar's box: a trace id goes to its trace, any
// other text to the order with that id.
func (c *Console) search(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	if err := checkID("order or trace id", q); err != nil {
		return "", nil, err
	}
	if isHex(q) && len(q) >= 16 && len(q) <= 32 {
		return redirect(w, r, "/traces/"+url.PathEscape(q))
	}
	return redirect(w, r, "/orders/"+url.PathEscape(q))
}

func isHex(s string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return s != ""
}

type traceData struct {
	Ref    string
	Order  string
	W      Waterfall
	Others []string
}

// tracePage draws the trace of a trace id, or the newest trace of an
// order id, from Jaeger.
func (c *Console) tracePage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	ref := r.PathValue("ref")
	if err := checkID("order or trace id", ref); err != nil {
		return "", nil, err
	}
	orderID := r.URL.Query().Get("order")
	if orderID != "" {
		if err := checkID("order id", orderID); err != nil {
			return "", nil, err
		}
	}
	// An order id: the order service records the trace id it placed the
	// order under, which Jaeger finds by id at once; only when that is
	// unknown does the lookup fall back to searching Jaeger's tags.
	if !(isHex(ref) && len(ref) >= 16 && len(ref) <= 32) && c.cfg.orderURL != "" {
		var o order
		if err := c.orderGet(r.Context(), "/orders/"+url.PathEscape(ref), nil, &o); err == nil && o.TraceID != "" {
			ref, orderID = o.TraceID, cmp.Or(orderID, o.ID)
		}
	}
	t, others, err := c.jaeger.Lookup(r.Context(), ref, traceLookback)
	switch {
	case errors.Is(err, jaegerapi.ErrNotFound):
		return "", nil, notFound("Jaeger at %s has no trace %q and no span of an order with that id in the last %v. Services export spans in batches, so a new trace appears after a few seconds: reload. Jaeger keeps traces in memory: were the services exporting to it, and has it restarted since?", c.cfg.jaegerURL, ref, traceLookback)
	case err != nil:
		return "", nil, backendError("Jaeger "+c.cfg.jaegerURL+" (is it running? check --jaeger)", err)
	}
	d := traceData{Ref: ref, Order: orderID, W: NewWaterfall(t), Others: others}
	return "trace", &page{Title: "Trace " + t.TraceID, Data: d}, nil
}
