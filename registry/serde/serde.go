// Package serde frames Avro values in the Confluent wire format: a 0x00 magic
// byte, the 4-byte big-endian schema ID, then the Avro binary encoding
// (hamba/avro).
//
// A Serde talks to the schema registry only to learn an ID the first time a
// type is encoded and to fetch a writer schema the first time its ID is
// decoded. Everything it learns is cached for the life of the Serde, so after
// warm-up no message costs a registry call, and known IDs keep working while
// the registry is down.
package serde

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// Sentinel errors. The event runtime treats ErrBadMagic, ErrTruncated,
// ErrUnknownSchemaID and *IncompatibleError as poison (retrying cannot help)
// and ErrRegistryUnavailable as transient.
var (
	// ErrUnknownSchemaID means the registry does not know the payload's schema ID.
	ErrUnknownSchemaID = errors.New("serde: unknown schema id (the registry has no schema with this id; check that producer and consumer use the same registry)")
	// ErrRegistryUnavailable means the registry could not be reached or
	// failed; only IDs not seen before need it.
	// It has the method CodecUnavailable() bool, so the event runtime
	// (eventing.CodecUnavailable) retries such a record instead of
	// dead-lettering it.
	ErrRegistryUnavailable error = unavailableError{"serde: schema registry unavailable"}
)

// unavailableError is the type of ErrRegistryUnavailable.
type unavailableError struct{ msg string }

func (e unavailableError) Error() string { return e.msg }

// CodecUnavailable marks the error for the event runtime's classification.
func (unavailableError) CodecUnavailable() bool { return true }

// IncompatibleError reports that data written with schema ID cannot be read
// as the reader type: Avro schema resolution failed. Findings holds the
// compatibility engine's explanation (which field, what changed, how to fix).
type IncompatibleError struct {
	// ID is the writer schema ID from the payload.
	ID int
	// Reader is the full name of the reader type.
	Reader string
	// Findings are the compat engine's incompatibilities (reader vs writer).
	Findings []compat.Finding
	// Err is hamba/avro's resolution error.
	Err error
}

// Error implements error.
func (e *IncompatibleError) Error() string {
	msg := fmt.Sprintf("serde: writer schema %d cannot be read as %s", e.ID, e.Reader)
	for _, f := range e.Findings {
		msg += "; " + f.Message
	}
	if len(e.Findings) == 0 && e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying resolution error.
func (e *IncompatibleError) Unwrap() error { return e.Err }

// Opt configures a Serde; see New.
type Opt interface{ apply(*config) }

type optFunc func(*config)

func (f optFunc) apply(c *config) { f(c) }

type config struct {
	autoRegister bool
	normalize    bool
	api          avro.API
}

func defaults() config {
	return config{autoRegister: true, api: avro.DefaultConfig}
}

func (c *config) validate() error {
	if c.api == nil {
		c.api = avro.DefaultConfig
	}
	return nil
}

// AutoRegister chooses how Encode finds a type's schema ID: true (the
// default) registers the schema under the type's subject (idempotent: an
// identical schema returns its existing ID); false only looks it up and fails
// when the schema was not registered beforehand (e.g. by `contrail registry push`).
func AutoRegister(on bool) Opt { return optFunc(func(c *config) { c.autoRegister = on }) }

// Normalize asks the registry to normalize schemas when registering and
// looking up. Default false.
func Normalize(on bool) Opt { return optFunc(func(c *config) { c.normalize = on }) }

// WithAPI sets the hamba/avro configuration used to marshal and unmarshal.
// Default avro.DefaultConfig, the one generated code registers its union
// member types on; nil keeps the default. DefaultConfig does not bound the
// slice a payload's array block count asks for, so a forged payload can
// exhaust memory (FuzzDecode shows it); a config with MaxSliceAllocSize set
// closes that, at the price of registering any union types on it too.
func WithAPI(api avro.API) Opt { return optFunc(func(c *config) { c.api = api }) }

// Serde encodes and decodes events in the Confluent wire format. It is safe
// for concurrent use; its caches only grow (one entry per type and per
// (schema ID, reader type)).
type Serde struct {
	cl  *sr.Client
	cfg config

	// The per-message caches are copy-on-write maps behind atomic pointers:
	// a hit is one atomic load and one map lookup, with no lock; misses
	// (warm-up only) copy the map under fetchMu.
	ids      atomic.Pointer[cache[events.Type, typeEntry]]
	resolved atomic.Pointer[cache[resolvedKey, avro.Schema]]
	names    atomic.Pointer[cache[int, string]]
	writers  sync.Map // int -> avro.Schema; warm-up only

	fetchMu sync.Mutex // serialises registry round trips (warm-up only)

	writerPool sync.Pool
	readerPool sync.Pool
}

type typeEntry struct {
	id     int
	schema avro.Schema
}

type resolvedKey struct {
	id int
	t  events.Type
}

// New returns a Serde that talks to the registry through cl. It returns an
// error when cl is nil.
func New(cl *sr.Client, opts ...Opt) (*Serde, error) {
	if cl == nil {
		return nil, errors.New("serde: nil registry client: pass sr.NewClient(sr.URLs(...))")
	}
	cfg := defaults()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Serde{cl: cl, cfg: cfg}
	s.writerPool.New = func() any { return avro.NewWriter(nil, 512, avro.WithWriterConfig(cfg.api)) }
	s.readerPool.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(cfg.api)) }
	return s, nil
}

