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
	"io"
	"sort"
	"strings"
	"sync"
	"time"

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
	srv *pstest.Server

	// out, when not nil, receives every message published through Publish.
	out io.Writer
	mu  sync.Mutex // serialises writes to out
}

// Start starts the server and creates topic on it. When out is not nil,
// every message published through s is written to out with FormatMessage
// once the server has acknowledged it.
func Start(ctx context.Context, topic string, timeout time.Duration, out io.Writer) (*Server, error) {
	srv := pstest.NewServer()
	s := &Server{srv: srv, out: out}
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
	return s, nil
}

// Publish publishes msg, as publish.Publisher.Publish does, and prints it
// when the server prints. Printing here rather than from a subscription
// keeps the server from holding a backlog: its subscriptions rescan every
// unacknowledged message every few milliseconds, so a printer that fell
// behind a burst of deliveries slowed the whole process down.
func (s *Server) Publish(ctx context.Context, msg publish.Message) (string, error) {
	id, err := s.Publisher.Publish(ctx, msg)
	if err == nil && s.out != nil {
		text := FormatMessage(id, msg.Attributes, msg.Data)
		s.mu.Lock()
		io.WriteString(s.out, text)
		s.mu.Unlock()
	}
	return id, err
}

// Addr is the address of the in-process server, for a client that wants
// to read what was published.
func (s *Server) Addr() string { return s.srv.Addr }

// Stop flushes the publisher and stops the server.
func (s *Server) Stop() error {
	var err error
	if s.Publisher != nil {
		err = s.Publisher.Stop()
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
