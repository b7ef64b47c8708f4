package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// FrameSize is the length of the Confluent wire-format header: the magic
// byte and the big-endian 4-byte schema id.
const FrameSize = 5

// magic is the first byte of every Confluent-framed payload.
const magic = 0

var (
	// ErrBadMagic means the payload does not start with the 0x00 magic byte:
	// it was not written by a Confluent-compatible serializer.
	ErrBadMagic = errors.New("wire: bad magic byte (payload is not in the Confluent wire format; was it produced without a schema-registry serializer?)")
	// ErrTruncated means the payload is shorter than its header, or its
	// body ends early.
	ErrTruncated = errors.New("wire: truncated payload")
)

// SchemaID returns the schema id in a framed payload's header. It returns
// an error wrapping ErrTruncated when data is shorter than FrameSize and
// one wrapping ErrBadMagic when the first byte is not 0x00.
func SchemaID(data []byte) (int, error) {
	if len(data) < FrameSize {
		return 0, fmt.Errorf("%w: %d bytes, the wire-format header alone is %d", ErrTruncated, len(data), FrameSize)
	}
	if data[0] != magic {
		return 0, fmt.Errorf("%w: got 0x%02x", ErrBadMagic, data[0])
	}
	return int(binary.BigEndian.Uint32(data[1:FrameSize])), nil
}

// AppendFrame appends the wire-format header for schema id to dst.
func AppendFrame(dst []byte, id int) []byte {
	return append(dst, magic, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
}
