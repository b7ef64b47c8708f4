package tracing

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// ErrorTyper is implemented by errors that name their own error.type, a
// low-cardinality class such as "poison" or "timeout". [ErrorType] looks for
// it anywhere in the error's Unwrap chain.
type ErrorTyper interface {
	ErrorType() string
}

// ErrorType returns the value Contrail records as error.type for err: the
// ErrorType() of the first error in the chain that has one; then
// "context.Canceled" or "context.DeadlineExceeded"; then the Go type of the
// first error in the chain that is not a plain fmt/errors wrapper (for
// example "*serde.IncompatibleError"); otherwise "_OTHER", the semantic
// conventions' fallback, because a bare errors.New message is not
// low-cardinality. It returns "" for a nil err.
func ErrorType(err error) string {
	if err == nil {
		return ""
	}
	var et ErrorTyper
	if errors.As(err, &et) {
		if t := et.ErrorType(); t != "" {
			return t
		}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	for e := err; e != nil; {
		switch t := fmt.Sprintf("%T", e); t {
		case "*fmt.wrapError", "*fmt.wrapErrors", "*errors.joinError":
			if m, ok := e.(interface{ Unwrap() []error }); ok {
				if es := m.Unwrap(); len(es) > 0 {
					e = es[0]
					continue
				}
				e = nil
				continue
			}
			e = errors.Unwrap(e)
		case "*errors.errorString":
			return semconv.ErrorTypeOther.Value.AsString()
		default:
			return t
		}
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// RecordError marks span as failed, the one way Contrail records errors:
// status Error with err's message as description and an error.type attribute
// (see [ErrorType]). It does nothing for a nil err or a span that is not
// recording.
func RecordError(span trace.Span, err error) {
	if err == nil || !span.IsRecording() {
		return
	}
	span.SetStatus(codes.Error, err.Error())
	span.SetAttributes(semconv.ErrorTypeKey.String(ErrorType(err)))
}

// errorEventAttrs are the attributes of a retry or dead-letter span event:
// the same error.type as RecordError plus the message.
func errorEventAttrs(err error, extra ...attribute.KeyValue) []attribute.KeyValue {
	attrs := make([]attribute.KeyValue, 0, len(extra)+2)
	attrs = append(attrs, extra...)
	if err != nil {
		attrs = append(attrs, semconv.ErrorTypeKey.String(ErrorType(err)), semconv.ExceptionMessage(err.Error()))
	}
	return attrs
}
