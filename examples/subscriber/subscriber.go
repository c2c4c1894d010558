package subscriber

import (
	"context"
	"log/slog"

	cloudevents "github.com/cloudevents/sdk-go/v2"

	"github.com/geminihook/geminihook/event"
)

// Handler does the work for one type of event. log already carries the
// event's webhook_id, event_type, resource_id, message_id and, for a
// dynamic webhook, user_metadata. A field that Gemini sent with an
// unexpected JSON type is empty (and a warning was logged): check the
// fields the work needs.
//
// Return an error only for a failure that a later attempt may not meet (a
// timeout, an unavailable service): the function returns it and Pub/Sub
// redelivers the message. For a failure that would only repeat, log it and
// return nil, or the message comes back until it expires.
type Handler func(ctx context.Context, log *slog.Logger, ev *event.Event) error

// Subscriber dispatches the events of Pub/Sub CloudEvents to Handlers,
// skipping the webhook ids Handled has recorded. Its fields are set before
// the first Handle and not changed afterwards.
type Subscriber struct {
	// Handlers maps each event type to its handler; a type without one is
	// logged and acknowledged.
	Handlers map[event.Type]Handler
	Handled  Handled
	Log      *slog.Logger
}

// New returns a Subscriber with the handlers of handlers.go.
func New(handled Handled, log *slog.Logger) *Subscriber {
	return &Subscriber{Handlers: Handlers(), Handled: handled, Log: log}
}

// Outcomes, in the outcome field of the line Handle logs for each event.
const (
	outcomeHandled   = "handled"
	outcomeDuplicate = "duplicate"
	outcomeDropped   = "dropped" // acknowledged without a handler running
	outcomeRetry     = "retry"   // error returned: Pub/Sub redelivers
)

// Handle handles one CloudEvent. It returns an error, making Pub/Sub
// redeliver, only when the outcome is unknown: Handled could not be asked,
// or the handler failed. Everything else is logged and acknowledged: a
// CloudEvent that is no Pub/Sub message, an event of a type without a
// handler (including a body that is not JSON), a duplicate.
func (s *Subscriber) Handle(ctx context.Context, ce cloudevents.Event) error {
	ev, err := event.FromCloudEvent(ce)
	if ev == nil {
		s.Log.ErrorContext(ctx, "not a Pub/Sub message; check the trigger", "outcome", outcomeDropped, "error", err)
		return nil
	}
	log := s.Log.With("webhook_id", ev.WebhookID, "event_type", string(ev.Type),
		"resource_id", ev.ResourceID, "message_id", ev.MessageID)
	if len(ev.Metadata) > 0 {
		log = log.With("user_metadata", ev.Metadata)
	}
	if err != nil {
		// Redelivery will not mend it, and dropping it would lose an event
		// of a known type whose data Gemini changed: dispatch what could be
		// read (the fields that could not are empty). A body that is not
		// JSON has type unknown and no handler.
		log.WarnContext(ctx, "malformed event: the fields that could not be read are empty", "error", err, "bytes", len(ev.Raw))
	}
	handle, ok := s.Handlers[ev.Type]
	if !ok {
		log.InfoContext(ctx, "no handler for this event type", "outcome", outcomeDropped)
		return nil
	}
	if ev.WebhookID == "" {
		log.WarnContext(ctx, "event without webhook_id: handled without dedupe")
	} else {
		seen, err := s.Handled.Has(ctx, ev.WebhookID)
		if err != nil {
			log.ErrorContext(ctx, "cannot tell whether the event was handled", "outcome", outcomeRetry, "error", err)
			return err
		}
		if seen {
			log.InfoContext(ctx, "already handled", "outcome", outcomeDuplicate)
			return nil
		}
	}
	if err := handle(ctx, log, ev); err != nil {
		log.ErrorContext(ctx, "handler failed", "outcome", outcomeRetry, "error", err)
		return err
	}
	if ev.WebhookID != "" {
		if err := s.Handled.Add(ctx, ev.WebhookID, ev.Type); err != nil {
			// The work is done: acknowledge. A redelivery, should one come,
			// runs the handler again.
			log.WarnContext(ctx, "handled, but not recorded", "error", err)
		}
	}
	log.InfoContext(ctx, "event handled", "outcome", outcomeHandled)
	return nil
}
