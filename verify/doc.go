// Package verify authenticates Gemini API webhook deliveries, which follow the
// Standard Webhooks specification.
//
// A delivery is checked in two steps. [ParseHeaders] reads and validates the
// three signature headers; its errors wrap [ErrMissingHeader] or
// [ErrMalformedHeader] and mean HTTP 400. A [Verifier] then checks the
// timestamp against the allowed clock difference ([ErrTooOld], [ErrTooNew])
// and asks each configured [Method] in turn whether a signature matches
// ([ErrNoMatch]); these mean HTTP 401. Any other error comes from a method
// whose keys are unavailable and means HTTP 503.
//
// [HMAC] is the static "v1" scheme (HMAC-SHA256 with one or more
// "whsec_" secrets, replaceable at runtime for rotation). Further schemes plug
// in as further Method implementations without changes to the caller.
//
// Nothing in this package logs, and no error it returns contains a header
// value, a signature, a secret or the body.
package verify
