package eventing

import "context"

// HandlerFunc handles one message. Middleware and the router speak this
// untyped form; Handle adapts a typed func(ctx, *T) error to it.
type HandlerFunc func(ctx context.Context, m *Message) error

// Middleware wraps a HandlerFunc. Each of the runtime's middleware lives in
// its own file and is tested by wrapping a stub handler.
type Middleware func(next HandlerFunc) HandlerFunc

// Chain applies mws around h, the first outermost.
func Chain(h HandlerFunc, mws ...Middleware) HandlerFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}
