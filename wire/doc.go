// Package wire holds Contrail's wire conventions, each defined once at the
// bottom of the import graph so that the runtime, the registry, tracing,
// the broker and the CLI agree on them without importing each other: the
// record header keys, the content types, the dead-letter topic suffix, the
// Confluent wire-format frame (a 0x00 magic byte and a 4-byte schema id
// before the Avro body) and the default local addresses.
//
// It imports nothing but the standard library.
package wire
