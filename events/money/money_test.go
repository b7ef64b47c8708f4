package money_test

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/contrail-events/contrail/events/money"
)

const maxC = money.MaxCents

func TestParseCents(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want money.Cents
		err  error // nil: valid
	}{
		{name: "two digits", in: "19.99", want: 1999},
		{name: "one digit", in: "0.5", want: 50},
		{name: "whole", in: "20", want: 2000},
		{name: "zero", in: "0.00", want: 0},
		{name: "leading zeros", in: "007.50", want: 750},
		{name: "leading zeros past 16 digits", in: "0000000000000000019.99", want: 1999},
		{name: "largest", in: "9999999999999999.99", want: maxC},
		{name: "17 digits", in: "12345678901234567", err: money.ErrOverflow},
		{name: "one cent over the largest", in: "10000000000000000.00", err: money.ErrOverflow},
		{name: "int64 wrap-around", in: "92233720368547758.08", err: money.ErrOverflow},
		{name: "three digits", in: "1.999", err: money.ErrAmount},
		{name: "negative", in: "-1", err: money.ErrAmount},
		{name: "plus sign", in: "+1", err: money.ErrAmount},
		{name: "exponent", in: "1e3", err: money.ErrAmount},
		{name: "empty", in: "", err: money.ErrAmount},
		{name: "trailing dot", in: "1.", err: money.ErrAmount},
		{name: "leading dot", in: ".5", err: money.ErrAmount},
		{name: "two dots", in: "1.2.3", err: money.ErrAmount},
		{name: "non-ascii digit", in: "１.00", err: money.ErrAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := money.ParseCents(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || !errors.Is(err, money.ErrAmount) {
					t.Fatalf("ParseCents(%q) = %v, %v; want an error wrapping %v and ErrAmount", tt.in, got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseCents(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
			back, err := money.CentsFromRat(got.Rat())
			if err != nil || back != got {
				t.Fatalf("round trip via big.Rat: %v %v", back, err)
			}
		})
	}
	if errors.Is(money.ErrAmount, money.ErrOverflow) {
		t.Error("ErrAmount must not match ErrOverflow: a malformed amount is not an overflow")
	}
}

func TestCentsFromRat(t *testing.T) {
	huge, _ := new(big.Rat).SetString("100000000000000000000000")
	tests := []struct {
		name string
		in   *big.Rat
		want money.Cents
		err  error
	}{
		{name: "two digits", in: big.NewRat(1999, 100), want: 1999},
		{name: "negative", in: big.NewRat(-5, 1), want: -500},
		{name: "largest", in: big.NewRat(int64(maxC), 100), want: maxC},
		{name: "smallest", in: big.NewRat(-int64(maxC), 100), want: -maxC},
		{name: "one cent over", in: big.NewRat(int64(maxC)+1, 100), err: money.ErrOverflow},
		{name: "one cent under", in: big.NewRat(-int64(maxC)-1, 100), err: money.ErrOverflow},
		{name: "beyond int64", in: huge, err: money.ErrOverflow},
		{name: "three digits", in: big.NewRat(1, 1000), err: money.ErrAmount},
		{name: "nil", in: nil, err: money.ErrAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := money.CentsFromRat(tt.in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("CentsFromRat = %v, %v; want %v", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("CentsFromRat = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name string
		a, b money.Cents
		want money.Cents
		err  bool
	}{
		{name: "small", a: 1999, b: 1, want: 2000},
		{name: "negative", a: -500, b: 200, want: -300},
		{name: "up to the largest", a: maxC - 1, b: 1, want: maxC},
		{name: "down to the smallest", a: -maxC + 1, b: -1, want: -maxC},
		{name: "largest plus smallest", a: maxC, b: -maxC, want: 0},
		{name: "one over", a: maxC, b: 1, err: true},
		{name: "one under", a: -maxC, b: -1, err: true},
		{name: "largest twice", a: maxC, b: maxC, err: true},
		{name: "operand out of range", a: maxC + 1, b: -2, err: true},
		{name: "int64 extremes", a: math.MaxInt64, b: math.MinInt64, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.a.Add(tt.b)
			if tt.err {
				if !errors.Is(err, money.ErrOverflow) || !errors.Is(err, money.ErrAmount) {
					t.Fatalf("%d.Add(%d) = %v, %v; want ErrOverflow", tt.a, tt.b, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%d.Add(%d) = %v, %v; want %v", tt.a, tt.b, got, err, tt.want)
			}
		})
	}
}

func TestMul(t *testing.T) {
	tests := []struct {
		name string
		c    money.Cents
		q    int64
		want money.Cents
		err  bool
	}{
		{name: "price times quantity", c: 1999, q: 3, want: 5997},
		{name: "zero quantity", c: maxC, q: 0, want: 0},
		{name: "zero price", c: 0, q: math.MaxInt64, want: 0},
		{name: "negative", c: -5, q: 3, want: -15},
		{name: "negative quantity", c: 5, q: -3, want: -15},
		{name: "largest times one", c: maxC, q: 1, want: maxC},
		{name: "largest times minus one", c: maxC, q: -1, want: -maxC},
		{name: "exactly the largest", c: 111_111_111_111_111_111, q: 9, want: maxC},
		{name: "just over the largest", c: 111_111_111_111_111_112, q: 9, err: true},
		{name: "19 digits", c: 100_000_000_000_000_000, q: 10, err: true},
		{name: "largest times two", c: maxC, q: 2, err: true},
		{name: "smallest times two", c: -maxC, q: 2, err: true},
		{name: "wraps in int64", c: 1_844_674_407_370_955, q: 10_000, err: true},
		{name: "int64 smallest quantity", c: 1, q: math.MinInt64, err: true},
		{name: "operand out of range", c: math.MaxInt64, q: 1, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.c.Mul(tt.q)
			if tt.err {
				if !errors.Is(err, money.ErrOverflow) {
					t.Fatalf("%d.Mul(%d) = %v, %v; want ErrOverflow", tt.c, tt.q, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("%d.Mul(%d) = %v, %v; want %v", tt.c, tt.q, got, err, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	tests := []struct {
		in   money.Cents
		want string
	}{
		{123456, "1234.56"},
		{5, "0.05"},
		{-500, "-5.00"},
		{maxC, "9999999999999999.99"},
		{-maxC, "-9999999999999999.99"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("Cents(%d).String() = %q, want %q", int64(tt.in), got, tt.want)
		}
	}
}
