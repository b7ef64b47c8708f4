package eventing

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"log/slog"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/events"
	"github.com/contrail-events/contrail/wire"
)

// ErrRunning is returned by Run on a router that is already running or has
// run: a Router runs once.
var ErrRunning = errors.New("runtime: router already ran (create a new Router to run again)")

// Router consumes its handlers' topics in one consumer group and dispatches
// each record to the handler registered for its event type: the
// HeaderEventType header, or for a record without it (a non-Contrail
// producer) the name of its writer schema, resolved from the value's schema
// ID through the codec's WriterNamer. Records of a type with no handler are
// skipped and counted. Register handlers with Handle before Run.
//
// Delivery is at-least-once: a record's offset is committed only after its
// handler succeeded or it was dead-lettered, including before partitions are
// revoked and on shutdown. Records of one partition are handled in order,
// one at a time; up to Concurrency partitions at once. With an inbox, a
// partition's records of one poll share one database transaction (see
// BatchTransactions), and their offsets are marked after it commits.
type Router struct {
	cfg routerConfig

	mu      sync.Mutex
	routes  map[string]*route   // by event type
	byTopic map[string][]*route // by topic
	ran     bool

	ready atomic.Pointer[kgo.Client]
	pub   *Publisher

	namer      WriterNamer // nil when the codec cannot name schema ids
	unresolved HandlerFunc // dead-letters records whose type cannot be resolved
}

type route struct {
	t     events.Type
	fn    HandlerFunc // decode + typed handler
	chain HandlerFunc // fn inside every middleware
	// decode decodes a record's value into a new value of the handler's
	// type; a batch decodes its records with it before its transaction
	// begins (see runBatch), and fn takes such a value as it is.
	decode func(ctx context.Context, data []byte) (any, error)
}

