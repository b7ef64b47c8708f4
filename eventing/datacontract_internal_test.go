package eventing

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// permanentErr says it is permanent the way the serde's errors do.
type permanentErr struct{ permanent bool }

func (e permanentErr) Error() string   { return fmt.Sprintf("permanent=%v", e.permanent) }
func (e permanentErr) Permanent() bool { return e.permanent }

// TestDecodeErrorClasses: a codec error that says it is permanent (a rule
// with action DLQ, a record that cannot be migrated) is ClassPermanent;
// one that says it is not (a rule with action ERROR) is poison, as is any
// other; a handler error wrapping a permanent one is permanent.
func TestDecodeErrorClasses(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want ErrorClass
	}{
		{"permanent codec error", decodeError("x", fmt.Errorf("serde: %w", permanentErr{true})), ClassPermanent},
		{"not permanent codec error", decodeError("x", permanentErr{false}), ClassPoison},
		{"plain codec error", decodeError("x", errors.New("bad bytes")), ClassPoison},
		{"handler error wrapping a permanent one", fmt.Errorf("emit: %w", permanentErr{true}), ClassPermanent},
		{"handler error", errors.New("db down"), ClassTransient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Classify(tt.err); got != tt.want {
				t.Fatalf("Classify(%v) = %s, want %s", tt.err, got, tt.want)
			}
		})
	}
}

type keyed struct {
	ID string `avro:"id"`
}

func keyedBinding(name string, md *wire.Metadata) *events.Binding[keyed] {
	text := `{"type":"record","name":"` + name + `","namespace":"contrail.test","fields":[{"name":"id","type":"string"}]}`
	return events.NewBinding(events.BindingConfig[keyed]{
		FullName: "contrail.test." + name, Topic: "t", Subject: "t-" + name, KeyField: "id", SchemaText: text,
		Key: func(k *keyed) string { return k.ID }, Parse: func() (avro.Schema, error) { return avro.Parse(text) }, Metadata: md,
	})
}

// TestRedactPIIKeys: the router's log records of an event whose key field
// is tagged PII show the key redacted; others keep it.
func TestRedactPIIKeys(t *testing.T) {
	secret := keyedBinding("Secret", &wire.Metadata{Tags: map[string][]string{"contrail.test.Secret.id": {wire.TagPII}}})
	plain := keyedBinding("Plain", nil)
	var buf bytes.Buffer
	base := slog.New(slog.NewTextHandler(&buf, nil))
	if redactPIIKeys(base, map[string]*route{plain.FullName(): {t: plain}}) != base {
		t.Fatal("a logger was wrapped without a PII key")
	}
	log := redactPIIKeys(base, map[string]*route{secret.FullName(): {t: secret}, plain.FullName(): {t: plain}}).With("group", "g")
	log.LogAttrs(context.Background(), slog.LevelInfo, "handled", slog.String("event_type", secret.FullName()), slog.String(keyAttr, "alice@example.com"))
	log.LogAttrs(context.Background(), slog.LevelInfo, "handled", slog.String("event_type", plain.FullName()), slog.String(keyAttr, "order-1"))
	out := buf.String()
	if strings.Contains(out, "alice@example.com") || !strings.Contains(out, keyAttr+"="+rules.RedactedValue) || !strings.Contains(out, keyAttr+"=order-1") || !strings.Contains(out, "group=g") {
		t.Fatalf("logs:\n%s", out)
	}
}
