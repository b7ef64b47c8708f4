package eventing

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/rules"
)

// Data contracts in the runtime (docs/data-contracts.md).
//
// The codec carries out a schema's contract: *serde.Serde runs its CEL
// rules when it encodes and decodes and migrates records between majors.
// The runtime classifies what it returns (see IsPermanent and
// decodeError): a rule whose action is DLQ and a record that cannot be
// migrated are permanent, a rule whose action is ERROR is poison; both are
// dead-lettered at once with the rule or the missing migration named in
// the dead letter's HeaderDLQError. A service declares the major it reads
// by the binding it registers: Handle(r, orders.OrderPlacedV2Binding, fn)
// reads major 2, and records of any other live major reach fn migrated.

// ReaderChecker is an optional Codec extension that *serde.Serde has. The
// router calls CheckReaders once, when Run starts, with the event types it
// has handlers for; an error stops Run before it joins the group, unless it
// says the codec is unavailable (CodecUnavailable: the registry is down),
// which is logged as a warning: decoding checks every record anyway.
// *serde.Serde fails when a subject holds a live major of an event with no
// migration path to the major the handler reads.
type ReaderChecker interface {
	CheckReaders(ctx context.Context, types []events.Type) error
}

// checkReaders runs the codec's ReaderChecker, if it has one.
func (r *Router) checkReaders(ctx context.Context) error {
	rc, ok := r.cfg.codec.(ReaderChecker)
	if !ok {
		return nil
	}
	err := rc.CheckReaders(ctx, r.Types())
	switch {
	case err == nil:
		return nil
	case CodecUnavailable(err):
		r.cfg.logger.Warn("cannot check that every live major of the routed events can be read; starting anyway", "error", err)
		return nil
	}
	return fmt.Errorf("runtime: router cannot start: %w", err)
}

// keyAttr is the log attribute that holds a record's key (logAttrs).
const keyAttr = "order_id"

// redactPIIKeys returns l, wrapped so that log records of the event types
// whose key field the contract tags PII show their key as
// rules.RedactedValue; l itself when there are none.
func redactPIIKeys(l *slog.Logger, routes map[string]*route) *slog.Logger {
	pii := map[string]bool{}
	for name, rt := range routes {
		if keyIsPII(rt.t) {
			pii[name] = true
		}
	}
	if len(pii) == 0 {
		return l
	}
	return slog.New(&keyRedactor{Handler: l.Handler(), pii: pii})
}

// keyIsPII reports whether t's key field is tagged PII.
func keyIsPII(t events.Type) bool {
	if t.Metadata() == nil {
		return false
	}
	s, err := schemaOf(t)
	if err != nil {
		return false
	}
	rec, ok := s.(*avro.RecordSchema)
	if !ok {
		return false
	}
	for _, f := range rec.Fields() {
		if f.Name() == t.KeyField() {
			return rules.IsPII(t.Metadata(), rec.FullName(), f)
		}
	}
	return false
}

func schemaOf(t events.Type) (s avro.Schema, err error) {
	defer func() {
		if recover() != nil {
			err = fmt.Errorf("schema of %s does not parse", t.FullName())
		}
	}()
	return t.Schema(), nil
}

// keyRedactor is a slog.Handler that redacts keyAttr in records whose
// event_type attribute names an event type in pii.
type keyRedactor struct {
	slog.Handler
	pii map[string]bool
}

func (h *keyRedactor) Handle(ctx context.Context, rec slog.Record) error {
	redact := false
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == "event_type" && h.pii[a.Value.String()] {
			redact = true
			return false
		}
		return true
	})
	if !redact {
		return h.Handler.Handle(ctx, rec)
	}
	out := slog.NewRecord(rec.Time, rec.Level, rec.Message, rec.PC)
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == keyAttr {
			a = slog.String(keyAttr, rules.RedactedValue)
		}
		out.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, out)
}

func (h *keyRedactor) WithAttrs(as []slog.Attr) slog.Handler {
	return &keyRedactor{Handler: h.Handler.WithAttrs(as), pii: h.pii}
}

func (h *keyRedactor) WithGroup(name string) slog.Handler {
	return &keyRedactor{Handler: h.Handler.WithGroup(name), pii: h.pii}
}
