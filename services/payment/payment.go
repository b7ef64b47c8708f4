// Package payment is the payment service of the reference flow, with a
// deterministic fake payment provider.
//
// The provider's rule (Decide): an order whose total is under 0.01
// (MinCharge) is declined (code UNKNOWN), one over 10,000.00 (in its
// currency) with LIMIT_EXCEEDED; a card order paid with the token
// "tok_decline" is declined with CARD_DECLINED; everything else, invoices
// included, is charged. An order is charged at most once: the
// payment row is keyed by order id, so a redelivered OrderPlaced, even under
// a new event id, charges nothing. OrderCancelled after a charge refunds it
// once (PaymentRefunded). The provider's ledger (one row per charge and per
// refund) is what GET /payments reports, so the "charged once, refunded
// once" invariant is checked on the money movements themselves.
package payment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/contrail-events/contrail/eventing/statedb"
	"github.com/contrail-events/contrail/events/money"
	"github.com/google/uuid"
)

// LimitCents is the largest total the fake provider charges: 10,000.00.
const LimitCents money.Cents = 1_000_000

// MinCharge is the smallest total the fake provider charges: 0.01. The
// order API refuses smaller totals; this catches an OrderPlaced from any
// other producer, so a zero or negative amount is never charged.
const MinCharge money.Cents = 1

// DeclineToken is the card token the fake provider always declines.
const DeclineToken = "tok_decline"

// Decline codes (the schema's DeclineCode symbols).
const (
	CodeLimitExceeded = "LIMIT_EXCEEDED"
	CodeCardDeclined  = "CARD_DECLINED"
	// CodeInvalidAmount declines a total under MinCharge. The schema has
	// no symbol for it yet, so it is sent as the enum's default, UNKNOWN,
	// and the message says why.
	CodeInvalidAmount = "UNKNOWN"
)

// Payment statuses.
const (
	StatusCharged  = "CHARGED"
	StatusDeclined = "DECLINED"
	StatusRefunded = "REFUNDED"
	StatusVoid     = "VOID" // cancelled before OrderPlaced was seen: never charge
)

// Charge is what the provider needs to know about an order.
type Charge struct {
	OrderID   string
	Total     money.Cents
	Currency  string
	CardToken string // empty for invoice payments
}

// Decide is the fake provider's deterministic rule: it returns an empty
// code to approve, or a decline code and message.
func Decide(c Charge) (code, message string) {
	switch {
	case c.Total < MinCharge:
		return CodeInvalidAmount, fmt.Sprintf("total %s %s is not a chargeable amount: a charge is at least %s", c.Total, c.Currency, MinCharge)
	case c.Total > LimitCents:
		return CodeLimitExceeded, fmt.Sprintf("total %s %s is over the %s limit", c.Total, c.Currency, LimitCents)
	case c.CardToken == DeclineToken:
		return CodeCardDeclined, "the card was declined by the issuer (test token tok_decline)"
	}
	return "", ""
}

// Confirmed is the domain form of PaymentConfirmed.
type Confirmed struct {
	Meta      statedb.Meta
	OrderID   string
	PaymentID string
	Amount    money.Cents
	Currency  string
}

// Failed is the domain form of PaymentFailed.
type Failed struct {
	Meta    statedb.Meta
	OrderID string
	Code    string
	Message string
}

// Refunded is the domain form of PaymentRefunded.
type Refunded struct {
	Meta      statedb.Meta
	OrderID   string
	PaymentID string
	Amount    money.Cents
	Currency  string
}

const ddl = statedb.InboxDDL + `
CREATE TABLE IF NOT EXISTS payments (
	order_id   TEXT PRIMARY KEY,
	payment_id TEXT NOT NULL,
	status     TEXT NOT NULL,
	amount     INTEGER NOT NULL,
	currency   TEXT NOT NULL,
	code       TEXT NOT NULL DEFAULT '',
	message    TEXT NOT NULL DEFAULT '',
	updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledger (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	order_id   TEXT NOT NULL,
	payment_id TEXT NOT NULL,
	kind       TEXT NOT NULL CHECK (kind IN ('CHARGE', 'REFUND')),
	amount     INTEGER NOT NULL,
	at         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_order ON ledger(order_id);
`

// Store is the payment service's state: the shared statedb.State (DB,
// Close, Batch, In) over the payments and ledger tables. Safe for
// concurrent use.
type Store struct{ *statedb.State[*Tx] }

// The statements a consumed event runs, prepared once by NewStore.
const (
	qLedger  = `INSERT INTO ledger(order_id, payment_id, kind, amount, at) VALUES(?, ?, ?, ?, ?)`
	qStatus  = `SELECT status FROM payments WHERE order_id = ?`
	qPayment = `SELECT payment_id, status, amount, currency FROM payments WHERE order_id = ?`
	qPut     = `INSERT INTO payments(order_id, payment_id, status, amount, currency, code, message, updated_at) VALUES(?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(order_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`
)

// OpenStore opens or creates the store at path.
func OpenStore(ctx context.Context, path string, emit statedb.Emitter) (*Store, error) {
	return statedb.OpenStore(ctx, path, ddl, emit, NewStore)
}

// NewStore returns a store on an open database whose tables exist
// (OpenStore and the service's Run create them) and prepares the
// statements its handlers run; call it outside any transaction on db. emit
// receives the emitted events (nil drops them).
func NewStore(ctx context.Context, db *sql.DB, emit statedb.Emitter) (*Store, error) {
	st, err := statedb.NewState(ctx, db, emit, func(t statedb.Tx) *Tx { return &Tx{t} }, qLedger, qStatus, qPayment, qPut)
	if err != nil {
		return nil, fmt.Errorf("payment: %w", err)
	}
	return &Store{st}, nil
}

