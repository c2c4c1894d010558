package gemini

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// State is a webhook's state.
type State string

// The states the API documents. Only StateEnabled can be set by an update;
// Gemini itself moves a webhook whose deliveries keep failing to
// StateDisabledDueToFailedDeliveries.
const (
	StateEnabled                       State = "enabled"
	StateDisabled                      State = "disabled"
	StateDisabledDueToFailedDeliveries State = "disabled_due_to_failed_deliveries"
)

// Revocation says what happens to a webhook's previous signing secrets when
// a new one is issued.
type Revocation string

const (
	// RevokeAfter24h keeps the previous secrets valid for 24 hours (the
	// API's default): the receiver must hold the new and the old secret.
	RevokeAfter24h Revocation = "revoke_previous_secrets_after_h24"
	// RevokeImmediately revokes them now: deliveries signed with them fail
	// until the receiver holds the new secret.
	RevokeImmediately Revocation = "revoke_previous_secrets_immediately"
)

// Fields of a webhook that an update mask can name.
const (
	FieldURI              = "uri"
	FieldSubscribedEvents = "subscribed_events"
	FieldState            = "state"
)

// subscribableEvents are the values subscribed_events takes. The API
// reference lists the first seven; the google-genai SDKs (generated from the
// API's OpenAPI description) add batch.cancelled and interaction.cancelled,
// so those are accepted too: the server is the final judge.
var subscribableEvents = []string{
	"batch.succeeded", "batch.expired", "batch.failed",
	"interaction.requires_action", "interaction.completed", "interaction.failed",
	"video.generated",
	"batch.cancelled", "interaction.cancelled",
}

// SubscribableEvents returns the event types a webhook can subscribe to, as
// far as this client knows.
func SubscribableEvents() []string { return slices.Clone(subscribableEvents) }

// CheckEvents reports the first event that is not subscribable, in an error
// wrapping [ErrUnknownEvent]. Names are compared exactly.
func CheckEvents(events []string) error {
	for _, e := range events {
		if !slices.Contains(subscribableEvents, e) {
			hint := ""
			if e == "batch.completed" {
				hint = ` ("batch.completed" is an old name of batch.succeeded)`
			}
			return fmt.Errorf("%w %q%s; subscribable: %s", ErrUnknownEvent, e, hint, strings.Join(subscribableEvents, ", "))
		}
	}
	return nil
}

// ParseID accepts a webhook id as "abc" or as the resource name
// "webhooks/abc" and returns the id. An id is one or more URL-unreserved
// characters (letters, digits, '-', '.', '_', '~'), so that it cannot change
// the path it is put in; otherwise the error wraps [ErrInvalidID].
func ParseID(s string) (string, error) {
	id := strings.TrimPrefix(s, "webhooks/")
	if id == "" || id == "." || id == ".." {
		return "", fmt.Errorf("%w %q", ErrInvalidID, s)
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune("-._~", r)) {
			return "", fmt.Errorf("%w %q: want an id like abc123 or webhooks/abc123", ErrInvalidID, s)
		}
	}
	return id, nil
}

// Secret is a signing secret as Gemini issues it ("whsec_..."). It never
// prints: fmt and encoding/json show a placeholder. Convert it with
// string(s) only where it is meant to go.
type Secret string

// String returns a placeholder.
func (Secret) String() string { return "gemini.Secret(redacted)" }

// GoString returns a placeholder, for %#v.
func (s Secret) GoString() string { return s.String() }

// MarshalJSON encodes a placeholder.
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// SigningSecretInfo describes one of a webhook's signing secrets, as Get
// and List show them: truncated, never whole.
type SigningSecretInfo struct {
	Truncated  string    `json:"truncated_secret,omitempty"`
	ExpireTime time.Time `json:"expire_time,omitzero"`
}

