package event

import "errors"

// ErrMalformed reports a body, or a field of it, that does not have the
// documented shape: not a JSON object, or a field of the wrong JSON type
// (data that is not an object, an output_file_uri that is a number). The
// error that wraps it names each such field.
//
// It comes with an Event all the same, holding Raw and every field that
// could be read: redelivering the message will not mend it, so log the
// event (or set it aside) and acknowledge it.
var ErrMalformed = errors.New("event: malformed body")

// ErrNotPubSub reports a CloudEvent or push request that does not carry a
// Pub/Sub message. It comes without an Event: there is no body to keep.
var ErrNotPubSub = errors.New("event: not a Pub/Sub message")
