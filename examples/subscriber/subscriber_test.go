package subscriber

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/geminihook/geminihook/event"
)

// Each type reaches its handler, which logs what a real subscriber would do
// with the typed data.
func TestDispatchEveryType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		body     string
		scheme   string
		handler  event.Type
		severity string
		message  string
		fields   map[string]any
	}{
		{
			name: "batch.succeeded", scheme: "v1", handler: event.BatchSucceeded, severity: "INFO",
			body:    geminiBody("batch.succeeded", `{"id":"batch_123456","output_file_uri":"gs://my-bucket/results.jsonl"}`),
			message: "batch succeeded: download its results from gs://my-bucket/results.jsonl",
			fields:  map[string]any{"batch": "batch_123456", "output_file_uri": "gs://my-bucket/results.jsonl"},
		},
		{
			name: "batch.completed reaches the batch.succeeded handler", scheme: "v1", handler: event.BatchSucceeded, severity: "INFO",
			body:    geminiBody("batch.completed", `{"id":"batches/abc","output_file_uri":"gs://b/r.jsonl"}`),
			message: "batch succeeded: download its results from gs://b/r.jsonl",
			fields:  map[string]any{"batch": "batches/abc", "event_type": "batch.succeeded"},
		},
		{
			name: "batch.failed", scheme: "v1", handler: event.BatchFailed, severity: "WARNING",
			body:    geminiBody("batch.failed", `{"id":"batch_1","error_code":429,"error_message":"quota"}`),
			message: "batch failed: alert its owner, or resubmit",
			fields:  map[string]any{"batch": "batch_1", "error_code": "429", "error_message": "quota"},
		},
		{
			name: "batch.expired", scheme: "v1", handler: event.BatchExpired, severity: "INFO",
			body:    geminiBody("batch.expired", `{"id":"batch_2"}`),
			message: "batch ended without results (batch.expired): resubmit if still wanted",
			fields:  map[string]any{"batch": "batch_2"},
		},
		{
			name: "batch.cancelled", scheme: "v1", handler: event.BatchCancelled, severity: "INFO",
			body:    geminiBody("batch.cancelled", `{"id":"batch_3"}`),
			message: "batch ended without results (batch.cancelled): resubmit if still wanted",
			fields:  map[string]any{"batch": "batch_3"},
		},
		{
			name: "interaction.requires_action with user_metadata", scheme: "v1a", handler: event.InteractionRequiresAction, severity: "INFO",
			body: `{"type":"interaction.requires_action","version":"v1","timestamp":"2026-01-22T12:00:00Z",` +
				`"data":{"id":"interactions/1"},"user_metadata":{"ticket":"T-42"}}`,
			message: "interaction requires action: fetch it and answer its pending function call",
			fields:  map[string]any{"interaction": "interactions/1", "user_metadata": map[string]any{"ticket": "T-42"}},
		},
		{
			name: "interaction.completed", scheme: "jwt", handler: event.InteractionCompleted, severity: "INFO",
			body:    geminiBody("interaction.completed", `{"id":"interactions/2","user_metadata":{"run":7}}`),
			message: "interaction completed: fetch its output",
			fields:  map[string]any{"interaction": "interactions/2", "user_metadata": map[string]any{"run": "7"}},
		},
		{
			name: "interaction.failed", scheme: "v1a", handler: event.InteractionFailed, severity: "WARNING",
			body:    geminiBody("interaction.failed", `{"id":"interactions/3","error_code":"INTERNAL","error_message":"boom"}`),
			message: "interaction failed: alert its owner",
			fields:  map[string]any{"interaction": "interactions/3", "error_code": "INTERNAL"},
		},
		{
			name: "interaction.cancelled", scheme: "v1a", handler: event.InteractionCancelled, severity: "INFO",
			body:    geminiBody("interaction.cancelled", `{"id":"interactions/4"}`),
			message: "interaction cancelled",
			fields:  map[string]any{"interaction": "interactions/4"},
		},
		{
			name: "video.generated", scheme: "v1a", handler: event.VideoGenerated, severity: "INFO",
			body:    geminiBody("video.generated", `{"id":"operations/v1","output_file_uri":"gs://v/cat.mp4","file_name":"files/cat"}`),
			message: "video generated: download it from gs://v/cat.mp4",
			fields:  map[string]any{"operation": "operations/v1", "file_name": "files/cat"},
		},
		{
			name: "video.generated with video_uri", scheme: "v1a", handler: event.VideoGenerated, severity: "INFO",
			body:    geminiBody("video.generated", `{"id":"operations/v2","video_uri":"gs://v/dog.mp4"}`),
			message: "video generated: download it from gs://v/dog.mp4",
			fields:  map[string]any{"output_file_uri": "gs://v/dog.mp4"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, rec, logs := newTestSubscriber(NewMemoryHandled(10, 0))
			id := "msg_dispatch_" + strconv.Itoa(i)
			ce := pubsubCloudEvent(t, tt.body, receiverAttributes(tt.body, id, tt.scheme), "1000"+strconv.Itoa(i))
			if err := s.Handle(context.Background(), ce); err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if got := rec.of(tt.handler); !slices.Equal(got, []string{id}) || rec.total() != 1 {
				t.Fatalf("handler calls %v, want one call of the %s handler", rec.calls, tt.handler)
			}
			lines := logLines(t, logs.String())
			if len(lines) != 2 {
				t.Fatalf("log lines:\n%s\nwant the handler's and the outcome", logs)
			}
			got := lines[0]
			if got["message"] != tt.message || got["severity"] != tt.severity || got["webhook_id"] != id {
				t.Errorf("handler logged %v, want message %q, severity %s, webhook_id %s", got, tt.message, tt.severity, id)
			}
			for k, want := range tt.fields {
				if g := got[k]; !equalJSON(g, want) {
					t.Errorf("handler logged %s = %v, want %v", k, g, want)
				}
			}
			if lines[1]["outcome"] != outcomeHandled || lines[1]["message_id"] != "1000"+strconv.Itoa(i) {
				t.Errorf("outcome line %v", lines[1])
			}
		})
	}
}

