package money_test

import (
	"errors"
	"math/big"
	"testing"

	"github.com/contrail-events/contrail/events/money"
)

func TestParseCents(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want money.Cents
		err  bool
	}{
		{name: "two digits", in: "19.99", want: 1999},
		{name: "one digit", in: "0.5", want: 50},
		{name: "whole", in: "20", want: 2000},
		{name: "three digits", in: "1.999", err: true},
		{name: "negative", in: "-1", err: true},
		{name: "exponent", in: "1e3", err: true},
		{name: "empty", in: "", err: true},
		{name: "trailing dot", in: "1.", err: true},
		{name: "leading dot", in: ".5", err: true},
		{name: "too large", in: "12345678901234567", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := money.ParseCents(tt.in)
			if tt.err {
				if !errors.Is(err, money.ErrAmount) {
					t.Fatalf("ParseCents(%q) = %v, %v; want ErrAmount", tt.in, got, err)
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
	if _, err := money.CentsFromRat(big.NewRat(1, 1000)); !errors.Is(err, money.ErrAmount) {
		t.Fatalf("three-digit rat: %v", err)
	}
	if s := money.Cents(123456).String(); s != "1234.56" {
		t.Fatalf("String = %s", s)
	}
}
