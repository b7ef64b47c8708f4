// Package loadgen is the library behind `contrail load`: it places orders
// against a running platform over its HTTP APIs, waits until each reaches a
// final state, and checks the flow's invariants on what the services
// report:
//
//   - every order is final exactly once (one final event in its history, no
//     event applied twice) and ends as its kind predicts (good orders ship,
//     out-of-stock orders are cancelled OUT_OF_STOCK, declined ones
//     PAYMENT_FAILED);
//   - stock is conserved: for every SKU initial = available + reserved +
//     shipped, nothing stays reserved once every order is final, and the
//     shipped stock grew by exactly the units of this run's shipped orders;
//   - every charged order was charged once; every shipped order was never
//     refunded; every order cancelled after a charge was refunded once.
//
// The checks assume no other traffic runs against the platform meanwhile.
//
// The order service's GET /orders and /orders/count and the payment
// service's GET /payments are admin endpoints: they need the services'
// admin token (Config.AdminToken; by default $CONTRAIL_ADMIN_TOKEN, else
// the file `contrail up` writes). Without one, Run waits on each order's
// GET /orders/{id} and reads each payment's GET /payments/{id} instead, and
// says so in the report.
package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Kind is what an order is built to test.
type Kind string

// Order kinds and the outcome each must reach.
const (
	Good       Kind = "good"         // ships
	OutOfStock Kind = "out_of_stock" // CANCELLED OUT_OF_STOCK
	Declined   Kind = "declined"     // CANCELLED PAYMENT_FAILED
)

// Config is one load run.
type Config struct {
	// OrderURL, InventoryURL and PaymentURL are the services' base URLs.
	// Each may list several, comma separated: the replicas of a service,
	// which serve the same API on the same state. Placements are spread
	// over the order URLs, and a request that cannot reach one URL (or gets
	// a 5xx) tries the next. Defaults: http://127.0.0.1:8080, :8091, :8092.
	OrderURL, InventoryURL, PaymentURL string
	// Orders to place. Default 100.
	Orders int
	// Concurrency is how many requests are in flight. Default 16.
	Concurrency int
	// Rate caps placements per second; 0 means as fast as Concurrency allows.
	Rate float64
	// OutOfStock and Declined are the fractions of such orders. Defaults
	// 0.1 each; the rest are good orders.
	OutOfStock, Declined float64
	// Timeout bounds waiting for every order to become final and the
	// services to settle. Default 2m.
	Timeout time.Duration
	// Seed makes the mix reproducible. Default: time-based.
	Seed uint64
	// Progress, when set, is called after each placement and each poll
	// round with (placed, final, total).
	Progress func(placed, final, total int)
	// HTTP is the client; default one with a 10s timeout.
	HTTP *http.Client
	// AdminToken is the services' admin token (their
	// CONTRAIL_ADMIN_TOKEN), sent as "Authorization: Bearer <token>".
	// With it, Run polls GET /orders/count while it waits and lists GET
	// /payments; without it, it reads each of its orders and payments by
	// id, which costs the services it measures more. Default: the contents
	// of $CONTRAIL_ADMIN_TOKEN (EnvAdminToken), else of AdminTokenFile,
	// else none.
	AdminToken string
	// AdminTokenFile is read for AdminToken when that and the environment
	// give none; a missing file means no token. Default
	// DefaultAdminTokenFile.
	AdminTokenFile string
	// Brokers, when set, are the platform's brokers: Run then also reads
	// the run's events back from them and reports where a shipped order's
	// time went, hop by hop (Report.Hops). Default none: no hops.
	Brokers []string
}

// EnvAdminToken is the environment variable that holds the services'
// admin token: the services read it (host.Config.AdminToken), `contrail
// up` passes it to them, and Run falls back on it.
const EnvAdminToken = "CONTRAIL_ADMIN_TOKEN"

// AdminTokenFile is the file in its data directory where `contrail up`
// writes the admin token it generated for the run (mode 0600).
const AdminTokenFile = "admin-token"

// DefaultAdminTokenFile is AdminTokenFile in `contrail up`'s default data
// directory, relative to the working directory: `contrail load` run where
// `contrail up` runs finds the token without a flag.
const DefaultAdminTokenFile = ".contrail/" + AdminTokenFile

