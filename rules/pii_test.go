package rules_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/events/orders"
	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// TestMatchPath: Confluent's wildcards on field paths ('?' and '*' stop at
// dots, '**' crosses them, "**.*" is "**", '\' escapes).
func TestMatchPath(t *testing.T) {
	tests := []struct {
		name, path, pattern string
		want                bool
	}{
		{"exact", "contrail.orders.OrderPlaced.customerId", "contrail.orders.OrderPlaced.customerId", true},
		{"other field", "contrail.orders.OrderPlaced.orderId", "contrail.orders.OrderPlaced.customerId", false},
		{"glob any record", "contrail.common.Address.line1", "**.line1", true},
		{"glob suffix only", "contrail.common.Address.line10", "**.line1", false},
		{"star stays in a name", "contrail.common.Address.line1", "contrail.*.line1", false},
		{"star in a name", "contrail.common.Address.line1", "contrail.common.*.line1", true},
		{"question mark", "contrail.common.Address.line1", "contrail.common.Address.line?", true},
		{"question mark is not a dot", "a.b", "a?b", false},
		{"double star dot star", "a.b.c", "a.**.*", true},
		{"star prefix", "eve", "eve*", true},
		{"star not across dots", "alice.bob.eve", "a*", false},
		{"double star across dots", "alice.bob.eve", "a**", true},
		{"case sensitive", "a.B", "a.b", false},
		{"escape", "a*b", `a\*b`, true},
		{"escape is literal", "axb", `a\*b`, false},
		{"empty", "", "", true},
		{"empty star", "", "*", true},
		{"empty question", "", "?", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rules.MatchPath(tt.path, tt.pattern); got != tt.want {
				t.Fatalf("MatchPath(%q, %q) = %v, want %v", tt.path, tt.pattern, got, tt.want)
			}
		})
	}
}

