package eventing

import (
	"context"
	"runtime/debug"
)

// RecoverMiddleware turns a panic in next into a *PanicError (class
// ClassPanic: dead-lettered at once, not retried), so one bad record cannot
// crash the service.
func RecoverMiddleware() Middleware {
	return func(next HandlerFunc) HandlerFunc {
		return func(ctx context.Context, m *Message) (err error) {
			defer func() {
				if v := recover(); v != nil {
					err = &PanicError{Value: v, Stack: debug.Stack()}
				}
			}()
			return next(ctx, m)
		}
	}
}
