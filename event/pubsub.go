package event

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2/event"
)

// FromCloudEvent reads the CloudEvent that Pub/Sub (through Eventarc) sends
// to a CloudEvent function, type google.cloud.pubsub.topic.v1.messagePublished,
// whose data is
//
//	{"message": {"data": "<base64 body>", "attributes": {...},
//	             "messageId": "...", "publishTime": "..."},
//	 "subscription": "projects/.../subscriptions/..."}
//
// and decodes the message as [FromPubSub] does, setting MessageID and
// PublishTime too. It fails with an error wrapping [ErrNotPubSub] and a nil
// Event when the CloudEvent carries no Pub/Sub message; otherwise errors are
// as for Parse and the Event is never nil.
func FromCloudEvent(ce cloudevents.Event) (*Event, error) {
	ev, err := fromPush(ce.Data())
	if ev == nil {
		return nil, fmt.Errorf("%w (CloudEvent id %q, type %q)", err, ce.ID(), ce.Type())
	}
	// Eventarc sets the CloudEvent's id and time to the message's.
	if ev.MessageID == "" {
		ev.MessageID = ce.ID()
	}
	if ev.PublishTime.IsZero() {
		ev.PublishTime = ce.Time()
	}
	return ev, err
}

// FromPush reads the body of a request that a Pub/Sub push subscription
// sends (the same JSON as the data of FromCloudEvent's CloudEvent), for a
// subscriber that is a plain HTTP service. Errors are as for FromCloudEvent.
func FromPush(body []byte) (*Event, error) {
	return fromPush(body)
}

// pushBody is a push request body, and the data of a messagePublished
// CloudEvent. Pub/Sub writes the message's id and publish time both in
// camelCase and in snake_case; either is read.
type pushBody struct {
	Message *struct {
		Data             *string           `json:"data"`
		Attributes       map[string]string `json:"attributes"`
		MessageID        string            `json:"messageId"`
		MessageIDSnake   string            `json:"message_id"`
		PublishTime      string            `json:"publishTime"`
		PublishTimeSnake string            `json:"publish_time"`
	} `json:"message"`
}

func fromPush(raw []byte) (*Event, error) {
	var p pushBody
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotPubSub, err)
	}
	m := p.Message
	if m == nil {
		return nil, fmt.Errorf("%w: no message", ErrNotPubSub)
	}
	var data []byte
	if m.Data != nil {
		var err error
		if data, err = decodeBase64(*m.Data); err != nil {
			return nil, fmt.Errorf("%w: message.data is not base64", ErrNotPubSub)
		}
	}
	ev, err := FromPubSub(data, m.Attributes)
	ev.MessageID = first(m.MessageID, m.MessageIDSnake)
	if t, perr := time.Parse(time.RFC3339Nano, first(m.PublishTime, m.PublishTimeSnake)); perr == nil {
		ev.PublishTime = t
	}
	return ev, err
}

// decodeBase64 reads Pub/Sub's standard, padded base64, and the unpadded
// and URL-safe variants that hand-written test payloads use.
func decodeBase64(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
