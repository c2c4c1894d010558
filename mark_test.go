package geminihook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/internal/faultproxy"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

// A Firestore fault between the publish and the mark must not leave the
// claim pending: the event is on Pub/Sub, and a pending claim would let a
// later retry publish it again once the lease ends. The mark is tried again
// within the settle budget, through a refused and a hung Firestore.
func TestMarkRetriedThroughAFirestoreFault(t *testing.T) {
	for _, mode := range []faultproxy.Mode{faultproxy.Refuse, faultproxy.BlackHole} {
		t.Run(mode.String(), func(t *testing.T) {
			proxy := faultproxy.Start(t, emulator.FirestoreHost(t))
			t.Setenv("FIRESTORE_EMULATOR_HOST", proxy.Addr())
			const fault = 1500 * time.Millisecond
			healed := make(chan struct{})
			// Published, then Firestore fails for a while, as if the fault
			// began just after Pub/Sub's ack.
			pub := publisherFunc(func() (string, error) {
				proxy.SetMode(mode)
				time.AfterFunc(fault, func() { proxy.SetMode(faultproxy.Forward); close(healed) })
				return "m-fault", nil
			})
			r := newRig(t, func(o *rigOptions) {
				o.env["FIRESTORE_EMULATOR_HOST"] = os.Getenv("FIRESTORE_EMULATOR_HOST")
				o.opts = append(o.opts, WithPublisher(pub, nil))
			})
			const id = "msg_mark_fault"
			start := time.Now()
			resp, answer := r.do(r.request(id, time.Now(), []byte(batchBody)))
			took := time.Since(start)
			<-healed
			if resp.StatusCode != http.StatusOK || decode(t, answer)["message_id"] != "m-fault" {
				t.Fatalf("answer %d %s, want 200 published", resp.StatusCode, answer)
			}
			c := r.claim(id)
			if c["state"] != "published" || c["message_id"] != "m-fault" {
				t.Errorf("claim after a %v Firestore %v during the mark: %v, want published with m-fault", fault, mode, c)
			}
			if took < fault || took > settleTimeout+time.Second {
				t.Errorf("answered after %v; want after the %v fault and within the %v settle budget", took, fault, settleTimeout)
			}
		})
	}
}

// A mark whose request hangs (a connection that went silent) is given up
// after markTry and tried again, within the settle budget, instead of
// waiting out the whole budget on the one request.
func TestHungMarkTriedAgain(t *testing.T) {
	store := &hangFirstMark{ClaimStore: dedupe.NewMemory(dedupe.Options{})}
	cfg, err := LoadConfig(env(map[string]string{"GEMINI_WEBHOOK_SECRETS": testSecretText}))
	if err != nil {
		t.Fatal(err)
	}
	rcv, err := New(context.Background(), cfg,
		WithClaimStore(store),
		WithPublisher(publisherFunc(func() (string, error) { return "m1", nil }), nil),
		WithLogOutput(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	defer rcv.Shutdown(context.Background())
	secret, _ := verify.ParseSecret(testSecretText)
	const id = "msg_hung_mark"
	w := httptest.NewRecorder()
	start := time.Now()
	rcv.Handler.ServeHTTP(w, signedRequest(secret, id, []byte(batchBody)))
	took := time.Since(start)
	if w.Code != http.StatusOK {
		t.Fatalf("answer %d %s", w.Code, w.Body)
	}
	if got := store.marks.Load(); got != 2 {
		t.Errorf("%d mark requests, want 2 (the hung one, then another)", got)
	}
	c, err := store.Claim(context.Background(), id, "batch.succeeded")
	if err != nil || c.State != dedupe.Duplicate {
		t.Errorf("a retry after the answer finds %+v %v, want a duplicate: the claim was left pending", c, err)
	}
	if took >= settleTimeout {
		t.Errorf("answered after %v, want before the %v settle budget ran out", took, settleTimeout)
	}
}

// hangFirstMark hangs the first MarkPublished until its context ends.
type hangFirstMark struct {
	ClaimStore
	marks atomic.Int32
}

func (s *hangFirstMark) MarkPublished(ctx context.Context, id string, attempt int, messageID string) error {
	if s.marks.Add(1) == 1 {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.ClaimStore.MarkPublished(ctx, id, attempt, messageID)
}

// The retry loop ends with its context.
func TestMarkGivesUpWithItsContext(t *testing.T) {
	h := &Handler{claims: failingMarks{}}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.markPublished(ctx, "msg_x", 1, "m1"); err == nil {
		t.Fatal("markPublished succeeded with a store that always fails")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("gave up after %v, want when its 300ms context ended", d)
	}
}

type failingMarks struct{ ClaimStore }

func (failingMarks) MarkPublished(context.Context, string, int, string) error {
	return publish.ErrUnavailable
}
