package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// The order service's JSON, decoded with the console's own field tags (the
// console reads the order service over HTTP, as a user would, and does not
// import it).

type orderLine struct {
	SKU       string `json:"sku"`
	Quantity  int    `json:"quantity"`
	UnitPrice int64  `json:"unit_price_cents"`
}

type historyEntry struct {
	Type          string    `json:"type"`
	Direction     string    `json:"direction"`
	EventID       string    `json:"event_id"`
	Time          time.Time `json:"time"`
	Topic         string    `json:"topic"`
	Partition     int32     `json:"partition"`
	Offset        int64     `json:"offset"`
	SchemaID      int       `json:"schema_id"`
	Subject       string    `json:"subject"`
	SchemaVersion int       `json:"schema_version"`
	Detail        string    `json:"detail"`
}

type order struct {
	ID            string         `json:"order_id"`
	Status        string         `json:"status"`
	Reason        string         `json:"reason"`
	Detail        string         `json:"detail"`
	CustomerID    string         `json:"customer_id"`
	Currency      string         `json:"currency"`
	Total         string         `json:"total"`
	Items         []orderLine    `json:"items"`
	TraceID       string         `json:"trace_id"`
	ReservationID string         `json:"reservation_id"`
	PaymentID     string         `json:"payment_id"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	FinalAt       *time.Time     `json:"final_at"`
	History       []historyEntry `json:"history"`
}

// errOrderNotFound is the order service's 404.
var errOrderNotFound = errors.New("no such order")

// errOrderAuth is the order service's 401 or 403 for its admin endpoints.
var errOrderAuth = errors.New("the order service refused: listing orders is an admin endpoint")

// orderGet GETs path from the order service into out.
func (c *Console) orderGet(ctx context.Context, path string, q url.Values, out any) error {
	u := strings.TrimSuffix(c.cfg.orderURL, "/") + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if c.cfg.orderToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.orderToken)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusNotFound {
		return errOrderNotFound
	}
	if resp.StatusCode != http.StatusOK {
		auth := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden
		var e struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Error == "" {
			e.Error = strings.TrimSpace(string(body))
		}
		if auth {
			return fmt.Errorf("%w (%s: %s)", errOrderAuth, resp.Status, clip(e.Error))
		}
		return fmt.Errorf("GET %s answered %s: %s", path, resp.Status, clip(e.Error))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: not the order service's JSON (is %s the order service?): %w", path, c.cfg.orderURL, err)
	}
	return nil
}

func (c *Console) orderErr(err error) error {
	return backendError("order service "+c.cfg.orderURL+" (is it running? check --orders)", err)
}

type ordersData struct {
	Q      ordersQuery
	Orders []order
	Next   string
	Count  int
	Since  string // the since filter as shown
	// NoList says why the list is not shown (the order service wants its
	// admin token); the lookup by id still works.
	NoList string
}

// ordersPage lists orders from the order service, oldest first (the order
// API pages that way), with its filters.
func (c *Console) ordersPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	if id := strings.TrimSpace(r.URL.Query().Get("id")); id != "" {
		if err := checkID("order id", id); err != nil {
			return "", nil, err
		}
		return redirect(w, r, "/orders/"+url.PathEscape(id))
	}
	q, err := parseOrdersQuery(r.URL.Query(), time.Now())
	if err != nil {
		return "", nil, err
	}
	v := url.Values{}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.Format(time.RFC3339Nano))
	}
	if q.Open {
		v.Set("open", "true")
	}
	var count struct {
		Count int `json:"count"`
	}
	ctx := r.Context()
	if err := c.orderGet(ctx, "/orders/count", v, &count); errors.Is(err, errOrderAuth) {
		d := ordersData{Q: q, NoList: err.Error()}
		return "orders", &page{Title: "Orders", Data: d}, nil
	} else if err != nil {
		return "", nil, c.orderErr(err)
	}
	if q.After != "" {
		v.Set("after", q.After)
	}
	v.Set("limit", fmt.Sprint(q.Limit))
	var list struct {
		Orders []order `json:"orders"`
		Next   string  `json:"next"`
	}
	if err := c.orderGet(ctx, "/orders", v, &list); err != nil {
		return "", nil, c.orderErr(err)
	}
	d := ordersData{Q: q, Orders: list.Orders, Count: count.Count}
	if list.Next != "" {
		nv := url.Values{}
		for k, vs := range r.URL.Query() {
			if k != "after" {
				nv[k] = vs
			}
		}
		nv.Set("after", list.Next)
		d.Next = "/orders?" + nv.Encode()
	}
	if !q.Since.IsZero() {
		d.Since = fmtTime(q.Since)
	}
	return "orders", &page{Title: "Orders", Data: d}, nil
}

// historyView is a history entry with the console links it gets.
type historyView struct {
	historyEntry
	MessageURL string
}

type orderData struct {
	Order   order
	History []historyView
}

// orderPage shows one order, its status and its history; each event links
// to its record and schema, the order to its trace.
func (c *Console) orderPage(w http.ResponseWriter, r *http.Request) (string, *page, error) {
	id := r.PathValue("id")
	if err := checkID("order id", id); err != nil {
		return "", nil, err
	}
	var o order
	if err := c.orderGet(r.Context(), "/orders/"+url.PathEscape(id), nil, &o); errors.Is(err, errOrderNotFound) {
		return "", nil, notFound("The order service has no order %q.", id)
	} else if err != nil {
		return "", nil, c.orderErr(err)
	}
	d := orderData{Order: o}
	for _, h := range o.History {
		hv := historyView{historyEntry: h}
		if h.Topic != "" && h.Offset >= 0 {
			v := url.Values{"partition": {fmt.Sprint(h.Partition)}, "offset": {fmt.Sprint(h.Offset)}, "limit": {"1"}}
			hv.MessageURL = "/topics/" + url.PathEscape(h.Topic) + "/messages?" + v.Encode()
		}
		d.History = append(d.History, hv)
	}
	return "order", &page{Title: "Order " + o.ID, Data: d}, nil
}
