package rules

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/operators"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
)

// Decimals in CEL.
//
// An Avro decimal (a *big.Rat in generated Go) is a value of the CEL type
// DecimalTypeName, exact at any scale: no rule ever sees a float. The
// arithmetic operators + - * / and unary -, and the comparisons < <= > >=,
// take two decimals or a decimal and an int (in either order); == and !=
// take a decimal on the left and a decimal, int or double on the right;
// < <= > >= also compare with a double. Confluent's functions work too:
// decimal(x) (from a decimal, int, uint, double or a decimal string such as
// "12.50"), decimals.eq/lt/le/gt/ge, decimals.add/sub/mul/div,
// decimals.neg/abs/sign, decimals.round(d[, scale]) (half up),
// string(d) and double(d). decimals.sum(list) adds a list of decimals and
// ints, a Contrail extension that makes "total is the sum of the lines"
// one rule:
//
//	message.total.amount == decimals.sum(message.items.map(i, i.unitPrice.amount * i.quantity))
//
// Division is exact too (a rational result); string() of a quotient that
// has no finite decimal expansion shows 38 fractional digits.

// DecimalTypeName is the CEL type of a decimal: the name Confluent's clients
// use, so rule text that names it works unchanged.
const DecimalTypeName = "confluent.type.Decimal"

// DecimalType is the CEL type of a decimal value.
var DecimalType = types.NewObjectType(DecimalTypeName, traits.AdderType, traits.SubtractorType,
	traits.MultiplierType, traits.DividerType, traits.NegatorType, traits.ComparerType)

// decimalVal is a CEL decimal. r is never nil and never modified: every
// operation allocates its result.
type decimalVal struct{ r *big.Rat }

var ratType = reflect.TypeOf((*big.Rat)(nil))

func (d decimalVal) ConvertToNative(t reflect.Type) (any, error) {
	switch {
	case t == ratType:
		return new(big.Rat).Set(d.r), nil
	case t.Kind() == reflect.String:
		return decimalString(d.r), nil
	case t.Kind() == reflect.Interface && ratType.Implements(t):
		return new(big.Rat).Set(d.r), nil
	}
	return nil, fmt.Errorf("rules: cannot convert a decimal to %v", t)
}

func (d decimalVal) ConvertToType(t ref.Type) ref.Val {
	switch t.TypeName() {
	case DecimalTypeName:
		return d
	case types.StringType.TypeName():
		return types.String(decimalString(d.r))
	case types.DoubleType.TypeName():
		f, _ := d.r.Float64()
		return types.Double(f)
	case types.TypeType.TypeName():
		return DecimalType
	}
	return types.NewErr("type conversion error from '%s' to '%s'", DecimalTypeName, t.TypeName())
}

// Equal compares numerically, so 1.50 == 1.5, and with ints and doubles.
func (d decimalVal) Equal(other ref.Val) ref.Val {
	o, ok := asRat(other)
	if !ok {
		return types.False
	}
	return types.Bool(d.r.Cmp(o) == 0)
}

func (d decimalVal) Type() ref.Type { return DecimalType }
func (d decimalVal) Value() any     { return d.r }

// Compare implements traits.Comparer, for sorting.
func (d decimalVal) Compare(other ref.Val) ref.Val {
	if i, ok := other.(types.Int); ok && i == 0 { // "amount > 0": no allocation
		return types.Int(d.r.Sign())
	}
	o, ok := asRat(other)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	return types.Int(d.r.Cmp(o))
}

func (d decimalVal) op(name string, other ref.Val, fn func(a, b *big.Rat) (*big.Rat, error)) ref.Val {
	o, ok := asRat(other)
	if !ok {
		return types.MaybeNoSuchOverloadErr(other)
	}
	r, err := fn(d.r, o)
	if err != nil {
		return types.NewErr("%s: %v", name, err)
	}
	return decimalVal{r}
}

// Add implements traits.Adder: exact.
func (d decimalVal) Add(other ref.Val) ref.Val { return d.op("+", other, add) }

// Subtract implements traits.Subtractor: exact.
func (d decimalVal) Subtract(other ref.Val) ref.Val { return d.op("-", other, sub) }

// Multiply implements traits.Multiplier: exact.
func (d decimalVal) Multiply(other ref.Val) ref.Val { return d.op("*", other, mul) }

