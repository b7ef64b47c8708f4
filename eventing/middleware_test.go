package eventing_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/registry/serde"
	"github.com/contrail-events/contrail/wire"
)

func msg(id string) *eventing.Message {
	return &eventing.Message{
		Record:  &kgo.Record{Topic: "orders", Partition: 2, Offset: 41, Key: []byte("o-1"), Value: []byte("v"), Headers: []kgo.RecordHeader{{Key: wire.HeaderEventID, Value: []byte(id)}}},
		EventID: id, Group: "g", Key: "o-1",
	}
}

var fastRetry = eventing.RetryPolicy{MaxAttempts: 4, Initial: time.Millisecond, Max: 4 * time.Millisecond, Multiplier: 2}

func TestRetryMiddleware(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name         string
		failures     int   // attempts that fail before success
		err          error // error the failing attempts return
		wantAttempts int
		wantErr      bool
		wantRetries  int
	}{
		{name: "success first time", failures: 0, err: boom, wantAttempts: 1},
		{name: "fail twice then succeed", failures: 2, err: boom, wantAttempts: 3, wantRetries: 2},
		{name: "transient until exhausted", failures: 99, err: boom, wantAttempts: 4, wantErr: true, wantRetries: 3},
		{name: "permanent is not retried", failures: 99, err: eventing.Permanent(boom), wantAttempts: 1, wantErr: true},
		{name: "poison is not retried", failures: 99, err: &eventing.PoisonError{EventType: "x", Err: boom}, wantAttempts: 1, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			attempts, retries := 0, 0
			var seen []int
			h := eventing.RetryMiddleware(fastRetry, func(_ context.Context, m *eventing.Message, attempt int, err error, retrying bool) {
				if retrying {
					retries++
				}
			})(func(_ context.Context, m *eventing.Message) error {
				attempts++
				seen = append(seen, m.Attempt)
				if attempts <= tc.failures {
					return tc.err
				}
				return nil
			})
			err := h(context.Background(), msg("e1"))
			if (err != nil) != tc.wantErr || attempts != tc.wantAttempts || retries != tc.wantRetries {
				t.Fatalf("err=%v attempts=%d retries=%d; want err=%v attempts=%d retries=%d", err, attempts, retries, tc.wantErr, tc.wantAttempts, tc.wantRetries)
			}
			for i, a := range seen {
				if a != i+1 {
					t.Fatalf("Message.Attempt sequence %v, want 1, 2, ...", seen)
				}
			}
		})
	}
}

func TestRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	slow := eventing.RetryPolicy{MaxAttempts: 10, Initial: time.Hour, Max: time.Hour, Multiplier: 1}
	h := eventing.RetryMiddleware(slow, nil)(func(context.Context, *eventing.Message) error {
		cancel()
		return errors.New("boom")
	})
	done := make(chan error)
	go func() { done <- h(ctx, msg("e1")) }()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("err = %v, want context.Canceled joined with the handler error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("retry kept waiting after ctx ended")
	}
}

func TestBackoffIsBoundedExponential(t *testing.T) {
	p := eventing.RetryPolicy{MaxAttempts: 10, Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	for _, tc := range []struct {
		name    string
		attempt int
		want    time.Duration
	}{
		{name: "second attempt", attempt: 2, want: 100 * time.Millisecond},
		{name: "third", attempt: 3, want: 200 * time.Millisecond},
		{name: "fifth", attempt: 5, want: 800 * time.Millisecond},
		{name: "capped", attempt: 9, want: time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Backoff(tc.attempt); got != tc.want {
				t.Fatalf("Backoff(%d) = %v, want %v", tc.attempt, got, tc.want)
			}
		})
	}
	p.Jitter = 0.5
	for range 100 {
		if d := p.Backoff(3); d < 100*time.Millisecond || d > 300*time.Millisecond {
			t.Fatalf("jittered backoff %v outside 200ms +-50%%", d)
		}
	}
}

func TestRecoverMiddleware(t *testing.T) {
	h := eventing.RecoverMiddleware()(func(context.Context, *eventing.Message) error { panic("nil map") })
	err := h(context.Background(), msg("e1"))
	var pe *eventing.PanicError
	if !errors.As(err, &pe) || pe.Value != "nil map" || len(pe.Stack) == 0 {
		t.Fatalf("err = %#v, want *PanicError with value and stack", err)
	}
	if c := eventing.Classify(err); c != eventing.ClassPanic {
		t.Fatalf("class %q, want panic", c)
	}
	ok := eventing.RecoverMiddleware()(func(context.Context, *eventing.Message) error { return nil })
	if err := ok(context.Background(), msg("e1")); err != nil {
		t.Fatal(err)
	}
}