// adminToken returns AdminToken, else $CONTRAIL_ADMIN_TOKEN, else the
// token in AdminTokenFile ("" when the file does not exist).
func (c *Config) adminToken() (string, error) {
	if c.AdminToken != "" {
		return c.AdminToken, nil
	}
	if v := os.Getenv(EnvAdminToken); v != "" {
		return v, nil
	}
	b, err := os.ReadFile(c.AdminTokenFile)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("loadgen: read the admin token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *Config) setDefaults() {
	if c.OrderURL == "" {
		c.OrderURL = "http://127.0.0.1:8080"
	}
	if c.InventoryURL == "" {
		c.InventoryURL = "http://127.0.0.1:8091"
	}
	if c.PaymentURL == "" {
		c.PaymentURL = "http://127.0.0.1:8092"
	}
	if c.Orders == 0 {
		c.Orders = 100
	}
	if c.Concurrency == 0 {
		c.Concurrency = 16
	}
	if c.OutOfStock == 0 && c.Declined == 0 {
		c.OutOfStock, c.Declined = 0.1, 0.1
	}
	if c.Timeout == 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.Seed == 0 {
		c.Seed = uint64(time.Now().UnixNano())
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Timeout: 10 * time.Second}
	}
	if c.AdminTokenFile == "" {
		c.AdminTokenFile = DefaultAdminTokenFile
	}
	for _, p := range []*string{&c.OrderURL, &c.InventoryURL, &c.PaymentURL} {
		*p = strings.Join(splitURLs(*p), ",")
	}
}

// splitURLs splits a comma-separated list of base URLs, dropping blanks
// and trailing slashes.
func splitURLs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimRight(strings.TrimSpace(u), "/"); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// ErrConfig wraps invalid settings.
var ErrConfig = errors.New("loadgen: invalid configuration")

// Validate reports the first invalid setting.
func (c *Config) Validate() error {
	switch {
	case c.Orders < 1:
		return fmt.Errorf("%w: --orders must be at least 1", ErrConfig)
	case c.Concurrency < 1 || c.Concurrency > 1024:
		return fmt.Errorf("%w: --concurrency must be between 1 and 1024", ErrConfig)
	case c.Rate < 0:
		return fmt.Errorf("%w: --rate must not be negative", ErrConfig)
	case c.OutOfStock < 0 || c.Declined < 0 || c.OutOfStock+c.Declined > 1:
		return fmt.Errorf("%w: the out-of-stock and declined fractions must be >= 0 and sum to at most 1", ErrConfig)
	}
	return nil
}

// Invariant is one check and its outcome.
type Invariant struct {
	Name   string   `json:"name"`
	OK     bool     `json:"ok"`
	Detail string   `json:"detail"`
	Errors []string `json:"errors,omitempty"`
}

// Latency holds placed->final latency percentiles in milliseconds.
type Latency struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

// Report is the result of a run.
type Report struct {
	Orders      int     `json:"orders"`
	Concurrency int     `json:"concurrency"`
	Rate        float64 `json:"rate,omitempty"`
	// PlaceSeconds is how long placing took; PlacedPerSec the HTTP rate.
	PlaceSeconds float64 `json:"place_seconds"`
	PlacedPerSec float64 `json:"placed_per_sec"`
	// FlowSeconds is first placement to last final state (server clocks):
	// FirstPlaced to LastFinal; OrdersPerSec = Orders / FlowSeconds.
	FlowSeconds  float64        `json:"flow_seconds"`
	FirstPlaced  time.Time      `json:"first_placed"`
	LastFinal    time.Time      `json:"last_final"`
	OrdersPerSec float64        `json:"orders_per_sec"`
	Latency      Latency        `json:"placed_to_final"`
	Kinds        map[Kind]int   `json:"kinds"`
	Final        map[string]int `json:"final_states"`
	PlaceErrors  int            `json:"place_errors"`
	Invariants   []Invariant    `json:"invariants"`
	// OK is true when every invariant holds.
	OK bool `json:"ok"`
	// Baseline is filled by the caller when a raw-broker baseline ran.
	Baseline *Baseline `json:"baseline,omitempty"`
	// Notes say how the run read the services when that is not the
	// default (no admin token).
	Notes []string `json:"notes,omitempty"`
	// Hops is where the shipped orders' time went, hop by hop (with
	// Config.Brokers only).
	Hops *Hops `json:"hops,omitempty"`
}

type placed struct {
	kind  Kind
	id    string
	units map[string]int
	// sent and accepted are when the POST went out and its 202 came back
	// (client clock).
	sent, accepted time.Time
}

