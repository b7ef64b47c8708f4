package jaegerapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// OTLPSpan is a span as Jaeger's API v3 returns it (OTLP JSON). Unlike the
// UI API, it keeps a span's parent and its links apart: the UI API merges a
// link to the parent span into one FOLLOWS_FROM reference.
type OTLPSpan struct {
	Service      string
	TraceID      string     `json:"traceId"`
	SpanID       string     `json:"spanId"`
	ParentSpanID string     `json:"parentSpanId"`
	Name         string     `json:"name"`
	Kind         int        `json:"kind"`
	Links        []OTLPLink `json:"links"`
}

// OTLPLink is a span link.
type OTLPLink struct {
	TraceID string `json:"traceId"`
	SpanID  string `json:"spanId"`
}

// OTLP span kinds.
const (
	KindServer   = 2
	KindClient   = 3
	KindProducer = 4
	KindConsumer = 5
)

// TraceOTLP fetches the trace with traceID from /api/v3/traces/{id} and
// returns its spans flattened, each with its service name. It returns
// ErrNotFound if Jaeger has no such trace.
func (c *Client) TraceOTLP(ctx context.Context, traceID string) ([]OTLPSpan, error) {
	status, body, err := fetch(ctx, c, "/api/v3/traces/"+url.PathEscape(traceID), nil)
	if err != nil {
		return nil, err
	}
	if status == http.StatusNotFound {
		return nil, ErrNotFound
	}
	if status/100 != 2 {
		return nil, &APIError{Status: status, Msg: strings.TrimSpace(string(body))}
	}
	var doc struct {
		Result struct {
			ResourceSpans []struct {
				Resource struct {
					Attributes []struct {
						Key   string `json:"key"`
						Value struct {
							StringValue string `json:"stringValue"`
						} `json:"value"`
					} `json:"attributes"`
				} `json:"resource"`
				ScopeSpans []struct {
					Spans []OTLPSpan `json:"spans"`
				} `json:"scopeSpans"`
			} `json:"resourceSpans"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &APIError{Status: status, Msg: "not an API v3 answer: " + err.Error()}
	}
	var out []OTLPSpan
	for _, rs := range doc.Result.ResourceSpans {
		svc := ""
		for _, a := range rs.Resource.Attributes {
			if a.Key == "service.name" {
				svc = a.Value.StringValue
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				s.Service = svc
				out = append(out, s)
			}
		}
	}
	if len(out) == 0 {
		return nil, ErrNotFound
	}
	return out, nil
}
