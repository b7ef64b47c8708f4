package eventing_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/registry/serde"
)

type markedDown struct{ down bool }

func (m markedDown) Error() string          { return "marked" }
func (m markedDown) CodecUnavailable() bool { return m.down }

func TestCodecUnavailable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), false},
		{"wraps the sentinel", fmt.Errorf("decode: %w", eventing.ErrCodecUnavailable), true},
		{"method true", fmt.Errorf("x: %w", markedDown{true}), true},
		{"method false", markedDown{false}, false},
		{"the registry serde's outage", fmt.Errorf("%w: dial tcp: refused", serde.ErrRegistryUnavailable), true},
		{"the serde's poison", serde.ErrUnknownSchemaID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eventing.CodecUnavailable(tt.err); got != tt.want {
				t.Fatalf("CodecUnavailable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
