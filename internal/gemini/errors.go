package gemini

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"
)

// Errors callers branch on with [errors.Is].
var (
	// ErrNoAPIKey: New was given an empty API key.
	ErrNoAPIKey = errors.New("gemini: no API key")
	// ErrBaseURL: the base URL is not an absolute https URL (or http on a
	// loopback host).
	ErrBaseURL = errors.New("gemini: unusable base URL")
	// ErrInvalidID: a webhook id that cannot be put in a path (see [ParseID]).
	ErrInvalidID = errors.New("gemini: invalid webhook id")
	// ErrUnknownEvent: an event type [CheckEvents] does not know.
	ErrUnknownEvent = errors.New("gemini: unknown event type")
	// ErrUpdateMask: an update with no field, or a field Update cannot set.
	ErrUpdateMask = errors.New("gemini: invalid update mask")

	// The kinds of *APIError, by HTTP status: ErrNotFound (404),
	// ErrPermissionDenied (403), ErrUnauthenticated (401) and
	// ErrInvalidArgument (400, which is also what a wrong API key gets).
	ErrNotFound         = errors.New("gemini: not found")
	ErrPermissionDenied = errors.New("gemini: permission denied")
	ErrUnauthenticated  = errors.New("gemini: unauthenticated")
	ErrInvalidArgument  = errors.New("gemini: invalid argument")
)

// APIError is a non-2xx answer of the Gemini API, with Google's error
// object ({"error":{"code","message","status"}}) when the answer held one.
// Its message never contains the API key.
type APIError struct {
	HTTPStatus int    // the HTTP status code, e.g. 403
	Code       int    // error.code, usually equal to HTTPStatus
	Status     string // error.status, e.g. "PERMISSION_DENIED"
	Message    string // error.message, or the start of a body that was not Google's error JSON
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gemini API: HTTP %d", e.HTTPStatus)
	if e.Status != "" {
		b.WriteString(" " + e.Status)
	} else if t := http.StatusText(e.HTTPStatus); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Is reports whether the error is of the kind target names.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.HTTPStatus == http.StatusNotFound
	case ErrPermissionDenied:
		return e.HTTPStatus == http.StatusForbidden
	case ErrUnauthenticated:
		return e.HTTPStatus == http.StatusUnauthorized
	case ErrInvalidArgument:
		return e.HTTPStatus == http.StatusBadRequest
	}
	return false
}

// maxMessage bounds the message kept from an answer.
const maxMessage = 1000

func (c *Client) apiError(status int, body []byte) *APIError {
	e := &APIError{HTTPStatus: status}
	var g struct {
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Status  string `json:"status"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &g) == nil && g.Error != nil {
		e.Code, e.Status, e.Message = g.Error.Code, g.Error.Status, g.Error.Message
	} else {
		e.Message = string(body)
	}
	e.Status = clean(e.Status, 64)
	e.Message = clean(c.redact(e.Message), maxMessage)
	return e
}

// clean makes s safe for one line of a terminal: control characters become
// spaces, and it is cut at n bytes.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		cut := n
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