// Encode returns v (a pointer to t's Go type) framed in the wire format. The
// first call for t registers or looks up t's schema; later calls use the
// cached ID.
func (s *Serde) Encode(ctx context.Context, t events.Type, v any) ([]byte, error) {
	return s.AppendEncode(ctx, nil, t, v)
}

// AppendEncode is Encode appending to dst. On error dst is returned unchanged.
func (s *Serde) AppendEncode(ctx context.Context, dst []byte, t events.Type, v any) ([]byte, error) {
	e, err := s.entry(ctx, t)
	if err != nil {
		return dst, err
	}
	w := s.writerPool.Get().(*avro.Writer)
	w.Reset(nil)
	w.WriteVal(e.schema, v)
	if w.Error != nil {
		err := w.Error
		w.Error = nil
		s.writerPool.Put(w)
		return dst, fmt.Errorf("serde: encode %s: %w", t.FullName(), err)
	}
	body := w.Buffer()
	dst = slices.Grow(dst, wire.FrameSize+len(body)) // one allocation at most
	dst = wire.AppendFrame(dst, e.id)
	dst = append(dst, body...)
	s.writerPool.Put(w)
	return dst, nil
}

// Decode reads a framed payload into out (a pointer to t's Go type),
// resolving the writer schema named by the payload's ID to t's schema. Errors:
// ErrBadMagic, ErrTruncated, ErrUnknownSchemaID, *IncompatibleError (all
// poison) and ErrRegistryUnavailable (only for an ID not seen before).
func (s *Serde) Decode(ctx context.Context, data []byte, t events.Type, out any) error {
	id, err := wire.SchemaID(data)
	if err != nil {
		return err
	}
	schema, err := s.readerSchema(ctx, id, t)
	if err != nil {
		return err
	}
	r := s.readerPool.Get().(*avro.Reader)
	r.Reset(data[wire.FrameSize:])
	r.ReadVal(schema, out)
	err = r.Error
	r.Error = nil
	r.Reset(nil)
	s.readerPool.Put(r)
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("%w: avro body of %s (schema %d) ends early", wire.ErrTruncated, t.FullName(), id)
		}
		return fmt.Errorf("serde: decode %s (schema %d): %w", t.FullName(), id, err)
	}
	return nil
}

// WriterName returns the fully qualified name of the schema registered
// under id (e.g. "contrail.orders.OrderPlaced"): the event type a payload
// framed with id carries, for records that arrive without a type header
// (a kcat or Java producer). The first call for an id fetches the schema;
// the answer is cached for the life of the Serde, so a known id costs no
// registry call and keeps working while the registry is down. Errors:
// ErrUnknownSchemaID, ErrRegistryUnavailable (transient: retry), an error
// when the schema does not parse, and an error when it is not a named type
// (a bare primitive or union cannot name an event). Safe for concurrent use.
func (s *Serde) WriterName(ctx context.Context, id int) (string, error) {
	if n, ok := s.names.Load().get(id); ok {
		return n, nil
	}
	sch, err := s.writerSchema(ctx, id)
	if err != nil {
		return "", err
	}
	named, ok := sch.(avro.NamedSchema)
	if !ok {
		return "", fmt.Errorf("serde: writer schema %d is a %s, not a record, enum or fixed: it names no event type", id, sch.Type())
	}
	s.fetchMu.Lock()
	if _, ok := s.names.Load().get(id); !ok {
		storeCOW(&s.names, id, named.FullName())
	}
	s.fetchMu.Unlock()
	return named.FullName(), nil
}