func TestClassify(t *testing.T) {
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		err  error
		want eventing.ErrorClass
	}{
		{name: "plain", err: boom, want: eventing.ClassTransient},
		{name: "permanent", err: eventing.Permanent(boom), want: eventing.ClassPermanent},
		{name: "wrapped permanent", err: errors.Join(errors.New("ctx"), eventing.Permanent(boom)), want: eventing.ClassPermanent},
		{name: "poison", err: &eventing.PoisonError{Err: boom}, want: eventing.ClassPoison},
		{name: "panic", err: &eventing.PanicError{Value: 1}, want: eventing.ClassPanic},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := eventing.Classify(tc.err); got != tc.want {
				t.Fatalf("Classify = %q, want %q", got, tc.want)
			}
		})
	}
	if eventing.Permanent(nil) != nil {
		t.Fatal("Permanent(nil) != nil")
	}
	if !errors.Is(eventing.Permanent(boom), boom) {
		t.Fatal("Permanent hides the wrapped error")
	}
}

func TestDeadLetterMiddleware(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	boom := errors.New("card declined")
	var sent []*kgo.Record
	var hooked []eventing.ErrorClass
	send := func(_ context.Context, r *kgo.Record) error { sent = append(sent, r); return nil }
	mw := eventing.DeadLetterMiddleware(send, func() time.Time { return at }, func(_ context.Context, _ *eventing.Message, topic string, c eventing.ErrorClass, _ error) {
		if topic != "orders.dlq" {
			t.Errorf("hook topic %q", topic)
		}
		hooked = append(hooked, c)
	})

	t.Run("failure goes to the dlq with headers", func(t *testing.T) {
		sent = nil
		err := mw(func(context.Context, *eventing.Message) error { return eventing.Permanent(boom) })(context.Background(), msg("e1"))
		if err != nil || len(sent) != 1 {
			t.Fatalf("err=%v sent=%d, want nil and 1 dead letter", err, len(sent))
		}
		r := sent[0]
		want := map[string]string{
			wire.HeaderDLQTopic: "orders", wire.HeaderDLQPartition: "2", wire.HeaderDLQOffset: "41",
			wire.HeaderDLQErrorClass: "permanent", wire.HeaderDLQError: "card declined",
			wire.HeaderDLQTime: "2026-01-02T03:04:05Z", wire.HeaderEventID: "e1",
		}
		for k, v := range want {
			if got := eventing.HeaderValue(r, k); got != v {
				t.Errorf("header %s = %q, want %q", k, got, v)
			}
		}
		if r.Topic != "orders.dlq" || string(r.Key) != "o-1" || string(r.Value) != "v" {
			t.Errorf("dead letter %s key=%q value=%q, want orders.dlq with the original key and value", r.Topic, r.Key, r.Value)
		}
	})
	t.Run("success is not dead-lettered", func(t *testing.T) {
		sent = nil
		if err := mw(func(context.Context, *eventing.Message) error { return nil })(context.Background(), msg("e1")); err != nil || len(sent) != 0 {
			t.Fatalf("err=%v sent=%d", err, len(sent))
		}
	})
	t.Run("shutdown returns the error instead", func(t *testing.T) {
		sent = nil
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		err := mw(func(context.Context, *eventing.Message) error { return boom })(ctx, msg("e1"))
		if !errors.Is(err, boom) || len(sent) != 0 {
			t.Fatalf("err=%v sent=%d, want the handler error and no dead letter", err, len(sent))
		}
	})
	t.Run("registry outage blocks instead", func(t *testing.T) {
		sent = nil
		outage := fmt.Errorf("runtime: decode x: %w", serde.ErrRegistryUnavailable)
		err := mw(func(context.Context, *eventing.Message) error { return outage })(context.Background(), msg("e1"))
		if !errors.Is(err, serde.ErrRegistryUnavailable) || len(sent) != 0 {
			t.Fatalf("err=%v sent=%d, want the outage returned and no dead letter", err, len(sent))
		}
	})
	t.Run("send failure is returned", func(t *testing.T) {
		failing := eventing.DeadLetterMiddleware(func(context.Context, *kgo.Record) error { return errors.New("broker down") }, nil, nil)
		err := failing(func(context.Context, *eventing.Message) error { return boom })(context.Background(), msg("e1"))
		if err == nil || !strings.Contains(err.Error(), "broker down") {
			t.Fatalf("err = %v, want the send error", err)
		}
	})
	if len(hooked) != 1 || hooked[0] != eventing.ClassPermanent {
		t.Fatalf("hook calls %v", hooked)
	}
}