// Divide implements traits.Divider: exact (a rational), an error on zero.
func (d decimalVal) Divide(other ref.Val) ref.Val { return d.op("/", other, quo) }

// Negate implements traits.Negater.
func (d decimalVal) Negate() ref.Val { return decimalVal{new(big.Rat).Neg(d.r)} }

var (
	_ traits.Comparer   = decimalVal{}
	_ traits.Adder      = decimalVal{}
	_ traits.Subtractor = decimalVal{}
	_ traits.Multiplier = decimalVal{}
	_ traits.Divider    = decimalVal{}
	_ traits.Negater    = decimalVal{}
)

// asRat returns the exact value of a decimal, int, uint or finite double.
func asRat(v ref.Val) (*big.Rat, bool) {
	switch x := v.(type) {
	case decimalVal:
		return x.r, true
	case types.Int:
		return new(big.Rat).SetInt64(int64(x)), true
	case types.Uint:
		return new(big.Rat).SetUint64(uint64(x)), true
	case types.Double:
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		r, ok := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
		return r, ok
	}
	if r, ok := v.Value().(*big.Rat); ok && r != nil {
		return r, true
	}
	return nil, false
}

// maxDecimalText bounds the decimal strings decimal() parses: a longer one,
// or an exponent beyond ±maxDecimalExp, is rejected rather than expanded
// into a huge number.
const (
	maxDecimalText = 100
	maxDecimalExp  = 1000
)

// errBadDecimal is wrapped by parseDecimal's errors.
var errBadDecimal = errors.New("not a decimal number")

