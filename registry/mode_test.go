package registry_test

import (
	"context"
	"errors"
	"testing"

	"github.com/contrail-events/contrail/registry"
)

func TestParseMode(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want registry.Mode
		code int
	}{
		{name: "upper", in: "READWRITE", want: registry.ModeReadWrite},
		{name: "lower", in: "readonly", want: registry.ModeReadOnly},
		{name: "mixed", in: "Import", want: registry.ModeImport},
		{name: "override", in: "readonly_override", want: registry.ModeReadOnlyOverride},
		{name: "unknown", in: "READWRITE_OVERRIDE", code: registry.CodeInvalidMode},
		{name: "empty", in: "", code: registry.CodeInvalidMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := registry.ParseMode(tt.in)
			if tt.code == 0 {
				if err != nil || got != tt.want {
					t.Fatalf("ParseMode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
				}
				return
			}
			var e *registry.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("ParseMode(%q) error = %v; want code %d", tt.in, err, tt.code)
			}
		})
	}
}

// TestSetModeImport checks the typed API end to end: a non-empty registry
// refuses IMPORT unless forced, and success returns a nil error interface.
func TestSetModeImport(t *testing.T) {
	ctx := context.Background()
	reg, err := registry.Open(ctx, registry.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reg.Register(ctx, "a", registry.SchemaRequest{Schema: `"string"`}, registry.RegisterOpts{}); err != nil {
		t.Fatal(err)
	}
	_, err = reg.SetMode(ctx, "", registry.ModeImport, registry.SetModeOpts{})
	var e *registry.Error
	if !errors.As(err, &e) || e.Code != registry.CodeNotPermitted {
		t.Fatalf("IMPORT on a non-empty registry: %v; want code %d", err, registry.CodeNotPermitted)
	}
	m, err := reg.SetMode(ctx, "", "import", registry.SetModeOpts{Force: true})
	if err != nil || m != registry.ModeImport {
		t.Fatalf("forced IMPORT: %q, %v", m, err)
	}
	if m, err := reg.Mode("a", registry.ModeOpts{DefaultToGlobal: true}); err != nil || m != registry.ModeImport {
		t.Fatalf("subject mode with defaultToGlobal: %q, %v", m, err)
	}
	if _, err := reg.Mode("a", registry.ModeOpts{}); !errors.As(err, &e) || e.Code != registry.CodeSubjectModeNotSet {
		t.Fatalf("subject mode without defaultToGlobal: %v; want code %d", err, registry.CodeSubjectModeNotSet)
	}
}