// WriterSchema returns the schema registered under id, parsed with its
// references resolved: the schema a payload framed with id was written
// with. Like WriterName, the first call for an id fetches it and the answer
// is cached for the life of the Serde. Errors: ErrUnknownSchemaID,
// ErrRegistryUnavailable (transient: retry), and an error when the schema or
// one of its references does not parse. Safe for concurrent use.
func (s *Serde) WriterSchema(ctx context.Context, id int) (avro.Schema, error) {
	return s.writerSchema(ctx, id)
}

// ID returns t's schema ID, registering or looking it up on first use.
func (s *Serde) ID(ctx context.Context, t events.Type) (int, error) {
	e, err := s.entry(ctx, t)
	return e.id, err
}

func (s *Serde) entry(ctx context.Context, t events.Type) (typeEntry, error) {
	if e, ok := s.ids.Load().get(t); ok {
		return e, nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	if e, ok := s.ids.Load().get(t); ok {
		return e, nil
	}
	id, err := s.lookupID(ctx, t)
	if err != nil {
		return typeEntry{}, err
	}
	e := typeEntry{id: id, schema: t.Schema()}
	storeCOW(&s.ids, t, e)
	return e, nil
}

// cache is an immutable lookup table: a short slice scanned by equality
// (cheaper than hashing an interface key for the handful of types a service
// uses) backed by a map once it grows.
type cache[K comparable, V any] struct {
	keys []K
	vals []V
	m    map[K]V
}

const scanLimit = 8

func (c *cache[K, V]) get(k K) (V, bool) {
	var zero V
	if c == nil {
		return zero, false
	}
	if c.m != nil {
		v, ok := c.m[k]
		return v, ok
	}
	for i := range c.keys {
		if c.keys[i] == k {
			return c.vals[i], true
		}
	}
	return zero, false
}

// storeCOW publishes a copy of the cache behind p with k=v added. Callers
// hold fetchMu.
func storeCOW[K comparable, V any](p *atomic.Pointer[cache[K, V]], k K, v V) {
	next := &cache[K, V]{}
	if old := p.Load(); old != nil {
		next.keys = append(slices.Clip(old.keys), k)
		next.vals = append(slices.Clip(old.vals), v)
	} else {
		next.keys, next.vals = []K{k}, []V{v}
	}
	if len(next.keys) > scanLimit {
		next.m = make(map[K]V, len(next.keys))
		for i, kk := range next.keys {
			next.m[kk] = next.vals[i]
		}
	}
	p.Store(next)
}

// lookupID registers or looks up t's schema. Callers hold fetchMu.
func (s *Serde) lookupID(ctx context.Context, t events.Type) (int, error) {
	if s.cfg.normalize {
		ctx = sr.WithParams(ctx, sr.Normalize)
	}
	refs, err := s.references(ctx, t.References())
	if err != nil {
		return 0, fmt.Errorf("serde: schema of %s: %w", t.FullName(), err)
	}
	sch := sr.Schema{Schema: t.SchemaText(), References: refs}
	var id int
	if s.cfg.autoRegister {
		id, err = s.cl.RegisterSchema(ctx, t.Subject(), sch, -1, -1)
	} else {
		var ss sr.SubjectSchema
		ss, err = s.cl.LookupSchema(ctx, t.Subject(), sch)
		id = ss.ID
	}
	if err != nil {
		return 0, fmt.Errorf("serde: schema id of %s under subject %q: %w", t.FullName(), t.Subject(), classify(err))
	}
	return id, nil
}

// references turns the binding's references into registry references,
// replacing "latest" (version <= 0) by the subject's current version.
func (s *Serde) references(ctx context.Context, in []events.Reference) ([]sr.SchemaReference, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]sr.SchemaReference, 0, len(in))
	for _, r := range in {
		v := r.Version
		if v <= 0 {
			ss, err := s.cl.SchemaByVersion(ctx, r.Subject, -1)
			if err != nil {
				return nil, fmt.Errorf("reference %s (subject %q): %w", r.Name, r.Subject, classify(err))
			}
			v = ss.Version
		}
		out = append(out, sr.SchemaReference{Name: r.Name, Subject: r.Subject, Version: v})
	}
	return out, nil
}

