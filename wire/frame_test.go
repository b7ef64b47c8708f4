package wire_test

import (
	"errors"
	"testing"

	"github.com/contrail-events/contrail/wire"
)

func TestFrameRoundTrip(t *testing.T) {
	for _, id := range []int{0, 1, 255, 256, 1 << 24, 1<<31 - 1} {
		b := wire.AppendFrame([]byte("x"), id)[1:]
		if len(b) != wire.FrameSize {
			t.Fatalf("frame of %d is %d bytes, want %d", id, len(b), wire.FrameSize)
		}
		got, err := wire.SchemaID(append(b, 'v'))
		if err != nil || got != id {
			t.Fatalf("SchemaID(AppendFrame(%d)) = %d, %v", id, got, err)
		}
	}
}

func TestSchemaIDErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, wire.ErrTruncated},
		{"short", []byte{0, 0, 0, 1}, wire.ErrTruncated},
		{"bad magic", []byte{1, 0, 0, 0, 1}, wire.ErrBadMagic},
		{"json", []byte(`{"a":1}`), wire.ErrBadMagic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := wire.SchemaID(tt.in); !errors.Is(err, tt.want) {
				t.Fatalf("SchemaID(%v) = %v, want %v", tt.in, err, tt.want)
			}
		})
	}
}

func FuzzSchemaID(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 7, 2})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		id, err := wire.SchemaID(b)
		if err != nil {
			if !errors.Is(err, wire.ErrTruncated) && !errors.Is(err, wire.ErrBadMagic) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if again := wire.AppendFrame(nil, id); string(again) != string(b[:wire.FrameSize]) {
			t.Fatalf("frame %x does not re-encode: %x", b[:wire.FrameSize], again)
		}
	})
}
