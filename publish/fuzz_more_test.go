package publish

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzAttributes builds the message attributes from an arbitrary verified
// body and header values as the handler passes them (a webhook-id of 1-256
// printable ASCII bytes, a decimal timestamp, one of the three schemes).
// Invariants: within
// Pub/Sub's limits (100 attributes, keys of 256 bytes not starting with
// "goog", values of 1024 bytes, all UTF-8); the contract attributes are
// never crowded out; webhook_id and webhook_timestamp are exactly the
// headers; meta_ attributes only for dynamic schemes, with keys matching
// [A-Za-z0-9_]{1,64}.
func FuzzAttributes(f *testing.F) {
	f.Add([]byte(`{"type":"batch.completed","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batches/1"}}`), "msg_1", "1767225600", uint8(0))
	f.Add([]byte(`{"type":"video.generated","user_metadata":{"team":"vision","run":42,"bad key":"x","n":1e999},"data":{"user_metadata":{"team":"other","k":"v"}}}`), "msg_2", "-1", uint8(1))
	f.Add([]byte(`{"type":"`+strings.Repeat("t", 1025)+`","data":{"id":`+strings.Repeat("9", 1100)+`}}`), strings.Repeat("i", 256), "0", uint8(2))
	f.Add([]byte(`{"type":"\ud800","version":{"a":1},"data":[]}`), "goog_1", "1", uint8(2))
	f.Add([]byte(`{"user_metadata":{`+strings.Repeat(`"k":"v",`, 200)+`"z":1}}`), "x", "9223372036854775807", uint8(1))
	f.Add([]byte("\xff\xfe not json"), "msg/../..", "1", uint8(0))
	f.Fuzz(func(t *testing.T, body []byte, webhookID, ts string, schemeIndex uint8) {
		if !headerID(webhookID) || !decimal(ts) {
			return // the handler never passes these
		}
		scheme := []string{"v1", "v1a", "jwt"}[schemeIndex%3]
		env := ParseEnvelope(body)
		a := env.Attributes(webhookID, ts, scheme)
		if len(a) > MaxAttributes {
			t.Fatalf("%d attributes", len(a))
		}
		for k, v := range a {
			if len(k) > MaxAttributeKey || strings.HasPrefix(k, "goog") || len(v) > MaxAttributeValue || v == "" ||
				!utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("attribute %q=%q breaks Pub/Sub's limits", k, v)
			}
			if meta, ok := strings.CutPrefix(k, MetaPrefix); ok {
				if scheme == "v1" || !metaKey(meta) || env.Metadata[meta] != v {
					t.Fatalf("attribute %q=%q for scheme %q is no user_metadata entry", k, v, scheme)
				}
			}
		}
		if a[AttrWebhookID] != webhookID || a[AttrWebhookTimestamp] != ts || a[AttrEventType] == "" {
			t.Fatalf("contract attributes %v, want webhook_id %q, webhook_timestamp %q and an event_type", a, webhookID, ts)
		}
		if a[AttrSignatureScheme] != scheme {
			t.Fatalf("signature_scheme %q, want %q", a[AttrSignatureScheme], scheme)
		}
		if canon, ok := aliases[env.OriginalType]; ok && env.Type != canon {
			t.Fatalf("type %q of alias %q, want %q", env.Type, env.OriginalType, canon)
		}
	})
}

func headerID(id string) bool {
	if id == "" || len(id) > 256 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

func decimal(ts string) bool {
	d := strings.TrimPrefix(ts, "-")
	return d != "" && len(d) <= 19 && strings.Trim(d, "0123456789") == ""
}
