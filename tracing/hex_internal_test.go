package tracing

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

// refLowerHex is the plain definition the SWAR decoder must match: every
// character one of 0-9 a-f (encoding/hex also takes A-F, which W3C and
// OpenTelemetry reject in traceparent).
func refLowerHex(s []byte) ([]byte, bool) {
	if strings.ContainsFunc(string(s), func(c rune) bool { return !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') }) {
		return nil, false
	}
	b, err := hex.DecodeString(string(s))
	return b, err == nil
}

// checkDecode8 compares hexDecode8 with refLowerHex on eight characters.
func checkDecode8(t *testing.T, s []byte) {
	t.Helper()
	u, bad := hexDecode8(binary.LittleEndian.Uint64(s))
	ok := bad == 0
	want, wantOK := refLowerHex(s)
	if ok != wantOK {
		t.Fatalf("hexDecode8(%q) ok = %v, want %v", s, ok, wantOK)
	}
	if ok && binary.LittleEndian.Uint32(want) != u {
		t.Fatalf("hexDecode8(%q) = %08x, want % x", s, u, want)
	}
}

// TestHexDecode8EveryByte puts every byte value at every position of valid
// hex, alone and next to (below and above) bytes that could carry into it or
// take a carry from it, so each byte's comparisons are checked against all
// 256 values.
func TestHexDecode8EveryByte(t *testing.T) {
	bases := []string{"0123abcd", "9f9f9f9f", "ffffffff", "00000000", "a0b1c2d3"}
	neighbours := []byte{'0', 'f', 0x7f, 0x80, 0xff, 'g', '/', ':', '`', 'A', 'F'}
	for _, base := range bases {
		for pos := range 8 {
			for c := range 256 {
				s := []byte(base)
				s[pos] = byte(c)
				checkDecode8(t, s)
				for _, n := range neighbours {
					for _, at := range []int{pos - 1, pos + 1} {
						if at < 0 || at > 7 {
							continue
						}
						s2 := append([]byte(nil), s...)
						s2[at] = n
						checkDecode8(t, s2)
					}
				}
			}
		}
	}
}

func TestHexDecode8Random(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = "0123456789abcdefABCDEFgz/:`@\x00\x7f\x80\xff"
	for range 200_000 {
		var s [8]byte
		for i := range s {
			if rng.IntN(8) == 0 {
				s[i] = alphabet[rng.IntN(len(alphabet))]
			} else {
				s[i] = hexDigits[rng.IntN(16)]
			}
		}
		checkDecode8(t, s[:])
	}
}

// TestHexEncode4 checks every value of each byte position and random words
// against encoding/hex.
func TestHexEncode4(t *testing.T) {
	check := func(b [4]byte) {
		var got [8]byte
		binary.LittleEndian.PutUint64(got[:], hexEncode4(binary.LittleEndian.Uint32(b[:])))
		if want := hex.EncodeToString(b[:]); string(got[:]) != want {
			t.Fatalf("hexEncode4(% x) = %q, want %q", b, got, want)
		}
	}
	for pos := range 4 {
		for c := range 256 {
			b := [4]byte{0x5a, 0xa5, 0x0f, 0xf0}
			b[pos] = byte(c)
			check(b)
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 100_000 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], rng.Uint32())
		check(b)
	}
}

// TestHexIDs: decodeIDs and hexIDs on whole trace and span ids, and
// decodeIDs rejecting one bad character anywhere.
func TestHexIDs(t *testing.T) {
	const tid, sid = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
	tests := []struct {
		name     string
		tid, sid string
		ok       bool
	}{
		{name: "ids", tid: tid, sid: sid, ok: true},
		{name: "all f", tid: strings.Repeat("f", 32), sid: strings.Repeat("f", 16), ok: true},
		{name: "all 0", tid: strings.Repeat("0", 32), sid: strings.Repeat("0", 16), ok: true},
		{name: "upper case trace id", tid: strings.ToUpper(tid), sid: sid},
		{name: "upper case span id", tid: tid, sid: strings.ToUpper(sid)},
		{name: "trace id last char bad", tid: tid[:31] + "g", sid: sid},
		{name: "trace id middle char bad", tid: tid[:17] + ":" + tid[18:], sid: sid},
		{name: "span id first char bad", tid: tid, sid: "-" + sid[1:]},
		{name: "span id high byte", tid: tid, sid: sid[:15] + "\xb1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotT trace.TraceID
			var gotS trace.SpanID
			ok := decodeIDs(&gotT, &gotS, []byte(tt.tid), []byte(tt.sid))
			if ok != tt.ok {
				t.Fatalf("decodeIDs ok = %v, want %v", ok, tt.ok)
			}
			if !tt.ok {
				return
			}
			wantT, _ := hex.DecodeString(tt.tid)
			wantS, _ := hex.DecodeString(tt.sid)
			if string(gotT[:]) != string(wantT) || string(gotS[:]) != string(wantS) {
				t.Fatalf("decodeIDs = % x, % x, want % x, % x", gotT, gotS, wantT, wantS)
			}
			backT, backS := make([]byte, 32), make([]byte, 16)
			t0, t1, t2, t3, s0, s1 := hexIDs(&gotT, &gotS)
			putHexIDs(backT, backS, t0, t1, t2, t3, s0, s1)
			if string(backT) != tt.tid || string(backS) != tt.sid {
				t.Fatalf("hexIDs = %q, %q, want %q, %q", backT, backS, tt.tid, tt.sid)
			}
		})
	}
}

// FuzzHexDecode8 holds hexDecode8 to refLowerHex on arbitrary bytes.
func FuzzHexDecode8(f *testing.F) {
	f.Add([]byte("0123abcd"))
	f.Add([]byte("0123abcG"))
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 8 {
			return
		}
		checkDecode8(t, b[:8])
	})
}

// FuzzHexEncode4 holds hexEncode4 to encoding/hex.
func FuzzHexEncode4(f *testing.F) {
	f.Add(uint32(0))
	f.Add(uint32(0xdeadbeef))
	f.Fuzz(func(t *testing.T, u uint32) {
		var b [4]byte
		var got [8]byte
		binary.LittleEndian.PutUint32(b[:], u)
		binary.LittleEndian.PutUint64(got[:], hexEncode4(u))
		if want := hex.EncodeToString(b[:]); string(got[:]) != want {
			t.Fatalf("hexEncode4(%08x) = %q, want %q", u, got, want)
		}
	})
}
