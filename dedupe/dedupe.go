// Package dedupe claims webhook ids so that a delivery Gemini retries is
// published once.
//
// A claim is a small state machine keyed by webhook-id. The first attempt
// acquires a pending claim with a lease; while the lease is live, other
// attempts are told the delivery is busy; when the publish succeeds the claim
// is marked published and every later attempt is a duplicate; when it fails
// the claim is released so that Gemini's next retry can acquire it again. A
// holder that dies leaves a pending claim whose lease expires, and the next
// attempt takes it over with a higher attempt number. That number fences the
// holders: Release only deletes the claim of the attempt that still owns it.
//
// Two stores implement the machine with the same semantics: [Memory] for the
// embedded mode, and [Firestore] for production. Package dedupetest holds the
// conformance suite both pass.
package dedupe

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// State is the outcome of claiming a webhook id.
type State int

const (
	// Acquired means the caller owns the claim: it publishes, then calls
	// MarkPublished on success or Release on failure.
	Acquired State = iota + 1
	// Duplicate means the delivery was published earlier; the caller
	// acknowledges it without publishing again.
	Duplicate
	// Busy means another attempt holds a live lease; the caller asks Gemini
	// to retry after the lease ends.
	Busy
)

// String returns the lower-case name of s, as used in logs.
func (s State) String() string {
	switch s {
	case Acquired:
		return "acquired"
	case Duplicate:
		return "duplicate"
	case Busy:
		return "busy"
	}
	return "State(" + strconv.Itoa(int(s)) + ")"
}

// Claim is the result of claiming a webhook id.
type Claim struct {
	State State
	// Attempt is set when State is Acquired: the claim's attempt count
	// after this claim (1 for a new claim). It is the fencing token the
	// caller passes to Release and MarkPublished.
	Attempt int
	// LeaseUntil is the end of the caller's lease when State is Acquired,
	// and the end of the other holder's lease when State is Busy.
	LeaseUntil time.Time
	// MessageID is set when State is Duplicate: the message id recorded
	// when the delivery was published. It may be empty.
	MessageID string
}

// Options tunes a store. The zero value is ready to use.
type Options struct {
	// Lease is how long a pending claim blocks other attempts. It bounds
	// how long a delivery waits after its holder died. Default 60s.
	Lease time.Duration
	// Retention is how long a claim is kept after it was received (or
	// published): expire_at = received + Retention. Past it, the id is
	// unknown again. Default 72h, beyond Gemini's 24 h of retries.
	Retention time.Duration
	// Now is the clock. Default time.Now. Stores keep times to the
	// microsecond, Firestore's resolution, so that a lease reads back
	// exactly as it was granted.
	Now func() time.Time
}

const (
	defaultLease     = 60 * time.Second
	defaultRetention = 72 * time.Hour
)

func (o Options) withDefaults() Options {
	if o.Lease <= 0 {
		o.Lease = defaultLease
	}
	if o.Retention <= 0 {
		o.Retention = defaultRetention
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// now reads the clock at the stores' resolution, in UTC and without a
// monotonic reading, so that stored and returned times compare equal.
func (o Options) now() time.Time {
	return o.Now().UTC().Truncate(time.Microsecond)
}

// ErrUnavailable means the store could not answer: network, deadline,
// cancellation, contention, or a document it cannot read. Every error a
// store returns wraps it (test with errors.Is) and keeps the cause in its
// message. The delivery's outcome is unknown, so the caller answers 503 and
// lets Gemini retry.
var ErrUnavailable = errors.New("dedupe: claim store unavailable")

func unavailable(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}

// TTLField is the name of the field that holds a claim's expiry. Terraform
// sets Firestore's TTL policy on it, which deletes the claim some time
// after it expires; until then the stores treat it as absent.
const TTLField = "expire_at"

// DocID returns the hex SHA-256 of webhookID, the claim's document id.
// Hashing makes any id a valid document name of fixed length, and spreads
// time-ordered ids across Firestore's key range instead of hot-spotting.
func DocID(webhookID string) string {
	sum := sha256.Sum256([]byte(webhookID))
	return hex.EncodeToString(sum[:])
}

// Values of the state field.
const (
	statePending   = "pending"
	statePublished = "published"
)