// NewRouter returns a router; it needs Group and WithCodec. It returns an
// error for invalid options.
func NewRouter(opts ...RouterOpt) (*Router, error) {
	var cfg routerConfig
	cfg.setDefaults()
	for _, o := range opts {
		if o != nil {
			o.applyRouter(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	namer, _ := cfg.codec.(WriterNamer)
	return &Router{cfg: cfg, routes: map[string]*route{}, byTopic: map[string][]*route{}, namer: namer}, nil
}

// Types returns the event types r has handlers for, sorted by full name.
// Contract tests use it to derive a service's consumer contracts from the
// router its Register function fills (no broker needed: NewRouter does not
// connect). Safe for concurrent use.
func (r *Router) Types() []events.Type {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]events.Type, 0, len(r.routes))
	for _, rt := range r.routes {
		out = append(out, rt.t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FullName() < out[j].FullName() })
	return out
}

// Handle registers fn for events of b's type on b's topic. fn gets the
// decoded event; it returns nil on success, an error to retry, or an error
// wrapped with Permanent to dead-letter the record at once. The message
// (ids, key, record) is available from MessageFrom(ctx), the inbox
// transaction from Tx(ctx). Handle panics when b's type already has a
// handler or the router is running: both are programming errors.
func Handle[T any](r *Router, b *events.Binding[T], fn func(ctx context.Context, e *T) error) {
	name := b.FullName()
	codec := r.cfg.codec
	decode := func(ctx context.Context, data []byte) (any, error) {
		v := new(T)
		if err := codec.Decode(ctx, data, b, v); err != nil {
			return nil, err
		}
		return v, nil
	}
	h := func(ctx context.Context, m *Message) error {
		v, ok := m.Value.(*T) // decoded before the batch began (runBatch)
		if !ok {
			d, err := decode(ctx, m.Record.Value)
			if err != nil {
				return decodeError(name, err)
			}
			v = d.(*T)
			m.Value = v
		}
		return fn(ctx, v)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ran {
		panic("runtime: Handle called after Run")
	}
	if _, dup := r.routes[name]; dup {
		panic("runtime: a handler for " + name + " is already registered")
	}
	rt := &route{t: b, fn: h, decode: decode}
	r.routes[name] = rt
	r.byTopic[b.Topic()] = append(r.byTopic[b.Topic()], rt)
}

// Metrics returns the metrics the router updates.
func (r *Router) Metrics() *Metrics { return r.cfg.metrics }

// Ready reports whether Run has joined the brokers: nil once it is
// consuming and the brokers answer, an error otherwise. Use it as a
// HealthHandler check.
func (r *Router) Ready(ctx context.Context) error {
	cl := r.ready.Load()
	if cl == nil {
		return errors.New("runtime: router not running")
	}
	if err := cl.Ping(ctx); err != nil {
		return fmt.Errorf("runtime: router: brokers unreachable: %w", err)
	}
	return nil
}

// unresolvedHandler labels the metrics of records whose event type could
// not be resolved from their schema id.
const unresolvedHandler = "(unresolved)"

// build wraps every route in the middleware stack, outermost first:
// observe (metrics, logs) -> tracing -> dead-letter -> retry -> recover ->
// inbox -> user middleware -> decode + handler. Records whose type cannot
// be resolved get the stack down to recover around a stage that returns
// their PoisonError, so they are counted, traced and dead-lettered alike.
func (r *Router) build() {
	c := &r.cfg
	for name, rt := range r.routes {
		mws := r.stack(c.metrics.handler(c.group, name))
		if c.inbox != nil {
			mws = append(mws, inboxMiddleware(c.inbox, nil, c.serial))
		}
		mws = append(mws, c.middleware...)
		rt.chain = Chain(rt.fn, mws...)
	}
	r.unresolved = Chain(func(_ context.Context, m *Message) error { return m.resolveErr },
		r.stack(c.metrics.handler(c.group, unresolvedHandler))...)
}

// stack returns the runtime's own middleware for one handler, outermost
// first: observe, tracing, dead-letter, retry, recover.
func (r *Router) stack(hm *handlerMetrics) []Middleware {
	c := &r.cfg
	mws := []Middleware{observeMiddleware(c.logger, hm), TracingMiddleware(c.tracer)}
	if c.deadLetter {
		mws = append(mws, DeadLetterMiddleware(r.sendDeadLetter, nil, func(ctx context.Context, m *Message, topic string, class ErrorClass, err error) {
			hm.deadLettered(class)
			if c.tracer != nil {
				c.tracer.DeadLetter(ctx, topic, err)
			}
			c.logger.WarnContext(ctx, "event dead-lettered", append(attrsAny(logAttrs(m)), "dlq_topic", topic, "error_class", string(class), "error", err.Error())...)
		}))
	}
	return append(mws, RetryMiddleware(c.retry, func(ctx context.Context, m *Message, attempt int, err error, retrying bool) {
		hm.failed(Classify(err))
		if retrying {
			hm.retried.Inc()
			if c.tracer != nil {
				c.tracer.Retry(ctx, attempt+1, err)
			}
			c.logger.InfoContext(ctx, "handler failed; retrying", append(attrsAny(logAttrs(m)), "error", err.Error())...)
		}
	}), RecoverMiddleware())
}

func attrsAny(as []slog.Attr) []any {
	out := make([]any, len(as))
	for i, a := range as {
		out[i] = a
	}
	return out
}

func (r *Router) topics() []string {
	var ts []string
	for t := range r.byTopic {
		ts = append(ts, t)
	}
	sort.Strings(ts)
	return ts
}

// Run consumes until ctx ends, then drains: it stops starting records,
// waits up to ShutdownTimeout for in-flight handlers, commits every handled
// offset and leaves the group. It returns nil after a clean shutdown, an
// error when the router cannot start (no handlers, bad client options,
// already ran) or when the final commit fails.
func (r *Router) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ran {
		r.mu.Unlock()
		return ErrRunning
	}
	r.ran = true
	r.mu.Unlock()
	if len(r.routes) == 0 {
		return errors.New("runtime: router has no handlers: register them with eventing.Handle before Run")
	}
	if err := r.checkReaders(ctx); err != nil { // data contracts: every live major is readable
		return err
	}
	r.cfg.logger = redactPIIKeys(r.cfg.logger, r.routes) // data contracts: PII keys stay out of the logs
	r.build()
	c := &r.cfg

	pub := c.publisher
	if pub == nil {
		p, err := NewPublisher(Brokers(c.brokers...), ClientOpts(c.kopts...), WithCodec(c.codec), WithTracer(c.tracer), WithLogger(c.logger), WithMetrics(c.metrics))
		if err != nil {
			return err
		}
		defer p.Close()
		pub = p
	}
	r.pub = pub

	// Handlers keep a live context through the drain, up to ShutdownTimeout.
	hctx, hcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer hcancel()
	stopDrain := make(chan struct{})
	defer close(stopDrain)
	go func() {
		select {
		case <-ctx.Done():
		case <-stopDrain:
			return
		}
		t := time.NewTimer(c.shutdownTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			hcancel()
		case <-stopDrain:
		}
	}()

	var (
		relay     *Relay
		relayDone chan struct{}
	)
	if c.inbox != nil {
		relay, relayDone = NewRelay(c.inbox, pub, 0), make(chan struct{})
		go func() {
			defer close(relayDone)
			_ = relay.Run(ctx)
		}()
	}
	var err error
	if c.transactionalID != "" {
		err = r.runEOS(ctx, hctx)
	} else {
		err = r.runAtLeastOnce(ctx, hctx)
	}
	if relayDone != nil {
		<-relayDone
		// One last flush so events committed during the drain go out now.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.shutdownTimeout)
		_, _ = relay.Flush(fctx)
		cancel()
	}
	return err
}

func (r *Router) baseConsumerOpts() []kgo.Opt {
	c := &r.cfg
	return append([]kgo.Opt{
		kgo.SeedBrokers(c.brokers...),
		kgo.ConsumerGroup(c.group),
		kgo.ConsumeTopics(r.topics()...),
		kgo.ConsumeResetOffset(c.resetOffset),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
	}, c.kopts...)
}

func (r *Router) runAtLeastOnce(ctx, hctx context.Context) error {
	c := &r.cfg
	opts := append(r.baseConsumerOpts(),
		kgo.BlockRebalanceOnPoll(),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(c.commitInterval),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
			// Everything polled was handled (rebalances wait for
			// AllowRebalance), so committing the marks commits all
			// handled work before another member takes over.
			if err := cl.CommitMarkedOffsets(ctx); err != nil {
				c.logger.Warn("commit before revoke failed; records may be redelivered", "error", err)
			}
		}),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("runtime: router: %w", err)
	}
	r.ready.Store(cl)
	defer r.ready.Store(nil)
	emit := &emitter{pub: r.pub, store: c.inbox}
	for ctx.Err() == nil {
		fs := cl.PollRecords(ctx, 10_000)
		if fs.IsClientClosed() {
			break
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				c.logger.Warn("fetch error", "topic", topic, "partition", p, "error", err)
			}
		})
		done := r.process(ctx, hctx, fs, emit)
		cl.MarkCommitRecords(done...)
		cl.AllowRebalance()
	}
	// Drain is over: commit what was handled, then leave the group.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err = cl.CommitMarkedOffsets(cctx)
	cl.Close() // leaves the group
	if err != nil {
		return fmt.Errorf("runtime: router: final commit: %w (handled records may be redelivered)", err)
	}
	return nil
}

