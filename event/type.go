package event

import (
	"strings"

	"github.com/geminihook/geminihook/publish"
)

// Type is an event type, canonical: an alias that older documentation uses
// (batch.completed) is replaced by the type it stands for. A type this
// package does not know is kept as sent, so that a subscriber can still
// route it; see [Type.Known].
type Type string

// The event types Gemini documents. Subscribers filter on them, both in a
// `switch ev.Type` and in Pub/Sub subscription filters
// (attributes.event_type = "batch.succeeded").
const (
	BatchSucceeded            Type = "batch.succeeded"
	BatchFailed               Type = "batch.failed"
	BatchExpired              Type = "batch.expired"
	BatchCancelled            Type = "batch.cancelled"
	InteractionRequiresAction Type = "interaction.requires_action"
	InteractionCompleted      Type = "interaction.completed"
	InteractionFailed         Type = "interaction.failed"
	InteractionCancelled      Type = "interaction.cancelled"
	VideoGenerated            Type = "video.generated"

	// Unknown is the type of a body that is not JSON or has no type. The
	// receiver publishes such deliveries too (they verified), with this
	// event_type attribute.
	Unknown Type = publish.UnknownType
)

// aliases maps the types that older documentation and samples use to the
// canonical type.
var aliases = map[string]Type{
	"batch.completed": BatchSucceeded,
}

// canonical returns the canonical type of the type s as sent, and s again
// when it was an alias (else ""). An empty s is Unknown.
func canonical(s string) (t Type, original string) {
	if s == "" {
		return Unknown, ""
	}
	if c, ok := aliases[s]; ok {
		return c, s
	}
	return Type(s), ""
}

// Known reports whether t is one of the types Gemini documents (the
// constants of this package other than Unknown).
func (t Type) Known() bool {
	switch t {
	case BatchSucceeded, BatchFailed, BatchExpired, BatchCancelled,
		InteractionRequiresAction, InteractionCompleted, InteractionFailed, InteractionCancelled,
		VideoGenerated:
		return true
	}
	return false
}

// family is the resource kind a type is about, read from its prefix, so
// that a batch type Gemini adds later still decodes as a batch.
type family int

const (
	noFamily family = iota
	batchFamily
	interactionFamily
	videoFamily
)

func (t Type) family() family {
	switch s := string(t); {
	case strings.HasPrefix(s, "batch."):
		return batchFamily
	case strings.HasPrefix(s, "interaction."):
		return interactionFamily
	case strings.HasPrefix(s, "video."):
		return videoFamily
	}
	return noFamily
}