func (s *Serde) readerSchema(ctx context.Context, id int, t events.Type) (avro.Schema, error) {
	key := resolvedKey{id: id, t: t}
	if sch, ok := s.resolved.Load().get(key); ok {
		return sch, nil
	}
	writer, err := s.writerSchema(ctx, id)
	if err != nil {
		return nil, err
	}
	reader := t.Schema()
	var sch avro.Schema
	if writer.Fingerprint() == reader.Fingerprint() {
		sch = reader
	} else {
		sch, err = avro.NewSchemaCompatibility().Resolve(reader, writer)
		if err != nil {
			return nil, &IncompatibleError{
				ID: id, Reader: t.FullName(), Err: err,
				Findings: compat.Check(
					compat.Schema{Schema: reader, Label: t.FullName()},
					compat.Schema{Schema: writer, Label: fmt.Sprintf("schema id %d", id)}),
			}
		}
	}
	s.fetchMu.Lock()
	storeCOW(&s.resolved, key, sch)
	s.fetchMu.Unlock()
	return sch, nil
}

func (s *Serde) writerSchema(ctx context.Context, id int) (avro.Schema, error) {
	if sch, ok := s.writers.Load(id); ok {
		return sch.(avro.Schema), nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	if sch, ok := s.writers.Load(id); ok {
		return sch.(avro.Schema), nil
	}
	got, err := s.cl.SchemaByID(ctx, id)
	if err != nil {
		err = classify(err)
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: %d", ErrUnknownSchemaID, id)
		}
		return nil, fmt.Errorf("serde: fetch writer schema %d: %w", id, err)
	}
	cache := &avro.SchemaCache{}
	seen := map[sr.SchemaReference]bool{}
	if err := s.parseRefs(ctx, got.References, cache, seen, 0); err != nil {
		return nil, fmt.Errorf("serde: writer schema %d: %w", id, err)
	}
	sch, err := events.Parse(got.Schema, cache)
	if err != nil {
		return nil, fmt.Errorf("serde: writer schema %d does not parse: %w", id, err)
	}
	s.writers.Store(id, sch)
	return sch, nil
}

// maxRefDepth bounds reference chains so a cyclic registry cannot loop us.
const maxRefDepth = 32

func (s *Serde) parseRefs(ctx context.Context, refs []sr.SchemaReference, cache *avro.SchemaCache, seen map[sr.SchemaReference]bool, depth int) error {
	if depth > maxRefDepth {
		return errors.New("references nest deeper than 32 levels")
	}
	for _, r := range refs {
		if seen[r] {
			continue
		}
		seen[r] = true
		ss, err := s.cl.SchemaByVersion(ctx, r.Subject, r.Version)
		if err != nil {
			return fmt.Errorf("reference %s (subject %q version %d): %w", r.Name, r.Subject, r.Version, classify(err))
		}
		if err := s.parseRefs(ctx, ss.References, cache, seen, depth+1); err != nil {
			return err
		}
		if _, err := events.Parse(ss.Schema.Schema, cache); err != nil {
			return fmt.Errorf("reference %s does not parse: %w", r.Name, err)
		}
	}
	return nil
}

// classify keeps the registry's answer while marking transport and server
// failures as ErrRegistryUnavailable.
func classify(err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		if re.StatusCode >= http.StatusInternalServerError {
			return fmt.Errorf("%w: %w", ErrRegistryUnavailable, err)
		}
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrRegistryUnavailable, err)
}

func isNotFound(err error) bool {
	var re *sr.ResponseError
	return errors.As(err, &re) && (re.ErrorCode == sr.ErrSchemaNotFound.Code || re.StatusCode == http.StatusNotFound && re.ErrorCode == 0)
}