func (r *Router) runEOS(ctx, hctx context.Context) error {
	c := &r.cfg
	sess, err := kgo.NewGroupTransactSession(append(r.baseConsumerOpts(),
		kgo.TransactionalID(c.transactionalID),
		kgo.RequireStableFetchOffsets(),
		kgo.ProducerLinger(0),
	)...)
	if err != nil {
		return fmt.Errorf("runtime: router: %w", err)
	}
	r.ready.Store(sess.Client())
	defer r.ready.Store(nil)
	defer sess.Close()
	for ctx.Err() == nil {
		fs := sess.PollRecords(ctx, 10_000)
		if fs.IsClientClosed() {
			break
		}
		if fs.NumRecords() == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("runtime: router: begin transaction: %w", err)
		}
		emit := &emitter{pub: r.pub, store: c.inbox, txn: sess.Client()}
		done := r.process(ctx, hctx, fs, emit)
		end := kgo.TryCommit
		if len(done) != fs.NumRecords() && ctx.Err() != nil {
			// Shutdown interrupted the batch: abort it; it is redelivered.
			end = kgo.TryAbort
		}
		committed, err := sess.End(hctx, end)
		if err != nil {
			c.logger.Warn("transaction end failed; the batch will be redelivered", "error", err)
		} else if !committed && end == kgo.TryCommit {
			c.logger.Info("transaction aborted by a rebalance; the batch will be redelivered")
		}
	}
	return nil
}

// process handles a poll's records, partitions in parallel, and returns the
// last handled record of each partition (everything before it is handled).
func (r *Router) process(ctx, hctx context.Context, fs kgo.Fetches, emit *emitter) []*kgo.Record {
	var parts []kgo.FetchTopicPartition
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) > 0 {
			parts = append(parts, p)
		}
	})
	out := make([]*kgo.Record, len(parts))
	if len(parts) == 1 || r.cfg.concurrency == 1 {
		for i, p := range parts {
			out[i] = r.processPartition(ctx, hctx, p, emit)
		}
	} else {
		sem := make(chan struct{}, r.cfg.concurrency)
		var wg sync.WaitGroup
		for i, p := range parts {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				out[i] = r.processPartition(ctx, hctx, p, emit)
			}()
		}
		wg.Wait()
	}
	done := out[:0]
	for _, rec := range out {
		if rec != nil {
			done = append(done, rec)
		}
	}
	return done
}

func (r *Router) processPartition(ctx, hctx context.Context, p kgo.FetchTopicPartition, emit *emitter) *kgo.Record {
	if r.cfg.inbox != nil && r.cfg.batchMax > 0 && emit.txn == nil {
		return r.processBatched(ctx, hctx, p, emit)
	}
	var last *kgo.Record
	for _, rec := range p.Records {
		if ctx.Err() != nil {
			break // shutting down: start nothing new
		}
		if !r.handleRecord(hctx, rec, emit) {
			break
		}
		last = rec
	}
	return r.setLag(p, last)
}