// parseDecimal parses a plain decimal number: an optional sign, digits
// with an optional fraction, and an optional exponent ("-12.50", "1e3").
// Fractions ("1/3"), NaN and infinities are rejected.
func parseDecimal(s string) (*big.Rat, error) {
	if len(s) == 0 || len(s) > maxDecimalText {
		return nil, fmt.Errorf("%w: %q (want e.g. \"12.50\", at most %d characters)", errBadDecimal, s, maxDecimalText)
	}
	i := 0
	if s[i] == '+' || s[i] == '-' {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return nil, fmt.Errorf("%w: %q", errBadDecimal, s)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		exp, err := strconv.Atoi(s[j:])
		if err != nil || j == len(s) || exp > maxDecimalExp || exp < -maxDecimalExp {
			return nil, fmt.Errorf("%w: %q (the exponent must be an integer within ±%d)", errBadDecimal, s, maxDecimalExp)
		}
		i = len(s)
	}
	if i != len(s) {
		return nil, fmt.Errorf("%w: %q", errBadDecimal, s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%w: %q", errBadDecimal, s)
	}
	return r, nil
}

// decimalString prints r exactly when it has a finite decimal expansion of
// at most 38 fractional digits, else rounded to 38.
func decimalString(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	// r = n/d in lowest terms terminates iff d = 2^a 5^b; it then needs
	// max(a, b) fractional digits.
	d := new(big.Int).Set(r.Denom())
	var a, b int
	two, five, zero := big.NewInt(2), big.NewInt(5), new(big.Int)
	m := new(big.Int)
	for ; new(big.Int).Mod(d, two).Cmp(zero) == 0; a++ {
		d.Quo(d, two)
	}
	for ; m.Mod(d, five).Cmp(zero) == 0; b++ {
		d.Quo(d, five)
	}
	if d.IsInt64() && d.Int64() == 1 && max(a, b) <= 38 {
		return r.FloatString(max(a, b))
	}
	return r.FloatString(38)
}

// toDecimal backs decimal(x).
func toDecimal(v ref.Val) ref.Val {
	if s, ok := v.(types.String); ok {
		r, err := parseDecimal(string(s))
		if err != nil {
			return types.NewErr("decimal: %v", err)
		}
		return decimalVal{r}
	}
	if r, ok := asRat(v); ok {
		return decimalVal{r}
	}
	return types.NewErr("decimal: cannot convert %s to a decimal", v.Type().TypeName())
}

// decimalArg is asRat for function arguments, with a CEL error.
func decimalArg(fn string, v ref.Val) (*big.Rat, ref.Val) {
	if types.IsError(v) {
		return nil, v
	}
	if r, ok := asRat(v); ok {
		return r, nil
	}
	return nil, types.NewErr("%s: expected a decimal or a number, got %s", fn, v.Type().TypeName())
}

func arith(fn string, op func(a, b *big.Rat) (*big.Rat, error)) func(a, b ref.Val) ref.Val {
	return func(a, b ref.Val) ref.Val {
		x, e := decimalArg(fn, a)
		if e != nil {
			return e
		}
		y, e := decimalArg(fn, b)
		if e != nil {
			return e
		}
		r, err := op(x, y)
		if err != nil {
			return types.NewErr("%s: %v", fn, err)
		}
		return decimalVal{r}
	}
}

func compare(fn string, ok func(int) bool) func(a, b ref.Val) ref.Val {
	return func(a, b ref.Val) ref.Val {
		x, e := decimalArg(fn, a)
		if e != nil {
			return e
		}
		y, e := decimalArg(fn, b)
		if e != nil {
			return e
		}
		return types.Bool(ok(x.Cmp(y)))
	}
}

func add(a, b *big.Rat) (*big.Rat, error) { return new(big.Rat).Add(a, b), nil }
func sub(a, b *big.Rat) (*big.Rat, error) { return new(big.Rat).Sub(a, b), nil }
func mul(a, b *big.Rat) (*big.Rat, error) { return new(big.Rat).Mul(a, b), nil }
func quo(a, b *big.Rat) (*big.Rat, error) {
	if b.Sign() == 0 {
		return nil, errors.New("division by zero")
	}
	return new(big.Rat).Quo(a, b), nil
}

// roundHalfUp rounds r to scale fractional digits, halves away from zero
// (Java's HALF_UP).
func roundHalfUp(r *big.Rat, scale int64) (*big.Rat, error) {
	if scale < -maxDecimalExp || scale > maxDecimalExp {
		return nil, fmt.Errorf("scale %d out of range ±%d", scale, maxDecimalExp)
	}
	pow := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(abs64(scale)), nil))
	scaled := new(big.Rat).Set(r)
	if scale >= 0 {
		scaled.Mul(scaled, pow)
	} else {
		scaled.Quo(scaled, pow)
	}
	// |scaled| + 1/2, truncated, with r's sign.
	half := big.NewRat(1, 2)
	abs := new(big.Rat).Abs(scaled)
	abs.Add(abs, half)
	q := new(big.Int).Quo(abs.Num(), abs.Denom())
	if scaled.Sign() < 0 {
		q.Neg(q)
	}
	out := new(big.Rat).SetInt(q)
	if scale >= 0 {
		out.Quo(out, pow)
	} else {
		out.Mul(out, pow)
	}
	return out, nil
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// sumList backs decimals.sum.
func sumList(v ref.Val) ref.Val {
	l, ok := v.(traits.Lister)
	if !ok {
		return types.NewErr("decimals.sum: expected a list, got %s", v.Type().TypeName())
	}
	total := new(big.Rat)
	for it := l.Iterator(); it.HasNext() == types.True; {
		x, e := decimalArg("decimals.sum", it.Next())
		if e != nil {
			return e
		}
		total.Add(total, x)
	}
	return decimalVal{total}
}

// overloadID makes an overload id from a function name and argument names.
func overloadID(fn string, args ...string) string {
	return strings.NewReplacer(".", "_", "_", "").Replace(fn) + "_" + strings.Join(args, "_")
}

