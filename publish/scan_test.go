package publish

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
)

// The fast path must give exactly what the encoding/json path gives, or
// give up. These bodies cover each rule it follows and each case where it
// must give up.
var envelopeBodies = []string{
	`{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batch_1","output_file_uri":"gs://b/o"}}`,
	` {"type":"batch.completed","data":{"id":"batches/abc"}} ` + "\n",
	`{"type":"webhook.ping"}`,
	`{"type":"video.generated","data":{"id":12345678901234567890}}`,
	`{"type":"v","data":{"id":-1.5e+7}}`,
	`{"type":"v","data":{"id":-0}}`,
	`{"type":"v","data":{"id":1E-2}}`,
	`{"type":"v","data":{"id":0.0}}`,
	`hello`, `[1,2]`, ``, `null`, `true`, `"s"`, `7`, `{}`, `{ }`, `{"a":[]}`, `{"a":[ ]}`, `{"a":[1, "x" ,{}]}`,
	`{"type":7}`, `{"type":""}`, `{"type":null}`, `{"type":true,"version":false}`,
	`{"type":"` + strings.Repeat("x", MaxAttributeValue) + `"}`,
	`{"type":"` + strings.Repeat("x", MaxAttributeValue+1) + `"}`,
	`{"type":"a","data":{"id":{"x":1}}}`,
	`{"type":"a","data":{"id":[1]}}`,
	`{"type":"a","data":{"id":"` + strings.Repeat("y", MaxAttributeValue+1) + `"}}`,
	`{"type":"batch.succeeded","data":{"id":"b","user_metadata":"oops"},"user_metadata":7}`,
	`{"type":"batch.expired","version":"v1","data":"b"}`,
	`{"type":"batch.expired","version":1,"data":{"id":"b"}}`,
	`{"type":"a","data":null}`, `{"type":"a","user_metadata":null}`,
	`{"type":"a","user_metadata":{"team":"ml","run":7,"ok":true,"nested":{"a":1},"bad key":"x","long":"` + strings.Repeat("z", MaxAttributeValue+1) + `"}}`,
	`{"type":"a","user_metadata":{"team":"top"},"data":{"id":"i","user_metadata":{"team":"inner","job":"j1"}}}`,
	`{"type":"a","user_metadata":{"team":{}},"data":{"user_metadata":{"team":"inner"}}}`,
	// Duplicate members: the last one counts, whole.
	`{"type":"a","type":"b"}`,
	`{"type":"a","type":1}`,
	`{"data":{"id":"x"},"data":{"y":1},"type":"t"}`,
	`{"type":"t","data":{"id":"x","id":2}}`,
	`{"type":"t","user_metadata":{"k":"1","k":{}}}`,
	`{"type":"t","user_metadata":{"k":"1"},"user_metadata":{"j":"2"}}`,
	`{"type":"t","data":{"user_metadata":{"k":"1"},"user_metadata":{}}}`,
	// Member names are matched exactly.
	`{"Type":"a","TYPE":"b","data":{"ID":"c"}}`,
	// Escapes, control characters and invalid UTF-8: the fast path gives up.
	`{"type":"a\"b"}`, `{"typ\u0065":"a"}`, `{"type":"a\u00e9"}`, `{"type":"a","x":"\n"}`,
	"{\"type\":\"a\tb\"}", "{\"type\":\"a\xffb\"}", "{\"x\":\"\xc3\",\"type\":\"a\"}",
	`{"type":"héllo","user_metadata":{"équipe":"ml","team":"é"}}`,
	// Invalid JSON of every kind.
	`{"type":"a"`, `{"type":"a",}`, `{"type" "a"}`, `{"type":}`, `{,}`, `{"a":1 "b":2}`, `{"a":[1,]}`, `{"a":[1 2]}`,
	`{"type":"a"} x`, `{"type":"a"}{}`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`, `{"a":1e+}`, `{"a":+1}`,
	`{"a":tru}`, `{"a":nulll}`, `{"a":True}`, `{"a":"x}`, `{a:1}`, `{"a":1}}`, `{"a":[}`, "\xef\xbb\xbf{}",
	`{"a":` + strings.Repeat(`[`, 100) + strings.Repeat(`]`, 100) + `,"type":"deep"}`,
	`{"a":` + strings.Repeat(`{"b":`, 100) + `1` + strings.Repeat(`}`, 100) + `,"type":"deep"}`,
}

func TestParseEnvelopeFastMatchesJSON(t *testing.T) {
	t.Parallel()
	fast := 0
	for _, body := range envelopeBodies {
		got, ok := parseEnvelopeFast([]byte(body))
		if !ok {
			continue
		}
		fast++
		if want := parseEnvelopeJSON([]byte(body)); !sameEnvelope(got, want) {
			t.Errorf("%.80q:\nfast %+v\njson %+v", body, got, want)
		}
	}
	if fast < 30 {
		t.Errorf("the fast path took only %d of %d bodies", fast, len(envelopeBodies))
	}
}

// A typical delivery, whatever its size, takes the fast path.
func TestParseEnvelopeFastTakesDeliveries(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		`{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batches/1","output_file_uri":"gs://b/r.jsonl"}}`,
		`{"type":"interaction.completed","data":{"id":"interactions/1","user_metadata":{"team":"vision","run":42}}}`,
		`{"type":"batch.failed","data":{"id":"b","error_message":"` + strings.Repeat("quota exceeded ", 1000) + `"}}`,
	} {
		if _, ok := parseEnvelopeFast([]byte(body)); !ok {
			t.Errorf("%.60q took the slow path", body)
		}
	}
}

func sameEnvelope(a, b Envelope) bool {
	if len(a.Metadata) == 0 && len(b.Metadata) == 0 {
		a.Metadata, b.Metadata = nil, nil
	}
	return reflect.DeepEqual(a, b)
}

// FuzzParseEnvelopeFast holds the fast path to the encoding/json path on
// any input.
func FuzzParseEnvelopeFast(f *testing.F) {
	for _, b := range envelopeBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := parseEnvelopeFast(body)
		if !ok {
			return
		}
		if want := parseEnvelopeJSON(body); !sameEnvelope(got, want) {
			t.Fatalf("%q:\nfast %+v\njson %+v", body, got, want)
		}
	})
}

// special must flag every eight bytes holding a byte the byte-wise scan
// stops at, wherever it sits among plain bytes.
func TestSpecial(t *testing.T) {
	t.Parallel()
	for c := range 256 {
		stops := c == '"' || c == '\\' || c < 0x20 || c >= 0x80
		for pos := range 8 {
			for _, fill := range []byte{'a', ' ', '~', '!', '#', '[', ']'} {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[pos] = byte(c)
				x := binary.LittleEndian.Uint64(b[:])
				if got := special(x); stops && !got {
					t.Fatalf("byte %#x at %d among %q: not flagged", c, pos, fill)
				} else if !stops && got {
					t.Errorf("byte %#x at %d among %q: flagged", c, pos, fill)
				}
			}
		}
	}
}
