package eventing

import "context"

// TracingMiddleware starts t's CONSUMER span around next (all attempts) and
// ends it with next's result. With a nil t it returns next unchanged, so no
// tracing costs nothing.
func TracingMiddleware(t Tracer) Middleware {
	return func(next HandlerFunc) HandlerFunc {
		if t == nil {
			return next
		}
		return func(ctx context.Context, m *Message) error {
			ctx, end := t.StartProcess(ctx, m.Record, m.Group)
			err := next(ctx, m)
			end(err)
			return err
		}
	}
}
