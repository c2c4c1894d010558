package publish

import (
	"bytes"
	"encoding/json"
	"sort"
	"unicode/utf8"
)

// Limits Pub/Sub sets on attributes. A value that does not fit is left out;
// the subscriber still finds it in the message data.
const (
	MaxAttributes     = 100
	MaxAttributeKey   = 256
	MaxAttributeValue = 1024
)

// Attribute names of the message contract.
const (
	AttrWebhookID         = "webhook_id"
	AttrEventType         = "event_type"
	AttrEventTypeOriginal = "event_type_original"
	AttrEventVersion      = "event_version"
	AttrResourceID        = "resource_id"
	AttrEventTimestamp    = "event_timestamp"
	AttrWebhookTimestamp  = "webhook_timestamp"
	AttrSignatureScheme   = "signature_scheme"
	// MetaPrefix starts the attribute of each user_metadata entry.
	MetaPrefix = "meta_"
)

// UnknownType is the event_type of a body that is not JSON or has no usable
// type. Such deliveries are still published.
const UnknownType = "unknown"

// aliases maps event types that older documentation uses to the canonical
// type subscribers filter on.
var aliases = map[string]string{
	"batch.completed": "batch.succeeded",
}

// Envelope is what the receiver reads from a verified body to route it. The
// body itself is published unchanged; Envelope only feeds attributes.
type Envelope struct {
	// Type is the canonical event type, or UnknownType.
	Type string
	// OriginalType is the type as sent when it differs from Type because of
	// an alias, else empty.
	OriginalType string
	Version      string
	Timestamp    string
	// ResourceID is data.id, opaque: a string as sent or a number's literal.
	ResourceID string
	// Metadata holds the user_metadata entries (top level or inside data)
	// that fit the attribute rules; see ParseEnvelope.
	Metadata map[string]string
}

// ParseEnvelope reads the routing fields of a webhook body. It never fails:
// a body that is not a JSON object yields an Envelope of type UnknownType,
// because a verified delivery is an event even when we cannot read it. Each
// field is read on its own, so one field of an unexpected shape costs only
// that field, never the event's type.
//
// user_metadata is looked for at the top level and inside data (Gemini's
// documentation does not say where it sits); top-level wins on a clash. Only
// string and number values whose key matches [A-Za-z0-9_]{1,64} and whose
// value fits MaxAttributeValue are kept.
func ParseEnvelope(body []byte) Envelope {
	if e, ok := parseEnvelopeFast(body); ok {
		return e
	}
	return parseEnvelopeJSON(body)
}

// parseEnvelopeJSON is ParseEnvelope with encoding/json, for every body.
func parseEnvelopeJSON(body []byte) Envelope {
	e := Envelope{Type: UnknownType}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return e
	}
	if t, ok := scalar(top["type"], false); ok && t != "" {
		e.Type = t
		if canon, ok := aliases[t]; ok {
			e.Type, e.OriginalType = canon, t
		}
	}
	e.Version, _ = scalar(top["version"], false)
	e.Timestamp, _ = scalar(top["timestamp"], false)
	var data map[string]json.RawMessage
	if raw, ok := top["data"]; ok && json.Unmarshal(raw, &data) != nil {
		data = nil
	}
	e.ResourceID, _ = scalar(data["id"], true)
	for _, raw := range []json.RawMessage{data["user_metadata"], top["user_metadata"]} {
		var md map[string]json.RawMessage
		if raw == nil || json.Unmarshal(raw, &md) != nil {
			continue
		}
		for k, v := range md {
			if !metaKey(k) {
				continue
			}
			if s, ok := scalar(v, true); ok {
				if e.Metadata == nil {
					e.Metadata = make(map[string]string, len(md))
				}
				e.Metadata[k] = s
			}
		}
	}
	return e
}

// scalar returns a JSON string's value, or with numbers a number's literal,
// when it fits an attribute value.
func scalar(raw json.RawMessage, numbers bool) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	var s string
	switch {
	case raw[0] == '"':
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
	case numbers && (raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9'):
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return "", false
		}
		s = n.String()
	default:
		return "", false
	}
	if len(s) > MaxAttributeValue || !utf8.ValidString(s) {
		return "", false
	}
	return s, true
}

func metaKey(k string) bool {
	if len(k) == 0 || len(k) > 64 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// Attributes returns the message attributes of the contract for a verified
// delivery. webhookID and webhookTimestamp come from the validated headers;
// scheme names the signature scheme that verified. Metadata becomes meta_
// attributes only for dynamic deliveries (any scheme but v1), in key order,
// as many as Pub/Sub's attribute count allows.
func (e Envelope) Attributes(webhookID, webhookTimestamp, scheme string) map[string]string {
	a := make(map[string]string, 9+len(e.Metadata))
	set := func(k, v string) {
		if v != "" && len(v) <= MaxAttributeValue {
			a[k] = v
		}
	}
	set(AttrWebhookID, webhookID)
	set(AttrEventType, e.Type)
	set(AttrEventTypeOriginal, e.OriginalType)
	set(AttrEventVersion, e.Version)
	set(AttrResourceID, e.ResourceID)
	set(AttrEventTimestamp, e.Timestamp)
	set(AttrWebhookTimestamp, webhookTimestamp)
	set(AttrSignatureScheme, scheme)
	if scheme == "v1" || len(e.Metadata) == 0 {
		return a
	}
	keys := make([]string, 0, len(e.Metadata))
	for k := range e.Metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if len(a) >= MaxAttributes {
			break
		}
		set(MetaPrefix+k, e.Metadata[k])
	}
	return a
}
