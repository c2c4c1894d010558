package dedupe_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"maps"
	"net"
	"regexp"
	"slices"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/dedupe/dedupetest"
	"github.com/geminihook/geminihook/internal/emulator"
)

const testProject = "geminihook-test"

// newFirestoreClient returns a client of the emulator; NewClient honours
// FIRESTORE_EMULATOR_HOST, which emulator.FirestoreHost has checked.
func newFirestoreClient(t *testing.T) *firestore.Client {
	t.Helper()
	emulator.FirestoreHost(t)
	client, err := firestore.NewClientWithDatabase(t.Context(), testProject, firestore.DefaultDatabaseID)
	if err != nil {
		t.Fatal(err)
	}
	if !client.UsesEmulator {
		t.Fatal("firestore client does not use the emulator")
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func TestFirestore(t *testing.T) {
	t.Parallel()
	client := newFirestoreClient(t)
	dedupetest.Run(t, func(t *testing.T, opts dedupe.Options) dedupetest.Store {
		return dedupe.NewFirestore(client, emulator.UniqueName("deliveries-"), opts)
	})
}

func TestFirestoreDocument(t *testing.T) {
	t.Parallel()
	client := newFirestoreClient(t)
	const (
		lease     = 30 * time.Second
		retention = 72 * time.Hour
	)
	now := time.Date(2030, 1, 2, 3, 4, 5, 6_000, time.UTC)
	coll := emulator.UniqueName("deliveries-")
	s := dedupe.NewFirestore(client, coll, dedupe.Options{
		Lease: lease, Retention: retention, Now: func() time.Time { return now },
	})
	const id = "bad\xffutf8/../msg"

	docID := dedupe.DocID(id)
	sum := sha256.Sum256([]byte(id))
	if want := hex.EncodeToString(sum[:]); docID != want || !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(docID) {
		t.Fatalf("DocID(%q) = %q, want %q", id, docID, want)
	}
	ref := client.Collection(coll).Doc(docID)
	read := func(t *testing.T) map[string]any {
		t.Helper()
		snap, err := ref.Get(t.Context())
		if err != nil {
			t.Fatalf("get claim document: %v", err)
		}
		return snap.Data()
	}
	check := func(t *testing.T, got, want map[string]any) {
		t.Helper()
		if g, w := slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)); !slices.Equal(g, w) {
			t.Fatalf("fields = %v, want %v", g, w)
		}
		for k, w := range want {
			g := got[k]
			if wt, ok := w.(time.Time); ok {
				if gt, ok := g.(time.Time); !ok || !gt.Equal(wt) {
					t.Errorf("%s = %#v, want time %v", k, g, wt)
				}
				continue
			}
			if g != w {
				t.Errorf("%s = %#v (%T), want %#v (%T)", k, g, g, w, w)
			}
		}
	}
	// Firestore strings are UTF-8: the field is readable, the id is the hash.
	const storedID = "bad\uFFFDutf8/../msg"

	c, err := s.Claim(t.Context(), id, "batch.succeeded")
	if err != nil || c.State != dedupe.Acquired {
		t.Fatalf("Claim = %+v, %v", c, err)
	}
	received := now
	check(t, read(t), map[string]any{
		"webhook_id":    storedID,
		"state":         "pending",
		"lease_until":   received.Add(lease),
		dedupe.TTLField: received.Add(retention),
		"event_type":    "batch.succeeded",
		"received_at":   received,
		"attempts":      int64(1),
	})
	if got := read(t); !got[dedupe.TTLField].(time.Time).Equal(got["received_at"].(time.Time).Add(retention)) {
		t.Errorf("expire_at %v is not received_at %v + retention", got[dedupe.TTLField], got["received_at"])
	}

	now = now.Add(lease)
	if c, err := s.Claim(t.Context(), id, "other.type"); err != nil || c.Attempt != 2 {
		t.Fatalf("takeover Claim = %+v, %v", c, err)
	}
	check(t, read(t), map[string]any{
		"webhook_id":    storedID,
		"state":         "pending",
		"lease_until":   now.Add(lease),
		dedupe.TTLField: received.Add(retention),
		"event_type":    "batch.succeeded",
		"received_at":   received,
		"attempts":      int64(2),
	})

	now = now.Add(time.Second)
	if err := s.MarkPublished(t.Context(), id, 2, "msg-1"); err != nil {
		t.Fatal(err)
	}
	check(t, read(t), map[string]any{
		"webhook_id":    storedID,
		"state":         "published",
		"lease_until":   received.Add(2 * lease),
		dedupe.TTLField: now.Add(retention),
		"event_type":    "batch.succeeded",
		"received_at":   received,
		"attempts":      int64(2),
		"message_id":    "msg-1",
		"published_at":  now,
	})

	t.Run("published without a claim", func(t *testing.T) {
		const id = "never-claimed"
		if err := s.MarkPublished(t.Context(), id, 1, "msg-2"); err != nil {
			t.Fatal(err)
		}
		ref = client.Collection(coll).Doc(dedupe.DocID(id))
		check(t, read(t), map[string]any{
			"webhook_id":    id,
			"state":         "published",
			dedupe.TTLField: now.Add(retention),
			"message_id":    "msg-2",
			"published_at":  now,
		})
	})
}

