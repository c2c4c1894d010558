package event_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"

	"github.com/geminihook/geminihook/event"
)

func ExampleParse() {
	ev, err := event.Parse([]byte(`{"type": "batch.completed", "version": "v1", "timestamp": "2026-01-22T12:00:00Z",
		"data": {"id": "batch_123456", "output_file_uri": "gs://my-bucket/results.jsonl"}}`))
	if err != nil {
		fmt.Println(err)
	}
	b, _ := ev.Batch()
	fmt.Println(ev.Type, "sent as", ev.OriginalType)
	fmt.Println(b.ID, b.OutputFileURI)
	fmt.Println(ev.Timestamp.Year())
	// Output:
	// batch.succeeded sent as batch.completed
	// batch_123456 gs://my-bucket/results.jsonl
	// 2026
}

// A subscriber switches on the canonical type and reads the typed data of
// the resource; unknown types fall through to the default case, with the
// body in Raw.
func Example_typeSwitch() {
	bodies := []string{
		`{"type":"batch.succeeded","data":{"id":"batch_1","output_file_uri":"gs://b/results.jsonl"}}`,
		`{"type":"batch.failed","data":{"id":"batch_2","error_code":429,"error_message":"quota exceeded"}}`,
		`{"type":"interaction.requires_action","data":{"id":"interactions/abc"}}`,
		`{"type":"video.generated","data":{"id":"operations/v1","video_uri":"gs://v/cat.mp4"}}`,
		`{"type":"webhook.ping","data":{}}`,
	}
	for _, body := range bodies {
		ev, err := event.Parse([]byte(body))
		if err != nil {
			fmt.Println("unreadable, acknowledged:", err)
			continue
		}
		switch ev.Type {
		case event.BatchSucceeded:
			b, _ := ev.Batch()
			fmt.Println("download", b.OutputFileURI)
		case event.BatchFailed:
			b, _ := ev.Batch()
			fmt.Printf("batch %s failed: %s (%s)\n", b.ID, b.ErrorMessage, b.ErrorCode)
		case event.InteractionRequiresAction:
			i, _ := ev.Interaction()
			fmt.Println("answer", i.ID)
		case event.VideoGenerated:
			v, _ := ev.Video()
			fmt.Println("fetch", v.OutputFileURI)
		default:
			fmt.Printf("no handler for %s (%d bytes kept)\n", ev.Type, len(ev.Raw))
		}
	}
	// Output:
	// download gs://b/results.jsonl
	// batch batch_2 failed: quota exceeded (429)
	// answer interactions/abc
	// fetch gs://v/cat.mp4
	// no handler for webhook.ping (33 bytes kept)
}

// The attributes the receiver sets come first; user_metadata of a dynamic
// webhook is found in meta_ attributes and in the body.
func ExampleFromPubSub() {
	data := []byte(`{"type":"interaction.completed","data":{"id":"interactions/abc","user_metadata":{"ticket":"T-42","attempt":2}}}`)
	attributes := map[string]string{
		"webhook_id":       "msg_0c3f",
		"event_type":       "interaction.completed",
		"resource_id":      "interactions/abc",
		"signature_scheme": "v1a",
		"meta_ticket":      "T-42",
		"meta_attempt":     "2",
	}
	ev, err := event.FromPubSub(data, attributes)
	if err != nil {
		fmt.Println(err)
	}
	fmt.Println(ev.WebhookID, ev.Type, ev.ResourceID, ev.SignatureScheme)
	fmt.Println(ev.Metadata["ticket"], ev.Metadata["attempt"])
	// Output:
	// msg_0c3f interaction.completed interactions/abc v1a
	// T-42 2
}

// A Cloud Run function triggered by Pub/Sub receives a CloudEvent whose data
// wraps the message.
func ExampleFromCloudEvent() {
	body := `{"type":"batch.expired","data":{"id":"batch_9"}}`
	ce := cloudevents.New()
	ce.SetID("17170493210463117")
	ce.SetType("google.cloud.pubsub.topic.v1.messagePublished")
	ce.SetSource("//pubsub.googleapis.com/projects/my-project/topics/gemini-webhooks")
	data, _ := json.Marshal(map[string]any{
		"message": map[string]any{
			"data":        base64.StdEncoding.EncodeToString([]byte(body)),
			"attributes":  map[string]string{"webhook_id": "msg_1", "event_type": "batch.expired"},
			"messageId":   "17170493210463117",
			"publishTime": "2026-01-22T12:00:01Z",
		},
		"subscription": "projects/my-project/subscriptions/eventarc-sub",
	})
	_ = ce.SetData("application/json", data)

	ev, err := event.FromCloudEvent(ce)
	switch {
	case errors.Is(err, event.ErrNotPubSub):
		fmt.Println("not a Pub/Sub CloudEvent:", err)
		return
	case err != nil:
		fmt.Println("malformed, but kept:", err)
	}
	fmt.Println(ev.WebhookID, ev.Type, ev.MessageID)
	// Output:
	// msg_1 batch.expired 17170493210463117
}