// decimalOptions declares the decimal type's operators and functions.
func decimalOptions() []cel.EnvOption {
	dec, i, d, dyn := DecimalType, cel.IntType, cel.DoubleType, cel.DynType
	// CEL's standard library evaluates its operators by the left operand's
	// traits (a singleton binding), so the decimal declares the overloads
	// with a decimal on the left and implements traits.Adder and friends:
	// int + decimal would not compile rather than fail at run time.
	binOp := func(op string) cel.EnvOption {
		return cel.Function(op,
			cel.Overload(overloadID(op, "decimal", "decimal"), []*cel.Type{dec, dec}, dec),
			cel.Overload(overloadID(op, "decimal", "int"), []*cel.Type{dec, i}, dec))
	}
	// The comparison operators are evaluated by the left operand's Compare
	// (a singleton binding in CEL's standard library), so only a decimal on
	// the left is declared: int < decimal would not compile rather than
	// fail at run time.
	cmpOp := func(op string) cel.EnvOption {
		return cel.Function(op,
			cel.Overload(overloadID(op, "decimal", "decimal"), []*cel.Type{dec, dec}, cel.BoolType),
			cel.Overload(overloadID(op, "decimal", "int"), []*cel.Type{dec, i}, cel.BoolType),
			cel.Overload(overloadID(op, "decimal", "double"), []*cel.Type{dec, d}, cel.BoolType))
	}
	fnCmp := func(name string, ok func(int) bool) cel.EnvOption {
		return cel.Function(name, cel.Overload(overloadID(name, "dyn", "dyn"), []*cel.Type{dyn, dyn}, cel.BoolType,
			cel.BinaryBinding(compare(name, ok))))
	}
	fnArith := func(name string, fn func(a, b *big.Rat) (*big.Rat, error)) cel.EnvOption {
		return cel.Function(name, cel.Overload(overloadID(name, "dyn", "dyn"), []*cel.Type{dyn, dyn}, dec,
			cel.BinaryBinding(arith(name, fn))))
	}
	eq := func(c int) bool { return c == 0 }
	lt := func(c int) bool { return c < 0 }
	le := func(c int) bool { return c <= 0 }
	gt := func(c int) bool { return c > 0 }
	ge := func(c int) bool { return c >= 0 }
	unaryDec := func(name string, fn func(r *big.Rat) *big.Rat) cel.EnvOption {
		return cel.Function(name, cel.Overload(overloadID(name, "dyn"), []*cel.Type{dyn}, dec,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				r, e := decimalArg(name, v)
				if e != nil {
					return e
				}
				return decimalVal{fn(r)}
			})))
	}
	round := func(v, s ref.Val) ref.Val {
		r, e := decimalArg("decimals.round", v)
		if e != nil {
			return e
		}
		scale, ok := s.(types.Int)
		if !ok {
			return types.NewErr("decimals.round: the scale must be an int")
		}
		out, err := roundHalfUp(r, int64(scale))
		if err != nil {
			return types.NewErr("decimals.round: %v", err)
		}
		return decimalVal{out}
	}
	return []cel.EnvOption{
		binOp(operators.Add),
		binOp(operators.Subtract),
		binOp(operators.Multiply),
		binOp(operators.Divide),
		cel.Function(operators.Negate, cel.Overload("negate_decimal", []*cel.Type{dec}, dec)),
		cmpOp(operators.Less),
		cmpOp(operators.LessEquals),
		cmpOp(operators.Greater),
		cmpOp(operators.GreaterEquals),
		cel.Function("decimal", cel.Overload("decimal_dyn", []*cel.Type{dyn}, dec, cel.UnaryBinding(toDecimal))),
		fnCmp("decimals.eq", eq), fnCmp("decimals.lt", lt), fnCmp("decimals.le", le),
		fnCmp("decimals.gt", gt), fnCmp("decimals.ge", ge),
		fnArith("decimals.add", add), fnArith("decimals.sub", sub),
		fnArith("decimals.mul", mul), fnArith("decimals.div", quo),
		unaryDec("decimals.neg", func(r *big.Rat) *big.Rat { return new(big.Rat).Neg(r) }),
		unaryDec("decimals.abs", func(r *big.Rat) *big.Rat { return new(big.Rat).Abs(r) }),
		cel.Function("decimals.sign", cel.Overload("decimals_sign_dyn", []*cel.Type{dyn}, cel.IntType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				r, e := decimalArg("decimals.sign", v)
				if e != nil {
					return e
				}
				return types.Int(r.Sign())
			}))),
		cel.Function("decimals.round",
			cel.Overload("decimals_round_dyn", []*cel.Type{dyn}, dec,
				cel.UnaryBinding(func(v ref.Val) ref.Val { return round(v, types.Int(0)) })),
			cel.Overload("decimals_round_dyn_int", []*cel.Type{dyn, cel.IntType}, dec, cel.BinaryBinding(round))),
		cel.Function("decimals.sum", cel.Overload("decimals_sum_list", []*cel.Type{cel.ListType(dyn)}, dec,
			cel.UnaryBinding(sumList))),
		cel.Function("string", cel.Overload("string_decimal", []*cel.Type{dec}, cel.StringType,
			cel.UnaryBinding(func(v ref.Val) ref.Val { return types.String(decimalString(v.(decimalVal).r)) }))),
		cel.Function("double", cel.Overload("double_decimal", []*cel.Type{dec}, cel.DoubleType,
			cel.UnaryBinding(func(v ref.Val) ref.Val {
				f, _ := v.(decimalVal).r.Float64()
				return types.Double(f)
			}))),
	}
}
