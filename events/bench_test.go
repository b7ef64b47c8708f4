package events_test

import (
	"testing"

	"github.com/hamba/avro/v2"

	"github.com/contrail-events/contrail/events/orders"
)

// BenchmarkOrderPlacedDecode decodes an OrderPlaced (with its payment union)
// through hamba's default API, where generated code registered the union's
// branch types, and through a fresh API, where the union arrives as a
// generic map that the carrier converts. Compare the two in one run.
func BenchmarkOrderPlacedDecode(b *testing.B) {
	v := orderFlow()[0].value.(*orders.OrderPlaced)
	s := orders.OrderPlacedBinding.Schema()
	data, err := avro.Marshal(s, v)
	if err != nil {
		b.Fatal(err)
	}
	for name, api := range map[string]avro.API{"default": avro.DefaultConfig, "fresh": avro.Config{}.Freeze()} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var out orders.OrderPlaced
				if err := api.Unmarshal(s, data, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkOrderPlacedEncode is the encoding side (no difference expected:
// the carrier always encodes by branch name).
func BenchmarkOrderPlacedEncode(b *testing.B) {
	v := orderFlow()[0].value.(*orders.OrderPlaced)
	s := orders.OrderPlacedBinding.Schema()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := avro.Marshal(s, v); err != nil {
			b.Fatal(err)
		}
	}
}
