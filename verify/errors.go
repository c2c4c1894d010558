package verify

import "errors"

// Errors callers branch on with [errors.Is]. The comment of each says which
// HTTP status the receiver answers with.
var (
	// ErrMissingHeader: a required signature header is absent (400).
	ErrMissingHeader = errors.New("verify: missing header")
	// ErrMalformedHeader: a signature header is present but unusable (400).
	ErrMalformedHeader = errors.New("verify: malformed header")
	// ErrNoMatch: no signature entry matches any trusted key (401).
	ErrNoMatch = errors.New("verify: no matching signature")
	// ErrTooOld: the timestamp is older than now minus the tolerance (401).
	ErrTooOld = errors.New("verify: timestamp too old")
	// ErrTooNew: the timestamp is newer than now plus the tolerance (401).
	ErrTooNew = errors.New("verify: timestamp too new")
	// ErrKeysUnavailable: the public keys of dynamic deliveries could not be
	// fetched and none is cached (503 with Retry-After). Static deliveries
	// never see it.
	ErrKeysUnavailable = errors.New("verify: verification keys unavailable")
	// ErrInvalidSecret: a signing secret cannot be parsed. It is a
	// configuration error, never a delivery error.
	ErrInvalidSecret = errors.New("verify: invalid secret")
)

// HeaderError is the error [ParseHeaders] returns. It names the header and
// the problem, never the header's value, so it is safe to log.
type HeaderError struct {
	// Header is the canonical name, e.g. [HeaderTimestamp].
	Header string
	// Reason says what is wrong, e.g. "not an integer"; empty for a missing header.
	Reason string
	// Err is [ErrMissingHeader] or [ErrMalformedHeader].
	Err error
}

// Error returns e.g. "verify: malformed header Webhook-Timestamp: not an integer".
func (e *HeaderError) Error() string {
	if e.Reason == "" {
		return e.Err.Error() + " " + e.Header
	}
	return e.Err.Error() + " " + e.Header + ": " + e.Reason
}

// Unwrap returns Err, so that errors.Is(err, ErrMalformedHeader) holds.
func (e *HeaderError) Unwrap() error { return e.Err }