func TestFirestoreUnknownStateIsUnavailable(t *testing.T) {
	t.Parallel()
	client := newFirestoreClient(t)
	coll := emulator.UniqueName("deliveries-")
	s := dedupe.NewFirestore(client, coll, dedupe.Options{})
	const id = "id-1"
	_, err := client.Collection(coll).Doc(dedupe.DocID(id)).Create(t.Context(), map[string]any{
		"state": "archived", dedupe.TTLField: time.Now().Add(time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := s.Claim(t.Context(), id, "batch.succeeded"); !errors.Is(err, dedupe.ErrUnavailable) {
		t.Fatalf("Claim = %+v, %v; want ErrUnavailable", c, err)
	}
}

// Not parallel: it points FIRESTORE_EMULATOR_HOST, which NewClient reads, at
// a closed port.
func TestFirestoreUnreachableIsUnavailable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("FIRESTORE_EMULATOR_HOST", addr)
	client, err := firestore.NewClient(t.Context(), testProject)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	s := dedupe.NewFirestore(client, "deliveries", dedupe.Options{})

	const deadline = 500 * time.Millisecond
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Claim", func(ctx context.Context) error {
			_, err := s.Claim(ctx, "id-1", "batch.succeeded")
			return err
		}},
		{"MarkPublished", func(ctx context.Context) error { return s.MarkPublished(ctx, "id-1", 1, "msg-1") }},
		{"Release", func(ctx context.Context) error { return s.Release(ctx, "id-1", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), deadline)
			defer cancel()
			began := time.Now()
			err := tt.call(ctx)
			if !errors.Is(err, dedupe.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
			if took := time.Since(began); took > deadline+2*time.Second {
				t.Errorf("took %v with a deadline of %v", took, deadline)
			}
			t.Logf("after %v: %v", time.Since(began), err)
		})
	}
}

// An instance that dies inside a claim transaction leaves the document
// locked until Firestore gives up on the transaction, and a Create on it
// fails with Aborted. Retries of that id must still get their true answer,
// not 503: busy while the lease is live, duplicate once published.
func TestFirestoreAnswersBehindAnAbandonedTransaction(t *testing.T) {
	t.Parallel()
	client := newFirestoreClient(t)
	coll := emulator.UniqueName("deliveries-")
	s := dedupe.NewFirestore(client, coll, dedupe.Options{Lease: 30 * time.Second, Retention: time.Hour})
	ctx := t.Context()

	for _, published := range []bool{false, true} {
		id := "msg_locked_" + map[bool]string{false: "busy", true: "published"}[published]
		first, err := s.Claim(ctx, id, "batch.succeeded")
		if err != nil || first.State != dedupe.Acquired {
			t.Fatalf("first claim: %+v %v", first, err)
		}
		want := dedupe.Busy
		if published {
			if err := s.MarkPublished(ctx, id, first.Attempt, "m1"); err != nil {
				t.Fatal(err)
			}
			want = dedupe.Duplicate
		}

		// A transaction that reads the document and then hangs, as one
		// whose instance was killed does.
		locked, release := make(chan struct{}), make(chan struct{})
		txDone := make(chan error, 1)
		go func() {
			txDone <- client.RunTransaction(context.WithoutCancel(ctx), func(_ context.Context, tx *firestore.Transaction) error {
				if _, err := tx.Get(client.Collection(coll).Doc(dedupe.DocID(id))); err != nil {
					return err
				}
				close(locked)
				<-release
				return errors.New("abandoned")
			}, firestore.MaxAttempts(1))
		}()
		<-locked

		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		start := time.Now()
		got, err := s.Claim(actx, id, "batch.succeeded")
		took := time.Since(start)
		cancel()
		close(release)
		<-txDone
		if err != nil || got.State != want {
			t.Errorf("published=%v: claim behind an open transaction: %+v %v after %v, want state %v", published, got, err, took, want)
		}
	}
}
