// Package rules runs the domain rules of data contracts: CEL conditions
// registered with a schema (wire.RuleSet, Confluent's shape) that every
// event must pass when it is published (mode WRITE, WRITEREAD) or consumed
// (READ, WRITEREAD). It also knows which fields a contract tags as personal
// data (PII) and redacts them wherever Contrail prints a value.
//
// A condition reads the event as `message` with Avro field names, as
// Confluent's serializers do, so rule text written for them works here:
//
//	message.total.amount > 0
//	size(message.customerId) > 0
//	message.couponCode == null || message.couponCode.startsWith("SPRING")
//
// It is evaluated on the generated Go value itself (see the provider in
// types.go), with exact decimals (see decimal.go). An Engine compiles each
// rule once per schema id and caches the program; a Plan is the compiled
// rules of one schema for one direction, and Plan.Run checks a value
// against them and carries out the rule's onSuccess/onFailure action:
// ERROR and DLQ return an *Error, NONE logs and goes on.
//
// The registry serde (registry/serde) is the package's user: it builds the
// plans of each schema id and runs them in Encode and Decode.
package rules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/wire"
)

// Direction says where a rule runs: on publish (the serde's Encode, before
// encoding) or on consume (its Decode, after decoding and any migration).
type Direction int

// The directions.
const (
	Write Direction = iota + 1
	Read
)

// String names the direction as errors and logs do: "publish" or "consume".
func (d Direction) String() string {
	if d == Write {
		return "publish"
	}
	return "consume"
}

// applies reports whether a domain rule in mode m runs in direction d.
func (d Direction) applies(m wire.RuleMode) bool {
	if d == Write {
		return m.OnWrite()
	}
	return m.OnRead()
}

// Target names the registered schema a rule set belongs to, for the cache
// key, errors and logs.
type Target struct {
	// ID is the schema id; the compile cache is keyed by it.
	ID int
	// Subject and Version say where the schema is registered; Version 0
	// means unknown.
	Subject string
	Version int
}

func (t Target) String() string {
	s := fmt.Sprintf("subject %q", t.Subject)
	if t.Version > 0 {
		s += fmt.Sprintf(" version %d", t.Version)
	}
	if t.ID > 0 {
		s += fmt.Sprintf(" (schema id %d)", t.ID)
	}
	return s
}

// ErrRuleFailed is matched (errors.Is) by every *Error.
var ErrRuleFailed = errors.New("rules: data-contract rule failed")

// Error reports that an event broke a rule whose action is ERROR or DLQ,
// or that the rule could not be evaluated (Err says why: a compile error,
// an evaluation error, an unsupported rule type). It never quotes the
// event's values, so it is safe to log and to put in a dead letter's
// error header.
type Error struct {
	// Rule is the rule as registered.
	Rule wire.Rule
	// Target is the schema the rule belongs to.
	Target Target
	// Direction is where it failed.
	Direction Direction
	// Action is the action carried out: wire.RuleActionError or
	// wire.RuleActionDLQ.
	Action string
	// Success is true when the rule passed and its onSuccess action is
	// ERROR or DLQ.
	Success bool
	// Err is why the rule could not be evaluated; nil when the condition
	// was simply false.
	Err error
}

// Error names the rule, the schema, the expression and the action.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rules: rule %q of %s ", e.Rule.Name, e.Target)
	switch {
	case e.Success:
		fmt.Fprintf(&b, "passed on %s and its onSuccess action is %s", e.Direction, e.Action)
	case e.Err != nil:
		fmt.Fprintf(&b, "failed on %s: %v", e.Direction, e.Err)
	default:
		fmt.Fprintf(&b, "failed on %s: %s is false", e.Direction, quoteExpr(e.Rule.Expr))
	}
	fmt.Fprintf(&b, "; action %s", e.Action)
	if e.Action == wire.RuleActionDLQ {
		b.WriteString(" (the record is dead-lettered)")
	}
	return b.String()
}

