package registry

import (
	"fmt"
	"net/http"
)

// Error codes of the Confluent REST API, as the server returns them in
// {"error_code": N, "message": "..."}.
const (
	CodeSubjectNotFound       = 40401
	CodeVersionNotFound       = 40402
	CodeSchemaNotFound        = 40403
	CodeSubjectSoftDeleted    = 40404
	CodeSubjectNotSoftDeleted = 40405
	CodeVersionSoftDeleted    = 40406
	CodeVersionNotSoftDeleted = 40407
	CodeSubjectConfigNotSet   = 40408
	CodeSubjectModeNotSet     = 40409
	// CodeIncompatible is returned (with HTTP 409) when a schema is
	// incompatible with earlier versions. Confluent's servers answered 409
	// for years and newer ones answer 40901; we chose 409 because it is what
	// franz-go's pkg/sr (ErrIncompatibleSchema) and most clients map.
	CodeIncompatible    = 409
	CodeInvalidSchema   = 42201
	CodeInvalidVersion  = 42202
	CodeInvalidLevel    = 42203
	CodeInvalidMode     = 42204
	CodeNotPermitted    = 42205
	CodeReferenceExists = 42206
	// CodeIDMismatch is Confluent's "id does not match" code. Registrations
	// no longer answer it: as on Confluent 8, an id that holds another
	// schema is CodeNotPermitted (42205).
	CodeIDMismatch     = 42207
	CodeInvalidSubject = 42208
	// CodeSchemaTooLarge (HTTP 422) refuses a schema over a limit: its
	// request body (WithMaxRequestBytes), nesting (MaxSchemaDepth) or the
	// fields of one record (MaxRecordFields). Confluent's code for a schema
	// too large; franz-go's pkg/sr maps it to ErrSchemaTooLarge.
	CodeSchemaTooLarge = 42209
	// CodeInvalidRuleSet (HTTP 422) refuses a rule set Confluent's
	// RuleSet.validate refuses: an unknown kind or mode, a bad or repeated
	// rule name, a rule without type (Confluent's INVALID_RULESET_ERROR_CODE).
	CodeInvalidRuleSet   = 42210
	CodeStoreError       = 50001
	CodeBadRequest       = 400
	CodeUnauthorized     = 401
	CodeRouteNotFound    = 404
	CodeMethodNotAllowed = 405
	CodeRequestTooLarge  = 413
	// CodeTooManyRequests (HTTP 429, with Retry-After) refuses a client
	// address that failed basic auth too often (WithAuthFailureLimit).
	CodeTooManyRequests = 429
	CodeInternal        = 500
)

// Error is a registry failure in Confluent's terms: the HTTP status, the
// error code and a message that says what to do. Methods of Registry return
// it, as an error, for every condition a client can cause; get it back with
// errors.As, which also finds it wrapped.
type Error struct {
	Status  int    `json:"-"`
	Code    int    `json:"error_code"`
	Message string `json:"message"`
	// Err is the cause, for store failures.
	Err error `json:"-"`
}

// Error implements error.
func (e *Error) Error() string { return fmt.Sprintf("registry: %s (error code %d)", e.Message, e.Code) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func errf(status, code int, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func errSubjectNotFound(s string) *Error {
	return errf(http.StatusNotFound, CodeSubjectNotFound, "Subject '%s' not found.", s)
}

func errVersionNotFound(s string, v int) *Error {
	return errf(http.StatusNotFound, CodeVersionNotFound, "Version %d not found for subject '%s'.", v, s)
}

func errSchemaNotFound(format string, args ...any) *Error {
	return errf(http.StatusNotFound, CodeSchemaNotFound, format, args...)
}

func errInvalidSchema(format string, args ...any) *Error {
	return errf(http.StatusUnprocessableEntity, CodeInvalidSchema, format, args...)
}

func errNotPermitted(format string, args ...any) *Error {
	return errf(http.StatusUnprocessableEntity, CodeNotPermitted, format, args...)
}

func errStore(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeStoreError, Message: "Error in the backend data store: " + err.Error(), Err: err}
}
