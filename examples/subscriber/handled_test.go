package subscriber

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/event"
	"github.com/geminihook/geminihook/internal/emulator"
)

// testHandled is the behaviour every Handled shares.
func testHandled(t *testing.T, newStore func(t *testing.T) Handled) {
	ctx := context.Background()
	t.Run("unknown id is not handled", func(t *testing.T) {
		t.Parallel()
		h := newStore(t)
		if seen, err := h.Has(ctx, "msg_new"); seen || err != nil {
			t.Errorf("Has = %v, %v; want false, nil", seen, err)
		}
	})
	t.Run("added id is handled, others are not", func(t *testing.T) {
		t.Parallel()
		h := newStore(t)
		if err := h.Add(ctx, "msg_a", event.BatchSucceeded); err != nil {
			t.Fatal(err)
		}
		if seen, err := h.Has(ctx, "msg_a"); !seen || err != nil {
			t.Errorf("Has(msg_a) = %v, %v; want true", seen, err)
		}
		if seen, err := h.Has(ctx, "msg_b"); seen || err != nil {
			t.Errorf("Has(msg_b) = %v, %v; want false", seen, err)
		}
	})
	t.Run("adding twice is not an error", func(t *testing.T) {
		t.Parallel()
		h := newStore(t)
		for range 2 {
			if err := h.Add(ctx, "msg_twice", event.VideoGenerated); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("any id, even one that is no valid document name", func(t *testing.T) {
		t.Parallel()
		h := newStore(t)
		for _, id := range []string{"a/b/../c", "__name__", ".", "ü " + string(make([]byte, 300))} {
			if err := h.Add(ctx, id, event.Unknown); err != nil {
				t.Fatalf("Add(%q): %v", id, err)
			}
			if seen, err := h.Has(ctx, id); !seen || err != nil {
				t.Errorf("Has(%q) = %v, %v", id, seen, err)
			}
		}
	})
	t.Run("concurrent use", func(t *testing.T) {
		t.Parallel()
		h := newStore(t)
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				id := fmt.Sprintf("msg_%d", i%4)
				if _, err := h.Has(ctx, id); err != nil {
					t.Error(err)
				}
				if err := h.Add(ctx, id, event.BatchFailed); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for i := range 4 {
			if seen, _ := h.Has(ctx, fmt.Sprintf("msg_%d", i)); !seen {
				t.Errorf("msg_%d not handled", i)
			}
		}
	})
}

func TestMemoryHandled(t *testing.T) {
	t.Parallel()
	testHandled(t, func(*testing.T) Handled { return NewMemoryHandled(100, 0) })
}

func TestMemoryHandledEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	m := NewMemoryHandled(2, time.Hour)
	m.Add(ctx, "a", "")
	m.Add(ctx, "b", "")
	m.Has(ctx, "a") // a is now more recent than b
	m.Add(ctx, "c", "")
	for id, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if seen, _ := m.Has(ctx, id); seen != want {
			t.Errorf("Has(%s) = %v, want %v", id, seen, want)
		}
	}
	if m.Len() != 2 {
		t.Errorf("Len = %d, want the capacity 2", m.Len())
	}
}

func TestMemoryHandledForgetsAfterTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 1, 22, 12, 0, 0, 0, time.UTC)
	m := NewMemoryHandled(10, time.Hour)
	m.now = func() time.Time { return now }
	m.Add(ctx, "a", "")
	now = now.Add(time.Hour - time.Nanosecond)
	if seen, _ := m.Has(ctx, "a"); !seen {
		t.Error("forgotten before its TTL")
	}
	now = now.Add(time.Nanosecond)
	if seen, _ := m.Has(ctx, "a"); seen {
		t.Error("remembered past its TTL")
	}
	if m.Len() != 0 {
		t.Errorf("Len = %d, want the expired id dropped", m.Len())
	}
}

func TestNewMemoryHandledDefaults(t *testing.T) {
	t.Parallel()
	m := NewMemoryHandled(0, 0)
	if m.capacity != 1 || m.ttl != DefaultMemoryTTL {
		t.Errorf("capacity %d, ttl %v", m.capacity, m.ttl)
	}
}