func quoteExpr(expr string) string {
	if len(expr) > 200 {
		expr = expr[:200] + "…"
	}
	return "`" + expr + "`"
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Is matches ErrRuleFailed.
func (e *Error) Is(target error) bool { return target == ErrRuleFailed }

// Permanent reports whether the event runtime dead-letters the record at
// once as a permanent error (action DLQ). An ERROR failure on consume is
// a poison record instead; on publish it is the caller's error.
func (e *Error) Permanent() bool { return e.Action == wire.RuleActionDLQ }

// Opt configures an Engine; see NewEngine.
type Opt interface{ apply(*Engine) }

type optFunc func(*Engine)

func (f optFunc) apply(e *Engine) { f(e) }

// Logger receives one warning per failed rule whose action is NONE.
// Default slog.Default(); nil keeps the default.
func Logger(l *slog.Logger) Opt {
	return optFunc(func(e *Engine) {
		if l != nil {
			e.log = l
		}
	})
}

// Engine compiles CEL conditions and caches them: a rule is compiled once
// per (schema id, rule, reader schema), and the CEL environment of a
// schema is built once. It is safe for concurrent use; its caches only grow.
type Engine struct {
	log *slog.Logger

	mu    sync.Mutex
	envs  map[envKey]*envEntry
	progs map[progKey]*compiled

	compiles atomic.Int64
}

type envKey struct {
	fp [32]byte
	t  reflect.Type
}

type envEntry struct {
	env *cel.Env
	err error
}

type progKey struct {
	id   int
	rule string
	expr string
	env  envKey
}

type compiled struct {
	guard, prog cel.Program // guard is nil without a "guard;" prefix
	err         error
}

// NewEngine returns an engine.
func NewEngine(opts ...Opt) *Engine {
	e := &Engine{log: slog.Default(), envs: map[envKey]*envEntry{}, progs: map[progKey]*compiled{}}
	for _, o := range opts {
		if o != nil {
			o.apply(e)
		}
	}
	return e
}

// Compiles returns how many CEL expressions the engine has compiled.
func (e *Engine) Compiles() int64 { return e.compiles.Load() }

// Plan returns the domain rules of rs that run in direction dir, compiled
// for values of goType (a generated struct type, or a pointer to one)
// under reader schema s. Rules that are disabled, migration rules and rules
// of another direction are left out; a nil plan means there is nothing to
// run. A rule that cannot be compiled, or whose type or kind Contrail does
// not run (only CEL CONDITION rules are run; anything else, such as an
// ENCRYPT rule, would silently not be applied), becomes a step that fails
// every value with the reason, so its onFailure action decides: by
// default ERROR, fail closed. Plan's error is for what no action can
// handle: an action name Contrail does not know.
func (e *Engine) Plan(target Target, s avro.Schema, goType reflect.Type, rs *wire.RuleSet, dir Direction) (*Plan, error) {
	if rs == nil {
		return nil, nil
	}
	for goType.Kind() == reflect.Pointer {
		goType = goType.Elem()
	}
	p := &Plan{target: target, dir: dir, log: e.log}
	for _, r := range rs.DomainRules {
		if r.Disabled || !dir.applies(r.Mode) {
			continue
		}
		st := step{rule: r}
		var err error
		if st.onSuccess, err = action(r, dir, true); err != nil {
			return nil, fmt.Errorf("rules: rule %q of %s: %w", r.Name, target, err)
		}
		if st.onFailure, err = action(r, dir, false); err != nil {
			return nil, fmt.Errorf("rules: rule %q of %s: %w", r.Name, target, err)
		}
		switch {
		case r.Type != wire.RuleTypeCEL:
			st.c = &compiled{err: fmt.Errorf("rule type %q is not run by Contrail (it runs %s CONDITION rules); remove the rule or disable it", r.Type, wire.RuleTypeCEL)}
		case r.Kind != wire.RuleKindCondition:
			st.c = &compiled{err: fmt.Errorf("%s %s rules are not run by Contrail (only CONDITION rules are); remove the rule or disable it", r.Type, r.Kind)}
		default:
			st.c = e.compile(target, s, goType, r)
		}
		p.steps = append(p.steps, st)
	}
	if len(p.steps) == 0 {
		return nil, nil
	}
	return p, nil
}

// action returns the action a rule names for an outcome in a direction.
func action(r wire.Rule, dir Direction, success bool) (string, error) {
	spec := r.OnFailure
	if success {
		spec = r.OnSuccess
	}
	if w, rd, two := strings.Cut(spec, ","); two {
		if r.Mode != wire.RuleModeWriteRead && r.Mode != wire.RuleModeUpDown {
			return "", fmt.Errorf("action %q names two actions, which only a WRITEREAD rule may", spec)
		}
		spec = w
		if dir == Read {
			spec = rd
		}
	}
	a := strings.ToUpper(strings.TrimSpace(spec))
	switch a {
	case "":
		if success {
			return wire.RuleActionNone, nil
		}
		return wire.RuleActionError, nil
	case wire.RuleActionError, wire.RuleActionDLQ, wire.RuleActionNone:
		return a, nil
	}
	return "", fmt.Errorf("unknown action %q: Contrail runs %s, %s and %s", spec, wire.RuleActionError, wire.RuleActionDLQ, wire.RuleActionNone)
}

// compile returns the cached program of r, compiling it on first use.
func (e *Engine) compile(target Target, s avro.Schema, goType reflect.Type, r wire.Rule) *compiled {
	ek := envKey{fp: s.Fingerprint(), t: goType}
	key := progKey{id: target.ID, rule: r.Name, expr: r.Expr, env: ek}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.progs[key]; ok {
		return c
	}
	c := &compiled{}
	env, err := e.envLocked(ek, s)
	if err == nil {
		c.guard, c.prog, err = e.compileExpr(env, r.Expr)
	}
	if err != nil {
		c.err = fmt.Errorf("does not compile: %w", err)
	}
	e.progs[key] = c
	return c
}

func (e *Engine) envLocked(k envKey, s avro.Schema) (*cel.Env, error) {
	if en, ok := e.envs[k]; ok {
		return en.env, en.err
	}
	env, err := newEnv(s)
	e.envs[k] = &envEntry{env: env, err: err}
	return env, err
}

// compileExpr compiles expr, split as Confluent does into an optional guard
// before the first ';' (when it is false the rule passes) and the condition.
func (e *Engine) compileExpr(env *cel.Env, expr string) (guard, prog cel.Program, err error) {
	if g, rest, ok := strings.Cut(expr, ";"); ok {
		expr = rest
		if strings.TrimSpace(g) != "" {
			if guard, err = e.program(env, g); err != nil {
				return nil, nil, fmt.Errorf("guard: %w", err)
			}
		}
	}
	prog, err = e.program(env, expr)
	return guard, prog, err
}

func (e *Engine) program(env *cel.Env, expr string) (cel.Program, error) {
	e.compiles.Add(1)
	ast, iss := env.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("%s is a %s, not a bool", quoteExpr(expr), ast.OutputType())
	}
	return env.Program(ast, cel.EvalOptions(cel.OptOptimize))
}

