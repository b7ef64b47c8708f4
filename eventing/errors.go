package eventing

import (
	"context"
	"errors"
	"fmt"

	"github.com/contrail-events/contrail/wire"
)

// ErrorClass says how the runtime treats a handling error. It is written to
// the HeaderDLQErrorClass header of a dead letter.
type ErrorClass string

// The error classes.
const (
	// ClassTransient errors are retried with backoff; a record whose last
	// attempt still fails transiently is dead-lettered with this class.
	ClassTransient ErrorClass = "transient"
	// ClassPermanent errors (wrapped with Permanent) are dead-lettered at once.
	ClassPermanent ErrorClass = "permanent"
	// ClassPoison records can never be decoded (bad magic byte, unknown
	// schema id, undecodable bytes, incompatible schema): dead-lettered at once.
	ClassPoison ErrorClass = "poison"
	// ClassPanic means the handler panicked; like a permanent error the
	// record is dead-lettered at once, since a panic is a bug that a retry
	// would repeat.
	ClassPanic ErrorClass = "panic"
)

// ErrPermanent is matched (errors.Is) by every error wrapped with Permanent.
var ErrPermanent = errors.New("runtime: permanent error")

// ErrCodecUnavailable is the runtime's "codec unavailable" error: a Codec
// whose own infrastructure is down (the schema registry cannot be reached)
// returns an error that wraps it or that CodecUnavailable otherwise
// recognises. The runtime retries such a record in place until the codec
// is back and never dead-letters it: an outage of our own infrastructure
// must not empty a topic into its dead-letter topic.
var ErrCodecUnavailable = errors.New("runtime: codec unavailable")

// CodecUnavailable reports whether err says the codec is unavailable: it
// wraps ErrCodecUnavailable, or an error in its chain has a method
// CodecUnavailable() bool that returns true. The method form lets a codec
// that sits below the runtime say so without importing it; the registry
// serde's ErrRegistryUnavailable does that.
func CodecUnavailable(err error) bool {
	if errors.Is(err, ErrCodecUnavailable) {
		return true
	}
	var u interface{ CodecUnavailable() bool }
	return errors.As(err, &u) && u.CodecUnavailable()
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() []error {
	return []error{e.err, ErrPermanent}
}

// Permanent marks err as permanent: the retry middleware does not retry it
// and the dead-letter middleware dead-letters the record at once. It returns
// nil for a nil err.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

// PoisonError reports a record that can never be handled because its value
// cannot be decoded, or (for a record without a HeaderEventType header) its
// event type cannot be resolved from its schema ID. Err is the codec's error.
type PoisonError struct {
	// EventType is the type the router tried to decode as; "" when the
	// type could not be resolved.
	EventType string
	// Err is the codec's error (e.g. wire.ErrBadMagic).
	Err error
}

// Error names the type and the codec's error.
func (e *PoisonError) Error() string {
	if e.EventType == "" {
		return fmt.Sprintf("runtime: poison record: no %s header and its event type cannot be resolved from the value's schema id: %v", wire.HeaderEventType, e.Err)
	}
	return fmt.Sprintf("runtime: poison record: cannot decode as %s: %v", e.EventType, e.Err)
}

// Unwrap returns the codec's error.
func (e *PoisonError) Unwrap() error { return e.Err }

// PanicError is a handler panic turned into an error by the recover
// middleware; Stack holds the goroutine's stack at the panic.
type PanicError struct {
	// Value is what the handler panicked with.
	Value any
	// Stack is the panicking goroutine's stack.
	Stack []byte
}

// Error names the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("runtime: handler panicked: %v", e.Value) }

// Classify returns the class of a handling error: ClassPoison for a
// *PoisonError, ClassPanic for a *PanicError, ClassPermanent for an error
// wrapped with Permanent or one that says it is permanent (see
// IsPermanent), ClassTransient otherwise.
func Classify(err error) ErrorClass {
	var pe *PoisonError
	var pa *PanicError
	switch {
	case errors.As(err, &pe):
		return ClassPoison
	case errors.As(err, &pa):
		return ClassPanic
	case IsPermanent(err):
		return ClassPermanent
	}
	return ClassTransient
}

// IsPermanent reports whether err is permanent: it wraps ErrPermanent (see
// Permanent), or an error in its chain has a method Permanent() bool that
// returns true. The method form lets a package below the runtime say so
// without importing it: the registry serde's *serde.MigrationError (a record
// of another major that cannot be migrated) and a data-contract rule
// failure whose action is DLQ (*rules.Error) do. Such a record is
// dead-lettered at once, with class ClassPermanent and the error (naming
// the rule) in its HeaderDLQError header; so is a handler error that wraps
// one, e.g. a publish in the handler that broke a DLQ rule.
func IsPermanent(err error) bool {
	if errors.Is(err, ErrPermanent) {
		return true
	}
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

// retryable reports whether another attempt could succeed.
func retryable(err error) bool { return Classify(err) == ClassTransient }

// decodeError classifies a codec decode error: transient when the registry
// is unreachable or ctx ended, permanent when the error says so
// (IsPermanent: a record that cannot be migrated, a data-contract rule
// whose action is DLQ), poison otherwise (including a rule whose action is
// ERROR).
func decodeError(eventType string, err error) error {
	if CodecUnavailable(err) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("runtime: decode %s: %w", eventType, err)
	}
	if IsPermanent(err) {
		return Permanent(fmt.Errorf("runtime: decode %s: %w", eventType, err))
	}
	return &PoisonError{EventType: eventType, Err: err}
}
