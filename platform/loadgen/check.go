package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

type stockReport struct {
	SKUs []struct {
		SKU       string `json:"sku"`
		Initial   int64  `json:"initial"`
		Available int64  `json:"available"`
		Reserved  int64  `json:"reserved"`
		Shipped   int64  `json:"shipped"`
	} `json:"skus"`
	Totals struct {
		Initial, Available, Reserved, Shipped int64
	} `json:"totals"`
	Conserved  bool     `json:"conserved"`
	Violations []string `json:"violations"`
}

type account struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Charges int    `json:"charges"`
	Refunds int    `json:"refunds"`
}

// accounts reads the payment accounts of orders: the whole list (GET
// /payments, an admin endpoint) with the admin token, else each order's
// by id (an order payment has not seen yet has none).
func (c *client) accounts(ctx context.Context, orders []placed, concurrency int) (map[string]account, error) {
	if c.token == "" {
		return c.accountsEach(ctx, orders, concurrency)
	}
	out := map[string]account{}
	after := ""
	for {
		var page struct {
			Payments []account `json:"payments"`
			Next     string    `json:"next"`
		}
		if err := c.get(ctx, c.payment, "/payments?limit=1000&after="+url.QueryEscape(after), &page); err != nil {
			return nil, fmt.Errorf("loadgen: read payments: %w", err)
		}
		for _, a := range page.Payments {
			out[a.OrderID] = a
		}
		if page.Next == "" {
			return out, nil
		}
		after = page.Next
	}
}

func (c *client) accountsEach(ctx context.Context, orders []placed, concurrency int) (map[string]account, error) {
	out := map[string]account{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	sem := make(chan struct{}, concurrency)
	for _, o := range orders {
		if o.id == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var a account
			err := c.get(ctx, c.payment, "/payments/"+url.PathEscape(o.id), &a)
			var se *statusError
			if errors.As(err, &se) && se.code == http.StatusNotFound {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("loadgen: read payments: %w", err)
				}
				return
			}
			out[o.id] = a
		}()
	}
	wg.Wait()
	return out, firstErr
}

