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
	// Timeout, when set, bounds one Publish call with its retries, on top
	// of the caller's context.
	Timeout time.Duration
	// Ordering publishes with ordering keys (Message.OrderingKey).
	Ordering bool
	// CreateTopic creates the topic when it is missing. Meant for the
	// emulator, never for production.
	CreateTopic bool
	// ClientOptions are passed to the Pub/Sub client.
	ClientOptions []option.ClientOption
}

// Publisher publishes messages to one topic and waits for the server's
// acknowledgement. It is safe for concurrent use; build one per instance.
//
// Each message is sent in a Publish request of its own, on the caller's
// context, through the client's generated API client rather than its
// batching publisher. A webhook delivery waits for its own message, so
// batching would only add its delay; and the batching publisher keeps a
// message whose caller has given up and sends it later, even when it is
// stopped, which would publish an event after the receiver answered 503 and
// released its claim: a certain duplicate. Here a publish that failed is
// over, except for a request already on the wire when its deadline passed.
type Publisher struct {
	client   *pubsub.Client
	topic    string // full resource name
	timeout  time.Duration
	ordering bool
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
	return &Publisher{
		client:   client,
		topic:    TopicName(opts.Project, opts.Topic),
		timeout:  opts.Timeout,
		ordering: opts.Ordering,
	}, nil
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
// has acknowledged it. Transient failures are retried with backoff until
// ctx or the Publisher's Timeout ends. Any failure wraps ErrUnavailable.
func (p *Publisher) Publish(ctx context.Context, msg Message) (string, error) {
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	m := &pubsubpb.PubsubMessage{Data: msg.Data, Attributes: msg.Attributes}
	if p.ordering {
		// Ordering keys order messages on the server; nothing is held or
		// paused here, so a failed publish blocks no later one.
		m.OrderingKey = msg.OrderingKey
	}
	res, err := p.client.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{
		Topic:    p.topic,
		Messages: []*pubsubpb.PubsubMessage{m},
	})
	if err == nil && len(res.GetMessageIds()) != 1 {
		err = fmt.Errorf("publish: %d message ids for one message", len(res.GetMessageIds()))
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return res.MessageIds[0], nil
}

// Stop releases the client. Publish calls under way when it is called fail;
// the receiver stops only once its deliveries are answered, so none is.
func (p *Publisher) Stop() error {
	return p.client.Close()
}
