package events_test

import (
	"errors"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
)

func TestParseTurnsParserPanicsIntoErrors(t *testing.T) {
	tests := []struct {
		name, text string
		want       error // nil: parses
	}{
		{"valid", `{"type":"record","name":"A","fields":[{"name":"a","type":"int"}]}`, nil},
		{"empty union with a default", `{"type":"record","name":"A","fields":[{"name":"a","type":[],"default":null}]}`, events.ErrParserPanic},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := events.Parse(tt.text, &avro.SchemaCache{})
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, want %v", err, tt.want)
			}
		})
	}
}
