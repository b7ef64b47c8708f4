package tracingtest

import (
	"fmt"
	"testing"

	"github.com/contrail-events/contrail/tracing/jaegerapi"
)

// Op names spans of one service and operation, e.g.
// {Service: "shipping", Operation: "process payments.confirmed"}. An empty
// field matches anything.
type Op struct {
	Service   string
	Operation string
}

func (o Op) match(tr jaegerapi.Trace, s jaegerapi.Span) bool {
	return (o.Service == "" || tr.Service(s) == o.Service) && (o.Operation == "" || s.OperationName == o.Operation)
}

// String is "service:operation".
func (o Op) String() string { return o.Service + ":" + o.Operation }

// CheckAfter checks a flow contract on tr: the first span matching later
// starts only after every span matching each of earlier has ended, and each
// of them exists. It returns a description of the first violation, or nil.
func CheckAfter(tr jaegerapi.Trace, later Op, earlier ...Op) error {
	var first *jaegerapi.Span
	for i, s := range tr.Spans {
		if later.match(tr, s) && (first == nil || s.StartTime < first.StartTime) {
			first = &tr.Spans[i]
		}
	}
	if first == nil {
		return fmt.Errorf("tracingtest: no span %s in trace %s", later, tr.TraceID)
	}
	for _, e := range earlier {
		found := false
		for _, s := range tr.Spans {
			if !e.match(tr, s) {
				continue
			}
			found = true
			if end := s.StartTime + s.Duration; end > first.StartTime {
				return fmt.Errorf("tracingtest: %s started at +%dµs, before %s ended at +%dµs", later, first.StartTime-s.StartTime, e, s.Duration)
			}
		}
		if !found {
			return fmt.Errorf("tracingtest: no span %s in trace %s", e, tr.TraceID)
		}
	}
	return nil
}

// AssertAfter fails t if CheckAfter reports a violation.
func AssertAfter(t testing.TB, tr jaegerapi.Trace, later Op, earlier ...Op) {
	t.Helper()
	if err := CheckAfter(tr, later, earlier...); err != nil {
		t.Error(err)
	}
}