// Run places the orders, waits for them to finish and checks the
// invariants. It returns an error only when the run itself could not be
// done (platform unreachable, timeout); failed invariants are in the report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	token, err := cfg.adminToken()
	if err != nil {
		return nil, err
	}
	cfg.AdminToken = token
	c := &client{http: cfg.HTTP, token: token, order: splitURLs(cfg.OrderURL), inventory: splitURLs(cfg.InventoryURL), payment: splitURLs(cfg.PaymentURL)}
	var before stockReport
	if err := c.get(ctx, c.inventory, "/stock", &before); err != nil {
		return nil, fmt.Errorf("loadgen: read stock before the run (is the platform up? start it with `contrail up`; on other ports pass the --order-url, --inventory-url and --payment-url that `contrail up` printed): %w", err)
	}
	if token != "" {
		// A token the services refuse fails the run before it places
		// anything.
		var cnt struct{}
		if err := c.get(ctx, c.order, "/orders/count?open=true&since="+url.QueryEscape(time.Now().UTC().Format(time.RFC3339)), &cnt); refused(err) {
			return nil, fmt.Errorf("loadgen: check the admin token: %w", err)
		}
	}
	r := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	kinds := make([]Kind, cfg.Orders)
	for i := range kinds {
		switch x := r.Float64(); {
		case x < cfg.OutOfStock:
			kinds[i] = OutOfStock
		case x < cfg.OutOfStock+cfg.Declined:
			kinds[i] = Declined
		default:
			kinds[i] = Good
		}
	}
	runID := fmt.Sprintf("load-%d", cfg.Seed)
	orders := make([]placed, cfg.Orders)
	var next, done, failed atomic.Int64
	var firstErr atomic.Value
	var tick <-chan time.Time
	if cfg.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
		defer t.Stop()
		tick = t.C
	}
	// The bodies are built before the clock starts, so the load generator
	// spends its CPU (on the services' machine) on requests, not JSON.
	bodies := make([][]byte, cfg.Orders)
	units := make([]map[string]int, cfg.Orders)
	rr := rand.New(rand.NewPCG(cfg.Seed+1, 7))
	for i := range bodies {
		bodies[i], units[i] = buildOrder(rr, kinds[i])
	}
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < cfg.Concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Orders || ctx.Err() != nil {
					return
				}
				if tick != nil {
					select {
					case <-tick:
					case <-ctx.Done():
						return
					}
				}
				sent := time.Now()
				id, err := c.place(ctx, w, bodies[i], fmt.Sprintf("%s-%d", runID, i))
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
				orders[i] = placed{kind: kinds[i], id: id, units: units[i], sent: sent, accepted: time.Now()}
				n := int(done.Add(1))
				if cfg.Progress != nil {
					cfg.Progress(n, 0, cfg.Orders)
				}
			}
		}(w)
	}
	wg.Wait()
	placeDur := time.Since(start)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n := failed.Load(); n == int64(cfg.Orders) {
		return nil, fmt.Errorf("loadgen: every placement failed; first error: %v", firstErr.Load())
	}
	rep := &Report{Orders: cfg.Orders, Concurrency: cfg.Concurrency, Rate: cfg.Rate, PlaceSeconds: placeDur.Seconds(),
		PlacedPerSec: float64(cfg.Orders) / placeDur.Seconds(), Kinds: map[Kind]int{}, Final: map[string]int{}, PlaceErrors: int(failed.Load())}
	for _, k := range kinds {
		rep.Kinds[k]++
	}
	if token == "" {
		rep.Notes = append(rep.Notes, fmt.Sprintf("no admin token (no %s, no %s): waited by reading each order and payment by id "+
			"instead of GET /orders/count and GET /payments, which loads the services more", EnvAdminToken, cfg.AdminTokenFile))
	}
	wctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	views, err := waitFinal(wctx, c, cfg, orders, start.Add(-time.Minute))
	if err != nil {
		return nil, err
	}
	if err := check(wctx, c, cfg, orders, views, before, rep); err != nil {
		return nil, err
	}
	if len(cfg.Brokers) > 0 {
		evs, err := readHops(wctx, cfg.Brokers, start.Add(-time.Second))
		if err != nil {
			return nil, err
		}
		rep.Hops = hops(evs, orders, views)
	}
	return rep, nil
}

// orderView is the part of GET /orders/{id} the checks read.
type orderView struct {
	ID        string     `json:"order_id"`
	Status    string     `json:"status"`
	Reason    string     `json:"reason"`
	CreatedAt time.Time  `json:"created_at"`
	FinalAt   *time.Time `json:"final_at"`
	History   []struct {
		Type      string `json:"type"`
		Direction string `json:"direction"`
		EventID   string `json:"event_id"`
	} `json:"history"`
}

func (o *orderView) final() bool { return o.Status == "SHIPPED" || o.Status == "CANCELLED" }

