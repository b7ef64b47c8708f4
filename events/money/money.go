// Package money holds exact amounts of money for the reference flow: Cents,
// parsed from and printed as decimal strings, and their conversion to the
// schemas' Money (contrail.common.Money, decimal(18,2) plus a currency).
// It is hand-written Go beside the generated events/common package.
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
// scale of the schemas' Money decimal (precision 18, scale 2).
type Cents int64

// ErrAmount is returned for an amount that is not a decimal with at most two
// fractional digits, or is out of range.
var ErrAmount = errors.New("money: invalid amount")

// maxCents keeps amounts inside the schema's precision of 18 digits.
const maxCents = Cents(999_999_999_999_999_999)

// ParseCents parses "19.99", "20", "0.5" into cents. It rejects signs,
// exponents, more than two fractional digits and empty strings with an error
// wrapping ErrAmount.
func ParseCents(s string) (Cents, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && (frac == "" || len(frac) > 2)) {
		return 0, fmt.Errorf("%w %q: want a decimal such as 19.99 with at most two fractional digits", ErrAmount, s)
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, fmt.Errorf("%w %q: want digits and one dot, e.g. 19.99", ErrAmount, s)
		}
	}
	if len(whole) > 16 {
		return 0, fmt.Errorf("%w %q: too large", ErrAmount, s)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		if len(frac) == 1 {
			frac += "0"
		}
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	return Cents(w*100 + f), nil
}

// String formats c as "19.99".
func (c Cents) String() string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, int64(c)/100, int64(c)%100)
}

// Rat returns c as the *big.Rat hamba/avro uses for a bytes decimal.
func (c Cents) Rat() *big.Rat { return big.NewRat(int64(c), 100) }

// CentsFromRat converts a decoded decimal to cents. It returns an error
// wrapping ErrAmount when r is nil, has more than two fractional digits or
// overflows.
func CentsFromRat(r *big.Rat) (Cents, error) {
	if r == nil {
		return 0, fmt.Errorf("%w: missing decimal", ErrAmount)
	}
	x := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !x.IsInt() || !x.Num().IsInt64() {
		return 0, fmt.Errorf("%w: %s is not a two-digit decimal", ErrAmount, r.FloatString(4))
	}
	v := Cents(x.Num().Int64())
	if v > maxCents || v < -maxCents {
		return 0, fmt.Errorf("%w: %s exceeds 18 digits", ErrAmount, r.FloatString(2))
	}
	return v, nil
}

// Money converts an amount in cents to the schemas' Money.
func Of(c Cents, currency string) common.Money {
	return common.Money{Amount: c.Rat(), Currency: common.Currency(currency)}
}
