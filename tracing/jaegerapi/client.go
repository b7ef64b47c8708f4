package jaegerapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrNotFound is returned when Jaeger has no trace with the requested id,
// or a search matched nothing.
var ErrNotFound = errors.New("jaegerapi: trace not found")

// ErrUnavailable wraps transport failures: Jaeger is not running at the
// given URL or did not answer.
var ErrUnavailable = errors.New("jaegerapi: jaeger query API unavailable")

// APIError is a non-2xx answer from Jaeger other than "not found".
type APIError struct {
	Status int
	Msg    string
}

// Error says what Jaeger answered.
func (e *APIError) Error() string {
	return fmt.Sprintf("jaegerapi: jaeger answered HTTP %d: %s", e.Status, e.Msg)
}

// Client queries one Jaeger. The zero HTTP uses a client with a 10s
// timeout. A Client is safe for concurrent use.
type Client struct {
	// BaseURL is the query service root, e.g. http://127.0.0.1:16686.
	BaseURL string
	// HTTP is the client used for requests. Default: 10s timeout.
	HTTP *http.Client
}

var defaultHTTP = &http.Client{Timeout: 10 * time.Second}

type envelope[T any] struct {
	Data   T `json:"data"`
	Errors []struct {
		Code int    `json:"code"`
		Msg  string `json:"msg"`
	} `json:"errors"`
}

// fetch GETs path (with query q) from c's Jaeger and returns the status and
// body. Its errors say what to check: the URL, or whether Jaeger runs.
func fetch(ctx context.Context, c *Client, path string, q url.Values) (int, []byte, error) {
	base := strings.TrimSuffix(c.BaseURL, "/")
	u := base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("jaegerapi: bad Jaeger URL %q (want e.g. http://127.0.0.1:16686): %w", c.BaseURL, err)
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%w at %s (is Jaeger running? `contrail up` starts one): %w", ErrUnavailable, base, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: read %s: %w", ErrUnavailable, u, err)
	}
	return resp.StatusCode, body, nil
}

func get[T any](ctx context.Context, c *Client, path string, q url.Values) (T, error) {
	var zero T
	status, body, err := fetch(ctx, c, path, q)
	if err != nil {
		return zero, err
	}
	var env envelope[T]
	jerr := json.Unmarshal(body, &env)
	if status == http.StatusNotFound {
		return zero, ErrNotFound
	}
	if status/100 != 2 || jerr != nil {
		msg := strings.TrimSpace(string(body))
		if jerr == nil && len(env.Errors) > 0 {
			msg = env.Errors[0].Msg
		}
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
		if jerr != nil && status/100 == 2 {
			return zero, &APIError{Status: status, Msg: "not a Jaeger query API answer (is " + strings.TrimSuffix(c.BaseURL, "/") + " the Jaeger UI/query port, usually 16686?): " + msg}
		}
		return zero, &APIError{Status: status, Msg: msg}
	}
	return env.Data, nil
}

// Trace fetches the trace with traceID (hex, 1 to 32 digits). It returns
// ErrNotFound if Jaeger has no such trace.
func (c *Client) Trace(ctx context.Context, traceID string) (Trace, error) {
	ts, err := get[[]Trace](ctx, c, "/api/traces/"+url.PathEscape(traceID), nil)
	if err != nil {
		return Trace{}, err
	}
	if len(ts) == 0 {
		return Trace{}, ErrNotFound
	}
	return ts[0], nil
}

// Services lists the services Jaeger has spans from.
func (c *Client) Services(ctx context.Context) ([]string, error) {
	return get[[]string](ctx, c, "/api/services", nil)
}

// Query is a trace search. Service is required by Jaeger.
type Query struct {
	Service string
	// Operation narrows the search to one span name.
	Operation string
	// Tags must all match on one span (e.g. messaging.kafka.message.key).
	Tags map[string]string
	// Limit caps the number of traces. Default: 20.
	Limit int
	// Lookback is how far back to search. Default: 48h.
	Lookback time.Duration
}

// Find returns the traces matching q, newest first. It returns an empty
// slice and no error when nothing matches.
func (c *Client) Find(ctx context.Context, q Query) ([]Trace, error) {
	if q.Service == "" {
		return nil, errors.New("jaegerapi: a trace search needs a service name")
	}
	if q.Limit == 0 {
		q.Limit = 20
	}
	if q.Lookback == 0 {
		q.Lookback = 48 * time.Hour
	}
	v := url.Values{}
	v.Set("service", q.Service)
	if q.Operation != "" {
		v.Set("operation", q.Operation)
	}
	if len(q.Tags) > 0 {
		b, _ := json.Marshal(q.Tags)
		v.Set("tags", string(b))
	}
	now := time.Now()
	v.Set("start", strconv.FormatInt(now.Add(-q.Lookback).UnixMicro(), 10))
	v.Set("end", strconv.FormatInt(now.Add(time.Minute).UnixMicro(), 10))
	v.Set("limit", strconv.Itoa(q.Limit))
	ts, err := get[[]Trace](ctx, c, "/api/traces", v)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	return ts, err
}

// FindAnyService runs q (ignoring q.Service) against every service Jaeger
// knows and returns the distinct traces found, newest first.
func (c *Client) FindAnyService(ctx context.Context, q Query) ([]Trace, error) {
	svcs, err := c.Services(ctx)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []Trace
	for _, s := range svcs {
		q.Service = s
		ts, err := c.Find(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if !seen[t.TraceID] {
				seen[t.TraceID] = true
				out = append(out, t)
			}
		}
	}
	sortNewestFirst(out)
	return out, nil
}
