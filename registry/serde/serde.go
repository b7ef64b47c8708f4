// Package serde frames Avro values in the Confluent wire format: a 0x00 magic
// byte, the 4-byte big-endian schema ID, then the Avro binary encoding
// (hamba/avro).
//
// A Serde talks to the schema registry only to learn an ID the first time a
// type is encoded and to fetch a writer schema the first time its ID is
// decoded. Everything it learns is cached for the life of the Serde, so after
// warm-up no message costs a registry call, and known IDs keep working while
// the registry is down.
//
// It also carries out the schemas' data contracts (see docs/data-contracts.md):
// it registers a type's schema with its metadata and rule set, runs the CEL
// domain rules (package rules) on the value before encoding and after
// decoding, and hands a reader of major M a record written in another major
// by decoding it into that major's Go type and walking the events.Migrate
// path.
package serde

import (
	"context"
	"errors"
	"fmt"
	"github.com/contrail-events/contrail/registry/regclient"
	"io"
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"

	"github.com/contrail-events/contrail/compat"
	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/rules"
	"github.com/contrail-events/contrail/wire"
)

// Sentinel errors. The event runtime treats ErrBadMagic, ErrTruncated,
// ErrUnknownSchemaID, *IncompatibleError and a *rules.Error with action
// ERROR as poison (retrying cannot help), *MigrationError and a *rules.Error
// with action DLQ as permanent (their Permanent method says so; both are
// dead-lettered at once), and ErrRegistryUnavailable as transient.
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
	logger       *slog.Logger
	engine       *rules.Engine
}

func defaults() config {
	return config{autoRegister: true, api: avro.DefaultConfig, logger: slog.Default()}
}

