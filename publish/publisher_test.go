package publish_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/internal/faultproxy"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/publish/embedded"
)

// backend is one Pub/Sub server the publisher conformance suite runs on: a
// publisher to test and a client to read what arrived.
type backend struct {
	pub interface {
		Publish(context.Context, publish.Message) (string, error)
	}
	stop    func() error
	reader  *pubsub.Client
	project string
	topic   string
}

// The in-process server and the emulator pass the same suite.
func TestPublisherConformance(t *testing.T) {
	backends := map[string]func(t *testing.T, ordering bool) backend{
		"embedded": func(t *testing.T, ordering bool) backend {
			topic := emulator.UniqueName("t-")
			srv, err := embedded.Start(context.Background(), topic, nil)
			if err != nil {
				t.Fatal(err)
			}
			reader, err := pubsub.NewClient(context.Background(), embedded.Project,
				option.WithEndpoint(srv.Addr()), option.WithoutAuthentication(),
				option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reader.Close() })
			return backend{srv, srv.Stop, reader, embedded.Project, topic}
		},
		"emulator": func(t *testing.T, ordering bool) backend {
			emulator.PubSubHost(t)
			topic := emulator.UniqueName("t-")
			pub, err := publish.New(context.Background(), publish.Options{
				Project: "geminihook-test", Topic: topic, Timeout: 5 * time.Second, CreateTopic: true, Ordering: ordering,
			})
			if err != nil {
				t.Fatal(err)
			}
			reader, err := pubsub.NewClient(context.Background(), "geminihook-test")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { reader.Close() })
			return backend{pub, pub.Stop, reader, "geminihook-test", topic}
		},
	}
	for name, newBackend := range backends {
		t.Run(name, func(t *testing.T) {
			t.Run("publish waits for the server and delivers data and attributes", func(t *testing.T) {
				b := newBackend(t, false)
				defer b.stop()
				sub := subscribe(t, b)
				msg := publish.Message{Data: []byte("raw \x00 body"), Attributes: map[string]string{"webhook_id": "msg_1", "event_type": "batch.succeeded"}}
				id, err := b.pub.Publish(context.Background(), msg)
				if err != nil || id == "" {
					t.Fatalf("Publish: %q %v", id, err)
				}
				got := receive(t, b.reader, sub, 1)
				if got[0].ID != id || !bytes.Equal(got[0].Data, msg.Data) || got[0].Attributes["webhook_id"] != "msg_1" || len(got[0].Attributes) != 2 {
					t.Fatalf("received %+v, want id %s and the message as published", got[0], id)
				}
			})
			t.Run("ordering key", func(t *testing.T) {
				b := newBackend(t, true)
				defer b.stop()
				sub := subscribe(t, b)
				if _, err := b.pub.Publish(context.Background(), publish.Message{Data: []byte("x"), OrderingKey: "batch_1"}); err != nil {
					t.Fatal(err)
				}
				if got := receive(t, b.reader, sub, 1); got[0].OrderingKey != "batch_1" {
					t.Fatalf("ordering key %q", got[0].OrderingKey)
				}
			})
			t.Run("publish after Stop fails as unavailable", func(t *testing.T) {
				b := newBackend(t, false)
				if err := b.stop(); err != nil {
					t.Fatalf("Stop: %v", err)
				}
				if _, err := b.pub.Publish(context.Background(), publish.Message{Data: []byte("x")}); !errors.Is(err, publish.ErrUnavailable) {
					t.Fatalf("Publish after Stop: %v, want ErrUnavailable", err)
				}
			})
			t.Run("a done context fails as unavailable", func(t *testing.T) {
				b := newBackend(t, false)
				defer b.stop()
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				if _, err := b.pub.Publish(ctx, publish.Message{Data: []byte("x")}); !errors.Is(err, publish.ErrUnavailable) {
					t.Fatalf("Publish with a cancelled context: %v, want ErrUnavailable", err)
				}
			})
		})
	}
}

func subscribe(t *testing.T, b backend) string {
	t.Helper()
	sub := "projects/" + b.project + "/subscriptions/" + b.topic
	_, err := b.reader.SubscriptionAdminClient.CreateSubscription(context.Background(), &pubsubpb.Subscription{
		Name: sub, Topic: publish.TopicName(b.project, b.topic), EnableMessageOrdering: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

func receive(t *testing.T, c *pubsub.Client, sub string, n int) []*pubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var got []*pubsub.Message
	c.Subscriber(sub).Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		got = append(got, m)
		if len(got) == n {
			cancel()
		}
	})
	if len(got) != n {
		t.Fatalf("received %d messages, want %d", len(got), n)
	}
	return got
}

