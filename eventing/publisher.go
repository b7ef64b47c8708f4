package eventing

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// Publisher publishes typed events. It produces with an idempotent producer
// and acks=all (franz-go's defaults, kept on purpose), linger 0 unless
// Linger says otherwise, and every Publish returns only after the broker
// acknowledged. It is safe for concurrent use.
type Publisher struct {
	cfg publisherConfig
	cl  *kgo.Client
	own bool
}

// NewPublisher connects a publisher. It needs WithCodec; it returns an error
// for invalid options or an unusable client configuration (it does not wait
// for the brokers: use Ready).
func NewPublisher(opts ...PublisherOpt) (*Publisher, error) {
	var cfg publisherConfig
	cfg.setDefaults()
	for _, o := range opts {
		if o != nil {
			o.applyPublisher(&cfg)
		}
	}
	if err := cfg.validate("publisher"); err != nil {
		return nil, err
	}
	if cfg.linger < 0 {
		return nil, fmt.Errorf("runtime: publisher: linger must not be negative, got %v", cfg.linger)
	}
	p := &Publisher{cfg: cfg, cl: cfg.client}
	if p.cl == nil {
		kopts := append([]kgo.Opt{
			kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.ProducerLinger(cfg.linger),
			kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		}, cfg.clientOpts()...)
		cl, err := kgo.NewClient(kopts...)
		if err != nil {
			return nil, fmt.Errorf("runtime: publisher: %w", err)
		}
		p.cl, p.own = cl, true
	}
	return p, nil
}

// Close flushes nothing (every Publish already waited) and closes the
// publisher's own client; a client passed with WithClient stays open.
func (p *Publisher) Close() {
	if p.own {
		p.cl.Close()
	}
}

// Client returns the underlying franz-go client.
func (p *Publisher) Client() *kgo.Client { return p.cl }

// Metrics returns the metrics the publisher updates.
func (p *Publisher) Metrics() *Metrics { return p.cfg.metrics }

// Ready pings the brokers; it is a readiness check for HealthHandler.
func (p *Publisher) Ready(ctx context.Context) error {
	if err := p.cl.Ping(ctx); err != nil {
		return fmt.Errorf("runtime: publisher: brokers unreachable: %w", err)
	}
	return nil
}

// PublishOpt adjusts one Publish call.
type PublishOpt func(*publishOpts)

type publishOpts struct {
	eventID, correlationID, causationID string
	topic                               string
}

// EventID sets the event id when the event has no metadata.eventId of its
// own; the default is a new random UUID.
func EventID(id string) PublishOpt { return func(o *publishOpts) { o.eventID = id } }

// CorrelationID sets the correlation id, overriding the one taken from the
// event's metadata, from the message being handled in ctx, or else the event
// id (a flow's first event starts its flow).
func CorrelationID(id string) PublishOpt { return func(o *publishOpts) { o.correlationID = id } }

// CausationID sets the causation id, overriding the one taken from the
// event's metadata or the event id of the message being handled in ctx.
func CausationID(id string) PublishOpt { return func(o *publishOpts) { o.causationID = id } }

// ToTopic publishes to topic instead of the binding's topic.
func ToTopic(topic string) PublishOpt { return func(o *publishOpts) { o.topic = topic } }

// Publish encodes v (a pointer to t's Go type, e.g. *orders.OrderPlaced with
// orders.OrderPlacedBinding), keys it by t's key field, sets the headers
// (HeaderEventID, HeaderEventType, HeaderContentType, HeaderCorrelationID,
// HeaderCausationID and, through the Tracer, trace context) and returns once
// the broker acknowledged. An event with an EventMetadata field (as every
// Contrail event has) gets its empty eventId and correlationId filled in,
// and a nil causationId set from the message handled in ctx, so payload and
// headers agree. Errors come from encoding (wrapped codec errors) or
// producing (kerr errors, ctx errors); on error nothing was published.
func (p *Publisher) Publish(ctx context.Context, t events.Type, v any, opts ...PublishOpt) error {
	r, err := p.Record(ctx, t, v, opts...)
	if err != nil {
		return err
	}
	return p.produce(ctx, t.FullName(), r)
}

// PublishAll publishes every value in vs, each as Publish would, in
// parallel, and returns after all were acknowledged. Records of one key keep
// their order. It returns the first error; on error some events may have
// been published.
func PublishAll[T any](ctx context.Context, p *Publisher, b *events.Binding[T], vs []*T) error {
	rs := make([]*kgo.Record, len(vs))
	for i, v := range vs {
		r, err := p.Record(ctx, b, v)
		if err != nil {
			return err
		}
		rs[i] = r
	}
	return p.produce(ctx, b.FullName(), rs...)
}

