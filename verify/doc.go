// Package verify authenticates Gemini API webhook deliveries, which follow the
// Standard Webhooks specification.
//
// A delivery is checked in two steps. [ParseHeaders] reads and validates the
// three signature headers; its errors wrap [ErrMissingHeader] or
// [ErrMalformedHeader] and mean HTTP 400. A [Verifier] then checks the
// timestamp against the allowed clock difference ([ErrTooOld], [ErrTooNew])
// and asks each configured [Method] in turn whether a signature matches
// ([ErrNoMatch]); these mean HTTP 401. Any other error comes from a method
// whose keys are unavailable ([ErrKeysUnavailable]) and means HTTP 503, so
// that Gemini retries instead of the delivery counting as forged.
//
// # Schemes
//
// Gemini signs two kinds of webhooks differently, and the sources disagree
// on one of them, so every form that has been documented or observed is
// verified:
//
//   - [HMAC], "v1": static (project-level) webhooks. HMAC-SHA256 over
//     "<id>.<timestamp>.<body>" with one or more "whsec_" secrets,
//     replaceable at runtime for rotation.
//   - [V1a], "v1a": dynamic (per-request) webhooks as live traffic carries
//     them. Ed25519 over the same bytes, with the public keys of Gemini's
//     JWKS. Those keys have no "kid", so each is tried; the last one that
//     verified is tried first.
//   - [JWT]: dynamic webhooks as Google's guide describes them. The whole
//     header value is a compact JWS (RS256 in the guide) whose key is chosen
//     by "kid" from the same JWKS. The algorithm is taken from the key, never
//     from the token alone, and the token must bind the body (a SHA-256 of
//     it, or the event itself, in its claims), since its signature does not
//     cover the body.
//
// The dynamic methods share one [JWKS], fetched on the first dynamic delivery
// (never at start-up), cached, refreshed lazily and when a delivery needs a
// key the cache lacks, at most once per refresh gap. A method only touches
// the key set when the delivery carries its form: static deliveries never
// cause a fetch, and a key set outage never affects them.
//
// Nothing in this package logs, and no error it returns contains a header
// value, a signature, a token, a secret or the body.
package verify
