package compat

import (
	"errors"

	"github.com/contrail-events/contrail/schemas"
)

// ErrInvalidInput is wrapped by the errors of the whole-check entry points
// (compat/check.Run, contract.VerifyTree) whose cause is input that does not
// parse or validate: a schema tree, an exceptions file, a registered schema,
// a contract file. Any other error from them is a tool or usage error (git,
// the network, a bad option). `contrail` exits 2 for ErrInvalidInput and 1
// for the rest, so CI can tell "fix your files" from "fix your pipeline".
var ErrInvalidInput = errors.New("compat: invalid input")

// InvalidInput marks err as invalid input: errors.Is(result, ErrInvalidInput)
// holds, errors.Is and errors.As still see err's own chain, and the message
// is err's, unchanged. A nil err stays nil.
func InvalidInput(err error) error {
	if err == nil {
		return nil
	}
	return invalidInputError{err}
}

type invalidInputError struct{ err error }

func (e invalidInputError) Error() string   { return e.err.Error() }
func (e invalidInputError) Unwrap() []error { return []error{ErrInvalidInput, e.err} }

// SchemaLoadErr marks an error of schemas.Load or schemas.LoadFS as invalid
// input (InvalidInput) when its cause is a tree that does not parse
// (*schemas.Error, schemas.ErrNoManifest), and returns any other error, such
// as a directory that cannot be read, unchanged.
func SchemaLoadErr(err error) error {
	var se *schemas.Error
	if errors.As(err, &se) || errors.Is(err, schemas.ErrNoManifest) {
		return InvalidInput(err)
	}
	return err
}
