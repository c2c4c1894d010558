package event

import (
	"encoding/json"
	"time"
)

// Event is one Gemini webhook event as a subscriber sees it: the envelope
// fields, the user_metadata of a dynamic webhook, the typed data of its
// resource, and the body itself.
//
// Every field is best effort except Raw, which always holds the body: an
// event that cannot be read is still an event (see [Parse]).
type Event struct {
	// WebhookID is the webhook-id Gemini sent, identical on every retry of
	// the event: the key to dedupe on. Only set from a Pub/Sub message (the
	// body does not carry it).
	WebhookID string
	// Type is the canonical type: an alias is replaced (batch.completed is
	// BatchSucceeded), an unknown type is kept as sent, and a body that is
	// not JSON or has no type is Unknown.
	Type Type
	// OriginalType is the type as sent when it was an alias, else empty.
	OriginalType string
	// Version is the body's version, e.g. "v1".
	Version string
	// Timestamp is the body's timestamp when it is RFC 3339 (in the offset
	// it was sent with), else zero; RawTimestamp keeps the text as sent
	// either way.
	Timestamp    time.Time
	RawTimestamp string
	// ResourceID is data.id, the batch, interaction or operation the event
	// is about. It is opaque ("batch_123" or "batches/abc"): a string as
	// sent, or a number's literal.
	ResourceID string
	// Metadata holds the user_metadata of a dynamic webhook, found at the
	// top level of the body or inside data (the top level wins on a clash),
	// and in meta_ attributes (which win over the body). String values are
	// kept as they are, numbers as their literal; other values are only in
	// RawMetadata. Nil when there is none.
	Metadata map[string]string
	// RawMetadata holds every user_metadata entry of the body, merged the
	// same way, as raw JSON. Nil when there is none.
	RawMetadata map[string]json.RawMessage
	// SignatureScheme is how the receiver verified the delivery: "v1"
	// (static webhook), "v1a" or "jwt" (dynamic). Only set from a Pub/Sub
	// message.
	SignatureScheme string
	// Data is the body's data object as raw JSON, for fields this package
	// does not model. Nil when the body has none.
	Data json.RawMessage
	// Raw is the body exactly as Gemini sent it (the Pub/Sub message data).
	Raw []byte

	// Attributes are the Pub/Sub message attributes as received, nil when
	// the event was parsed from a bare body.
	Attributes map[string]string
	// MessageID and PublishTime are the Pub/Sub message's, when the event
	// came from a CloudEvent or a push request.
	MessageID   string
	PublishTime time.Time

	batch       Batch
	interaction Interaction
	video       Video
}

// Batch is the data of a batch event (batch.succeeded, batch.failed,
// batch.expired, batch.cancelled). Fields the type does not carry are empty.
type Batch struct {
	// ID is the batch, opaque.
	ID string
	// OutputFileURI is where a succeeded batch wrote its results, e.g.
	// gs://bucket/results.jsonl.
	OutputFileURI string
	// ErrorCode and ErrorMessage describe a failed batch. ErrorCode is
	// sent as a string or a number; a number is kept as its literal.
	ErrorCode    string
	ErrorMessage string
}

// Interaction is the data of an interaction event
// (interaction.requires_action, .completed, .failed, .cancelled).
type Interaction struct {
	// ID is the interaction, opaque.
	ID string
	// ErrorCode and ErrorMessage describe a failed interaction, as in Batch.
	ErrorCode    string
	ErrorMessage string
}

// Video is the data of a video event (video.generated).
type Video struct {
	// ID is the video generation operation, opaque.
	ID string
	// OutputFileURI is where the video is. A sample sends it as video_uri
	// instead of output_file_uri; either fills this field
	// (output_file_uri wins when both are present).
	OutputFileURI string
	// FileName is the video's file name, when sent.
	FileName string
}

// Batch returns the event's batch data and true when its type is a batch
// type (batch.*, including one this package does not know yet); else a
// zero Batch and false.
func (e *Event) Batch() (Batch, bool) {
	return e.batch, e.Type.family() == batchFamily
}

// Interaction returns the event's interaction data and true when its type
// is an interaction type (interaction.*); else a zero Interaction and false.
func (e *Event) Interaction() (Interaction, bool) {
	return e.interaction, e.Type.family() == interactionFamily
}

// Video returns the event's video data and true when its type is a video
// type (video.*); else a zero Video and false.
func (e *Event) Video() (Video, bool) {
	return e.video, e.Type.family() == videoFamily
}
