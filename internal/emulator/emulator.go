// Package emulator gives tests the address of the Firestore and Pub/Sub
// emulators that `make test` starts.
//
// Outside CI a test whose emulator is not configured is skipped, so that
// `go test ./...` works on a laptop without the Cloud SDK. With CI set, a
// missing or unreachable emulator fails the test: integration tests never
// pass by not running.
package emulator

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// FirestoreHost returns FIRESTORE_EMULATOR_HOST after checking that the
// emulator accepts connections.
func FirestoreHost(t testing.TB) string {
	t.Helper()
	return host(t, "FIRESTORE_EMULATOR_HOST")
}

// PubSubHost returns PUBSUB_EMULATOR_HOST after checking that the emulator
// accepts connections.
func PubSubHost(t testing.TB) string {
	t.Helper()
	return host(t, "PUBSUB_EMULATOR_HOST")
}

func host(t testing.TB, name string) string {
	t.Helper()
	addr := os.Getenv(name)
	if addr == "" {
		unavailable(t, name+" is not set; run the tests with `make test`, which starts the emulators")
		return ""
	}
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		unavailable(t, name+"="+addr+" is not reachable: "+err.Error())
		return ""
	}
	conn.Close()
	return addr
}

func unavailable(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// UniqueName returns prefix followed by random hex, for collections, topics
// and projects that must not collide between tests sharing one emulator.
func UniqueName(prefix string) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b)
}

// Receive pulls from subscription sub until want messages have arrived (or
// timeout passed), acknowledging each, then listens for quiet more so that
// an extra message is seen too. With want 0 it listens for quiet only.
func Receive(t testing.TB, c *pubsub.Client, sub string, want int, quiet, timeout time.Duration) []*pubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if want == 0 {
		time.AfterFunc(quiet, cancel)
	}
	var mu sync.Mutex
	var got []*pubsub.Message
	err := c.Subscriber(sub).Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		mu.Lock()
		defer mu.Unlock()
		got = append(got, m)
		if len(got) == want {
			time.AfterFunc(quiet, cancel)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// Buffer is a bytes.Buffer safe for concurrent writers, for capturing a
// process's or a logger's output in tests.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