// settle waits until the services have applied the consequences of the
// final states (releases and refunds follow OrderCancelled): nothing
// reserved, and every cancelled order that was charged also refunded.
func settle(ctx context.Context, c *client, cfg Config, orders []placed, views map[string]*orderView) (stockReport, map[string]account, error) {
	for {
		var st stockReport
		err := c.get(ctx, c.inventory, "/stock", &st)
		var acc map[string]account
		if err == nil {
			acc, err = c.accounts(ctx, orders, cfg.Concurrency)
			if refused(err) {
				return st, acc, err
			}
		}
		if err == nil {
			settled := st.Totals.Reserved == 0
			for _, o := range orders {
				v, a := views[o.id], acc[o.id]
				if v != nil && v.Status == "CANCELLED" && a.Charges > a.Refunds {
					settled = false
				}
				if v != nil && a.Status == "" {
					settled = false // payment has not even seen the order yet
				}
			}
			if settled {
				return st, acc, nil
			}
		}
		select {
		case <-ctx.Done():
			// Check what we have: the invariants will say what is missing.
			if err != nil {
				return st, acc, fmt.Errorf("loadgen: services did not settle: %w", err)
			}
			return st, acc, nil
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func check(ctx context.Context, c *client, cfg Config, orders []placed, views map[string]*orderView, before stockReport, rep *Report) error {
	stock, acc, err := settle(ctx, c, cfg, orders, views)
	if err != nil {
		return err
	}
	lat, first, last := sortedLatencies(orders, views)
	rep.Latency = Latency{P50: percentile(lat, 0.50), P95: percentile(lat, 0.95), P99: percentile(lat, 0.99)}
	if len(lat) > 0 {
		rep.Latency.Max = lat[len(lat)-1]
	}
	rep.FirstPlaced, rep.LastFinal = first, last
	if d := last.Sub(first).Seconds(); d > 0 {
		rep.FlowSeconds = d
		rep.OrdersPerSec = float64(len(lat)) / d
	}

	// 1. Every order final exactly once, with the outcome its kind predicts.
	finalOnce := Invariant{Name: "every order final exactly once"}
	outcome := Invariant{Name: "every order reached its expected outcome"}
	shippedUnits := map[string]int64{}
	for _, o := range orders {
		if o.id == "" {
			continue
		}
		v := views[o.id]
		state := v.Status
		if v.Reason != "" {
			state += " " + v.Reason
		}
		rep.Final[state]++
		finals, seen := 0, map[string]bool{}
		for _, h := range v.History {
			if seen[h.EventID] {
				finalOnce.Errors = append(finalOnce.Errors, fmt.Sprintf("order %s: event %s (%s) applied twice", o.id, h.EventID, h.Type))
			}
			seen[h.EventID] = true
			if (h.Type == "contrail.orders.OrderCancelled" && h.Direction == "out") || (h.Type == "contrail.shipping.OrderShipped" && h.Direction == "in") {
				finals++
			}
		}
		if finals != 1 {
			finalOnce.Errors = append(finalOnce.Errors, fmt.Sprintf("order %s (%s): %d final events in its history, want 1", o.id, v.Status, finals))
		}
		want := map[Kind]string{Good: "SHIPPED", OutOfStock: "CANCELLED OUT_OF_STOCK", Declined: "CANCELLED PAYMENT_FAILED"}[o.kind]
		if state != want {
			outcome.Errors = append(outcome.Errors, fmt.Sprintf("order %s (%s): ended %s, want %s", o.id, o.kind, state, want))
		}
		if v.Status == "SHIPPED" {
			for sku, q := range o.units {
				shippedUnits[sku] += int64(q)
			}
		}
	}
	finalOnce.Detail = fmt.Sprintf("%d orders, each with one final event", len(views))
	outcome.Detail = fmt.Sprintf("good->SHIPPED, out-of-stock->CANCELLED OUT_OF_STOCK, declined->CANCELLED PAYMENT_FAILED")

	// 2. Stock conserved.
	stockInv := Invariant{Name: "stock conserved (initial = available + reserved + shipped)"}
	if !stock.Conserved {
		stockInv.Errors = append(stockInv.Errors, stock.Violations...)
	}
	if stock.Totals.Reserved != 0 {
		stockInv.Errors = append(stockInv.Errors, fmt.Sprintf("%d units still reserved after every order is final", stock.Totals.Reserved))
	}
	prev := map[string]int64{}
	for _, k := range before.SKUs {
		prev[k.SKU] = k.Shipped
	}
	var total int64
	for _, k := range stock.SKUs {
		if d := k.Shipped - prev[k.SKU]; d != shippedUnits[k.SKU] {
			stockInv.Errors = append(stockInv.Errors, fmt.Sprintf("%s: shipped stock grew by %d, this run shipped %d units", k.SKU, d, shippedUnits[k.SKU]))
		}
		total += shippedUnits[k.SKU]
	}
	stockInv.Detail = fmt.Sprintf("initial %d = available %d + reserved %d + shipped %d; this run shipped %d units",
		stock.Totals.Initial, stock.Totals.Available, stock.Totals.Reserved, stock.Totals.Shipped, total)

	// 3. Charged once; 4. cancelled after a charge refunded.
	charged := Invariant{Name: "each charged order charged once"}
	refunded := Invariant{Name: "each cancelled-after-charge order refunded"}
	var nCharged, nRefunded int
	for _, o := range orders {
		v := views[o.id]
		if v == nil {
			continue
		}
		a := acc[o.id]
		if a.Charges > 1 {
			charged.Errors = append(charged.Errors, fmt.Sprintf("order %s charged %d times", o.id, a.Charges))
		}
		if a.Charges > 0 {
			nCharged++
		}
		switch v.Status {
		case "SHIPPED":
			if a.Charges != 1 || a.Refunds != 0 {
				charged.Errors = append(charged.Errors, fmt.Sprintf("shipped order %s: %d charges, %d refunds; want 1 and 0", o.id, a.Charges, a.Refunds))
			}
		case "CANCELLED":
			if a.Refunds != a.Charges {
				refunded.Errors = append(refunded.Errors, fmt.Sprintf("cancelled order %s: %d charges, %d refunds", o.id, a.Charges, a.Refunds))
			}
			if a.Charges > 0 {
				nRefunded++
			}
		}
	}
	charged.Detail = fmt.Sprintf("%d orders charged", nCharged)
	refunded.Detail = fmt.Sprintf("%d cancelled orders had been charged and were refunded", nRefunded)

	rep.OK = true
	for _, inv := range []*Invariant{&finalOnce, &outcome, &stockInv, &charged, &refunded} {
		inv.OK = len(inv.Errors) == 0
		if len(inv.Errors) > 20 {
			inv.Errors = append(inv.Errors[:20], fmt.Sprintf("... and %d more", len(inv.Errors)-20))
		}
		rep.OK = rep.OK && inv.OK
		rep.Invariants = append(rep.Invariants, *inv)
	}
	if rep.PlaceErrors > 0 {
		rep.OK = false
		rep.Invariants = append(rep.Invariants, Invariant{Name: "every order placed", Detail: fmt.Sprintf("%d placements failed", rep.PlaceErrors)})
	}
	return nil
}
