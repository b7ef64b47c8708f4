package eventing_test

// Integration tests of data contracts through the runtime on the embedded
// broker, with our registry over HTTP and the real serde: rule actions on
// publish and consume, migrations between majors, the start-up check, and
// PII keys kept out of the logs.

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// Rated is a small event with a data contract (ratedBinding).
type Rated struct {
	OrderID string `avro:"orderId"`
	Seq     int    `avro:"seq"`
	Note    string `avro:"note"`
}

const ratedSchema = `{"type":"record","name":"Rated","namespace":"contrail.test","fields":[
 {"name":"orderId","type":"string"},{"name":"seq","type":"int"},{"name":"note","type":"string"}]}`

func celRule(name string, mode wire.RuleMode, expr, onFailure string) wire.Rule {
	return wire.Rule{Name: name, Kind: wire.RuleKindCondition, Mode: mode, Type: wire.RuleTypeCEL, Expr: expr, OnFailure: onFailure}
}

// ratedBinding: seq must be positive on publish (ERROR); on consume "spam"
// is dead-lettered (DLQ), "junk" is poison (ERROR), "meh" is logged (NONE).
// The key field orderId is PII.
func ratedBinding(topic string) *events.Binding[Rated] {
	return events.NewBinding(events.BindingConfig[Rated]{
		FullName: "contrail.test.Rated", Topic: topic, Subject: topic + "-contrail.test.Rated",
		Strategy: events.TopicRecordName, KeyField: "orderId", SchemaText: ratedSchema,
		Key:      func(r *Rated) string { return r.OrderID },
		Parse:    func() (avro.Schema, error) { return avro.Parse(ratedSchema) },
		Metadata: &wire.Metadata{Tags: map[string][]string{"**.orderId": {wire.TagPII}}},
		RuleSet: &wire.RuleSet{DomainRules: []wire.Rule{
			celRule("positive-seq", wire.RuleModeWrite, "message.seq > 0", wire.RuleActionError),
			celRule("no-spam", wire.RuleModeRead, `message.note != "spam"`, wire.RuleActionDLQ),
			celRule("no-junk", wire.RuleModeRead, `message.note != "junk"`, ""),
			celRule("meh-is-fine", wire.RuleModeRead, `message.note != "meh"`, wire.RuleActionNone),
		}},
	})
}

// syncBuffer is a log sink the router's goroutines can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestDataContractRuleActionsOnTheRuntime(t *testing.T) {
	e := newEnv(t, 1, "rated")
	ctx := context.Background()
	b := ratedBinding("rated")

	// ERROR on publish: the publish fails, naming the rule; nothing is written.
	err := e.pub.Publish(ctx, b, &Rated{OrderID: "secret-order", Seq: 0, Note: "fine"})
	var re *rules.Error
	if !errors.As(err, &re) || re.Rule.Name != "positive-seq" || !strings.Contains(err.Error(), `subject "rated-contrail.test.Rated"`) {
		t.Fatalf("Publish breaking a WRITE rule = %v", err)
	}
	for i, note := range []string{"spam", "junk", "meh", "fine"} {
		if err := e.pub.Publish(ctx, b, &Rated{OrderID: "secret-order", Seq: i + 1, Note: note}); err != nil {
			t.Fatal(err)
		}
	}

	var logs syncBuffer
	r := e.router("rated-test", eventing.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	var mu sync.Mutex
	var handled []string
	eventing.Handle(r, b, func(ctx context.Context, v *Rated) error {
		mu.Lock()
		defer mu.Unlock()
		handled = append(handled, v.Note)
		return nil
	})
	stop := run(t, r)
	waitFor(t, "the records that pass", func() bool { mu.Lock(); defer mu.Unlock(); return len(handled) == 2 })
	dls := e.readAll("rated.dlq", 2)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(handled, []string{"meh", "fine"}) {
		t.Fatalf("handled %v, want meh (NONE goes on) and fine", handled)
	}
	if len(dls) != 2 {
		t.Fatalf("%d dead letters, want 2", len(dls))
	}
	want := []struct {
		class eventing.ErrorClass
		rule  string
	}{{eventing.ClassPermanent, `rule "no-spam"`}, {eventing.ClassPoison, `rule "no-junk"`}}
	for i, w := range want {
		if got := eventing.HeaderValue(dls[i], wire.HeaderDLQErrorClass); got != string(w.class) {
			t.Errorf("dead letter %d class %q, want %q", i, got, w.class)
		}
		if msg := eventing.HeaderValue(dls[i], wire.HeaderDLQError); !strings.Contains(msg, w.rule) || !strings.Contains(msg, "failed on consume") {
			t.Errorf("dead letter %d error header %q does not name %s", i, msg, w.rule)
		}
		if eventing.HeaderValue(dls[i], wire.HeaderDLQError) == "" || strings.Contains(eventing.HeaderValue(dls[i], wire.HeaderDLQError), "secret-order") {
			t.Errorf("dead letter %d error header quotes the PII key", i)
		}
	}
	if out := logs.String(); strings.Contains(out, "secret-order") || !strings.Contains(out, `"order_id":"`+rules.RedactedValue+`"`) {
		t.Fatalf("router logs show the PII key or do not redact it:\n%s", out)
	}
	e.checkAllCommitted("rated-test", "rated")
}