func TestDeadLetterRecordReplacesOldDLQHeaders(t *testing.T) {
	r := &kgo.Record{Topic: "orders", Headers: []kgo.RecordHeader{{Key: wire.HeaderDLQOffset, Value: []byte("1")}, {Key: "x", Value: []byte("y")}}}
	dl := eventing.DeadLetterRecord(r, eventing.ClassPoison, errors.New("e"), time.Now())
	n := 0
	for _, h := range dl.Headers {
		if h.Key == wire.HeaderDLQOffset {
			n++
		}
	}
	if n != 1 || eventing.HeaderValue(dl, "x") != "y" {
		t.Fatalf("headers %v: want one offset header and the other headers kept", dl.Headers)
	}
}

type fakeTracer struct {
	processed []string
	ended     []error
	retries   []int
	dead      []string
}

func (f *fakeTracer) StartSend(ctx context.Context, r *kgo.Record) (context.Context, func(error)) {
	r.Headers = append(r.Headers, kgo.RecordHeader{Key: "traceparent", Value: []byte("00-0123456789abcdef0123456789abcdef-0123456789abcdef-01")})
	return ctx, func(error) {}
}
func (f *fakeTracer) StartProcess(ctx context.Context, r *kgo.Record, group string) (context.Context, func(error)) {
	f.processed = append(f.processed, r.Topic+"/"+group)
	return ctx, func(err error) { f.ended = append(f.ended, err) }
}
func (f *fakeTracer) Retry(_ context.Context, attempt int, _ error) {
	f.retries = append(f.retries, attempt)
}
func (f *fakeTracer) DeadLetter(_ context.Context, topic string, _ error) {
	f.dead = append(f.dead, topic)
}

func TestTracingMiddleware(t *testing.T) {
	ft := &fakeTracer{}
	boom := errors.New("boom")
	h := eventing.TracingMiddleware(ft)(func(context.Context, *eventing.Message) error { return boom })
	if err := h(context.Background(), msg("e1")); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if len(ft.processed) != 1 || ft.processed[0] != "orders/g" || len(ft.ended) != 1 || ft.ended[0] != boom {
		t.Fatalf("spans %v ended %v", ft.processed, ft.ended)
	}
	// A nil tracer adds no stage at all.
	called := false
	var next eventing.HandlerFunc = func(context.Context, *eventing.Message) error { called = true; return nil }
	if err := eventing.TracingMiddleware(nil)(next)(context.Background(), msg("e1")); err != nil || !called {
		t.Fatal("nil tracer changed the handler")
	}
}

func TestInboxMiddleware(t *testing.T) {
	ctx := context.Background()
	st, err := eventing.OpenStore(ctx, filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.DB().Exec(`CREATE TABLE applied (event_id TEXT)`); err != nil {
		t.Fatal(err)
	}
	fail := true
	calls := 0
	var dups int
	h := eventing.InboxMiddleware(st, func(context.Context, *eventing.Message) { dups++ })(func(ctx context.Context, m *eventing.Message) error {
		calls++
		tx := eventing.Tx(ctx)
		if tx == nil {
			return errors.New("no transaction in ctx")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO applied VALUES (?)`, m.EventID); err != nil {
			return err
		}
		if fail {
			return errors.New("boom after the state change")
		}
		return nil
	})
	count := func() int {
		var n int
		if err := st.DB().QueryRow(`SELECT count(*) FROM applied`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := h(ctx, msg("e1")); err == nil {
		t.Fatal("handler error swallowed")
	}
	if count() != 0 {
		t.Fatal("failed handler's state change was committed")
	}
	fail = false
	for i := range 3 {
		if err := h(ctx, msg("e1")); err != nil {
			t.Fatalf("delivery %d: %v", i+1, err)
		}
	}
	if calls != 2 || count() != 1 || dups != 2 {
		t.Fatalf("calls=%d applied=%d dups=%d, want handler called twice (fail, success), applied once, 2 duplicates", calls, count(), dups)
	}
	if err := h(ctx, msg("e2")); err != nil || count() != 2 {
		t.Fatalf("a new event id was not handled: %v, applied=%d", err, count())
	}
}

func TestChainOrder(t *testing.T) {
	var order []string
	mw := func(name string) eventing.Middleware {
		return func(next eventing.HandlerFunc) eventing.HandlerFunc {
			return func(ctx context.Context, m *eventing.Message) error {
				order = append(order, name)
				return next(ctx, m)
			}
		}
	}
	h := eventing.Chain(func(context.Context, *eventing.Message) error { order = append(order, "h"); return nil }, mw("a"), mw("b"))
	_ = h(context.Background(), msg("e"))
	if strings.Join(order, ",") != "a,b,h" {
		t.Fatalf("order %v", order)
	}
}
