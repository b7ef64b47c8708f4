package events

import (
	"errors"
	"fmt"

	"github.com/hamba/avro/v2"
)

// ErrParserPanic is wrapped by Parse's error when hamba/avro's parser
// panicked on the text (hamba v2.31.0 does, for one, on a field whose type
// is an empty union and which has a default).
var ErrParserPanic = errors.New("events: the Avro parser failed on this schema")

// Parse parses an Avro schema text with cache (which may hold named types
// the text refers to), as avro.ParseWithCache does, but turns a panic of
// the parser into an error wrapping ErrParserPanic: every place Contrail
// parses text it did not write (the registry, the CLI, the serde, the
// loaders) goes through it, so a hostile or broken schema is a clear error,
// never a crashed process or a lock left held.
func Parse(text string, cache *avro.SchemaCache) (s avro.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("%w (%v): check that every union has at least one branch and every default matches its type", ErrParserPanic, r)
		}
	}()
	return avro.ParseWithCache(text, "", cache)
}