// waitFinal waits until every placed order is final. It polls the count
// of open orders (GET /orders/count?open=true&since=, an index lookup)
// rather than each order or the order list, so waiting does not load the
// service it measures, then reads each order once with its history.
func waitFinal(ctx context.Context, c *client, cfg Config, orders []placed, since time.Time) (map[string]*orderView, error) {
	mine := map[string]bool{}
	for _, o := range orders {
		if o.id != "" {
			mine[o.id] = true
		}
	}
	if c.token == "" {
		return waitEach(ctx, c, cfg, len(orders), mine)
	}
	sinceQ := url.QueryEscape(since.UTC().Format(time.RFC3339Nano))
	// openMine counts this run's orders among the open ones: exact even when
	// orders of an earlier run are still open, but it reads whole orders.
	openMine := func() (int, error) {
		open, after := 0, ""
		for {
			var page struct {
				Orders []struct {
					ID string `json:"order_id"`
				} `json:"orders"`
				Next string `json:"next"`
			}
			if err := c.get(ctx, c.order, "/orders?open=true&limit=1000&since="+sinceQ+"&after="+after, &page); err != nil {
				return -1, err
			}
			for _, o := range page.Orders {
				if mine[o.ID] {
					open++
				}
			}
			if page.Next == "" {
				return open, nil
			}
			after = page.Next
		}
	}
	for poll := 1; ; poll++ {
		// How many orders placed since the run began are still open: an
		// index lookup on the service. Once a second, while some are open,
		// check which are this run's: an earlier run's stuck order must
		// not keep this one waiting.
		var lastErr error
		var cnt struct {
			Count int `json:"count"`
		}
		open := -1
		if err := c.get(ctx, c.order, "/orders/count?open=true&since="+sinceQ, &cnt); refused(err) {
			return nil, fmt.Errorf("loadgen: wait for the orders: %w", err)
		} else if err != nil {
			lastErr = err
		} else {
			open = min(cnt.Count, len(mine))
		}
		if open > 0 && poll%10 == 0 {
			if n, err := openMine(); err != nil {
				lastErr = err
			} else {
				open = n
			}
		}
		if cfg.Progress != nil && open >= 0 {
			cfg.Progress(len(orders), len(mine)-open, len(orders))
		}
		if open == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("loadgen: %d of %d orders not final after the timeout (last error: %v); see GET %s/orders?open=true",
				open, len(mine), lastErr, c.order[0])
		case <-time.After(100 * time.Millisecond):
		}
	}
	views, err := readOrders(ctx, c, cfg, mine)
	if err != nil {
		return nil, fmt.Errorf("loadgen: read final orders: %w", err)
	}
	return views, nil
}

// readOrders reads each order of ids with its history, cfg.Concurrency at
// a time.
func readOrders(ctx context.Context, c *client, cfg Config, ids map[string]bool) (map[string]*orderView, error) {
	views := map[string]*orderView{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	sem := make(chan struct{}, cfg.Concurrency)
	for id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var v orderView
			err := c.get(ctx, c.order, "/orders/"+url.PathEscape(id), &v)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			views[id] = &v
		}()
	}
	wg.Wait()
	return views, firstErr
}

// waitEach is waitFinal without the admin token: it reads every order
// that is not final yet by id, every 200ms, and keeps each final order's
// view as it reads it.
func waitEach(ctx context.Context, c *client, cfg Config, total int, mine map[string]bool) (map[string]*orderView, error) {
	final := map[string]*orderView{}
	open := make(map[string]bool, len(mine))
	for id := range mine {
		open[id] = true
	}
	for {
		views, err := readOrders(ctx, c, cfg, open)
		for id, v := range views {
			if v.final() {
				final[id] = v
				delete(open, id)
			}
		}
		if cfg.Progress != nil {
			cfg.Progress(total, len(final), total)
		}
		if len(open) == 0 {
			return final, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("loadgen: %d of %d orders not final after the timeout (last error: %v)", len(open), len(mine), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted)) + 0.5)
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	if i > 0 && p*float64(len(sorted)) == float64(i) {
		i--
	}
	return sorted[i]
}

// client reads and writes the services' APIs, with the admin token (when
// there is one) on every request. Each service has one base URL per
// replica.
type client struct {
	http                      *http.Client
	token                     string
	order, inventory, payment []string
}

// get reads path from the first of bases that answers, trying the next on
// a transport error or a 5xx answer (a replica that is down or restarting);
// the error is the last one.
func (c *client) get(ctx context.Context, bases []string, path string, out any) error {
	var err error
	for _, b := range bases {
		err = c.getJSON(ctx, b+path, out)
		var se *statusError
		if err == nil || ctx.Err() != nil || (errors.As(err, &se) && se.code < 500) {
			return err
		}
	}
	return err
}