// Webhook is the WebhookService's resource.
type Webhook struct {
	Name             string // "webhooks/{id}"
	URI              string
	SubscribedEvents []string
	State            State
	CreateTime       time.Time
	UpdateTime       time.Time
	SigningSecrets   []SigningSecretInfo
	// NewSigningSecret is set only in the answer to Create: Gemini shows a
	// webhook's first secret once.
	NewSigningSecret Secret
}

// ID returns the id part of the webhook's name.
func (w Webhook) ID() string { return strings.TrimPrefix(w.Name, "webhooks/") }

// wireWebhook is the webhook as the API writes it: snake_case (what the
// SDKs read) or lowerCamelCase (proto3 JSON), so both are decoded.
type wireWebhook struct {
	Name                  string         `json:"name"`
	URI                   string         `json:"uri"`
	SubscribedEvents      []string       `json:"subscribed_events"`
	SubscribedEventsCamel []string       `json:"subscribedEvents"`
	State                 string         `json:"state"`
	CreateTime            string         `json:"create_time"`
	CreateTimeCamel       string         `json:"createTime"`
	UpdateTime            string         `json:"update_time"`
	UpdateTimeCamel       string         `json:"updateTime"`
	NewSigningSecret      string         `json:"new_signing_secret"`
	NewSigningSecretCamel string         `json:"newSigningSecret"`
	SigningSecrets        []wireSecretIn `json:"signing_secrets"`
	SigningSecretsCamel   []wireSecretIn `json:"signingSecrets"`
}

type wireSecretIn struct {
	Truncated       string `json:"truncated_secret"`
	TruncatedCamel  string `json:"truncatedSecret"`
	ExpireTime      string `json:"expire_time"`
	ExpireTimeCamel string `json:"expireTime"`
}

// UnmarshalJSON decodes the API's webhook in snake_case or lowerCamelCase.
// Timestamps that do not parse as RFC 3339 are left zero rather than
// failing the whole answer.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	var r wireWebhook
	if err := json.Unmarshal(b, &r); err != nil {
		return err
	}
	*w = Webhook{
		Name:             r.Name,
		URI:              r.URI,
		SubscribedEvents: orSlice(r.SubscribedEvents, r.SubscribedEventsCamel),
		// Proto enums may come as ENABLED; the REST API documents lower case.
		State:            State(strings.ToLower(r.State)),
		CreateTime:       parseTime(or(r.CreateTime, r.CreateTimeCamel)),
		UpdateTime:       parseTime(or(r.UpdateTime, r.UpdateTimeCamel)),
		NewSigningSecret: Secret(or(r.NewSigningSecret, r.NewSigningSecretCamel)),
	}
	for _, s := range orSlice(r.SigningSecrets, r.SigningSecretsCamel) {
		w.SigningSecrets = append(w.SigningSecrets, SigningSecretInfo{
			Truncated:  or(s.Truncated, s.TruncatedCamel),
			ExpireTime: parseTime(or(s.ExpireTime, s.ExpireTimeCamel)),
		})
	}
	return nil
}

// MarshalJSON encodes the webhook in the API's snake_case shape, with its id
// and without NewSigningSecret, which callers must place deliberately.
func (w Webhook) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		ID               string              `json:"id"`
		Name             string              `json:"name"`
		URI              string              `json:"uri"`
		SubscribedEvents []string            `json:"subscribed_events"`
		State            State               `json:"state,omitempty"`
		CreateTime       time.Time           `json:"create_time,omitzero"`
		UpdateTime       time.Time           `json:"update_time,omitzero"`
		SigningSecrets   []SigningSecretInfo `json:"signing_secrets,omitempty"`
	}{w.ID(), w.Name, w.URI, nonNil(w.SubscribedEvents), w.State, w.CreateTime, w.UpdateTime, w.SigningSecrets})
}

// or returns a unless it is empty, else b.
func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// orSlice returns a unless it is nil (absent), else b.
func orSlice[T any](a, b []T) []T {
	if a != nil {
		return a
	}
	return b
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}
	}
	return t
}
