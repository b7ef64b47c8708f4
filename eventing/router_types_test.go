package eventing_test

import (
	"context"
	"slices"
	"testing"

	"github.com/contrail-events/contrail/eventing"
	"github.com/contrail-events/contrail/events"
)

// Types needs no broker: NewRouter does not connect.
func TestRouterTypesSortedByFullName(t *testing.T) {
	tests := []struct {
		name     string
		register func(r *eventing.Router)
		want     []string
	}{
		{name: "none", register: func(*eventing.Router) {}, want: []string{}},
		{name: "registered out of order", register: func(r *eventing.Router) {
			eventing.Handle(r, thingBinding("things"), func(context.Context, *Thing) error { return nil })
			eventing.Handle(r, echoBinding("echoes"), func(context.Context, *Echo) error { return nil })
		}, want: []string{"contrail.test.Echo", "contrail.test.Thing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := eventing.NewRouter(eventing.Brokers("127.0.0.1:1"), eventing.WithCodec(nopCodec{}), eventing.Group("types"))
			if err != nil {
				t.Fatal(err)
			}
			tt.register(r)
			var got []string
			for _, et := range r.Types() {
				got = append(got, et.FullName())
			}
			if !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("Types() = %v, want %v", got, tt.want)
			}
		})
	}
}

// nopCodec is a Codec that is never called.
type nopCodec struct{}

func (nopCodec) Encode(context.Context, events.Type, any) ([]byte, error) { return nil, nil }
func (nopCodec) Decode(context.Context, []byte, events.Type, any) error   { return nil }
