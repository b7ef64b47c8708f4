package schemas

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Error is one problem in a schema tree, located at File:Line:Col. File is
// the slash path of the .avsc or manifest file (relative to the root for
// LoadFS, joined with the directory for Load); Line and Col are 1-based,
// Col counts bytes; both are 0 when the problem has no position (a missing
// file, for example).
type Error struct {
	File string
	Line int
	Col  int
	// Msg says what is wrong and how to fix it.
	Msg string
}

// Error formats e as "schemas: file:line:col: msg".
func (e *Error) Error() string { return "schemas: " + e.Location() + ": " + e.Msg }

// Location formats e's position as "file:line:col" (or "file" without a position).
func (e *Error) Location() string {
	if e.Line == 0 {
		return e.File
	}
	return fmt.Sprintf("%s:%d:%d", e.File, e.Line, e.Col)
}

// ErrorList is every problem Load found, sorted by file and position. It
// unwraps to its *Error values, so errors.As(err, new(*Error)) finds the first.
type ErrorList []*Error

// Error lists the problems one per line.
func (l ErrorList) Error() string {
	if len(l) == 1 {
		return l[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "schemas: %d problems:", len(l))
	for _, e := range l {
		b.WriteString("\n  " + e.Location() + ": " + e.Msg)
	}
	return b.String()
}

// Sorted returns a copy of l ordered by file, line and column; problems at
// the same position keep their order.
func (l ErrorList) Sorted() ErrorList {
	l = slices.Clone(l)
	slices.SortStableFunc(l, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	return l
}

// Unwrap returns the individual errors.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// ErrNoManifest is returned (wrapped) when the root has no manifest.yaml.
var ErrNoManifest = errors.New("schemas: no manifest.yaml")

// maxErrors caps how many problems one Load reports.
const maxErrors = 50

// problems collects errors while loading.
type problems struct{ list ErrorList }

func (p *problems) add(file string, line, col int, format string, args ...any) {
	if len(p.list) >= maxErrors {
		return
	}
	p.list = append(p.list, &Error{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	return p.list.Sorted()
}
