package serde_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/registry"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/wire"
)

const moneyText = `{"type":"record","name":"Money","namespace":"serdetest.common","fields":[{"name":"cents","type":"long"},{"name":"currency","type":"string"}]}`

const orderText = `{"type":"record","name":"OrderPlaced","namespace":"serdetest.orders","fields":[
 {"name":"orderId","type":"string"},
 {"name":"customerId","type":"string"},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
 {"name":"total","type":"serdetest.common.Money"},
 {"name":"couponCode","type":["null","string"],"default":null}]}`

// orderV0Text is an older OrderPlaced without couponCode, written by an old producer.
const orderV0Text = `{"type":"record","name":"OrderPlaced","namespace":"serdetest.orders","fields":[
 {"name":"orderId","type":"string"},
 {"name":"customerId","type":"string"},
 {"name":"items","type":{"type":"array","items":{"type":"record","name":"Line","fields":[{"name":"sku","type":"string"},{"name":"qty","type":"int"}]}}},
 {"name":"total","type":"serdetest.common.Money"}]}`

type Money struct {
	Cents    int64  `avro:"cents"`
	Currency string `avro:"currency"`
}

type Line struct {
	SKU string `avro:"sku"`
	Qty int32  `avro:"qty"`
}

type OrderPlaced struct {
	OrderID    string  `avro:"orderId"`
	CustomerID string  `avro:"customerId"`
	Items      []Line  `avro:"items"`
	Total      Money   `avro:"total"`
	CouponCode *string `avro:"couponCode"`
}

type OrderPlacedV0 struct {
	OrderID    string `avro:"orderId"`
	CustomerID string `avro:"customerId"`
	Items      []Line `avro:"items"`
	Total      Money  `avro:"total"`
}

func parseWithMoney(text string) func() (avro.Schema, error) {
	return func() (avro.Schema, error) {
		cache := &avro.SchemaCache{}
		if _, err := avro.ParseWithCache(moneyText, "", cache); err != nil {
			return nil, err
		}
		return avro.ParseWithCache(text, "", cache)
	}
}

var moneyRef = []events.Reference{{Name: "serdetest.common.Money", Subject: "serdetest.common.Money", Version: -1}}

func orderBinding(strategy events.Strategy) *events.Binding[OrderPlaced] {
	subject, _ := strategy.Subject("orders", "serdetest.orders.OrderPlaced")
	return events.NewBinding(events.BindingConfig[OrderPlaced]{
		FullName: "serdetest.orders.OrderPlaced", Topic: "orders", Subject: subject, Strategy: strategy,
		KeyField: "orderId", SchemaText: orderText, References: moneyRef,
		Key:   func(o *OrderPlaced) string { return o.OrderID },
		Parse: parseWithMoney(orderText),
	})
}

func orderV0Binding() *events.Binding[OrderPlacedV0] {
	return events.NewBinding(events.BindingConfig[OrderPlacedV0]{
		FullName: "serdetest.orders.OrderPlaced", Topic: "orders", Subject: "orders-serdetest.orders.OrderPlaced",
		Strategy: events.TopicRecordName, KeyField: "orderId", SchemaText: orderV0Text, References: moneyRef,
		Key:   func(o *OrderPlacedV0) string { return o.OrderID },
		Parse: parseWithMoney(orderV0Text),
	})
}

func sampleOrder() *OrderPlaced {
	c := "SPRING"
	return &OrderPlaced{OrderID: "o-1", CustomerID: "c-9", Items: []Line{{"sku-1", 2}, {"sku-2", 1}},
		Total: Money{Cents: 4599, Currency: "EUR"}, CouponCode: &c}
}

// testRegistry is our registry over HTTP with a request counter and a switch
// that makes it fail like a dead server.
type testRegistry struct {
	*httptest.Server
	requests atomic.Int64
	down     atomic.Bool
	client   *sr.Client
}

func newRegistry(t testing.TB) *testRegistry {
	t.Helper()
	reg, err := registry.Open(context.Background(), registry.NewMemoryStore())
	if err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	if h, err = registry.NewServer(reg); err != nil {
		t.Fatal(err)
	}
	if !serverKeepsContracts() {
		t.Log("the registry does not return metadata/ruleSet yet: contract tests run through contractShim")
		h = newContractShim(h) // see contract_shim_test.go
	}
	tr := &testRegistry{}
	tr.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tr.requests.Add(1)
		if tr.down.Load() {
			hj, ok := w.(http.Hijacker)
			if ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close()
					return
				}
			}
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(tr.Close)
	tr.client, err = sr.NewClient(sr.URLs(tr.URL))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.client.RegisterSchema(context.Background(), "serdetest.common.Money", sr.Schema{Schema: moneyText}, -1, -1); err != nil {
		t.Fatal(err)
	}
	return tr
}

