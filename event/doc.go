// Package event decodes, for subscribers, the Gemini API webhook events that
// geminihook publishes to Pub/Sub.
//
// Each Pub/Sub message holds the webhook body exactly as Gemini sent it, and
// attributes the receiver derived from it and from the delivery's headers
// (webhook_id, event_type, resource_id, meta_<key>, ...). [FromPubSub]
// reads both, attributes first; [FromCloudEvent] reads the CloudEvent that a
// Pub/Sub-triggered Cloud Run function receives, and [FromPush] the body of
// a push subscription's request. [Parse] reads a bare body.
//
// The result is an [Event]: the envelope fields, the canonical [Type]
// (batch.completed, which older documentation uses, becomes
// [BatchSucceeded]), the user_metadata of a dynamic webhook wherever it sits
// in the body, and typed data per resource: [Event.Batch],
// [Event.Interaction] and [Event.Video]. A video's URI is read from
// output_file_uri or, as one sample sends it, video_uri; an error_code is
// read whether it is a string or a number.
//
// Decoding never loses an event. An unknown type is kept as sent, a body
// that is not JSON is an Event of type [Unknown], and Event.Raw always holds
// the body. The only error that comes without an Event is [ErrNotPubSub], for
// a CloudEvent or push request that is no Pub/Sub message at all; a body that
// cannot be fully read comes with an Event and an error wrapping
// [ErrMalformed]. Neither gets better on redelivery, so a subscriber logs
// such an event and acknowledges it; only transient failures of its own work
// should make it return an error (and Pub/Sub redeliver).
//
// Pub/Sub delivers at least once, and the receiver may publish an event
// twice when it cannot know that Pub/Sub has it: dedupe on Event.WebhookID.
// The subscriber in examples/subscriber shows one way.
//
// A subscriber typically switches on the type:
//
//	ev, err := event.FromCloudEvent(ce)
//	if err != nil {
//		slog.Warn("unreadable event, dropped", "error", err)
//		return nil
//	}
//	switch ev.Type {
//	case event.BatchSucceeded:
//		b, _ := ev.Batch()
//		return fetchResults(ctx, b.ID, b.OutputFileURI)
//	case event.VideoGenerated:
//		v, _ := ev.Video()
//		return fetchVideo(ctx, v.OutputFileURI)
//	}
package event
