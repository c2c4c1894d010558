package event_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/geminihook/geminihook/event"
	"github.com/geminihook/geminihook/publish"
)

// contractBodies are well-formed bodies of every shape the receiver
// publishes.
var contractBodies = []string{
	body("batch.succeeded", `{"id":"batch_123456","output_file_uri":"gs://my-bucket/results.jsonl"}`),
	body("batch.completed", `{"id":"batches/abc","output_file_uri":"gs://b/r.jsonl"}`),
	body("batch.failed", `{"id":"batch_1","error_code":8,"error_message":"quota"}`),
	body("batch.expired", `{"id":42}`),
	body("batch.cancelled", `{"id":"batch_3"}`),
	body("interaction.requires_action", `{"id":"int_1"}`),
	body("interaction.completed", `{"id":"int_2","user_metadata":{"job":"inner","team":"ml"}}`),
	body("interaction.failed", `{"id":"int_3","error_code":"INTERNAL","error_message":"boom"}`),
	body("interaction.cancelled", `{"id":"int_4"}`),
	body("video.generated", `{"id":"op_1","video_uri":"gs://v/a.mp4","file_name":"files/a"}`),
	body("webhook.ping", `{}`),
	`{"type":"batch.expired","data":{"id":"b"},"user_metadata":{"job":"outer","run":7,"bad key":"x","long":"` +
		strings.Repeat("y", publish.MaxAttributeValue+1) + `","nested":{"a":1}}}`,
	`{"version":"v1"}`,
	`not json`,
}

// Parse reads a body as the receiver does when it builds attributes, and
// FromPubSub, given those attributes, reads the same event as Parse plus
// what only the attributes carry.
func TestAgreesWithReceiver(t *testing.T) {
	t.Parallel()
	for _, raw := range contractBodies {
		name := raw
		if len(name) > 40 {
			name = name[:40]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			env := publish.ParseEnvelope([]byte(raw))
			parsed, _ := event.Parse([]byte(raw))
			if string(parsed.Type) != env.Type || parsed.OriginalType != env.OriginalType ||
				parsed.Version != env.Version || parsed.RawTimestamp != env.Timestamp || parsed.ResourceID != env.ResourceID {
				t.Errorf("Parse = %+v, receiver's envelope %+v", viewOf(parsed), env)
			}
			for k, v := range env.Metadata {
				if parsed.Metadata[k] != v {
					t.Errorf("Metadata[%q] = %q, receiver says %q", k, parsed.Metadata[k], v)
				}
			}

			attrs := env.Attributes("msg_contract", "1769083200", "v1a")
			fromMsg, _ := event.FromPubSub([]byte(raw), attrs)
			want := viewOf(parsed)
			want.WebhookID, want.SignatureScheme = "msg_contract", "v1a"
			if got := viewOf(fromMsg); !reflect.DeepEqual(got, want) {
				t.Errorf("FromPubSub with the receiver's attributes:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}
