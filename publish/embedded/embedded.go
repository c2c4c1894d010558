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

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"

	"github.com/geminihook/geminihook/publish"
)

// Project is the project id of the in-process server.
const Project = "geminihook-embedded"

// keep is how many published messages the server holds for readers before
// it forgets them, when no subscription would miss them. The messages are
// printed; the server's own list of them only grows.
const keep = 1024

// errStopped is returned by Publish after Stop.
var errStopped = errors.New("embedded Pub/Sub server stopped")

// Server is an in-process Pub/Sub server with the topic created. Its
// Publish hands each message to the server directly, as the Publish RPC
// would, without the client library and gRPC in between: in embedded mode
// they cost three times the receiver's own work per delivery, and show a
// newcomer nothing the deployed receiver does differently.
type Server struct {
	srv   *pstest.Server
	topic string // full resource name

	// out, when not nil, receives every message published through Publish.
	out io.Writer

	mu      sync.Mutex // serialises writes to out; guards the fields below
	held    int        // messages published since forget last ran
	stopped bool
}

// Start starts the server and creates topic on it. When out is not nil,
// every message published through s is written to out with FormatMessage
// once the server has accepted it.
func Start(ctx context.Context, topic string, out io.Writer) (*Server, error) {
	srv := pstest.NewServer()
	s := &Server{srv: srv, topic: publish.TopicName(Project, topic), out: out}
	if _, err := srv.GServer.CreateTopic(ctx, &pubsubpb.Topic{Name: s.topic}); err != nil {
		srv.Close()
		return nil, fmt.Errorf("embedded: topic %s: %w", s.topic, err)
	}
	return s, nil
}

// Publish publishes msg with its ordering key and returns the server's
// message id, then prints it. Failures wrap publish.ErrUnavailable, as
// publish.Publisher's do.
func (s *Server) Publish(ctx context.Context, msg publish.Message) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("%w: %w", publish.ErrUnavailable, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return "", fmt.Errorf("%w: %w", publish.ErrUnavailable, errStopped)
	}
	res, err := s.srv.GServer.Publish(ctx, &pubsubpb.PublishRequest{
		Topic:    s.topic,
		Messages: []*pubsubpb.PubsubMessage{{Data: msg.Data, Attributes: msg.Attributes, OrderingKey: msg.OrderingKey}},
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", publish.ErrUnavailable, err)
	}
	id := res.MessageIds[0]
	if s.out != nil {
		io.WriteString(s.out, FormatMessage(id, msg.Attributes, msg.Data))
	}
	if s.held++; s.held >= keep {
		s.held = 0
		s.forget(ctx)
	}
	return id, nil
}

// forget drops the server's record of the messages published so far, so
// that a long run holds bounded memory, unless a subscription exists: its
// reader may not have received them yet.
func (s *Server) forget(ctx context.Context) {
	subs, err := s.srv.GServer.ListTopicSubscriptions(ctx, &pubsubpb.ListTopicSubscriptionsRequest{Topic: s.topic})
	if err == nil && len(subs.Subscriptions) == 0 {
		s.srv.ClearMessages()
	}
}

// Addr is the address of the in-process server, for a client that wants
// to read what was published.
func (s *Server) Addr() string { return s.srv.Addr }

// Stop stops the server; Publish fails afterwards.
func (s *Server) Stop() error {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	return s.srv.Close()
}

// FormatMessage renders a message for a terminal: its id, attributes in key
// order, then the data.
func FormatMessage(id string, attrs map[string]string, data []byte) string {
	keys := make([]string, 0, len(attrs))
	size := len("--- Pub/Sub message \n  data: \n") + len(id) + len(data)
	for k, v := range attrs {
		keys = append(keys, k)
		size += len("  : \n") + len(k) + len(v)
	}
	sort.Strings(keys)
	// Built by hand: this runs for every delivery in embedded mode.
	var b strings.Builder
	b.Grow(size)
	b.WriteString("--- Pub/Sub message ")
	b.WriteString(id)
	b.WriteString("\n")
	for _, k := range keys {
		b.WriteString("  ")
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(attrs[k])
		b.WriteString("\n")
	}
	b.WriteString("  data: ")
	b.Write(data)
	b.WriteString("\n")
	return b.String()
}
