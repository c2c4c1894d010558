package event

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/geminihook/geminihook/publish"
)

// Parse reads a webhook body, the data of a message the receiver
// published. It always returns an Event, with Raw set to body (not a copy):
// a subscriber never loses an event by decoding it.
//
// An unknown type is not an error: the Event has that type as sent, and the
// fields every event has. A body that is not JSON, or has no type, is an
// Event of type Unknown. The error, when not nil, wraps [ErrMalformed] and
// names what could not be read (a body that is not a JSON object, a field of
// the wrong JSON type); the Event then holds what could. Missing fields are
// never an error: Gemini's documentation is not definite about them.
//
// Parse does not set WebhookID or SignatureScheme, which travel in the
// message attributes; use [FromPubSub] or [FromCloudEvent] for a message.
func Parse(body []byte) (*Event, error) {
	return decode(body, nil)
}

// FromPubSub reads a Pub/Sub message the receiver published: its data (the
// body, see [Parse]) and its attributes. Attributes come first: webhook_id,
// event_type (with event_type_original), event_version, resource_id,
// event_timestamp, signature_scheme and each meta_<key> are authoritative,
// and the body fills in what they do not say, the typed data and the
// user_metadata values that did not fit an attribute. One exception: an
// event_type of unknown, which says the receiver could not read the body,
// gives way to a type read from the body. Errors are as for Parse; the
// Event is never nil.
//
// With the Pub/Sub client library: event.FromPubSub(m.Data, m.Attributes).
func FromPubSub(data []byte, attributes map[string]string) (*Event, error) {
	return decode(data, attributes)
}

// body is the envelope of a webhook body, each field still raw so that a
// field of the wrong type spoils only itself.
type body struct {
	Type         json.RawMessage `json:"type"`
	Version      json.RawMessage `json:"version"`
	Timestamp    json.RawMessage `json:"timestamp"`
	Data         json.RawMessage `json:"data"`
	UserMetadata json.RawMessage `json:"user_metadata"`
}

// decoder collects what could not be read, so that one bad field does not
// hide the others.
type decoder struct {
	problems []string
}

func (d *decoder) problem(format string, args ...any) {
	d.problems = append(d.problems, fmt.Sprintf(format, args...))
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrMalformed, strings.Join(d.problems, "; "))
}

func decode(raw []byte, attrs map[string]string) (*Event, error) {
	ev := &Event{Raw: raw, Type: Unknown}
	var d decoder
	var data map[string]json.RawMessage
	if b, ok := d.body(raw); ok {
		ev.Type, ev.OriginalType = canonical(d.str(b.Type, "type", false))
		ev.Version = d.str(b.Version, "version", false)
		ev.RawTimestamp = d.str(b.Timestamp, "timestamp", false)
		if data = d.object(b.Data, "data"); data != nil {
			ev.Data = b.Data
		}
		ev.ResourceID = d.str(data["id"], "data.id", true)
		// Top level last, so that it wins on a clash.
		ev.addMetadata(d.object(data["user_metadata"], "data.user_metadata"))
		ev.addMetadata(d.object(b.UserMetadata, "user_metadata"))
	}
	if attrs != nil {
		ev.applyAttributes(attrs)
	}
	if t, err := time.Parse(time.RFC3339Nano, ev.RawTimestamp); err == nil {
		ev.Timestamp = t
	}
	switch ev.Type.family() {
	case batchFamily:
		ev.batch = Batch{
			ID:            ev.ResourceID,
			OutputFileURI: d.str(data["output_file_uri"], "data.output_file_uri", false),
			ErrorCode:     d.str(data["error_code"], "data.error_code", true),
			ErrorMessage:  d.str(data["error_message"], "data.error_message", false),
		}
	case interactionFamily:
		ev.interaction = Interaction{
			ID:           ev.ResourceID,
			ErrorCode:    d.str(data["error_code"], "data.error_code", true),
			ErrorMessage: d.str(data["error_message"], "data.error_message", false),
		}
	case videoFamily:
		uri := d.str(data["output_file_uri"], "data.output_file_uri", false)
		if alt := d.str(data["video_uri"], "data.video_uri", false); uri == "" {
			uri = alt
		}
		ev.video = Video{
			ID:            ev.ResourceID,
			OutputFileURI: uri,
			FileName:      d.str(data["file_name"], "data.file_name", false),
		}
	}
	return ev, d.err()
}