// Record builds the record Publish would produce, without producing it. The
// outbox uses it to store events inside a database transaction.
func (p *Publisher) Record(ctx context.Context, t events.Type, v any, opts ...PublishOpt) (*kgo.Record, error) {
	return buildRecord(ctx, p.cfg.codec, t, v, opts...)
}

func buildRecord(ctx context.Context, codec Codec, t events.Type, v any, opts ...PublishOpt) (*kgo.Record, error) {
	var o publishOpts
	if len(opts) > 0 { // &o would put o on the heap for every event
		po := new(publishOpts)
		for _, f := range opts {
			f(po)
		}
		o = *po
	}
	key, err := t.KeyOf(v)
	if err != nil {
		return nil, fmt.Errorf("runtime: publish: %w", err)
	}
	ids := fillMetadata(ctx, v, o)
	var value []byte
	if ae, ok := codec.(appendEncoder); ok {
		value, err = ae.AppendEncode(ctx, nil, t, v)
	} else {
		value, err = codec.Encode(ctx, t, v)
	}
	if err != nil {
		return nil, fmt.Errorf("runtime: publish %s: %w", t.FullName(), err)
	}
	topic := t.Topic()
	if o.topic != "" {
		topic = o.topic
	}
	// One allocation for the record and its headers, one for every header
	// value: the publish path's share of the per-event cost.
	ra := new(recordAlloc)
	name := t.FullName()
	buf := make([]byte, 0, len(ids.eventID)+len(name)+len(wire.ContentTypeAvro)+len(ids.correlationID)+len(ids.causationID))
	val := func(s string) []byte {
		start := len(buf)
		buf = append(buf, s...)
		return buf[start:len(buf):len(buf)]
	}
	hs := append(ra.headers[:0],
		kgo.RecordHeader{Key: wire.HeaderEventID, Value: val(ids.eventID)},
		kgo.RecordHeader{Key: wire.HeaderEventType, Value: val(name)},
		kgo.RecordHeader{Key: wire.HeaderContentType, Value: val(wire.ContentTypeAvro)},
		kgo.RecordHeader{Key: wire.HeaderCorrelationID, Value: val(ids.correlationID)},
	)
	if ids.causationID != "" {
		hs = append(hs, kgo.RecordHeader{Key: wire.HeaderCausationID, Value: val(ids.causationID)})
	}
	ra.rec = kgo.Record{Topic: topic, Key: key, Value: value, Headers: hs, Context: ctx}
	return &ra.rec, nil
}

// recordAlloc holds a published record and room for its headers: the five
// the runtime writes plus the three a tracer adds (traceparent, tracestate,
// uber-trace-id), so injecting trace context appends in place instead of
// allocating and copying a second header slice per event (measured in
// tracing's BenchmarkTracingOverhead, which builds records the same way).
type recordAlloc struct {
	rec     kgo.Record
	headers [runtimeHeaderRoom]kgo.RecordHeader
}

// runtimeHeaderRoom is recordAlloc's header capacity.
const runtimeHeaderRoom = 8

// produce produces rs and waits for all acknowledgements.
func (p *Publisher) produce(ctx context.Context, eventType string, rs ...*kgo.Record) error {
	return produceAll(ctx, p.cl, p.cfg.tracer, p.cfg.metrics, eventType, rs...)
}

func produceAll(ctx context.Context, cl *kgo.Client, tracer Tracer, m *Metrics, eventType string, rs ...*kgo.Record) error {
	return produceAllFrom(ctx, false, cl, tracer, m, eventType, rs...)
}

// produceAllFrom is produceAll; with stored set, each record's send span
// continues the trace context stored in its headers (outbox rows).
func produceAllFrom(ctx context.Context, stored bool, cl *kgo.Client, tracer Tracer, m *Metrics, eventType string, rs ...*kgo.Record) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	// An empty eventType means the records are of mixed types (the relay's
	// outbox batches): each is named by its own header.
	done := func(r *kgo.Record, err error) {
		label := eventType
		if label == "" {
			label = HeaderValue(r, wire.HeaderEventType)
		}
		if err != nil {
			mu.Lock()
			if first == nil {
				first = fmt.Errorf("runtime: publish %s to %s: %w", label, r.Topic, err)
			}
			mu.Unlock()
		} else if m != nil {
			m.publishedCounter(r.Topic, label).Inc()
		}
		wg.Done()
	}
	wg.Add(len(rs))
	for _, r := range rs {
		if tracer == nil {
			cl.Produce(ctx, r, done) // one promise for all: no allocation per record
			continue
		}
		pctx := ctx
		if stored {
			pctx = storedTraceContext(ctx, r)
		}
		sctx, end := tracer.StartSend(pctx, r)
		r.Context = sctx
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			end(err)
			done(r, err)
		})
	}
	wg.Wait()
	return first
}

