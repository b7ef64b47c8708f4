package events

// The packages below this one are generated from ../schemas; `go generate
// ./events` (or `contrail gen` at the module root) regenerates all of them.
//go:generate go run ../cmd/contrail gen --schemas ../schemas --out .
