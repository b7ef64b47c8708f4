package tracing

import (
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/contrib/instrumentation/github.com/gin-gonic/gin/otelgin"
)

// GinMiddleware returns gin middleware that starts a SERVER span for every
// request (via otelgin), continuing a trace from the request's traceparent
// or uber-trace-id headers, so an order's trace begins at its HTTP request.
// service is the server name otelgin records. A nil p or a disabled p
// yields a pass-through middleware.
func (p *Provider) GinMiddleware(service string) gin.HandlerFunc {
	if p == nil || !p.Enabled() {
		return func(c *gin.Context) { c.Next() }
	}
	return otelgin.Middleware(service, otelgin.WithTracerProvider(p.tp), otelgin.WithPropagators(p.prop))
}
