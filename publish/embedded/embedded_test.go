package embedded

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/geminihook/geminihook/publish"
)

func TestPublishPrintsEachMessageOnce(t *testing.T) {
	var out bytes.Buffer
	s, err := Start(context.Background(), "events", &out)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	id, err := s.Publish(context.Background(), publish.Message{Data: []byte(`{"a":1}`), Attributes: map[string]string{"webhook_id": "msg_1"}})
	if err != nil || id == "" {
		t.Fatalf("Publish: %q %v", id, err)
	}
	want := FormatMessage(id, map[string]string{"webhook_id": "msg_1"}, []byte(`{"a":1}`))
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
	if got := s.srv.Message(id); got == nil || string(got.Data) != `{"a":1}` || got.Topic != publish.TopicName(Project, "events") {
		t.Errorf("server holds %+v", got)
	}
}

// A long embedded run must not hold every message it ever published.
func TestServerForgetsPrintedMessages(t *testing.T) {
	s, err := Start(context.Background(), "events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	for i := range 3 * keep {
		if _, err := s.Publish(context.Background(), publish.Message{Data: []byte("x")}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	if n := len(s.srv.Messages()); n >= keep {
		t.Errorf("server holds %d of %d messages, want fewer than %d", n, 3*keep, keep)
	}
}

// With a subscription, the server keeps what its reader has not received.
func TestServerKeepsMessagesForASubscription(t *testing.T) {
	s, err := Start(context.Background(), "events", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	sub := &pubsubpb.Subscription{Name: "projects/" + Project + "/subscriptions/reader", Topic: s.topic}
	if _, err := s.srv.GServer.CreateSubscription(context.Background(), sub); err != nil {
		t.Fatal(err)
	}
	for range keep + 10 {
		if _, err := s.Publish(context.Background(), publish.Message{Data: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.srv.GServer.Pull(context.Background(), &pubsubpb.PullRequest{Subscription: sub.Name, MaxMessages: 2 * keep})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ReceivedMessages) != keep+10 {
		t.Errorf("subscription received %d messages, want %d", len(res.ReceivedMessages), keep+10)
	}
}

func TestPublishFailsAsUnavailable(t *testing.T) {
	s, err := Start(context.Background(), "events", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Publish(ctx, publish.Message{Data: []byte("x")}); !errors.Is(err, publish.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("done context: %v", err)
	}
	s.Stop()
	if _, err := s.Publish(context.Background(), publish.Message{Data: []byte("x")}); !errors.Is(err, publish.ErrUnavailable) || !strings.Contains(err.Error(), "stopped") {
		t.Errorf("after Stop: %v", err)
	}
}
