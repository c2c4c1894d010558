// Package embedded runs an in-process Pub/Sub server for the receiver's
// embedded mode, so that a newcomer sees the whole flow with one command and
// no Google Cloud project. Nothing it holds is durable.
//
// It lives apart from package publish so that the deployed function does not
// link the fake server.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/geminihook/geminihook/publish"
)

// Project is the project id of the in-process server.
const Project = "geminihook-embedded"

// Server is an in-process Pub/Sub server with the topic created and a
// publisher on it.
type Server struct {
	// Publisher publishes to the topic through the same client code as
	// production.
	*publish.Publisher
	srv   *pstest.Server
	print func()
}

// Start starts the server and creates topic on it. When out is not nil,
// every message the server accepts is received on a subscription and
// written to out with FormatMessage.
func Start(ctx context.Context, topic string, timeout time.Duration, out io.Writer) (*Server, error) {
	srv := pstest.NewServer()
	s := &Server{srv: srv}
	var err error
	s.Publisher, err = publish.New(ctx, publish.Options{
		Project:       Project,
		Topic:         topic,
		Timeout:       timeout,
		CreateTopic:   true,
		ClientOptions: clientOptions(srv.Addr),
	})
	if err != nil {
		s.Stop()
		return nil, err
	}
	if out != nil {
		if s.print, err = printMessages(ctx, srv, topic, out); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Addr is the address of the in-process server, for a client that wants
// to read what was published.
func (s *Server) Addr() string { return s.srv.Addr }

// Stop flushes the publisher, lets the printer finish, and stops the server.
func (s *Server) Stop() error {
	var err error
	if s.Publisher != nil {
		err = s.Publisher.Stop()
	}
	if s.print != nil {
		s.print()
	}
	return errors.Join(err, s.srv.Close())
}

// clientOptions connect a client to the in-process server; each client owns
// its connection, so closing one leaves the others working.
func clientOptions(addr string) []option.ClientOption {
	return []option.ClientOption{
		option.WithEndpoint(addr),
		option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())),
	}
}

func printMessages(ctx context.Context, srv *pstest.Server, topic string, out io.Writer) (stop func(), err error) {
	client, err := pubsub.NewClient(ctx, Project, clientOptions(srv.Addr)...)
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	sub := "projects/" + Project + "/subscriptions/" + topic + "-print"
	_, err = client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:  sub,
		Topic: publish.TopicName(Project, topic),
	})
	if err != nil {
		client.Close()
		return nil, fmt.Errorf("embedded: subscription: %w", err)
	}
	rctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var printed atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		client.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
			mu.Lock()
			io.WriteString(out, FormatMessage(m.ID, m.Attributes, m.Data))
			mu.Unlock()
			m.Ack()
			printed.Add(1)
		})
	}()
	return func() {
		// Messages acknowledged just before Stop may still be on their way
		// to the subscriber: wait (boundedly) until each has been printed.
		deadline := time.Now().Add(2 * time.Second)
		for printed.Load() < int64(len(srv.Messages())) && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		client.Close()
	}, nil
}

// FormatMessage renders a message for a terminal: its id, attributes in key
// order, then the data.
func FormatMessage(id string, attrs map[string]string, data []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- Pub/Sub message %s\n", id)
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", k, attrs[k])
	}
	fmt.Fprintf(&b, "  data: %s\n", data)
	return b.String()
}