// globRegexp is a reference for MatchPath: Confluent's documented meaning
// of the wildcards as a regular expression.
func globRegexp(pattern string) *regexp.Regexp {
	pattern = strings.ReplaceAll(pattern, "**.*", "**")
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			if i+1 < len(pattern) && pattern[i+1] == '*' {
				b.WriteString("(?s:.*)")
				i++
			} else {
				b.WriteString(`[^.]*`)
			}
		case '?':
			b.WriteString(`[^.]`)
		case '\\':
			if i+1 < len(pattern) {
				i++
			}
			b.WriteString(regexp.QuoteMeta(pattern[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// FuzzMatchPath compares MatchPath with the regular-expression reference on
// ASCII input (metadata paths come from the registry).
func FuzzMatchPath(f *testing.F) {
	f.Add("contrail.common.Address.line1", "**.line1")
	f.Add("alice.bob.eve", "a*.bob.e*")
	f.Add("a.b", `a\.b`)
	f.Fuzz(func(t *testing.T, name, pattern string) {
		if len(name) > 64 || len(pattern) > 64 {
			return
		}
		for _, s := range []string{name, pattern} {
			for i := range len(s) {
				if s[i] >= 0x80 {
					return
				}
			}
		}
		if strings.Contains(pattern, "**.*") && strings.Count(pattern, "*") > 3 {
			return // the two collapse overlapping "**.**.*" runs differently
		}
		want := globRegexp(pattern).MatchString(name)
		if got := rules.MatchPath(name, pattern); got != want {
			t.Fatalf("MatchPath(%q, %q) = %v, reference %v", name, pattern, got, want)
		}
	})
}

func field(t *testing.T, s avro.Schema, name string) *avro.Field {
	t.Helper()
	for _, f := range s.(*avro.RecordSchema).Fields() {
		if f.Name() == name {
			return f
		}
	}
	t.Fatalf("no field %s", name)
	return nil
}

// TestFieldTags: metadata paths and inline confluent:tags both tag a field.
func TestFieldTags(t *testing.T) {
	s, err := avro.Parse(`{"type":"record","name":"R","namespace":"ns","fields":[
		{"name":"email","type":"string","confluent:tags":["PII","CONTACT"]},
		{"name":"name","type":"string"},
		{"name":"id","type":"string"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	md := &wire.Metadata{Tags: map[string][]string{"ns.R.name": {"PII"}, "**.email": {"PII"}, "ns.*.id": {"KEY"}}}
	tests := []struct {
		field string
		want  []string
		pii   bool
	}{
		{"email", []string{"CONTACT", "PII"}, true},
		{"name", []string{"PII"}, true},
		{"id", []string{"KEY"}, false},
	}
	for _, tt := range tests {
		f := field(t, s, tt.field)
		if got := rules.FieldTags(md, "ns.R", f); !slices.Equal(got, tt.want) {
			t.Errorf("FieldTags(%s) = %v, want %v", tt.field, got, tt.want)
		}
		if got := rules.IsPII(md, "ns.R", f); got != tt.pii {
			t.Errorf("IsPII(%s) = %v, want %v", tt.field, got, tt.pii)
		}
	}
	if rules.IsPII(nil, "ns.R", field(t, s, "name")) {
		t.Error("a field is PII without metadata")
	}
}

// piiBinding is OrderPlaced with a contract that tags the customer id, every
// address line and the card token (inside the payment union) as PII.
func piiBinding() *events.Binding[orders.OrderPlaced] {
	b := orders.OrderPlacedBinding
	return events.NewBinding(events.BindingConfig[orders.OrderPlaced]{
		FullName: b.FullName(), Topic: b.Topic(), Subject: b.Subject(), Strategy: b.Strategy(), KeyField: b.KeyField(),
		SchemaText: b.SchemaText(), References: b.References(),
		Key:   func(o *orders.OrderPlaced) string { return o.OrderID },
		Parse: b.ParseSchema,
		Metadata: &wire.Metadata{Tags: map[string][]string{
			"contrail.orders.OrderPlaced.customerId": {wire.TagPII},
			"**.line?":                               {wire.TagPII},
			"contrail.orders.CardPayment.cardToken":  {wire.TagPII},
		}},
	})
}

// TestRedactedLogs: an event logged through Redacted shows every field but
// the PII ones, nested and inside unions included.
func TestRedactedLogs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	o := order()
	line2 := "Flat 2"
	o.ShippingAddress.Line2 = &line2
	log.Info("order placed", "event", rules.Redacted(piiBinding(), o))
	out := buf.String()
	for _, secret := range []string{"customer-1", "1 Main St", "Flat 2", "tok_1"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log shows PII %q: %s", secret, out)
		}
	}
	var got struct {
		Event struct {
			OrderID         string `json:"orderId"`
			CustomerID      string `json:"customerId"`
			ShippingAddress struct {
				Line1 string `json:"line1"`
				City  string `json:"city"`
			} `json:"shippingAddress"`
			Total struct {
				Amount string `json:"amount"`
			} `json:"total"`
			Payment struct {
				CardToken string `json:"cardToken"`
				Last4     string `json:"last4"`
			} `json:"payment"`
			Items []map[string]any `json:"items"`
		} `json:"event"`
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	e := got.Event
	if e.OrderID != o.OrderID || e.CustomerID != rules.RedactedValue || e.ShippingAddress.Line1 != rules.RedactedValue ||
		e.ShippingAddress.City != "Springfield" || e.Total.Amount != "59.97" || e.Payment.CardToken != rules.RedactedValue ||
		e.Payment.Last4 != "4242" || len(e.Items) != 2 {
		t.Fatalf("logged %+v from %s", e, out)
	}
	// Without PII tags nothing is redacted (the generated binding now has
	// its own tags: a copy without metadata).
	bare := orders.OrderPlacedBinding
	plain := events.NewBinding(events.BindingConfig[orders.OrderPlaced]{
		FullName: bare.FullName(), Topic: bare.Topic(), Subject: bare.Subject(), Strategy: bare.Strategy(), KeyField: bare.KeyField(),
		SchemaText: bare.SchemaText(), References: bare.References(),
		Key: func(o *orders.OrderPlaced) string { return o.OrderID }, Parse: bare.ParseSchema,
	})
	buf.Reset()
	log.Info("order placed", "event", rules.Redacted(plain, o))
	if !strings.Contains(buf.String(), "customer-1") {
		t.Fatalf("redacted without a PII tag: %s", buf.String())
	}
}
