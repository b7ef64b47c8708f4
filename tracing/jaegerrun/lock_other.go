//go:build !unix

package jaegerrun

import "context"

// lockFile is a no-op where flock is unavailable; concurrent builds then
// rely on the atomic rename alone.
func lockFile(context.Context, string, func()) (func(), error) { return func() {}, nil }