// setLag updates p's lag metric after last was handled and returns last.
func (r *Router) setLag(p kgo.FetchTopicPartition, last *kgo.Record) *kgo.Record {
	if last != nil {
		r.cfg.metrics.setLag(r.cfg.group, p.Topic, p.Partition, max(0, p.HighWatermark-last.Offset-1))
	}
	return last
}

// handleRecord runs one record through its route until it succeeds (or is
// dead-lettered or skipped); an error from the chain (only when the
// dead-letter topic is unreachable or dead-lettering is off) blocks the
// partition and is retried after a backoff. It returns false when hctx
// ended first.
func (r *Router) handleRecord(hctx context.Context, rec *kgo.Record, emit *emitter) bool {
	return r.handle(hctx, rec, emit, nil) == handled
}

// handle runs rec through its route. Without a batch it retries a failing
// chain until it succeeds or hctx ends. Inside batch b it makes one pass
// through the chain (whose retry middleware still retries) and reports a
// failure as blocked, and a record whose type must be resolved (which may
// wait for the registry) as alone, so the caller handles it outside the
// batch's transaction.
func (r *Router) handle(hctx context.Context, rec *kgo.Record, emit *emitter, b *batchTx) outcome {
	mc := &messageCtx{Context: hctx, emit: emit}
	if b != nil {
		mc.Context, mc.batch = b.ctx, b
	}
	m := &mc.msg
	var chain HandlerFunc
	if rt := m.init(rec, r.cfg.group, r.routes); rt != nil {
		chain = rt.chain
		if b != nil {
			m.Value = b.decoded(rec)
		}
	} else if m.EventType == "" {
		if b != nil {
			return alone
		}
		var ok bool
		if chain, ok = r.resolve(hctx, m); !ok {
			return stopped
		}
	}
	if chain == nil {
		r.cfg.metrics.unknownCounter(r.cfg.group, rec.Topic, m.EventType).Inc()
		r.cfg.logger.Debug("no handler for event type; skipped", "event_type", m.EventType, "topic", rec.Topic, "offset", rec.Offset)
		return handled
	}
	var ctx context.Context = mc
	for attempt := 1; ; attempt++ {
		err := chain(ctx, m)
		if err == nil {
			return handled
		}
		if hctx.Err() != nil {
			return stopped
		}
		if b != nil {
			return blocked
		}
		if !sleep(hctx, r.cfg.retry.Backoff(min(attempt+1, 10))) {
			return stopped
		}
		m.duplicate, m.deadLettered, m.Value = false, false, nil
	}
}

// resolve finds the chain for a record without a HeaderEventType header and
// sets m.EventType. With a WriterNamer it names the type by the value's
// schema id; a value that is not in the wire format or whose id the registry
// does not know gets the unresolved chain (poison: dead-lettered), and an
// unreachable registry is waited for, like a decode. Without one, the
// topic's only handler takes the record. A nil chain means no handler:
// skip. It returns false when hctx ended while waiting.
func (r *Router) resolve(hctx context.Context, m *Message) (HandlerFunc, bool) {
	if r.namer == nil {
		if ts := r.byTopic[m.Record.Topic]; len(ts) == 1 {
			m.EventType = ts[0].t.FullName()
			return ts[0].chain, true
		}
		return nil, true
	}
	id, err := wire.SchemaID(m.Record.Value)
	for attempt := 1; err == nil; attempt++ {
		name, werr := r.namer.WriterName(hctx, id)
		if werr == nil {
			m.EventType = name
			if rt := r.routes[name]; rt != nil {
				return rt.chain, true
			}
			return nil, true
		}
		if Classify(decodeError("", werr)) != ClassTransient {
			err = werr
			break
		}
		if hctx.Err() != nil {
			return nil, false
		}
		r.cfg.logger.Warn("cannot resolve the event type of a record without a type header; retrying",
			"topic", m.Record.Topic, "partition", m.Record.Partition, "offset", m.Record.Offset, "schema_id", id, "error", werr)
		if !sleep(hctx, r.cfg.retry.Backoff(min(attempt+1, 10))) {
			return nil, false
		}
	}
	m.resolveErr = &PoisonError{Err: err}
	return r.unresolved, true
}

// sendDeadLetter produces a dead letter through the emitter of the message
// in ctx: inside the transaction in exactly-once mode, else synchronously.
func (r *Router) sendDeadLetter(ctx context.Context, rec *kgo.Record) error {
	cl := r.pub.cl
	if em, _ := ctx.Value(emitterKey{}).(*emitter); em != nil && em.txn != nil {
		cl = em.txn
	}
	return cl.ProduceSync(ctx, rec).FirstErr()
}