// A publisher whose server is gone answers ErrUnavailable within its
// timeout instead of hanging.
func TestPublishToUnreachableServer(t *testing.T) {
	t.Setenv("PUBSUB_EMULATOR_HOST", "")
	pub, err := publish.New(context.Background(), publish.Options{
		Project: "p", Topic: "events", Timeout: time.Second,
		ClientOptions: []option.ClientOption{
			option.WithEndpoint("127.0.0.1:1"), option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Stop()
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = pub.Publish(ctx, publish.Message{Data: []byte("x")})
	if !errors.Is(err, publish.ErrUnavailable) {
		t.Fatalf("err %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v with a 1s publish timeout", d)
	}
}

// A failed ordered publish must not leave its key paused (the client
// library's batching publisher pauses it until resumed): the next event of
// the same resource is published once Pub/Sub is back.
func TestOrderedKeyResumedAfterFailure(t *testing.T) {
	emulator.PubSubHost(t)
	proxy := faultproxy.Start(t, os.Getenv("PUBSUB_EMULATOR_HOST"))
	t.Setenv("PUBSUB_EMULATOR_HOST", proxy.Addr())
	pub, err := publish.New(context.Background(), publish.Options{
		Project: "geminihook-test", Topic: emulator.UniqueName("t-"), Timeout: time.Second, CreateTopic: true, Ordering: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Stop()
	msg := publish.Message{Data: []byte("x"), OrderingKey: "batches/1"}
	proxy.SetMode(faultproxy.Refuse)
	if _, err := pub.Publish(context.Background(), msg); !errors.Is(err, publish.ErrUnavailable) {
		t.Fatalf("with Pub/Sub down: %v, want ErrUnavailable", err)
	}
	proxy.SetMode(faultproxy.Forward)
	var id string
	for deadline := time.Now().Add(20 * time.Second); id == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		id, err = pub.Publish(context.Background(), msg)
	}
	if id == "" {
		t.Fatalf("the key stayed paused after Pub/Sub came back: %v", err)
	}
}

// A publish that failed is over: the receiver has answered 503 and released
// the claim, so a message sent later, when Pub/Sub is reachable again or the
// publisher is stopped and flushed, would be a certain duplicate.
func TestFailedPublishIsNeverSentLater(t *testing.T) {
	for _, mode := range []faultproxy.Mode{faultproxy.Refuse, faultproxy.BlackHole} {
		t.Run(mode.String(), func(t *testing.T) {
			emulator.PubSubHost(t)
			const project = "geminihook-test"
			topic := emulator.UniqueName("t-")
			reader, err := pubsub.NewClient(context.Background(), project)
			if err != nil {
				t.Fatal(err)
			}
			defer reader.Close()
			proxy := faultproxy.Start(t, os.Getenv("PUBSUB_EMULATOR_HOST"))
			t.Setenv("PUBSUB_EMULATOR_HOST", proxy.Addr())
			pub, err := publish.New(context.Background(), publish.Options{Project: project, Topic: topic, Timeout: time.Second, CreateTopic: true})
			if err != nil {
				t.Fatal(err)
			}
			sub := subscribe(t, backend{reader: reader, project: project, topic: topic})

			// Many deliveries at once, as on a busy night: the batching
			// publisher queues what its handlers cannot take yet.
			proxy.SetMode(mode)
			const n = 200
			errs := make(chan error, n)
			for range n {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), time.Second)
					defer cancel()
					_, err := pub.Publish(ctx, publish.Message{Data: []byte("failed")})
					errs <- err
				}()
			}
			for range n {
				if err := <-errs; !errors.Is(err, publish.ErrUnavailable) {
					t.Fatalf("with Pub/Sub %v: %v, want ErrUnavailable", mode, err)
				}
			}
			proxy.SetMode(faultproxy.Forward)
			time.Sleep(2 * time.Second)
			if err := pub.Stop(); err != nil {
				t.Logf("Stop: %v", err)
			}

			rctx, rcancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer rcancel()
			var got []string
			reader.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
				m.Ack()
				got = append(got, string(m.Data))
			})
			if len(got) != 0 {
				t.Errorf("%d of %d publishes that failed reached Pub/Sub later", len(got), n)
			}
		})
	}
}
