package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// batchProcessor is Contrail's batch span processor. It exists because the
// SDK's BatchSpanProcessor drops spans silently when its queue is full: this
// one counts every dropped span (exposed as a metric and by
// Provider.DroppedSpans) and logs the first drop, and it never blocks the
// caller of span.End.
type batchProcessor struct {
	exp     sdktrace.SpanExporter
	log     *slog.Logger
	batch   int
	timeout time.Duration
	expTO   time.Duration

	queue   chan sdktrace.ReadOnlySpan
	flushCh chan chan error
	stop    chan struct{}
	done    chan struct{}

	dropped   atomic.Uint64
	exported  atomic.Uint64
	failed    atomic.Uint64
	dropOnce  sync.Once
	failing   atomic.Bool
	closeOnce sync.Once
	closed    atomic.Bool
}

func newBatchProcessor(exp sdktrace.SpanExporter, log *slog.Logger, queue, batch int, timeout, expTO time.Duration) *batchProcessor {
	p := &batchProcessor{
		exp: exp, log: log, batch: batch, timeout: timeout, expTO: expTO,
		queue:   make(chan sdktrace.ReadOnlySpan, queue),
		flushCh: make(chan chan error),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *batchProcessor) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

func (p *batchProcessor) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	if p.closed.Load() {
		p.drop()
		return
	}
	select {
	case p.queue <- s:
	default:
		p.drop()
	}
}

func (p *batchProcessor) drop() {
	p.dropped.Add(1)
	p.dropOnce.Do(func() {
		p.log.Warn("tracing: span queue full, dropping spans; the count is in metric "+MetricDroppedSpans+
			" (raise Config.QueueSize or lower the sampling ratio)", "queue_size", cap(p.queue))
	})
}

func (p *batchProcessor) run() {
	defer close(p.done)
	buf := make([]sdktrace.ReadOnlySpan, 0, p.batch)
	t := time.NewTimer(p.timeout)
	defer t.Stop()
	for {
		select {
		case s := <-p.queue:
			buf = append(buf, s)
			if len(buf) >= p.batch {
				buf = p.export(buf)
			}
		case <-t.C:
			buf = p.export(p.drain(buf, false))
			t.Reset(p.timeout)
		case reply := <-p.flushCh:
			buf = p.export(p.drain(buf, true))
			reply <- nil
		case <-p.stop:
			p.export(p.drain(buf, true))
			return
		}
	}
}

// drain moves queued spans into buf, exporting full batches; all=false stops
// at one batch so a timer tick never starves the queue.
func (p *batchProcessor) drain(buf []sdktrace.ReadOnlySpan, all bool) []sdktrace.ReadOnlySpan {
	for {
		select {
		case s := <-p.queue:
			buf = append(buf, s)
			if len(buf) >= p.batch {
				if !all {
					return buf
				}
				buf = p.export(buf)
			}
		default:
			return buf
		}
	}
}

func (p *batchProcessor) export(buf []sdktrace.ReadOnlySpan) []sdktrace.ReadOnlySpan {
	if len(buf) == 0 {
		return buf
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.expTO)
	err := p.exp.ExportSpans(ctx, buf)
	cancel()
	if err != nil {
		p.failed.Add(uint64(len(buf)))
		if !p.failing.Swap(true) {
			p.log.Warn("tracing: exporting spans failed; retrying with the next batch, failures are counted in metric "+MetricFailedSpans, "err", err, "spans", len(buf))
		}
	} else {
		p.exported.Add(uint64(len(buf)))
		if p.failing.Swap(false) {
			p.log.Info("tracing: exporting spans works again")
		}
	}
	clear(buf)
	return buf[:0]
}

func (p *batchProcessor) ForceFlush(ctx context.Context) error {
	if p.closed.Load() {
		return nil
	}
	reply := make(chan error, 1)
	select {
	case p.flushCh <- reply:
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("tracing: flush spans: %w", ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("tracing: flush spans: %w", ctx.Err())
	}
}

func (p *batchProcessor) Shutdown(ctx context.Context) error {
	var err error
	p.closeOnce.Do(func() {
		p.closed.Store(true)
		close(p.stop)
		select {
		case <-p.done:
		case <-ctx.Done():
			err = fmt.Errorf("tracing: shutdown before all spans were exported: %w", ctx.Err())
		}
		if e := p.exp.Shutdown(ctx); e != nil {
			err = errors.Join(err, fmt.Errorf("tracing: shut down exporter: %w", e))
		}
	})
	return err
}