// Parcel has two majors with a migration; Crate has two without one.
type ParcelV1 struct {
	ID    string `avro:"id"`
	Grams int    `avro:"grams"`
}

type ParcelV2 struct {
	ID        string `avro:"id"`
	Kilograms string `avro:"kilograms"`
}

type Crate struct {
	ID string `avro:"id"`
}

const (
	parcelV1Schema = `{"type":"record","name":"Parcel","namespace":"contrail.test","fields":[{"name":"id","type":"string"},{"name":"grams","type":"int"}]}`
	parcelV2Schema = `{"type":"record","name":"Parcel","namespace":"contrail.test","fields":[{"name":"id","type":"string"},{"name":"kilograms","type":"string"}]}`
	crateV1Schema  = `{"type":"record","name":"Crate","namespace":"contrail.test","fields":[{"name":"id","type":"string"}]}`
	crateV2Schema  = `{"type":"record","name":"Crate","namespace":"contrail.test","fields":[{"name":"id","type":"string"},{"name":"size","type":"int","default":0}]}`
)

func majorOf[T any](name, text string, major int, key func(*T) string) *events.Binding[T] {
	var md *wire.Metadata
	if major > 1 {
		md = &wire.Metadata{Properties: map[string]string{wire.PropertyMajorVersion: strconv.Itoa(major)}}
	}
	return events.NewBinding(events.BindingConfig[T]{
		FullName: "contrail.test." + name, Topic: "parcels", Subject: "parcels-contrail.test." + name,
		Strategy: events.TopicRecordName, KeyField: "id", SchemaText: text, Key: key,
		Parse: func() (avro.Schema, error) { return avro.Parse(text) }, Major: major, Metadata: md,
	})
}

var (
	parcelV1B = majorOf("Parcel", parcelV1Schema, 1, func(p *ParcelV1) string { return p.ID })
	parcelV2B = majorOf("Parcel", parcelV2Schema, 2, func(p *ParcelV2) string { return p.ID })
	crateV1B  = majorOf("Crate", crateV1Schema, 1, func(c *Crate) string { return c.ID })
	crateV2B  = majorOf("Crate", crateV2Schema, 2, func(c *Crate) string { return c.ID })
)

func init() {
	events.RegisterMigration(events.NewMigration(parcelV1B, parcelV2B, func(p *ParcelV1) (*ParcelV2, error) {
		return &ParcelV2{ID: p.ID, Kilograms: strconv.FormatFloat(float64(p.Grams)/1000, 'f', -1, 64)}, nil
	}))
	events.RegisterMajor(crateV1B)
	events.RegisterMajor(crateV2B)
}

func TestMajorsOnTheRuntime(t *testing.T) {
	e := newEnv(t, 1, "parcels")
	ctx := context.Background()
	cl, err := sr.NewClient(sr.URLs(e.registryURL))
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range cl.SetCompatibility(ctx, sr.SetCompatibility{Level: sr.CompatNone}, parcelV1B.Subject(), crateV1B.Subject()) {
		if res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	if err := e.pub.Publish(ctx, parcelV1B, &ParcelV1{ID: "p-1", Grams: 1500}); err != nil {
		t.Fatal(err)
	}
	if err := e.pub.Publish(ctx, parcelV2B, &ParcelV2{ID: "p-2", Kilograms: "2"}); err != nil {
		t.Fatal(err)
	}
	if err := e.pub.Publish(ctx, crateV1B, &Crate{ID: "c-1"}); err != nil {
		t.Fatal(err)
	}

	// A v2 reader gets the v1 record migrated.
	r := e.router("parcels-v2")
	var mu sync.Mutex
	got := map[string]string{}
	eventing.Handle(r, parcelV2B, func(ctx context.Context, p *ParcelV2) error {
		mu.Lock()
		defer mu.Unlock()
		got[p.ID] = p.Kilograms
		return nil
	})
	stop := run(t, r)
	waitFor(t, "both parcels", func() bool { mu.Lock(); defer mu.Unlock(); return len(got) == 2 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if got["p-1"] != "1.5" || got["p-2"] != "2" {
		t.Fatalf("handled %v", got)
	}

	// A reader of Crate v2 cannot read the live v1: Run fails at once.
	r2 := e.router("crates-v2")
	eventing.Handle(r2, crateV2B, func(context.Context, *Crate) error { return nil })
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err = r2.Run(rctx)
	if err == nil || !strings.Contains(err.Error(), "router cannot start") || !strings.Contains(err.Error(), "v1 -> v2") || !errors.Is(err, events.ErrNoMigration) {
		t.Fatalf("Run of a reader with no migration from a live major = %v", err)
	}
}
