package events_test

import (
	"strings"
	"testing"

	"github.com/hamba/avro/v2"

	_ "github.com/contrail-events/contrail/events"
)

// A forged array block count must fail fast instead of allocating gigabytes.
func TestForgedArrayCountIsRefused(t *testing.T) {
	s := avro.MustParse(`{"type":"array","items":"long"}`)
	// Block count 100,000 (over the bound, small enough that an unbounded
	// decoder would allocate it and fail later with a different error).
	payload := zigzag(100_000)
	var out []int64
	err := avro.Unmarshal(s, payload, &out)
	if err == nil || !strings.Contains(err.Error(), "MaxSliceAllocSize") {
		t.Fatalf("want a MaxSliceAllocSize error, got %v (len %d)", err, len(out))
	}
}

func zigzag(n int64) []byte {
	u := uint64(n<<1) ^ uint64(n>>63)
	var b []byte
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}
