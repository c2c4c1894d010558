package verify

import (
	"net/http"
	"strconv"
	"strings"
)

// Names of the Standard Webhooks signature headers, in canonical form.
const (
	HeaderID        = "Webhook-Id"
	HeaderTimestamp = "Webhook-Timestamp"
	HeaderSignature = "Webhook-Signature"
)

const (
	// maxIDLen bounds webhook-id: it becomes a Pub/Sub attribute and a log field.
	maxIDLen = 256
	// maxEntries bounds the work one delivery can ask for.
	maxEntries = 32
)

// Entry is one "<version>,<signature>" item of the signature list, split at
// its first comma. Signature is still base64-encoded: each [Method] decodes
// the entries of its own version.
type Entry struct {
	Version   string
	Signature string
}

// Headers are the signature headers of one delivery, validated by
// [ParseHeaders].
type Headers struct {
	// ID is webhook-id: 1 to 256 bytes of printable ASCII (0x21-0x7E).
	ID string
	// Timestamp is webhook-timestamp exactly as sent: it is part of the signed bytes.
	Timestamp string
	// Unix is Timestamp parsed, in seconds.
	Unix int64
	// Signature is webhook-signature exactly as sent. A scheme that uses the
	// whole value (a compact JWS) reads it here.
	Signature string
	// Entries is Signature split on spaces, at most 32 items. Items without a
	// comma are left out, so Entries may be empty.
	Entries []Entry
}

// ParseHeaders reads the three signature headers. Names match
// case-insensitively, including keys of h that are not in canonical form.
//
// A header that is absent (or has no value) gives an error wrapping
// [ErrMissingHeader]. A header that appears more than once, an invalid id, a
// timestamp that is not a decimal int64 (an optional '-' and digits only), a
// signature list that is blank or has more than 32 space-separated items give
// an error wrapping [ErrMalformedHeader]. Errors are of type *[HeaderError].
//
// A timestamp far from now is not an error here: [Verifier.Verify] rejects it.
func ParseHeaders(h http.Header) (Headers, error) {
	id, err := single(h, HeaderID)
	if err != nil {
		return Headers{}, err
	}
	if reason := checkID(id); reason != "" {
		return Headers{}, malformed(HeaderID, reason)
	}

	ts, err := single(h, HeaderTimestamp)
	if err != nil {
		return Headers{}, err
	}
	unix, reason := parseTimestamp(ts)
	if reason != "" {
		return Headers{}, malformed(HeaderTimestamp, reason)
	}

	sig, err := single(h, HeaderSignature)
	if err != nil {
		return Headers{}, err
	}
	entries, reason := parseEntries(sig)
	if reason != "" {
		return Headers{}, malformed(HeaderSignature, reason)
	}

	return Headers{ID: id, Timestamp: ts, Unix: unix, Signature: sig, Entries: entries}, nil
}

// single returns the only value of the header name, looked up in every
// spelling of the name that h holds.
func single(h http.Header, name string) (string, error) {
	var (
		value string
		n     int
	)
	for k, vs := range h {
		if len(k) != len(name) || !strings.EqualFold(k, name) {
			continue
		}
		for _, v := range vs {
			value = v
			n++
		}
	}
	switch {
	case n == 0:
		return "", &HeaderError{Header: name, Err: ErrMissingHeader}
	case n > 1:
		return "", malformed(name, "repeated")
	}
	return value, nil
}

func malformed(name, reason string) error {
	return &HeaderError{Header: name, Reason: reason, Err: ErrMalformedHeader}
}

// checkID returns why id is invalid, or "" when it is valid.
func checkID(id string) string {
	switch {
	case id == "":
		return "empty"
	case len(id) > maxIDLen:
		return "longer than 256 bytes"
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c < 0x21 || c > 0x7e {
			return "not printable ASCII"
		}
	}
	return ""
}

// parseTimestamp accepts -?[0-9]+ that fits an int64. strconv alone would
// also accept a leading '+'.
func parseTimestamp(s string) (int64, string) {
	digits := strings.TrimPrefix(s, "-")
	if digits == "" {
		return 0, "not an integer"
	}
	for i := 0; i < len(digits); i++ {
		if c := digits[i]; c < '0' || c > '9' {
			return 0, "not an integer"
		}
	}
	unix, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, "out of range"
	}
	return unix, ""
}

// parseEntries splits the signature list on runs of spaces. Items without a
// comma are skipped (a compact JWS has none), but count toward the limit.
func parseEntries(sig string) ([]Entry, string) {
	if strings.TrimSpace(sig) == "" {
		return nil, "empty"
	}
	items, withComma := 0, 0
	for item := range strings.SplitSeq(sig, " ") {
		if item == "" {
			continue
		}
		items++
		if items > maxEntries {
			return nil, "more than 32 entries"
		}
		if strings.IndexByte(item, ',') >= 0 {
			withComma++
		}
	}
	if withComma == 0 {
		return nil, ""
	}
	entries := make([]Entry, 0, withComma)
	for item := range strings.SplitSeq(sig, " ") {
		if version, signature, ok := strings.Cut(item, ","); ok {
			entries = append(entries, Entry{Version: version, Signature: signature})
		}
	}
	return entries, ""
}
