package event_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/geminihook/geminihook/event"
	"github.com/geminihook/geminihook/publish"
)

func TestFromPubSubAttributesFirst(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"type":"batch.completed","version":"v1","timestamp":"2026-01-22T12:00:00Z",` +
		`"data":{"id":"batch_body","output_file_uri":"gs://b/r.jsonl","user_metadata":{"job":"body","long":"from-body"}}}`)
	tests := []struct {
		name  string
		attrs map[string]string
		want  view
	}{
		{
			name: "attributes as the receiver sets them",
			attrs: map[string]string{
				publish.AttrWebhookID: "msg_1", publish.AttrEventType: "batch.succeeded",
				publish.AttrEventTypeOriginal: "batch.completed", publish.AttrEventVersion: "v1",
				publish.AttrResourceID: "batch_body", publish.AttrEventTimestamp: "2026-01-22T12:00:00Z",
				publish.AttrWebhookTimestamp: "1769083200", publish.AttrSignatureScheme: "v1a",
				publish.MetaPrefix + "job": "body",
			},
			want: view{
				WebhookID: "msg_1", Type: event.BatchSucceeded, OriginalType: "batch.completed", Version: "v1",
				Timestamp: ts, RawTimestamp: "2026-01-22T12:00:00Z", ResourceID: "batch_body",
				Metadata: map[string]string{"job": "body", "long": "from-body"}, SignatureScheme: "v1a",
				Batch: &event.Batch{ID: "batch_body", OutputFileURI: "gs://b/r.jsonl"},
			},
		},
		{
			name: "attributes win over the body",
			attrs: map[string]string{
				publish.AttrWebhookID: "msg_2", publish.AttrEventType: "batch.failed",
				publish.AttrEventVersion: "v2", publish.AttrResourceID: "batch_attr",
				publish.AttrEventTimestamp: "2027-01-01T00:00:00Z", publish.MetaPrefix + "job": "attr",
				publish.MetaPrefix + "only_attr": "1",
			},
			want: view{
				WebhookID: "msg_2", Type: event.BatchFailed, Version: "v2",
				Timestamp: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), RawTimestamp: "2027-01-01T00:00:00Z",
				ResourceID: "batch_attr", Metadata: map[string]string{"job": "attr", "long": "from-body", "only_attr": "1"},
				Batch: &event.Batch{ID: "batch_attr", OutputFileURI: "gs://b/r.jsonl"},
			},
		},
		{
			name:  "an alias in the attribute is canonicalised too",
			attrs: map[string]string{publish.AttrEventType: "batch.completed"},
			want: view{
				Type: event.BatchSucceeded, OriginalType: "batch.completed", Version: "v1",
				Timestamp: ts, RawTimestamp: "2026-01-22T12:00:00Z", ResourceID: "batch_body",
				Metadata: map[string]string{"job": "body", "long": "from-body"},
				Batch:    &event.Batch{ID: "batch_body", OutputFileURI: "gs://b/r.jsonl"},
			},
		},
		{
			name:  "empty attributes are absent",
			attrs: map[string]string{publish.AttrEventType: "", publish.AttrResourceID: "", publish.MetaPrefix: "x"},
			want: view{
				Type: event.BatchSucceeded, OriginalType: "batch.completed", Version: "v1",
				Timestamp: ts, RawTimestamp: "2026-01-22T12:00:00Z", ResourceID: "batch_body",
				Metadata: map[string]string{"job": "body", "long": "from-body"},
				Batch:    &event.Batch{ID: "batch_body", OutputFileURI: "gs://b/r.jsonl"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := event.FromPubSub(raw, tt.attrs)
			if err != nil {
				t.Fatal(err)
			}
			if got := viewOf(ev); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("FromPubSub:\n got %+v\nwant %+v", got, tt.want)
			}
			if !reflect.DeepEqual(ev.Attributes, tt.attrs) {
				t.Errorf("Attributes = %v, want %v", ev.Attributes, tt.attrs)
			}
			tt.attrs["mutated"] = "later"
			if _, ok := ev.Attributes["mutated"]; ok {
				t.Error("Attributes shares the caller's map")
			}
		})
	}
}

// The receiver reads a body all or nothing: a user_metadata that is not an
// object makes it publish event_type unknown (publish.ParseEnvelope). The
// body's type wins then.
func TestFromPubSubUnknownGivesWayToBody(t *testing.T) {
	t.Parallel()
	raw := []byte(`{"type":"batch.completed","data":{"id":"b","output_file_uri":"gs://b/r","user_metadata":"oops"}}`)
	attrs := map[string]string{publish.AttrWebhookID: "msg_u", publish.AttrEventType: publish.UnknownType}
	ev, err := event.FromPubSub(raw, attrs)
	if !errors.Is(err, event.ErrMalformed) {
		t.Errorf("error %v, want ErrMalformed for data.user_metadata", err)
	}
	b, ok := ev.Batch()
	if ev.Type != event.BatchSucceeded || ev.OriginalType != "batch.completed" || !ok || b.OutputFileURI != "gs://b/r" {
		t.Errorf("event %+v, batch %+v: want the body's type and data", viewOf(ev), b)
	}
}

// The receiver publishes bodies that are not JSON, with event_type unknown.
func TestFromPubSubNotJSON(t *testing.T) {
	t.Parallel()
	raw := []byte("ping")
	ev, err := event.FromPubSub(raw, map[string]string{
		publish.AttrWebhookID: "msg_3", publish.AttrEventType: publish.UnknownType, publish.AttrSignatureScheme: "v1",
	})
	if !errors.Is(err, event.ErrMalformed) {
		t.Errorf("error %v, want ErrMalformed", err)
	}
	if ev == nil || ev.WebhookID != "msg_3" || ev.Type != event.Unknown || string(ev.Raw) != "ping" {
		t.Fatalf("event %+v, want webhook id, type unknown and the body", ev)
	}
}

// messagePublished returns the data of the CloudEvent Eventarc sends for a
// Pub/Sub message, as documented for CloudEvent functions: message id and
// publish time in both spellings, data in standard base64.
func messagePublished(body string, attrs map[string]string) []byte {
	b, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"attributes":   attrs,
			"data":         base64.StdEncoding.EncodeToString([]byte(body)),
			"messageId":    "17170493210463117",
			"message_id":   "17170493210463117",
			"publishTime":  "2026-01-22T12:00:01.234Z",
			"publish_time": "2026-01-22T12:00:01.234Z",
		},
		"subscription": "projects/P/subscriptions/eventarc-us-central1-handler-sub-123",
	})
	if err != nil {
		panic(err)
	}
	return b
}

func TestFromCloudEvent(t *testing.T) {
	t.Parallel()
	const raw = `{"type":"video.generated","version":"v1","timestamp":"2026-01-22T12:00:00Z",` +
		`"data":{"id":"operations/xyz","video_uri":"gs://v/x.mp4"}}`
	attrs := map[string]string{
		publish.AttrWebhookID: "msg_4", publish.AttrEventType: "video.generated",
		publish.AttrResourceID: "operations/xyz", publish.AttrSignatureScheme: "v1a",
	}
	// A structured-mode CloudEvent, as the functions framework receives it.
	structured := `{"specversion":"1.0","type":"google.cloud.pubsub.topic.v1.messagePublished",` +
		`"source":"//pubsub.googleapis.com/projects/P/topics/T","id":"17170493210463117",` +
		`"time":"2026-01-22T12:00:01.234Z","datacontenttype":"application/json","data":` +
		string(messagePublished(raw, attrs)) + `}`
	var ce cloudevents.Event
	if err := json.Unmarshal([]byte(structured), &ce); err != nil {
		t.Fatal(err)
	}
	ev, err := event.FromCloudEvent(ce)
	if err != nil {
		t.Fatal(err)
	}
	if string(ev.Raw) != raw {
		t.Errorf("Raw = %q, want the body", ev.Raw)
	}
	v, ok := ev.Video()
	if !ok || v != (event.Video{ID: "operations/xyz", OutputFileURI: "gs://v/x.mp4"}) {
		t.Errorf("Video() = %+v, %v", v, ok)
	}
	if ev.WebhookID != "msg_4" || ev.SignatureScheme != "v1a" || ev.MessageID != "17170493210463117" {
		t.Errorf("event %+v, want webhook id, scheme and message id", ev)
	}
	if want := time.Date(2026, 1, 22, 12, 0, 1, 234e6, time.UTC); !ev.PublishTime.Equal(want) {
		t.Errorf("PublishTime = %v, want %v", ev.PublishTime, want)
	}
}

func TestFromCloudEventFallsBackToCloudEventIDAndTime(t *testing.T) {
	t.Parallel()
	ce := cloudevents.New()
	ce.SetID("ce-1")
	ce.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	ce.SetSource("//pubsub.googleapis.com/projects/P/topics/T")
	when := time.Date(2026, 1, 22, 12, 0, 2, 0, time.UTC)
	ce.SetTime(when)
	if err := ce.SetData("application/json", map[string]any{
		"message": map[string]any{"data": base64.RawURLEncoding.EncodeToString([]byte(`{"type":"batch.expired"}`))},
	}); err != nil {
		t.Fatal(err)
	}
	ev, err := event.FromCloudEvent(ce)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != event.BatchExpired || ev.MessageID != "ce-1" || !ev.PublishTime.Equal(when) || ev.Attributes != nil {
		t.Errorf("event %+v", ev)
	}
}

func TestFromPush(t *testing.T) {
	t.Parallel()
	ev, err := event.FromPush(messagePublished(`{"type":"interaction.failed","data":{"id":"i","error_code":"INTERNAL"}}`,
		map[string]string{publish.AttrWebhookID: "msg_5"}))
	if err != nil {
		t.Fatal(err)
	}
	i, ok := ev.Interaction()
	if !ok || i.ErrorCode != "INTERNAL" || ev.WebhookID != "msg_5" || ev.MessageID != "17170493210463117" {
		t.Errorf("event %+v, interaction %+v", ev, i)
	}
}

func TestNotPubSub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data string
	}{
		{"not JSON", `hello`},
		{"no message", `{"subscription":"projects/P/subscriptions/S"}`},
		{"null message", `{"message":null}`},
		{"data not base64", `{"message":{"data":"***"}}`},
		{"data not a string", `{"message":{"data":7}}`},
		{"attribute not a string", `{"message":{"data":"","attributes":{"a":1}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ev, err := event.FromPush([]byte(tt.data))
			if ev != nil || !errors.Is(err, event.ErrNotPubSub) {
				t.Errorf("FromPush = %v, %v; want nil, ErrNotPubSub", ev, err)
			}
			ce := cloudevents.New()
			ce.SetID("id-1")
			ce.SetType("google.cloud.storage.object.v1.finalized")
			ce.DataEncoded = []byte(tt.data)
			ev, err = event.FromCloudEvent(ce)
			if ev != nil || !errors.Is(err, event.ErrNotPubSub) || !strings.Contains(err.Error(), "id-1") {
				t.Errorf("FromCloudEvent = %v, %v; want nil, ErrNotPubSub naming the CloudEvent", ev, err)
			}
		})
	}
}

// A message without data (Pub/Sub allows attributes only) is an event whose
// body is empty: malformed, but kept.
func TestFromPushWithoutData(t *testing.T) {
	t.Parallel()
	ev, err := event.FromPush([]byte(`{"message":{"attributes":{"webhook_id":"msg_6","event_type":"batch.expired"}}}`))
	if !errors.Is(err, event.ErrMalformed) {
		t.Errorf("error %v, want ErrMalformed", err)
	}
	if ev == nil || ev.WebhookID != "msg_6" || ev.Type != event.BatchExpired {
		t.Errorf("event %+v", ev)
	}
}