func (c *config) validate() error {
	if c.api == nil {
		c.api = avro.DefaultConfig
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.engine == nil {
		c.engine = rules.NewEngine(rules.Logger(c.logger))
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

// Logger receives a warning for each failed data-contract rule whose action
// is NONE. Default slog.Default(); nil keeps the default. It is not used when
// Rules gives an engine (the engine has its own logger).
func Logger(l *slog.Logger) Opt { return optFunc(func(c *config) { c.logger = l }) }

// Rules sets the engine that compiles and caches the CEL rules. Default a
// new engine per Serde, logging to Logger; nil keeps the default. Sharing
// one engine between serdes shares its compiled programs.
func Rules(e *rules.Engine) Opt { return optFunc(func(c *config) { c.engine = e }) }

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
	resolved atomic.Pointer[cache[resolvedKey, *readEntry]]
	names    atomic.Pointer[cache[int, string]]
	writers  sync.Map // int -> *writerInfo; warm-up only

	fetchMu sync.Mutex // serialises registry round trips (warm-up only)

	writerPool sync.Pool
	readerPool sync.Pool
}

type typeEntry struct {
	id     int
	schema avro.Schema
	plan   *rules.Plan // the WRITE rules; nil when none
}

// readEntry is how records of one schema id are read as one reader type.
type readEntry struct {
	// schema resolves the writer schema to the Go type decoded into: the
	// reader's, or with a migration the writer major's.
	schema avro.Schema
	// from is the writer major's binding when it differs from the reader's
	// major; the record is decoded into from.New() and migrated.
	from events.Type
	path []events.Migration
	plan *rules.Plan // the READ rules; nil when none
}

// writerInfo is what the registry says about a schema id.
type writerInfo struct {
	schema   avro.Schema
	metadata *wire.Metadata
	ruleSet  *wire.RuleSet
}

// major is the writer's major version: metadata major_version, else 1.
func (w *writerInfo) major() int {
	if m, ok := w.metadata.Major(); ok {
		return m
	}
	return 1
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
// first call for t registers or looks up t's schema, with its data contract
// (t.Metadata(), t.RuleSet()), so the id is the one `contrail registry push`
// registered; later calls use the cached ID. Before encoding, the WRITE and
// WRITEREAD domain rules of t's rule set run on v: a failed rule whose
// action is ERROR or DLQ returns its *rules.Error and nothing is encoded.
func (s *Serde) Encode(ctx context.Context, t events.Type, v any) ([]byte, error) {
	return s.AppendEncode(ctx, nil, t, v)
}

// AppendEncode is Encode appending to dst. On error dst is returned unchanged.
func (s *Serde) AppendEncode(ctx context.Context, dst []byte, t events.Type, v any) ([]byte, error) {
	e, err := s.entry(ctx, t)
	if err != nil {
		return dst, err
	}
	if e.plan != nil {
		if err := e.plan.Run(ctx, v); err != nil {
			return dst, err
		}
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
// resolving the writer schema named by the payload's ID to t's schema. A
// record written in another major of t's event (the writer schema's
// metadata major_version, absent meaning 1, differs from t.Major()) is
// decoded into that major's registered Go type and migrated to t's
// (events.Migrate). Then the READ domain rules run on out: the writer
// schema's, or after a migration t's own. Errors: ErrBadMagic,
// ErrTruncated, ErrUnknownSchemaID, *IncompatibleError (all poison),
// *MigrationError (permanent), *rules.Error (poison with action ERROR,
// permanent with DLQ) and ErrRegistryUnavailable (only for an ID not seen
// before).
func (s *Serde) Decode(ctx context.Context, data []byte, t events.Type, out any) error {
	id, err := wire.SchemaID(data)
	if err != nil {
		return err
	}
	e, err := s.readEntry(ctx, id, t)
	if err != nil {
		return err
	}
	into := out
	if e.from != nil {
		into = e.from.New()
	}
	if err := s.decodeBody(data, id, e.schema, t, into); err != nil {
		return err
	}
	if e.from != nil {
		if err := s.migrate(id, e, t, into, out); err != nil {
			return err
		}
	}
	if e.plan != nil {
		return e.plan.Run(ctx, out)
	}
	return nil
}

func (s *Serde) decodeBody(data []byte, id int, schema avro.Schema, t events.Type, into any) error {
	r := s.readerPool.Get().(*avro.Reader)
	r.Reset(data[wire.FrameSize:])
	r.ReadVal(schema, into)
	err := r.Error
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
	w, err := s.writerInfo(ctx, id)
	if err != nil {
		return "", err
	}
	sch := w.schema
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
	w, err := s.writerInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	return w.schema, nil
}

// WriterContract returns the data contract registered with schema id: its
// metadata (field tags such as PII, properties such as major_version) and
// its rule set; either is nil when the schema has none. It is cached like
// WriterSchema and has the same errors. Safe for concurrent use.
func (s *Serde) WriterContract(ctx context.Context, id int) (*wire.Metadata, *wire.RuleSet, error) {
	w, err := s.writerInfo(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	return w.metadata, w.ruleSet, nil
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
	if hasDomainRules(t.RuleSet(), rules.Write) {
		target := rules.Target{ID: id, Subject: t.Subject(), Version: s.versionOf(ctx, id, t.Subject())}
		if e.plan, err = s.cfg.engine.Plan(target, e.schema, goType(t), t.RuleSet(), rules.Write); err != nil {
			return typeEntry{}, fmt.Errorf("serde: %s: %w", t.FullName(), err)
		}
	}
	storeCOW(&s.ids, t, e)
	return e, nil
}

// goType is the Go type of t's values.
func goType(t events.Type) reflect.Type { return reflect.TypeOf(t.New()) }

// hasDomainRules reports whether rs has a rule that could run in dir.
func hasDomainRules(rs *wire.RuleSet, dir rules.Direction) bool {
	if rs == nil {
		return false
	}
	for _, r := range rs.DomainRules {
		if !r.Disabled && (dir == rules.Write && r.Mode.OnWrite() || dir == rules.Read && r.Mode.OnRead()) {
			return true
		}
	}
	return false
}

// versionOf returns the version of schema id under subject, for messages;
// 0 when the registry cannot say. Warm-up only.
func (s *Serde) versionOf(ctx context.Context, id int, subject string) int {
	svs, err := s.cl.SchemaVersionsByID(ctx, id)
	if err != nil || len(svs) == 0 {
		return 0
	}
	for _, sv := range svs {
		if sv.Subject == subject {
			return sv.Version
		}
	}
	return svs[0].Version
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
	if sch.SchemaMetadata, sch.SchemaRuleSet, err = regclient.ContractToSR(t.Metadata(), t.RuleSet()); err != nil {
		return 0, fmt.Errorf("serde: rule set of %s: %w", t.FullName(), err)
	}
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

// readEntry returns how to read records of schema id as t, building it on
// first use: the resolved schema, the migration path when the writer is
// another major, the READ rules.
func (s *Serde) readEntry(ctx context.Context, id int, t events.Type) (*readEntry, error) {
	key := resolvedKey{id: id, t: t}
	if e, ok := s.resolved.Load().get(key); ok {
		return e, nil
	}
	w, err := s.writerInfo(ctx, id)
	if err != nil {
		return nil, err
	}
	e := &readEntry{}
	decodeAs := t // the type the body is decoded into
	ruleSet, target := w.ruleSet, rules.Target{ID: id}
	if wm := w.major(); wm != t.Major() {
		from, ok := events.MajorOf(t.FullName(), wm)
		if !ok {
			return nil, &MigrationError{ID: id, Event: t.FullName(), From: wm, To: t.Major(),
				Err: fmt.Errorf("no Go type is registered for major %d: import the package that `contrail gen` generated for it, or keep major %d's schema file so gen generates it", wm, wm)}
		}
		if e.path, err = events.MigrationPath(t.FullName(), wm, t.Major()); err != nil {
			return nil, &MigrationError{ID: id, Event: t.FullName(), From: wm, To: t.Major(), Err: err}
		}
		e.from, decodeAs = from, from
		// After a migration the reader's own rules apply (as Confluent runs
		// the target schema's rules after its migration rules).
		ruleSet, target = t.RuleSet(), rules.Target{}
	}
	reader := decodeAs.Schema()
	if w.schema.Fingerprint() == reader.Fingerprint() {
		e.schema = reader
	} else {
		e.schema, err = avro.NewSchemaCompatibility().Resolve(reader, w.schema)
		if err != nil {
			return nil, &IncompatibleError{
				ID: id, Reader: decodeAs.FullName(), Err: err,
				Findings: compat.Check(
					compat.Schema{Schema: reader, Label: decodeAs.FullName()},
					compat.Schema{Schema: w.schema, Label: fmt.Sprintf("schema id %d", id)}),
			}
		}
	}
	if hasDomainRules(ruleSet, rules.Read) {
		target.Subject, target.Version = t.Subject(), s.readVersion(ctx, target.ID, t)
		if e.plan, err = s.cfg.engine.Plan(target, t.Schema(), goType(t), ruleSet, rules.Read); err != nil {
			return nil, fmt.Errorf("serde: %s (schema %d): %w", t.FullName(), id, err)
		}
	}
	s.fetchMu.Lock()
	storeCOW(&s.resolved, key, e)
	s.fetchMu.Unlock()
	return e, nil
}

// readVersion names the version whose rules run: the writer id's under t's
// subject, or for a reader's own rules (id 0) the version t's schema and
// contract are registered as, when the registry knows it. Warm-up only.
func (s *Serde) readVersion(ctx context.Context, id int, t events.Type) int {
	if id != 0 {
		return s.versionOf(ctx, id, t.Subject())
	}
	refs, err := s.references(ctx, t.References())
	if err != nil {
		return 0
	}
	sch := sr.Schema{Schema: t.SchemaText(), References: refs}
	if sch.SchemaMetadata, sch.SchemaRuleSet, err = regclient.ContractToSR(t.Metadata(), t.RuleSet()); err != nil {
		return 0
	}
	ss, err := s.cl.LookupSchema(ctx, t.Subject(), sch)
	if err != nil {
		return 0
	}
	return ss.Version
}

// migrate takes into (a pointer of e.from's Go type) along e.path and
// stores the result in out (a pointer of t's).
func (s *Serde) migrate(id int, e *readEntry, t events.Type, into, out any) error {
	v := into
	var err error
	for _, m := range e.path {
		if v, err = m.Apply(v); err != nil {
			return &MigrationError{ID: id, Event: t.FullName(), From: e.from.Major(), To: t.Major(), Err: err}
		}
	}
	dst, src := reflect.ValueOf(out), reflect.ValueOf(v)
	if dst.Kind() != reflect.Pointer || dst.IsNil() || dst.Type() != src.Type() {
		return fmt.Errorf("serde: decode %s: out is %T, want %T", t.FullName(), out, v)
	}
	dst.Elem().Set(src.Elem())
	return nil
}

// MigrationError reports a record written in another major of its event
// than the reader's that cannot be migrated: no Go type or migration is
// registered for a step, or a migration function failed. Retrying cannot
// help, so the event runtime dead-letters the record at once (Permanent).
type MigrationError struct {
	// ID is the writer schema id of the record.
	ID int
	// Event is the event's full name.
	Event string
	// From is the writer's major, To the reader's.
	From, To int
	// Err says what is missing or what the migration returned.
	Err error
}

// Error names the record's schema id, both majors and the cause.
func (e *MigrationError) Error() string {
	return fmt.Sprintf("serde: record of schema id %d is %s major %d, the reader reads major %d, and it cannot be migrated: %v",
		e.ID, e.Event, e.From, e.To, e.Err)
}

// Unwrap returns Err.
func (e *MigrationError) Unwrap() error { return e.Err }

// Permanent tells the event runtime to dead-letter the record at once.
func (e *MigrationError) Permanent() bool { return true }

func (s *Serde) writerInfo(ctx context.Context, id int) (*writerInfo, error) {
	if w, ok := s.writers.Load(id); ok {
		return w.(*writerInfo), nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	if w, ok := s.writers.Load(id); ok {
		return w.(*writerInfo), nil
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
	md, rs := regclient.ContractFromSR(got)
	w := &writerInfo{schema: sch, metadata: md, ruleSet: rs}
	s.writers.Store(id, w)
	return w, nil
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