// idRand buffers crypto/rand for event ids: one read per 256 ids instead of
// a getrandom system call per event.
var idRand struct {
	sync.Mutex
	buf  [16 * 256]byte
	next int // bytes of buf used; len(buf) means empty
}

func init() { idRand.next = len(idRand.buf) }

// newEventID returns a random (version 4, RFC 4122 variant) UUID.
func newEventID() string {
	var u uuid.UUID
	idRand.Lock()
	if idRand.next == len(idRand.buf) {
		if _, err := rand.Read(idRand.buf[:]); err != nil {
			idRand.Unlock()
			return uuid.NewString()
		}
		idRand.next = 0
	}
	copy(u[:], idRand.buf[idRand.next:])
	idRand.next += len(u)
	idRand.Unlock()
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // variant 10
	return u.String()
}

// ids are the identity headers of one event.
type ids struct{ eventID, correlationID, causationID string }

// fillMetadata works out an event's ids from, in order: explicit options,
// the event's own EventMetadata, the message handled in ctx, and fresh
// values; it writes the result back into empty metadata fields.
func fillMetadata(ctx context.Context, v any, o publishOpts) ids {
	in := MessageFrom(ctx)
	md := metadataOf(v)
	own := ids{md.get(fEventID), md.get(fCorrelationID), md.get(fCausationID)}
	var out ids
	out.eventID = first(o.eventID, own.eventID)
	if out.eventID == "" {
		out.eventID = newEventID()
	}
	var fromMsgCorr, fromMsgCause string
	if in != nil {
		fromMsgCorr, fromMsgCause = first(in.CorrelationID, in.EventID), in.EventID
	}
	out.correlationID = first(o.correlationID, own.correlationID, fromMsgCorr, out.eventID)
	out.causationID = first(o.causationID, own.causationID, fromMsgCause)
	if own.eventID == "" {
		md.set(fEventID, out.eventID)
	}
	if own.correlationID == "" {
		md.set(fCorrelationID, out.correlationID)
	}
	if own.causationID == "" {
		md.set(fCausationID, out.causationID)
	}
	return out
}

func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// metaFields locates a Go type's metadata.{eventId,correlationId,causationId}
// fields by their avro tags; found once per type.
type metaFields struct {
	ok                                  bool
	metadata                            []int
	eventID, correlationID, causationID []int
}

var metaCache sync.Map // reflect.Type -> *metaFields

type metaView struct {
	f *metaFields
	v reflect.Value // the metadata struct, addressable
}

func metadataOf(v any) metaView {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return metaView{}
	}
	rt := rv.Elem().Type()
	f, ok := metaCache.Load(rt)
	if !ok {
		f, _ = metaCache.LoadOrStore(rt, findMetaFields(rt))
	}
	mf := f.(*metaFields)
	if !mf.ok {
		return metaView{}
	}
	return metaView{f: mf, v: rv.Elem().FieldByIndex(mf.metadata)}
}

func findMetaFields(rt reflect.Type) *metaFields {
	mf := &metaFields{}
	md, ok := fieldByTag(rt, "metadata")
	if !ok || md.Type.Kind() != reflect.Struct {
		return mf
	}
	mf.metadata = md.Index
	for tag, dst := range map[string]*[]int{"eventId": &mf.eventID, "correlationId": &mf.correlationID, "causationId": &mf.causationID} {
		if f, ok := fieldByTag(md.Type, tag); ok && (f.Type.Kind() == reflect.String || (f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.String)) {
			*dst = f.Index
		}
	}
	mf.ok = mf.eventID != nil
	return mf
}

func fieldByTag(rt reflect.Type, name string) (reflect.StructField, bool) {
	for i := range rt.NumField() {
		f := rt.Field(i)
		if f.Tag.Get("avro") == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

const (
	fEventID = iota
	fCorrelationID
	fCausationID
)

func (m metaView) index(which int) []int {
	if m.f == nil {
		return nil
	}
	switch which {
	case fEventID:
		return m.f.eventID
	case fCorrelationID:
		return m.f.correlationID
	}
	return m.f.causationID
}

func (m metaView) get(which int) string {
	idx := m.index(which)
	if idx == nil {
		return ""
	}
	fv := m.v.FieldByIndex(idx)
	if fv.Kind() == reflect.Pointer {
		if fv.IsNil() {
			return ""
		}
		fv = fv.Elem()
	}
	return fv.String()
}

// set writes s to an empty field (the caller checked it with get).
func (m metaView) set(which int, s string) {
	idx := m.index(which)
	if idx == nil || s == "" {
		return
	}
	fv := m.v.FieldByIndex(idx)
	if fv.Kind() == reflect.Pointer {
		p := new(string) // not &s: that would move s to the heap on every call
		*p = s
		fv.Set(reflect.ValueOf(p))
		return
	}
	fv.SetString(s)
}

var errNoRoute = errors.New("runtime: no handler")