func equalJSON(a, b any) bool {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		if len(am) != len(bm) {
			return false
		}
		for k := range am {
			if am[k] != bm[k] {
				return false
			}
		}
		return true
	}
	return a == b
}

func TestDuplicateWebhookIDSkipped(t *testing.T) {
	t.Parallel()
	s, rec, logs := newTestSubscriber(NewMemoryHandled(10, 0))
	body := geminiBody("batch.succeeded", `{"id":"batch_1","output_file_uri":"gs://b/r.jsonl"}`)
	attrs := receiverAttributes(body, "msg_dup", "v1")
	// Pub/Sub redelivers with the same message id; the receiver publishing
	// twice gives a new message id. Both are skipped.
	for _, msgID := range []string{"1", "1", "2"} {
		if err := s.Handle(context.Background(), pubsubCloudEvent(t, body, attrs, msgID)); err != nil {
			t.Fatal(err)
		}
	}
	other := receiverAttributes(body, "msg_other", "v1")
	if err := s.Handle(context.Background(), pubsubCloudEvent(t, body, other, "3")); err != nil {
		t.Fatal(err)
	}
	if got := rec.of(event.BatchSucceeded); !slices.Equal(got, []string{"msg_dup", "msg_other"}) {
		t.Errorf("handled %v, want each webhook id once", got)
	}
	want := []string{outcomeHandled, outcomeDuplicate, outcomeDuplicate, outcomeHandled}
	if got := outcomes(t, logs.String()); !slices.Equal(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
}

// Events that no handler takes, and CloudEvents that are not Pub/Sub
// messages, are acknowledged (nil error): redelivering them cannot help.
func TestAcknowledgedWithoutHandler(t *testing.T) {
	t.Parallel()
	notPubSub := cloudevents.NewEvent()
	notPubSub.SetID("x")
	notPubSub.SetType("google.cloud.storage.object.v1.finalized")
	notPubSub.SetSource("//storage.googleapis.com/projects/_/buckets/b")
	if err := notPubSub.SetData("application/json", map[string]any{"bucket": "b", "name": "o"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		ce      func(t *testing.T) cloudevents.Event
		message string
	}{
		{
			name: "unknown type",
			ce: func(t *testing.T) cloudevents.Event {
				body := geminiBody("webhook.ping", `{"id":"wh_1"}`)
				return pubsubCloudEvent(t, body, receiverAttributes(body, "msg_ping", "v1"), "1")
			},
			message: "no handler for this event type",
		},
		{
			name: "body that is not JSON",
			ce: func(t *testing.T) cloudevents.Event {
				return pubsubCloudEvent(t, "ping", receiverAttributes("ping", "msg_nojson", "v1"), "2")
			},
			message: "no handler for this event type",
		},
		{
			name:    "not a Pub/Sub message",
			ce:      func(*testing.T) cloudevents.Event { return notPubSub },
			message: "not a Pub/Sub message; check the trigger",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, rec, logs := newTestSubscriber(NewMemoryHandled(10, 0))
			if err := s.Handle(context.Background(), tt.ce(t)); err != nil {
				t.Fatalf("Handle: %v, want nil (acknowledged)", err)
			}
			if rec.total() != 0 {
				t.Errorf("handlers called: %v", rec.calls)
			}
			lines := logLines(t, logs.String())
			last := lines[len(lines)-1]
			if last["outcome"] != outcomeDropped || last["message"] != tt.message {
				t.Errorf("last log line %v, want outcome dropped and %q", last, tt.message)
			}
		})
	}
}

// A known type with a field of the wrong JSON type is still dispatched,
// with a warning: dropping it would lose the event.
func TestMalformedKnownTypeDispatched(t *testing.T) {
	t.Parallel()
	s, rec, logs := newTestSubscriber(NewMemoryHandled(10, 0))
	body := geminiBody("batch.failed", `{"id":"batch_1","error_code":{"code":8},"error_message":"quota"}`)
	if err := s.Handle(context.Background(), pubsubCloudEvent(t, body, receiverAttributes(body, "msg_bad", "v1"), "1")); err != nil {
		t.Fatal(err)
	}
	if got := rec.of(event.BatchFailed); len(got) != 1 {
		t.Fatalf("batch.failed handler calls %v, want 1", got)
	}
	lines := logLines(t, logs.String())
	if lines[0]["severity"] != "WARNING" || !strings.Contains(lines[0]["error"].(string), "data.error_code") {
		t.Errorf("first log line %v, want a warning naming data.error_code", lines[0])
	}
	if lines[1]["error_message"] != "quota" || lines[1]["error_code"] != "" {
		t.Errorf("handler logged %v, want what could be read", lines[1])
	}
}

// flakyHandled fails as told, to stand for Firestore being unavailable.
type flakyHandled struct {
	Handled
	hasErr, addErr error
}

func (f flakyHandled) Has(ctx context.Context, id string) (bool, error) {
	if f.hasErr != nil {
		return false, f.hasErr
	}
	return f.Handled.Has(ctx, id)
}

func (f flakyHandled) Add(ctx context.Context, id string, t event.Type) error {
	if f.addErr != nil {
		return f.addErr
	}
	return f.Handled.Add(ctx, id, t)
}

// Only transient failures return an error, so that Pub/Sub redelivers.
func TestTransientFailuresRedeliver(t *testing.T) {
	t.Parallel()
	body := geminiBody("video.generated", `{"id":"operations/v","output_file_uri":"gs://v/a.mp4"}`)
	attrs := receiverAttributes(body, "msg_flaky", "v1a")
	errDown := errors.New("firestore: unavailable")

	t.Run("handled ids cannot be read", func(t *testing.T) {
		t.Parallel()
		s, rec, logs := newTestSubscriber(flakyHandled{Handled: NewMemoryHandled(10, 0), hasErr: errDown})
		if err := s.Handle(context.Background(), pubsubCloudEvent(t, body, attrs, "1")); !errors.Is(err, errDown) {
			t.Fatalf("Handle: %v, want the store's error", err)
		}
		if rec.total() != 0 || !slices.Equal(outcomes(t, logs.String()), []string{outcomeRetry}) {
			t.Errorf("calls %v, outcomes %v", rec.calls, outcomes(t, logs.String()))
		}
	})

	t.Run("handler fails, then succeeds on redelivery", func(t *testing.T) {
		t.Parallel()
		handled := NewMemoryHandled(10, 0)
		s, rec, logs := newTestSubscriber(handled)
		errBusy := errors.New("storage: 503")
		fails := 1
		next := s.Handlers[event.VideoGenerated]
		s.Handlers[event.VideoGenerated] = func(ctx context.Context, log *slog.Logger, ev *event.Event) error {
			if fails > 0 {
				fails--
				return errBusy
			}
			return next(ctx, log, ev)
		}
		ce := pubsubCloudEvent(t, body, attrs, "1")
		if err := s.Handle(context.Background(), ce); !errors.Is(err, errBusy) {
			t.Fatalf("first Handle: %v, want the handler's error", err)
		}
		if seen, _ := handled.Has(context.Background(), "msg_flaky"); seen {
			t.Fatal("a failed event was recorded as handled")
		}
		for range 2 {
			if err := s.Handle(context.Background(), ce); err != nil {
				t.Fatalf("redelivery: %v", err)
			}
		}
		if got := rec.of(event.VideoGenerated); len(got) != 1 {
			t.Errorf("video handler completed %d times, want 1", len(got))
		}
		want := []string{outcomeRetry, outcomeHandled, outcomeDuplicate}
		if got := outcomes(t, logs.String()); !slices.Equal(got, want) {
			t.Errorf("outcomes %v, want %v", got, want)
		}
	})

	t.Run("handled but not recorded is acknowledged", func(t *testing.T) {
		t.Parallel()
		s, rec, logs := newTestSubscriber(flakyHandled{Handled: NewMemoryHandled(10, 0), addErr: errDown})
		if err := s.Handle(context.Background(), pubsubCloudEvent(t, body, attrs, "1")); err != nil {
			t.Fatalf("Handle: %v, want nil: the work is done", err)
		}
		if rec.total() != 1 || !strings.Contains(logs.String(), `"message":"handled, but not recorded"`) {
			t.Errorf("calls %v, logs:\n%s", rec.calls, logs)
		}
	})
}

// An event without webhook_id (not from the receiver) cannot be deduped,
// and is handled every time rather than dropped.
func TestWithoutWebhookIDHandledEachTime(t *testing.T) {
	t.Parallel()
	s, rec, _ := newTestSubscriber(NewMemoryHandled(10, 0))
	body := geminiBody("batch.expired", `{"id":"b"}`)
	for range 2 {
		if err := s.Handle(context.Background(), pubsubCloudEvent(t, body, map[string]string{"event_type": "batch.expired"}, "1")); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.of(event.BatchExpired); len(got) != 2 {
		t.Errorf("handled %d times, want 2", len(got))
	}
}

func TestFromEnvWithoutProjectUsesMemory(t *testing.T) {
	t.Parallel()
	env := map[string]string{"LOG_LEVEL": "warn"}
	s, err := FromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Handled.(*MemoryHandled); !ok {
		t.Errorf("Handled is %T, want *MemoryHandled", s.Handled)
	}
	if len(s.Handlers) != 9 {
		t.Errorf("%d handlers, want one for each of the 9 types", len(s.Handlers))
	}
	for typ := range s.Handlers {
		if !typ.Known() {
			t.Errorf("handler for unknown type %q", typ)
		}
	}
}

func TestFromEnvRefusesBadValues(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"LOG_LEVEL":             {"LOG_LEVEL": "loud"},
		"SUBSCRIBER_COLLECTION": {"GOOGLE_CLOUD_PROJECT": "p", "SUBSCRIBER_COLLECTION": "a/b"},
	} {
		_, err := FromEnv(context.Background(), func(k string) string { return env[k] })
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("FromEnv(%v) = %v, want an error naming %s", env, err, name)
		}
	}
}
