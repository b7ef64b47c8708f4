//go:build !unix

package tracingtest

// lockFile is a no-op where flock is unavailable; concurrent builds then
// rely on the atomic rename alone.
func lockFile(string) (func(), error) { return func() {}, nil }
