package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ErrUnavailable reports that Pub/Sub did not acknowledge a message. Every
// publish error wraps it, so the caller answers 503 without inspecting gRPC
// codes.
var ErrUnavailable = errors.New("publish: Pub/Sub unavailable")

// Message is one event to publish.
type Message struct {
	Data       []byte
	Attributes map[string]string
	// OrderingKey is used only when the Publisher was built with Ordering.
	OrderingKey string
}

// Options configure a Publisher.
type Options struct {
	// Project and Topic name the topic (Topic is the id, not the full name).
	Project, Topic string
	// Timeout bounds how long the client retries one message before
	// giving up; it should not exceed the request deadline, so that a
	// message the receiver reported as failed is not published later.
	Timeout time.Duration
	// Ordering publishes with ordering keys (Message.OrderingKey).
	Ordering bool
	// CreateTopic creates the topic when it is missing. Meant for the
	// emulator and the embedded server, never for production.
	CreateTopic bool
	// ClientOptions are passed to the Pub/Sub client.
	ClientOptions []option.ClientOption
}

// Publisher publishes messages to one topic and waits for the server's
// acknowledgement. It is safe for concurrent use; build one per instance.
type Publisher struct {
	client   *pubsub.Client
	pub      *pubsub.Publisher
	ordering bool
}

// Settings tuned for one message at a time: a webhook delivery waits for its
// own message, so the client's 10 ms batching delay would be added to every
// answer. A bundle is sent as soon as it holds one message.
func publishSettings(timeout time.Duration) pubsub.PublishSettings {
	s := pubsub.DefaultPublishSettings
	s.CountThreshold = 1
	s.DelayThreshold = time.Millisecond
	if timeout > 0 {
		s.Timeout = timeout
	}
	return s
}

// New returns a Publisher on a Pub/Sub client. With PUBSUB_EMULATOR_HOST set
// the client talks to the emulator, as the client library does.
func New(ctx context.Context, opts Options) (*Publisher, error) {
	if opts.Project == "" || opts.Topic == "" {
		return nil, errors.New("publish: project and topic are required")
	}
	client, err := pubsub.NewClient(ctx, opts.Project, opts.ClientOptions...)
	if err != nil {
		return nil, fmt.Errorf("publish: client: %w", err)
	}
	if opts.CreateTopic {
		if err := ensureTopic(ctx, client, opts.Project, opts.Topic); err != nil {
			client.Close()
			return nil, err
		}
	}
	pub := client.Publisher(opts.Topic)
	pub.PublishSettings = publishSettings(opts.Timeout)
	pub.EnableMessageOrdering = opts.Ordering
	return &Publisher{client: client, pub: pub, ordering: opts.Ordering}, nil
}

// TopicName is the full resource name of a topic.
func TopicName(project, topic string) string {
	return "projects/" + project + "/topics/" + topic
}

func ensureTopic(ctx context.Context, client *pubsub.Client, project, topic string) error {
	name := TopicName(project, topic)
	_, err := client.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: name})
	if status.Code(err) == codes.NotFound {
		_, err = client.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: name})
		if status.Code(err) == codes.AlreadyExists {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("publish: topic %s: %w", name, err)
	}
	return nil
}

// Publish sends msg and returns the server-assigned message id once Pub/Sub
// has acknowledged it. Any failure, including ctx ending first, wraps
// ErrUnavailable.
func (p *Publisher) Publish(ctx context.Context, msg Message) (string, error) {
	m := &pubsub.Message{Data: msg.Data, Attributes: msg.Attributes}
	if p.ordering {
		m.OrderingKey = msg.OrderingKey
	}
	id, err := p.pub.Publish(ctx, m).Get(ctx)
	if err != nil {
		if m.OrderingKey != "" {
			// A failed ordered publish pauses its key; later events of the
			// same resource must not be refused because of it.
			p.pub.ResumePublish(m.OrderingKey)
		}
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return id, nil
}

// Stop sends what is still buffered, waits for it, and releases the client.
// Publish fails after Stop.
func (p *Publisher) Stop() error {
	p.pub.Stop()
	return p.client.Close()
}