// newFirestoreClient returns a client of the emulator; NewClient honours
// FIRESTORE_EMULATOR_HOST, which emulator.FirestoreHost has checked.
func newFirestoreClient(t *testing.T) *firestore.Client {
	t.Helper()
	emulator.FirestoreHost(t)
	client, err := firestore.NewClientWithDatabase(context.Background(), "geminihook-test", firestore.DefaultDatabaseID)
	if err != nil {
		t.Fatal(err)
	}
	if !client.UsesEmulator {
		t.Fatal("firestore client does not use the emulator")
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func TestFirestoreHandled(t *testing.T) {
	t.Parallel()
	client := newFirestoreClient(t)
	testHandled(t, func(*testing.T) Handled {
		return NewFirestoreHandled(client, emulator.UniqueName("handled-"), 0)
	})
}

func TestFirestoreHandledDocument(t *testing.T) {
	t.Parallel()
	client := newFirestoreClient(t)
	coll := emulator.UniqueName("handled-")
	h := NewFirestoreHandled(client, coll, 48*time.Hour)
	now := time.Date(2026, 1, 22, 12, 0, 0, 123_000, time.UTC)
	h.now = func() time.Time { return now }
	const id = "msg_2f1c/../x"
	if err := h.Add(context.Background(), id, event.BatchSucceeded); err != nil {
		t.Fatal(err)
	}
	snap, err := client.Collection(coll).Doc(dedupe.DocID(id)).Get(context.Background())
	if err != nil {
		t.Fatalf("document named hex SHA-256 of the id: %v", err)
	}
	var doc handledDoc
	if err := snap.DataTo(&doc); err != nil {
		t.Fatal(err)
	}
	want := handledDoc{WebhookID: id, EventType: "batch.succeeded", HandledAt: now, ExpireAt: now.Add(48 * time.Hour)}
	if !doc.HandledAt.Equal(want.HandledAt) || !doc.ExpireAt.Equal(want.ExpireAt) ||
		doc.WebhookID != want.WebhookID || doc.EventType != want.EventType {
		t.Errorf("document %+v, want %+v", doc, want)
	}
	// A second Add (a concurrent duplicate) leaves the first record.
	h.now = func() time.Time { return now.Add(time.Hour) }
	if err := h.Add(context.Background(), id, event.BatchSucceeded); err != nil {
		t.Fatal(err)
	}
	snap, _ = client.Collection(coll).Doc(dedupe.DocID(id)).Get(context.Background())
	if got, _ := snap.DataAt("handled_at"); !got.(time.Time).Equal(now) {
		t.Errorf("handled_at = %v after a second Add, want the first %v", got, now)
	}
}

// Two instances share the Firestore record: the second skips an event the
// first handled.
func TestFirestoreDuplicateAcrossInstances(t *testing.T) {
	t.Parallel()
	client := newFirestoreClient(t)
	coll := emulator.UniqueName("handled-")
	first, rec1, _ := newTestSubscriber(NewFirestoreHandled(client, coll, 0))
	second, rec2, logs2 := newTestSubscriber(NewFirestoreHandled(client, coll, 0))
	body := geminiBody("interaction.completed", `{"id":"interactions/9"}`)
	attrs := receiverAttributes(body, emulator.UniqueName("msg_"), "v1a")
	if err := first.Handle(context.Background(), pubsubCloudEvent(t, body, attrs, "1")); err != nil {
		t.Fatal(err)
	}
	if err := second.Handle(context.Background(), pubsubCloudEvent(t, body, attrs, "2")); err != nil {
		t.Fatal(err)
	}
	if rec1.total() != 1 || rec2.total() != 0 {
		t.Errorf("first instance handled %d, second %d; want 1 and 0", rec1.total(), rec2.total())
	}
	if got := outcomes(t, logs2.String()); len(got) != 1 || got[0] != outcomeDuplicate {
		t.Errorf("second instance outcomes %v, want duplicate", got)
	}
}

// With GOOGLE_CLOUD_PROJECT set, FromEnv keeps handled ids in Firestore.
func TestFromEnvWithProjectUsesFirestore(t *testing.T) {
	t.Parallel()
	emulator.FirestoreHost(t)
	coll := emulator.UniqueName("handled-")
	env := map[string]string{"GOOGLE_CLOUD_PROJECT": "geminihook-test", "SUBSCRIBER_COLLECTION": coll}
	s, err := FromEnv(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	f, ok := s.Handled.(*FirestoreHandled)
	if !ok {
		t.Fatalf("Handled is %T, want *FirestoreHandled", s.Handled)
	}
	if f.coll.ID != coll || f.retention != DefaultRetention {
		t.Errorf("collection %q, retention %v", f.coll.ID, f.retention)
	}
	if err := f.Add(context.Background(), "msg_env", event.BatchExpired); err != nil {
		t.Fatal(err)
	}
	if seen, err := f.Has(context.Background(), "msg_env"); !seen || err != nil {
		t.Errorf("Has = %v, %v", seen, err)
	}
}
