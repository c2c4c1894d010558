package publish

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseEnvelope(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxAttributeValue+1)
	cases := []struct {
		name string
		body string
		want Envelope
	}{
		{"batch succeeded", `{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batch_1","output_file_uri":"gs://b/o"}}`,
			Envelope{Type: "batch.succeeded", Version: "v1", Timestamp: "2026-01-22T12:00:00Z", ResourceID: "batch_1"}},
		{"alias", `{"type":"batch.completed","data":{"id":"batches/abc"}}`,
			Envelope{Type: "batch.succeeded", OriginalType: "batch.completed", ResourceID: "batches/abc"}},
		{"unknown type kept", `{"type":"webhook.ping"}`, Envelope{Type: "webhook.ping"}},
		{"numeric id", `{"type":"video.generated","data":{"id":12345678901234567890}}`,
			Envelope{Type: "video.generated", ResourceID: "12345678901234567890"}},
		{"not JSON", `hello`, Envelope{Type: UnknownType}},
		{"JSON array", `[1,2]`, Envelope{Type: UnknownType}},
		{"empty body", ``, Envelope{Type: UnknownType}},
		{"type not a string", `{"type":7}`, Envelope{Type: UnknownType}},
		{"empty type", `{"type":""}`, Envelope{Type: UnknownType}},
		{"type too long", `{"type":"` + long + `"}`, Envelope{Type: UnknownType}},
		{"id an object", `{"type":"a","data":{"id":{"x":1}}}`, Envelope{Type: "a"}},
		// One field of an unexpected shape costs that field only.
		{"metadata not an object", `{"type":"batch.succeeded","data":{"id":"b","user_metadata":"oops"},"user_metadata":7}`,
			Envelope{Type: "batch.succeeded", ResourceID: "b"}},
		{"data not an object", `{"type":"batch.expired","version":"v1","data":"b"}`, Envelope{Type: "batch.expired", Version: "v1"}},
		{"version a number", `{"type":"batch.expired","version":1,"data":{"id":"b"}}`, Envelope{Type: "batch.expired", ResourceID: "b"}},
		{"metadata top level", `{"type":"a","user_metadata":{"team":"ml","run":7,"ok":true,"nested":{"a":1},"bad key":"x","long":"` + long + `"}}`,
			Envelope{Type: "a", Metadata: map[string]string{"team": "ml", "run": "7"}}},
		{"metadata in data, top level wins", `{"type":"a","user_metadata":{"team":"top"},"data":{"id":"i","user_metadata":{"team":"inner","job":"j1"}}}`,
			Envelope{Type: "a", ResourceID: "i", Metadata: map[string]string{"team": "top", "job": "j1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ParseEnvelope([]byte(c.body))
			if got.Type != c.want.Type || got.OriginalType != c.want.OriginalType || got.Version != c.want.Version ||
				got.Timestamp != c.want.Timestamp || got.ResourceID != c.want.ResourceID || len(got.Metadata) != len(c.want.Metadata) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
			for k, v := range c.want.Metadata {
				if got.Metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q", k, got.Metadata[k], v)
				}
			}
		})
	}
}

func TestAttributes(t *testing.T) {
	t.Parallel()
	e := Envelope{Type: "batch.succeeded", OriginalType: "batch.completed", Version: "v1", Timestamp: "t", ResourceID: "r",
		Metadata: map[string]string{"team": "ml"}}
	a := e.Attributes("msg_1", "1700000000", "v1a")
	want := map[string]string{
		"webhook_id": "msg_1", "event_type": "batch.succeeded", "event_type_original": "batch.completed",
		"event_version": "v1", "event_timestamp": "t", "resource_id": "r", "webhook_timestamp": "1700000000",
		"signature_scheme": "v1a", "meta_team": "ml",
	}
	if len(a) != len(want) {
		t.Errorf("got %v, want %v", a, want)
	}
	for k, v := range want {
		if a[k] != v {
			t.Errorf("%s = %q, want %q", k, a[k], v)
		}
	}
	// Static deliveries carry no user metadata attributes.
	if _, ok := e.Attributes("msg_1", "1", "v1")["meta_team"]; ok {
		t.Error("meta_ attribute on a v1 delivery")
	}
	// Empty fields are left out rather than sent empty.
	if a := (Envelope{Type: UnknownType}).Attributes("msg_1", "1", "v1"); len(a) != 4 {
		t.Errorf("unknown body: %v, want webhook_id, event_type, webhook_timestamp, signature_scheme", a)
	}
}

// However much metadata a delivery carries, the message stays within
// Pub/Sub's attribute limits.
func TestAttributesStayWithinPubSubLimits(t *testing.T) {
	t.Parallel()
	md := map[string]string{}
	for i := range 500 {
		md["k"+strings.Repeat("0", i%60)+string(rune('a'+i%26))+strings.Repeat("z", i/26)] = strings.Repeat("v", MaxAttributeValue)
	}
	a := Envelope{Type: "a", Metadata: md}.Attributes("msg_1", "1", "jwt")
	if len(a) > MaxAttributes {
		t.Errorf("%d attributes, limit %d", len(a), MaxAttributes)
	}
	for k, v := range a {
		if len(k) > MaxAttributeKey || len(v) > MaxAttributeValue || strings.HasPrefix(k, "goog") {
			t.Errorf("attribute %q (%d bytes) breaks a limit", k, len(v))
		}
	}
	if a["webhook_id"] != "msg_1" || a["event_type"] != "a" {
		t.Error("contract attributes were crowded out by metadata")
	}
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batch_1"}}`))
	f.Add([]byte(`{"type":"a","user_metadata":{"k":1},"data":{"user_metadata":{"j":"x"}}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, body []byte) {
		a := ParseEnvelope(body).Attributes("msg_1", "1", "v1a")
		if len(a) > MaxAttributes || a["event_type"] == "" {
			t.Fatalf("attributes %v", a)
		}
		for k, v := range a {
			if len(k) > MaxAttributeKey || len(v) > MaxAttributeValue || !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("attribute %q=%q breaks a limit", k, v)
			}
		}
	})
}
