// Package subscriber is a Cloud Run function that reacts to the Gemini API
// events geminihook publishes: copy it, replace the handlers in handlers.go
// with your own work, and deploy it with a Pub/Sub trigger on the topic.
//
// Pub/Sub delivers each message as a CloudEvent (through Eventarc). The
// function decodes it with package event, skips a webhook_id it has already
// handled (Pub/Sub and the receiver both deliver at least once), and calls
// the handler for the event's type. Returning an error makes Pub/Sub
// redeliver the message, so it does that only for transient failures;
// an event it cannot read, or has no handler for, is logged and
// acknowledged.
//
// Configuration, read once, on the first event:
//
//	GOOGLE_CLOUD_PROJECT   set: remember handled ids in Firestore; unset: in memory
//	FIRESTORE_DATABASE     Firestore database id, default (default)
//	SUBSCRIBER_COLLECTION  collection of handled ids, default gemini-events-handled
//	LOG_LEVEL              debug, info (default), warn or error
package subscriber

import (
	"context"
	"sync"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
	cloudevents "github.com/cloudevents/sdk-go/v2"
)

// FunctionName is the name the function is registered under: the entry
// point to deploy.
const FunctionName = "HandleGeminiEvent"

func init() {
	functions.CloudEvent(FunctionName, HandleGeminiEvent)
}

// current is the Subscriber the registered function serves, built from the
// environment on first use. A failed build is not kept: the event is
// redelivered and the next one tries again.
var current struct {
	mu  sync.Mutex
	sub *Subscriber
}

// HandleGeminiEvent is the registered CloudEvent function.
func HandleGeminiEvent(ctx context.Context, ce cloudevents.Event) error {
	s, err := subscriber()
	if err != nil {
		return err
	}
	return s.Handle(ctx, ce)
}

func subscriber() (*Subscriber, error) {
	current.mu.Lock()
	defer current.mu.Unlock()
	if current.sub == nil {
		s, err := FromEnv(context.Background(), osEnv)
		if err != nil {
			return nil, err
		}
		current.sub = s
	}
	return current.sub, nil
}