// body decodes the envelope of raw, reporting false (and the problem) when
// raw is not a JSON object.
func (d *decoder) body(raw []byte) (body, bool) {
	var b body
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) == 0 {
		d.problem("body is empty")
		return b, false
	}
	if trimmed[0] != '{' {
		d.problem("body is not a JSON object")
		return b, false
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		d.problem("body is not JSON: %v", err)
		return b, false
	}
	return b, true
}

// object decodes a JSON object field; absent and null are nil without a
// problem.
func (d *decoder) object(raw json.RawMessage, name string) map[string]json.RawMessage {
	if isNull(raw) {
		return nil
	}
	var m map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &m) != nil {
		d.problem("%s is not an object", name)
		return nil
	}
	return m
}

// str returns a JSON string's value or, with numbers, a number's literal.
// Absent and null are "" without a problem.
func (d *decoder) str(raw json.RawMessage, name string, numbers bool) string {
	if isNull(raw) {
		return ""
	}
	if s, ok := scalar(raw, numbers); ok {
		return s
	}
	if numbers {
		d.problem("%s is not a string or a number", name)
	} else {
		d.problem("%s is not a string", name)
	}
	return ""
}

// scalar reads raw, a valid JSON value without surrounding space (as
// encoding/json hands out), as a string or a number's literal.
func scalar(raw json.RawMessage, numbers bool) (string, bool) {
	switch c := raw[0]; {
	case c == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	case numbers && (c == '-' || c >= '0' && c <= '9'):
		return string(raw), true
	}
	return "", false
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// addMetadata merges user_metadata entries into the event, replacing
// entries of the same key.
func (e *Event) addMetadata(md map[string]json.RawMessage) {
	if len(md) == 0 {
		return
	}
	if e.RawMetadata == nil {
		e.RawMetadata = make(map[string]json.RawMessage, len(md))
	}
	for k, v := range md {
		e.RawMetadata[k] = v
		if isNull(v) {
			delete(e.Metadata, k)
			continue
		}
		if s, ok := scalar(v, true); ok {
			if e.Metadata == nil {
				e.Metadata = make(map[string]string, len(md))
			}
			e.Metadata[k] = s
		} else {
			delete(e.Metadata, k)
		}
	}
}

// applyAttributes lets the message attributes override what the body said.
// The receiver never sets an empty attribute, so empty means absent.
func (e *Event) applyAttributes(attrs map[string]string) {
	e.Attributes = maps.Clone(attrs)
	set := func(dst *string, name string) {
		if v := attrs[name]; v != "" {
			*dst = v
		}
	}
	set(&e.WebhookID, publish.AttrWebhookID)
	// An event_type of unknown says the receiver could not read the body
	// (it reads it all or nothing); a type found here is better.
	if t := attrs[publish.AttrEventType]; t != "" && (t != publish.UnknownType || e.Type == Unknown) {
		e.Type, e.OriginalType = canonical(t)
		set(&e.OriginalType, publish.AttrEventTypeOriginal)
	}
	set(&e.Version, publish.AttrEventVersion)
	set(&e.ResourceID, publish.AttrResourceID)
	set(&e.RawTimestamp, publish.AttrEventTimestamp)
	set(&e.SignatureScheme, publish.AttrSignatureScheme)
	for k, v := range attrs {
		key, ok := strings.CutPrefix(k, publish.MetaPrefix)
		if !ok || key == "" || v == "" {
			continue
		}
		if e.Metadata == nil {
			e.Metadata = make(map[string]string)
		}
		e.Metadata[key] = v
	}
}
