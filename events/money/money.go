// Package money holds exact amounts of money for the reference flow: Cents,
// parsed from and printed as decimal strings, checked arithmetic on them,
// and their conversion to the schemas' Money (contrail.common.Money,
// decimal(18,2) plus a currency). It is hand-written Go beside the
// generated events/common package.
//
// Every amount a function here returns lies in [-MaxCents, MaxCents], the
// range the schema's 18 digits can carry: parsing, conversion and
// arithmetic fail with an error wrapping ErrAmount instead of returning an
// amount the encoder would refuse (or, worse, one that wrapped around).
package money

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/contrail-events/contrail/events/common"
)

// Cents is an exact amount of money in hundredths of the currency unit, the
// scale of the schemas' Money decimal (precision 18, scale 2). Use Add and
// Mul, not + and *, to compute with it: they report a result out of range
// instead of wrapping around.
type Cents int64

// MaxCents is the largest amount the schemas' Money carries,
// 9999999999999999.99 (18 digits); -MaxCents is the smallest.
const MaxCents = Cents(999_999_999_999_999_999)

// ErrAmount is returned for an amount that is not a decimal with at most two
// fractional digits, or is out of range.
var ErrAmount = errors.New("money: invalid amount")

// ErrOverflow is returned (wrapped) for an amount or a result outside
// [-MaxCents, MaxCents]. It wraps ErrAmount, so errors.Is(err, ErrAmount)
// holds for it too.
var ErrOverflow = fmt.Errorf("%w: more than 18 digits", ErrAmount)

// ParseCents parses "19.99", "20", "0.5" into cents. It rejects signs,
// exponents, more than two fractional digits and empty strings with an error
// wrapping ErrAmount, and amounts over MaxCents with one wrapping
// ErrOverflow. Leading zeros are allowed ("007.50"). Errors quote at most
// 40 characters of s.
func ParseCents(s string) (Cents, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, fmt.Errorf("%w %.40q: want a decimal such as 19.99 with at most two fractional digits", ErrAmount, s)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w %.40q: want digits and one dot, e.g. 19.99", ErrAmount, s)
		}
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 16 {
		return 0, fmt.Errorf("%w: %.40q is over the largest amount %s", ErrOverflow, s, MaxCents)
	}
	w := int64(0)
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	f := int64(0)
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	return Cents(w*100 + f), nil
}

// Valid reports whether c lies in [-MaxCents, MaxCents].
func (c Cents) Valid() bool { return c >= -MaxCents && c <= MaxCents }

// Add returns c + d. It returns an error wrapping ErrOverflow when c, d or
// the sum lies outside [-MaxCents, MaxCents].
func (c Cents) Add(d Cents) (Cents, error) {
	if !c.Valid() || !d.Valid() {
		return 0, fmt.Errorf("%w: %d + %d cents", ErrOverflow, int64(c), int64(d))
	}
	// Both operands are at most MaxCents < 2^62 in magnitude: the int64 sum
	// cannot wrap, only leave the range.
	sum := c + d
	if !sum.Valid() {
		return 0, fmt.Errorf("%w: %s + %s", ErrOverflow, c, d)
	}
	return sum, nil
}

// Mul returns c × q, e.g. a unit price times a quantity. It returns an
// error wrapping ErrOverflow when c or the product lies outside
// [-MaxCents, MaxCents].
func (c Cents) Mul(q int64) (Cents, error) {
	if !c.Valid() {
		return 0, fmt.Errorf("%w: %d cents × %d", ErrOverflow, int64(c), q)
	}
	if c == 0 || q == 0 {
		return 0, nil
	}
	// |c × q| <= MaxCents exactly when |q| <= MaxCents / |c| (integer
	// division rounds down); |c| >= 1 here and -MaxCents has no overflow.
	ac := abs64(int64(c))
	if q < -int64(MaxCents) || q > int64(MaxCents) || abs64(q) > int64(MaxCents)/ac {
		return 0, fmt.Errorf("%w: %s × %d", ErrOverflow, c, q)
	}
	return c * Cents(q), nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// String formats c as "19.99" (or "-19.99").
func (c Cents) String() string {
	sign := ""
	u := uint64(c)
	if c < 0 {
		sign, u = "-", -u // two's complement: exact even for the smallest int64
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// Rat returns c as the *big.Rat hamba/avro uses for a bytes decimal.
func (c Cents) Rat() *big.Rat { return big.NewRat(int64(c), 100) }

// CentsFromRat converts a decoded decimal to cents. It returns an error
// wrapping ErrAmount when r is nil or has more than two fractional digits,
// and one wrapping ErrOverflow when it lies outside [-MaxCents, MaxCents].
func CentsFromRat(r *big.Rat) (Cents, error) {
	if r == nil {
		return 0, fmt.Errorf("%w: missing decimal", ErrAmount)
	}
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !x.IsInt() {
		return 0, fmt.Errorf("%w: %s is not a two-digit decimal", ErrAmount, r.FloatString(4))
	}
	if !x.Num().IsInt64() || !Cents(x.Num().Int64()).Valid() {
		return 0, fmt.Errorf("%w: %s", ErrOverflow, r.FloatString(2))
	}
	return Cents(x.Num().Int64()), nil
}

// Of converts an amount in cents to the schemas' Money.
func Of(c Cents, currency string) common.Money {
	return common.Money{Amount: c.Rat(), Currency: common.Currency(currency)}
}