// statusError is a non-200 answer.
type statusError struct {
	url, status, body string
	code              int
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("GET %s: %s: %s", e.url, e.status, e.body)
	if e.code == http.StatusUnauthorized || e.code == http.StatusForbidden {
		msg += fmt.Sprintf(" (the admin endpoints need the services' %s: `contrail up` writes it to <data-dir>/%s; "+
			"`contrail load` reads $%s, else %s)", EnvAdminToken, AdminTokenFile, EnvAdminToken, DefaultAdminTokenFile)
	}
	return msg
}

// refused reports whether err is a 401 or 403 answer: the admin token is
// wrong or the admin API is off, which waiting does not change.
func refused(err error) bool {
	var se *statusError
	return errors.As(err, &se) && (se.code == http.StatusUnauthorized || se.code == http.StatusForbidden)
}

func (c *client) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return &statusError{url: url, status: resp.Status, body: string(bytes.TrimSpace(b)), code: resp.StatusCode}
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// place POSTs one order with an Idempotency-Key to the order URL of
// worker w (workers are spread over the replicas), retrying transport
// errors and 5xx answers with the same key on the next replica, so a retry
// never places a second order.
func (c *client) place(ctx context.Context, w int, body []byte, key string) (string, error) {
	var last error
	for attempt := 0; attempt < 8; attempt++ {
		base := c.order[(w+attempt)%len(c.order)]
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/orders", bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := c.http.Do(req)
		if err != nil {
			last = err
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted {
			var pr struct {
				OrderID string `json:"order_id"`
			}
			if err := json.Unmarshal(b, &pr); err != nil || pr.OrderID == "" {
				return "", fmt.Errorf("loadgen: POST /orders answered 202 without order_id: %s", b)
			}
			return pr.OrderID, nil
		}
		last = fmt.Errorf("POST /orders: %s: %s", resp.Status, bytes.TrimSpace(b))
		if resp.StatusCode < 500 {
			return "", last
		}
	}
	return "", fmt.Errorf("loadgen: place order: %w", last)
}

func buildOrder(r *rand.Rand, k Kind) ([]byte, map[string]int) {
	units := map[string]int{}
	type item struct {
		SKU       string `json:"sku"`
		Quantity  int    `json:"quantity"`
		UnitPrice string `json:"unit_price"`
	}
	var items []item
	n := 1 + r.IntN(3)
	for j := 0; j < n; j++ {
		sku := fmt.Sprintf("SKU-%04d", 1+r.IntN(100))
		q := 1 + r.IntN(3)
		items = append(items, item{SKU: sku, Quantity: q, UnitPrice: fmt.Sprintf("%d.%02d", 1+r.IntN(200), r.IntN(100))})
		units[sku] += q
	}
	payment := map[string]any{"card_token": "tok_visa", "last4": "4242"}
	switch k {
	case OutOfStock:
		// SKU-SCARCE holds 5 units: 50 can never be reserved.
		items = append(items, item{SKU: "SKU-SCARCE", Quantity: 50, UnitPrice: "1.00"})
	case Declined:
		if r.IntN(2) == 0 {
			payment = map[string]any{"card_token": "tok_decline", "last4": "0002"}
		} else {
			// Over the provider's 10,000.00 limit.
			items = append(items, item{SKU: "SKU-0001", Quantity: 1, UnitPrice: "10000.01"})
			units["SKU-0001"]++
		}
	}
	if r.IntN(4) == 0 && k != Declined {
		payment = map[string]any{"invoice": map[string]any{"purchase_order": "PO-7"}}
	}
	body, _ := json.Marshal(map[string]any{
		"customer_id": fmt.Sprintf("cust-%d", r.IntN(1000)),
		"currency":    "USD",
		"items":       items,
		"shipping_address": map[string]any{"name": "Load Tester", "line1": "1 Bench St", "city": "Berlin",
			"postal_code": "10115", "country": "DE"},
		"payment": payment,
		"channel": "WEB",
	})
	return body, units
}

func sortedLatencies(orders []placed, views map[string]*orderView) ([]float64, time.Time, time.Time) {
	var lat []float64
	var first, last time.Time
	for _, o := range orders {
		v := views[o.id]
		if v == nil || v.FinalAt == nil {
			continue
		}
		lat = append(lat, float64(v.FinalAt.Sub(v.CreatedAt).Microseconds())/1000)
		if first.IsZero() || v.CreatedAt.Before(first) {
			first = v.CreatedAt
		}
		if v.FinalAt.After(last) {
			last = *v.FinalAt
		}
	}
	sort.Float64s(lat)
	return lat, first, last
}