// Tx applies consumed events in one transaction; see Store.Batch and
// Store.In. Not safe for concurrent use.
type Tx struct{ tx statedb.Tx }

func (t *Tx) ledger(ctx context.Context, orderID, paymentID, kind string, amount money.Cents) error {
	_, err := t.tx.Exec(ctx, qLedger, orderID, paymentID, kind, amount, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("payment: ledger %s: %w", kind, err)
	}
	return nil
}

func (t *Tx) put(ctx context.Context, orderID, paymentID, status string, amount money.Cents, currency, code, msg string) error {
	_, err := t.tx.Exec(ctx, qPut,
		orderID, paymentID, status, amount, currency, code, msg, time.Now().UnixMilli())
	if err != nil {
		return fmt.Errorf("payment: store payment of %s: %w", orderID, err)
	}
	return nil
}

// OrderPlaced charges the order through the fake provider, at most once per
// order, and emits PaymentConfirmed or PaymentFailed.
func (t *Tx) OrderPlaced(ctx context.Context, rec statedb.Record, c Charge) error {
	fresh, err := t.tx.Seen(ctx, rec.EventID)
	if err != nil || !fresh {
		return err
	}
	var status string
	err = t.tx.QueryRow(ctx, qStatus, c.OrderID).Scan(&status)
	if err == nil {
		return nil // decided before: never charge twice
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("payment: look up %s: %w", c.OrderID, err)
	}
	meta := statedb.NewMeta(c.OrderID, rec.EventID)
	if code, msg := Decide(c); code != "" {
		if err := t.put(ctx, c.OrderID, "", StatusDeclined, c.Total, c.Currency, code, msg); err != nil {
			return err
		}
		return t.tx.Emit(ctx, Failed{Meta: meta, OrderID: c.OrderID, Code: code, Message: msg})
	}
	pid := uuid.NewString()
	if err := t.ledger(ctx, c.OrderID, pid, "CHARGE", c.Total); err != nil {
		return err
	}
	if err := t.put(ctx, c.OrderID, pid, StatusCharged, c.Total, c.Currency, "", ""); err != nil {
		return err
	}
	return t.tx.Emit(ctx, Confirmed{Meta: meta, OrderID: c.OrderID, PaymentID: pid, Amount: c.Total, Currency: c.Currency})
}

// OrderCancelled refunds a charged order once and emits PaymentRefunded. An
// order never seen is voided so a late OrderPlaced charges nothing.
func (t *Tx) OrderCancelled(ctx context.Context, rec statedb.Record, orderID string) error {
	fresh, err := t.tx.Seen(ctx, rec.EventID)
	if err != nil || !fresh {
		return err
	}
	var pid, status, currency string
	var amount money.Cents
	err = t.tx.QueryRow(ctx, qPayment, orderID).Scan(&pid, &status, &amount, &currency)
	if errors.Is(err, sql.ErrNoRows) {
		return t.put(ctx, orderID, "", StatusVoid, 0, "", "", "cancelled before payment")
	}
	if err != nil {
		return fmt.Errorf("payment: look up %s: %w", orderID, err)
	}
	if status != StatusCharged {
		return nil
	}
	if err := t.ledger(ctx, orderID, pid, "REFUND", amount); err != nil {
		return err
	}
	if err := t.put(ctx, orderID, pid, StatusRefunded, amount, currency, "", ""); err != nil {
		return err
	}
	return t.tx.Emit(ctx, Refunded{Meta: statedb.NewMeta(orderID, rec.EventID), OrderID: orderID, PaymentID: pid, Amount: amount, Currency: currency})
}

// Account is one order's payment as GET /payments reports it: its status
// and the provider's money movements.
type Account struct {
	OrderID string `json:"order_id"`
	Status  string `json:"status"`
	Code    string `json:"code,omitempty"`
	Amount  string `json:"amount"`
	Charges int    `json:"charges"`
	Refunds int    `json:"refunds"`
}

// Accounts returns every payment with its ledger counts, after the cursor
// order id (exclusive), up to limit (0 = all).
func (s *Store) Accounts(ctx context.Context, after string, limit int) ([]Account, error) {
	return s.accounts(ctx, `p.order_id > ?`, after, limit)
}

func (s *Store) accounts(ctx context.Context, where, arg string, limit int) ([]Account, error) {
	q := `SELECT p.order_id, p.status, p.code, p.amount,
		(SELECT count(*) FROM ledger l WHERE l.order_id = p.order_id AND kind = 'CHARGE'),
		(SELECT count(*) FROM ledger l WHERE l.order_id = p.order_id AND kind = 'REFUND')
		FROM payments p WHERE ` + where + ` ORDER BY p.order_id`
	args := []any{arg}
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("payment: accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		var a Account
		var amt money.Cents
		if err := rows.Scan(&a.OrderID, &a.Status, &a.Code, &amt, &a.Charges, &a.Refunds); err != nil {
			return nil, err
		}
		a.Amount = amt.String()
		out = append(out, a)
	}
	return out, rows.Err()
}

// Get returns orderID's account; ok is false when there is none.
func (s *Store) Get(ctx context.Context, orderID string) (Account, bool, error) {
	list, err := s.accounts(ctx, `p.order_id = ?`, orderID, 1)
	if err != nil || len(list) == 0 {
		return Account{}, false, err
	}
	return list[0], true, nil
}