func newSerde(t testing.TB, tr *testRegistry, opts ...serde.Opt) *serde.Serde {
	t.Helper()
	s, err := serde.New(tr.client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoundTripAndWireFormat(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	s := newSerde(t, tr)
	b := orderBinding(events.TopicRecordName)
	in := sampleOrder()
	data, err := s.Encode(ctx, b, in)
	if err != nil {
		t.Fatal(err)
	}
	id, err := wire.SchemaID(data)
	if err != nil {
		t.Fatal(err)
	}
	ss, err := tr.client.SchemaByVersion(ctx, "orders-serdetest.orders.OrderPlaced", -1)
	if err != nil {
		t.Fatalf("schema not registered under the TopicRecordName subject: %v", err)
	}
	if ss.ID != id || data[0] != 0 || len(ss.References) != 1 || ss.References[0].Version != 1 {
		t.Fatalf("header id %d magic %d, registry says id %d refs %+v", id, data[0], ss.ID, ss.References)
	}
	raw, err := avro.Marshal(b.Schema(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data[wire.FrameSize:], raw) {
		t.Fatalf("body after the header is not hamba's encoding:\n got %x\nwant %x", data[5:], raw)
	}
	var out OrderPlaced
	if err := s.Decode(ctx, data, b, &out); err != nil {
		t.Fatal(err)
	}
	if out.OrderID != in.OrderID || len(out.Items) != 2 || out.Total != in.Total || *out.CouponCode != "SPRING" {
		t.Fatalf("round trip = %+v", out)
	}
	// A second Serde (a consumer elsewhere) decodes by fetching schema id and references.
	other := newSerde(t, tr)
	out = OrderPlaced{}
	if err := other.Decode(ctx, data, b, &out); err != nil || out.CustomerID != "c-9" {
		t.Fatalf("decode with a cold serde: %+v, %v", out, err)
	}
	// AppendEncode appends.
	buf, err := s.AppendEncode(ctx, []byte("prefix"), b, in)
	if err != nil || !bytes.Equal(buf[6:], data) {
		t.Fatalf("AppendEncode = %x, %v", buf, err)
	}
}

func TestSubjectStrategies(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name     string
		strategy events.Strategy
		subject  string
	}{
		{"TopicName", events.TopicName, "orders-value"},
		{"RecordName", events.RecordName, "serdetest.orders.OrderPlaced"},
		{"TopicRecordName", events.TopicRecordName, "orders-serdetest.orders.OrderPlaced"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newRegistry(t)
			s := newSerde(t, tr)
			if _, err := s.Encode(ctx, orderBinding(tt.strategy), sampleOrder()); err != nil {
				t.Fatal(err)
			}
			subjects, err := tr.client.Subjects(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(subjects) != 2 || subjects[1] != tt.subject && subjects[0] != tt.subject {
				t.Fatalf("subjects = %v, want %s (and the Money reference)", subjects, tt.subject)
			}
		})
	}
}

func TestNoRegistryCallsAfterWarmUpAndRegistryDown(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	s := newSerde(t, tr)
	b := orderBinding(events.TopicRecordName)
	data, err := s.Encode(ctx, b, sampleOrder())
	if err != nil {
		t.Fatal(err)
	}
	var out OrderPlaced
	if err := s.Decode(ctx, data, b, &out); err != nil {
		t.Fatal(err)
	}
	before := tr.requests.Load()
	for range 100 {
		if _, err := s.Encode(ctx, b, sampleOrder()); err != nil {
			t.Fatal(err)
		}
		if err := s.Decode(ctx, data, b, &out); err != nil {
			t.Fatal(err)
		}
	}
	if n := tr.requests.Load() - before; n != 0 {
		t.Fatalf("%d registry requests after warm-up, want 0", n)
	}
	tr.down.Store(true)
	if _, err := s.Encode(ctx, b, sampleOrder()); err != nil {
		t.Fatalf("encode of a known type with the registry down: %v", err)
	}
	if err := s.Decode(ctx, data, b, &out); err != nil {
		t.Fatalf("decode of a known id with the registry down: %v", err)
	}
	// Unknown id / unregistered type need the registry: a transient error.
	unknown := append(wire.AppendFrame(nil, 4242), data[5:]...)
	if err := s.Decode(ctx, unknown, b, &out); !errors.Is(err, serde.ErrRegistryUnavailable) {
		t.Fatalf("decode of a new id with the registry down: %v; want ErrRegistryUnavailable", err)
	}
	cold := newSerde(t, tr)
	if _, err := cold.Encode(ctx, b, sampleOrder()); !errors.Is(err, serde.ErrRegistryUnavailable) {
		t.Fatalf("encode with a cold cache and the registry down: %v; want ErrRegistryUnavailable", err)
	}
}

func TestDecodeErrors(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	s := newSerde(t, tr)
	b := orderBinding(events.TopicRecordName)
	data, err := s.Encode(ctx, b, sampleOrder())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, wire.ErrTruncated},
		{"short header", []byte{0, 0, 0}, wire.ErrTruncated},
		{"bad magic", append([]byte{1}, data[1:]...), wire.ErrBadMagic},
		{"json payload", []byte(`{"orderId":"o-1"}`), wire.ErrBadMagic},
		{"truncated body", data[:len(data)-4], wire.ErrTruncated},
		{"header only", data[:5], wire.ErrTruncated},
		{"unknown id", append(wire.AppendFrame(nil, 999999), data[5:]...), serde.ErrUnknownSchemaID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out OrderPlaced
			err := s.Decode(ctx, tt.data, b, &out)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestEvolutionAndIncompatibleWriter(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	s := newSerde(t, tr)
	old := orderV0Binding()
	data, err := s.Encode(ctx, old, &OrderPlacedV0{OrderID: "o-0", CustomerID: "c", Total: Money{1, "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
	// The new reader type resolves the old writer schema: couponCode gets its default.
	var out OrderPlaced
	if err := s.Decode(ctx, data, orderBinding(events.TopicRecordName), &out); err != nil {
		t.Fatalf("decode v0 data as v1: %v", err)
	}
	if out.OrderID != "o-0" || out.CouponCode != nil {
		t.Fatalf("resolved decode = %+v", out)
	}

	// A reader that needs a field the writer never wrote, without a default, cannot read it.
	type Strict struct {
		OrderID string `avro:"orderId"`
		Region  string `avro:"region"`
	}
	strictText := `{"type":"record","name":"OrderPlaced","namespace":"serdetest.orders","fields":[{"name":"orderId","type":"string"},{"name":"region","type":"string"}]}`
	strict := events.NewBinding(events.BindingConfig[Strict]{
		FullName: "serdetest.orders.OrderPlaced", Topic: "orders", Subject: "strict", Strategy: events.TopicRecordName,
		KeyField: "orderId", SchemaText: strictText,
		Key:   func(s *Strict) string { return s.OrderID },
		Parse: func() (avro.Schema, error) { return avro.Parse(strictText) },
	})
	var st Strict
	err = s.Decode(ctx, data, strict, &st)
	var ie *serde.IncompatibleError
	if !errors.As(err, &ie) {
		t.Fatalf("decode with an incompatible reader: %v; want *IncompatibleError", err)
	}
	if ie.Reader != "serdetest.orders.OrderPlaced" || ie.ID == 0 || len(ie.Findings) == 0 || ie.Unwrap() == nil {
		t.Fatalf("IncompatibleError = %+v", ie)
	}
}

func TestLookupOnly(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	s := newSerde(t, tr, serde.AutoRegister(false))
	b := orderBinding(events.TopicRecordName)
	_, err := s.Encode(ctx, b, sampleOrder())
	var re *sr.ResponseError
	if !errors.As(err, &re) || re.ErrorCode != registry.CodeSubjectNotFound {
		t.Fatalf("lookup-only encode of an unregistered schema: %v; want 40401 from the registry", err)
	}
	if _, err := newSerde(t, tr).Encode(ctx, b, sampleOrder()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Encode(ctx, b, sampleOrder()); err != nil {
		t.Fatalf("lookup-only encode after registration: %v", err)
	}
	var subjectsBefore, subjectsAfter []string
	subjectsBefore, _ = tr.client.Subjects(ctx)
	other := orderBinding(events.RecordName)
	if _, err := s.Encode(ctx, other, sampleOrder()); err == nil {
		t.Fatal("lookup-only encode registered a new subject")
	}
	subjectsAfter, _ = tr.client.Subjects(ctx)
	if len(subjectsAfter) != len(subjectsBefore) {
		t.Fatalf("lookup-only serde changed subjects: %v -> %v", subjectsBefore, subjectsAfter)
	}
}

func TestEncodeWrongType(t *testing.T) {
	tr := newRegistry(t)
	s := newSerde(t, tr)
	if _, err := s.Encode(context.Background(), orderBinding(events.TopicRecordName), &struct{ X chan int }{}); err == nil {
		t.Fatal("encoding a value of the wrong type succeeded")
	}
	if _, err := serde.New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

// FuzzDecode feeds arbitrary payloads behind a known schema ID: Decode must
// return an error or a value, never panic. It uses a hamba config that bounds
// slice allocations: with avro.DefaultConfig a forged array block count makes
// hamba allocate without limit (this fuzz target found that), which is why
// WithAPI exists.
func FuzzDecode(f *testing.F) {
	ctx := context.Background()
	tr := newRegistry(f)
	s := newSerde(f, tr, serde.WithAPI(avro.Config{MaxSliceAllocSize: 1 << 16, MaxByteSliceSize: 1 << 16}.Freeze()))
	b := orderBinding(events.TopicRecordName)
	data, err := s.Encode(ctx, b, sampleOrder())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data[5:])
	f.Add([]byte{})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	header := data[:5]
	f.Fuzz(func(t *testing.T, body []byte) {
		var out OrderPlaced
		_ = s.Decode(ctx, append(append([]byte{}, header...), body...), b, &out)
	})
}

func TestWriterName(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	s := newSerde(t, tr)
	id, err := s.ID(ctx, orderBinding(events.TopicRecordName))
	if err != nil {
		t.Fatal(err)
	}
	prim, err := tr.client.RegisterSchema(ctx, "bare-string", sr.Schema{Schema: `"string"`}, -1, -1)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		id      int
		want    string
		wantErr error  // errors.Is target
		errText string // part of the message, when wantErr is nil
	}{
		{name: "record", id: id, want: "serdetest.orders.OrderPlaced"},
		{name: "referenced record", id: 1, want: "serdetest.common.Money"},
		{name: "unknown id", id: 999999, wantErr: serde.ErrUnknownSchemaID},
		{name: "primitive", id: prim, errText: "names no event type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.WriterName(ctx, tt.id)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("WriterName(%d) = %q, %v; want %v", tt.id, got, err, tt.wantErr)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("WriterName(%d) = %q, %v; want an error containing %q", tt.id, got, err, tt.errText)
				}
			case err != nil || got != tt.want:
				t.Fatalf("WriterName(%d) = %q, %v; want %q", tt.id, got, err, tt.want)
			}
		})
	}

	// Cached: no registry call for a known id, even with the registry down;
	// a new id then needs the registry and fails transiently.
	before := tr.requests.Load()
	tr.down.Store(true)
	if got, err := s.WriterName(ctx, id); err != nil || got != "serdetest.orders.OrderPlaced" {
		t.Fatalf("cached WriterName with the registry down = %q, %v", got, err)
	}
	if n := tr.requests.Load() - before; n != 0 {
		t.Fatalf("%d registry requests for a cached id, want 0", n)
	}
	if _, err := newSerde(t, tr).WriterName(ctx, id); !errors.Is(err, serde.ErrRegistryUnavailable) {
		t.Fatalf("cold WriterName with the registry down: %v; want ErrRegistryUnavailable", err)
	}
}

func TestWriterSchema(t *testing.T) {
	ctx := context.Background()
	tr := newRegistry(t)
	s := newSerde(t, tr)
	b := orderBinding(events.TopicRecordName)
	id, err := s.ID(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.WriterSchema(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Fingerprint() != b.Schema().Fingerprint() {
		t.Fatalf("WriterSchema(%d) = %s, want the registered %s", id, got, b.Schema())
	}
	if _, err := s.WriterSchema(ctx, 4242); !errors.Is(err, serde.ErrUnknownSchemaID) {
		t.Fatalf("WriterSchema(unknown id) = %v, want ErrUnknownSchemaID", err)
	}
}