// maxExprSize bounds a rule's text (in code points) and maxExprDepth its
// nesting, so a hostile registry cannot make compiling a rule expensive.
const (
	maxExprSize  = 10_000
	maxExprDepth = 64
)

// newEnv is the CEL environment of schema s: `message` is its root record.
func newEnv(s avro.Schema) (*cel.Env, error) {
	p, root, err := newProvider(s)
	if err != nil {
		return nil, err
	}
	if root.Kind() != types.StructKind {
		return nil, fmt.Errorf("the schema is a %s, not a record", deref(s).Type())
	}
	opts := []cel.EnvOption{
		cel.CustomTypeProvider(p),
		cel.CustomTypeAdapter(p),
		cel.Variable("message", root),
		cel.CrossTypeNumericComparisons(true),
		cel.ParserExpressionSizeLimit(maxExprSize),
		cel.ParserRecursionLimit(maxExprDepth),
		ext.Strings(),
	}
	opts = append(opts, decimalOptions()...)
	opts = append(opts, validatorOptions()...)
	return cel.NewEnv(opts...)
}

// Plan is the compiled domain rules of one schema for one direction. A nil
// *Plan runs nothing. It is immutable and safe for concurrent use.
type Plan struct {
	target Target
	dir    Direction
	steps  []step
	log    *slog.Logger
}

type step struct {
	rule                 wire.Rule
	onSuccess, onFailure string
	c                    *compiled
}

// Len returns the number of rules p runs.
func (p *Plan) Len() int {
	if p == nil {
		return 0
	}
	return len(p.steps)
}

// Run checks v (a pointer of the plan's Go type) against each rule in
// order and carries out its action: it returns the *Error of the first
// rule whose action is ERROR or DLQ, and logs a warning for a failed rule
// whose action is NONE. An evaluation error (a null record read, a
// division by zero) is a failure.
func (p *Plan) Run(ctx context.Context, v any) error {
	if p == nil {
		return nil
	}
	act := activations.Get().(*activation)
	act.v = v
	defer func() { act.v = nil; activations.Put(act) }()
	for i := range p.steps {
		st := &p.steps[i]
		ok, err := st.eval(act)
		a := st.onFailure
		if ok {
			a = st.onSuccess
		}
		switch a {
		case wire.RuleActionNone:
			if !ok {
				attrs := []any{"rule", st.rule.Name, "subject", p.target.Subject, "version", p.target.Version,
					"schema_id", p.target.ID, "direction", p.dir.String(), "expr", st.rule.Expr}
				if err != nil {
					attrs = append(attrs, "error", err.Error())
				}
				p.log.WarnContext(ctx, "data-contract rule failed; its action is NONE, so the event goes on", attrs...)
			}
		default:
			return &Error{Rule: st.rule, Target: p.target, Direction: p.dir, Action: a, Success: ok, Err: err}
		}
	}
	return nil
}

// eval reports whether the value passes the step's rule.
func (st *step) eval(act *activation) (bool, error) {
	if st.c.err != nil {
		return false, st.c.err
	}
	if st.c.guard != nil {
		out, _, err := st.c.guard.Eval(act)
		if err != nil || out != types.True {
			return true, nil // a guard that is not true skips the rule
		}
	}
	out, _, err := st.c.prog.Eval(act)
	if err != nil {
		return false, fmt.Errorf("evaluating %s: %w", quoteExpr(st.rule.Expr), err)
	}
	b, isBool := out.(types.Bool)
	if !isBool {
		return false, fmt.Errorf("%s evaluated to a %s, not a bool", quoteExpr(st.rule.Expr), out.Type().TypeName())
	}
	return bool(b), nil
}

// activation binds `message` without allocating a map per evaluation;
// they are pooled, as one escapes to the heap through cel.Program.Eval.
type activation struct{ v any }

var activations = sync.Pool{New: func() any { return new(activation) }}

func (a *activation) ResolveName(name string) (any, bool) {
	if name == "message" {
		return a.v, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

var _ ref.Val = decimalVal{}
