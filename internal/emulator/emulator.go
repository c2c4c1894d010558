// Package emulator gives tests the address of the Firestore and Pub/Sub
// emulators that `make test` starts.
//
// Outside CI a test whose emulator is not configured is skipped, so that
// `go test ./...` works on a laptop without the Cloud SDK. With CI set, a
// missing or unreachable emulator fails the test: integration tests never
// pass by not running.
package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"
	"time"
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
