package subscriber

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/geminihook/geminihook/event"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
)

const (
	testTopic        = "projects/P/topics/gemini-webhooks"
	testSubscription = "projects/P/subscriptions/eventarc-us-central1-handle-gemini-event-sub-123"
	ceType           = "google.cloud.pubsub.topic.v1.messagePublished"
	ceSource         = "//pubsub.googleapis.com/" + testTopic
)

// receiverAttributes returns the attributes the receiver publishes body
// with, built by the receiver's own code.
func receiverAttributes(body, webhookID, scheme string) map[string]string {
	return publish.ParseEnvelope([]byte(body)).Attributes(webhookID, "1769083200", scheme)
}

// messagePublishedData is the data of the CloudEvent that Eventarc sends a
// function for a Pub/Sub message: message id and publish time in both
// spellings, data in standard base64.
func messagePublishedData(body string, attrs map[string]string, messageID string) []byte {
	b, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"attributes":   attrs,
			"data":         base64.StdEncoding.EncodeToString([]byte(body)),
			"messageId":    messageID,
			"message_id":   messageID,
			"publishTime":  "2026-01-22T12:00:01.234Z",
			"publish_time": "2026-01-22T12:00:01.234Z",
		},
		"subscription": testSubscription,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// structuredCloudEvent is the structured-mode JSON of that CloudEvent.
func structuredCloudEvent(body string, attrs map[string]string, messageID string) []byte {
	return []byte(`{"specversion":"1.0","type":"` + ceType + `","source":"` + ceSource + `",` +
		`"id":"` + messageID + `","time":"2026-01-22T12:00:01.234Z","datacontenttype":"application/json",` +
		`"data":` + string(messagePublishedData(body, attrs, messageID)) + `}`)
}

// pubsubCloudEvent is that CloudEvent as the functions framework hands it
// to the function.
func pubsubCloudEvent(t testing.TB, body string, attrs map[string]string, messageID string) cloudevents.Event {
	t.Helper()
	var ce cloudevents.Event
	if err := json.Unmarshal(structuredCloudEvent(body, attrs, messageID), &ce); err != nil {
		t.Fatal(err)
	}
	if err := ce.Validate(); err != nil {
		t.Fatal(err)
	}
	return ce
}

// geminiBody is a webhook body of type typ with the given data object.
func geminiBody(typ, data string) string {
	return `{"type":"` + typ + `","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":` + data + `}`
}

// logLines parses the JSON lines a NewLogger wrote.
func logLines(t testing.TB, out string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", l, err)
		}
		lines = append(lines, m)
	}
	return lines
}

// outcomes returns the outcome of each log line that has one.
func outcomes(t testing.TB, out string) []string {
	t.Helper()
	var got []string
	for _, l := range logLines(t, out) {
		if o, ok := l["outcome"].(string); ok {
			got = append(got, o)
		}
	}
	return got
}

// recorder wraps handlers and records the webhook id of each call, by type.
type recorder struct {
	mu    sync.Mutex
	calls map[event.Type][]string
}

func (r *recorder) wrap(handlers map[event.Type]Handler) map[event.Type]Handler {
	r.calls = make(map[event.Type][]string)
	out := make(map[event.Type]Handler, len(handlers))
	for typ, h := range handlers {
		out[typ] = func(ctx context.Context, log *slog.Logger, ev *event.Event) error {
			r.mu.Lock()
			r.calls[typ] = append(r.calls[typ], ev.WebhookID)
			r.mu.Unlock()
			return h(ctx, log, ev)
		}
	}
	return out
}

func (r *recorder) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, c := range r.calls {
		n += len(c)
	}
	return n
}

func (r *recorder) of(typ event.Type) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.calls[typ]...)
}

// newTestSubscriber returns a Subscriber with the default handlers wrapped
// by a recorder, the given store, and a log buffer.
func newTestSubscriber(handled Handled) (*Subscriber, *recorder, *emulator.Buffer) {
	var buf emulator.Buffer
	s := New(handled, NewLogger(&buf, slog.LevelDebug))
	rec := &recorder{}
	s.Handlers = rec.wrap(s.Handlers)
	return s, rec, &buf
}
