package eventing

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// An outbox row's headers column holds the record's headers as a JSON
// array of {"k": key, "v": value}, the value base64 (encoding/json's
// []byte), null for a nil value: what json.Marshal of []storedHeader
// writes. appendHeaders and parseHeaders write and read that text without
// reflection, for the keys the runtime and the services use (printable
// ASCII without quotes, backslashes or the characters encoding/json
// escapes for HTML); any other header list goes through encoding/json, so
// the column's text is the same either way (TestOutboxHeadersMatchJSON).

type storedHeader struct {
	K string `json:"k"`
	V []byte `json:"v"`
}

// plainKey reports whether json.Marshal writes k as itself between
// quotes.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// appendHeaders appends the JSON text of hs to dst.
func appendHeaders(dst []byte, hs []kgo.RecordHeader) []byte {
	for _, h := range hs {
		if !plainKey(h.Key) {
			list := make([]storedHeader, len(hs))
			for i, h := range hs {
				list[i] = storedHeader{h.Key, h.Value}
			}
			b, _ := json.Marshal(list)
			return append(dst, b...)
		}
	}
	if len(hs) == 0 {
		return append(dst, "[]"...)
	}
	dst = append(dst, '[')
	for i, h := range hs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"k":"`...)
		dst = append(dst, h.Key...)
		dst = append(dst, `","v":`...)
		if h.Value == nil {
			dst = append(dst, "null"...)
		} else {
			dst = append(dst, '"')
			dst = base64.StdEncoding.AppendEncode(dst, h.Value)
			dst = append(dst, '"')
		}
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// parseHeaders reads the headers column's text. The values share one
// buffer.
func parseHeaders(text string) ([]kgo.RecordHeader, error) {
	if hs, ok := parsePlainHeaders(text); ok {
		return hs, nil
	}
	var list []storedHeader
	if err := json.Unmarshal([]byte(text), &list); err != nil {
		return nil, err
	}
	hs := make([]kgo.RecordHeader, len(list))
	for i, h := range list {
		hs[i] = kgo.RecordHeader{Key: h.K, Value: h.V}
	}
	return hs, nil
}

// parsePlainHeaders reads text as appendHeaders writes it for plain keys;
// ok is false for any other text (then encoding/json reads it).
func parsePlainHeaders(s string) (_ []kgo.RecordHeader, ok bool) {
	if s == "[]" {
		return []kgo.RecordHeader{}, true
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	raw := []byte(s) // the base64 decoder's source, sliced in step with body
	body := s[1 : len(s)-1]
	n := strings.Count(body, `{"k":"`)
	hs := make([]kgo.RecordHeader, 0, n)
	buf := make([]byte, 0, base64.StdEncoding.DecodedLen(len(body)))
	for i := 0; i < n; i++ {
		if i > 0 {
			if body == "" || body[0] != ',' {
				return nil, false
			}
			body = body[1:]
		}
		if !strings.HasPrefix(body, `{"k":"`) {
			return nil, false
		}
		body = body[len(`{"k":"`):]
		end := strings.IndexByte(body, '"')
		if end < 0 || !plainKey(body[:end]) {
			return nil, false
		}
		key := body[:end]
		body = body[end:]
		if !strings.HasPrefix(body, `","v":`) {
			return nil, false
		}
		body = body[len(`","v":`):]
		var val []byte
		switch {
		case strings.HasPrefix(body, "null}"):
			body = body[len("null}"):]
		case strings.HasPrefix(body, `"`):
			end := strings.IndexByte(body[1:], '"')
			if end < 0 || !strings.HasPrefix(body[1+end:], `"}`) || !plainKey(body[1:1+end]) {
				return nil, false // escapes or control characters: encoding/json's to judge
			}
			start, at := len(buf), len(s)-1-len(body)+1 // body[1:] in s
			var err error
			if buf, err = base64.StdEncoding.AppendDecode(buf, raw[at:at+end]); err != nil {
				return nil, false
			}
			val = buf[start:len(buf):len(buf)]
			body = body[1+end+len(`"}`):]
		default:
			return nil, false
		}
		hs = append(hs, kgo.RecordHeader{Key: key, Value: val})
	}
	if body != "" {
		return nil, false
	}
	return hs, true
}
