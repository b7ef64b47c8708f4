package platform_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// scrape reads a service's /metrics as "name{labels}" -> value (the
// Prometheus text format's samples).
func scrape(base string) (map[string]float64, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s/metrics: %s", base, resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if err != nil {
			continue
		}
		out[l[:i]] = v
	}
	return out, sc.Err()
}

// stageRow is one timed stage of a service between two scrapes.
type stageRow struct {
	name  string
	count float64
	mean  float64 // ms
}

// stagesBetween returns, for every histogram of the stage metrics whose
// count grew between a and b, its count and mean in that interval.
func stagesBetween(a, b map[string]float64) []stageRow {
	var rows []stageRow
	for k, vb := range b {
		if !strings.Contains(k, "_count") {
			continue
		}
		name := strings.Replace(k, "_count", "", 1)
		if !(strings.HasPrefix(name, "contrail_stage_seconds") || strings.HasPrefix(name, "contrail_broker_request_seconds") ||
			strings.HasPrefix(name, "contrail_fetch_delay_seconds") || strings.HasPrefix(name, "contrail_outbox_flush_rows")) {
			continue
		}
		n := vb - a[k]
		if n <= 0 {
			continue
		}
		sumKey := strings.Replace(k, "_count", "_sum", 1)
		mean := (b[sumKey] - a[sumKey]) / n
		if !strings.HasPrefix(name, "contrail_outbox_flush_rows") {
			mean *= 1000
		}
		rows = append(rows, stageRow{name: name, count: n, mean: mean})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
	return rows
}

// writeStages prints each service's stages between two scrapes, plus its
// batch transactions' mean size.
func writeStages(w io.Writer, svc string, a, b map[string]float64) {
	fmt.Fprintf(w, "stages of %s during the profiled run (count, mean ms; flush rows: mean rows):\n", svc)
	for _, r := range stagesBetween(a, b) {
		fmt.Fprintf(w, "  %-72s %7.0f  %8.2f\n", r.name, r.count, r.mean)
	}
	var batches, records float64
	for k, v := range b {
		switch {
		case strings.HasPrefix(k, "contrail_inbox_batches_total"):
			batches += v - a[k]
		case strings.HasPrefix(k, "contrail_inbox_batch_records_total"):
			records += v - a[k]
		}
	}
	if batches > 0 {
		fmt.Fprintf(w, "  %-72s %7.0f  %8.1f\n", "batch transactions (count, mean records)", batches, records/batches)
	}
}
