package event_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/geminihook/geminihook/event"
	"github.com/geminihook/geminihook/publish"
)

// FuzzParse checks that no body panics or loses the event: Parse always
// returns an Event holding the body, with a type, and an error only of the
// documented kind.
func FuzzParse(f *testing.F) {
	for _, b := range contractBodies {
		f.Add([]byte(b))
	}
	for _, b := range []string{
		``, `null`, `{}`, `[]`, `"x"`, `{"type":null}`, `{"data":[]}`, `{"data":{"user_metadata":7}}`,
		`{"type":"video.generated","data":{"output_file_uri":1,"video_uri":"v"}}`, "{\"type\":\"\xff\"}",
		`{"type":"batch.failed","data":{"error_code":-0.5e-3}}`, `{"type":"batch.x","data":{"id":{}}}`,
		`{"type":"interaction.failed","data":{"error_code":"1","error_code":2}}`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in := bytes.Clone(raw)
		ev, err := event.Parse(raw)
		if ev == nil {
			t.Fatalf("Parse(%q) returned no Event (error %v)", raw, err)
		}
		if !bytes.Equal(ev.Raw, in) || !bytes.Equal(raw, in) {
			t.Fatalf("Raw = %q, want the body %q unchanged", ev.Raw, in)
		}
		if err != nil && !errors.Is(err, event.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		if ev.Type == "" {
			t.Fatal("empty Type")
		}
		families := 0
		if _, ok := ev.Batch(); ok {
			families++
		}
		if _, ok := ev.Interaction(); ok {
			families++
		}
		if _, ok := ev.Video(); ok {
			families++
		}
		if families > 1 {
			t.Fatalf("type %q has %d kinds of data", ev.Type, families)
		}
	})
}

// FuzzFromPubSub checks that the event_type attribute decides the type,
// whatever the body, unless it is unknown.
func FuzzFromPubSub(f *testing.F) {
	for _, b := range contractBodies {
		f.Add([]byte(b), "batch.succeeded")
	}
	f.Add([]byte(`{"type":"batch.succeeded"}`), "")
	f.Add([]byte(`x`), "unknown")
	f.Fuzz(func(t *testing.T, raw []byte, eventType string) {
		ev, err := event.FromPubSub(raw, map[string]string{publish.AttrEventType: eventType, publish.AttrWebhookID: "msg"})
		if ev == nil || !bytes.Equal(ev.Raw, raw) || ev.WebhookID != "msg" {
			t.Fatalf("FromPubSub lost the event: %+v, %v", ev, err)
		}
		if err != nil && !errors.Is(err, event.ErrMalformed) {
			t.Fatalf("error %v does not wrap ErrMalformed", err)
		}
		if eventType != "" && eventType != string(event.Unknown) && string(ev.Type) != eventType && ev.OriginalType != eventType {
			t.Fatalf("Type %q (original %q), attribute said %q", ev.Type, ev.OriginalType, eventType)
		}
	})
}

// FuzzFromPush checks that a push body yields either an Event or
// ErrNotPubSub, never both and never a panic.
func FuzzFromPush(f *testing.F) {
	f.Add(messagePublished(contractBodies[0], map[string]string{"webhook_id": "msg"}))
	f.Add([]byte(`{"message":{}}`))
	f.Add([]byte(`{"message":{"data":"e30"}}`))
	f.Add([]byte(`{"message":{"data":"e30=","attributes":{"event_type":"batch.completed"}}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := event.FromPush(raw)
		switch {
		case ev == nil && !errors.Is(err, event.ErrNotPubSub):
			t.Fatalf("no Event and error %v", err)
		case ev != nil && err != nil && !errors.Is(err, event.ErrMalformed):
			t.Fatalf("Event and error %v", err)
		}
	})
}
