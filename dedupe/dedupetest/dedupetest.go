// Package dedupetest is the conformance suite of claim stores: every backend
// of package dedupe passes [Run], so they keep one semantics.
package dedupetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geminihook/geminihook/dedupe"
)

// Store is a claim store under test.
type Store interface {
	Claim(ctx context.Context, webhookID, eventType string) (dedupe.Claim, error)
	MarkPublished(ctx context.Context, webhookID string, attempt int, messageID string) error
	Release(ctx context.Context, webhookID string, attempt int) error
}

// The suite's options. Retention is far longer than Lease, as in production.
const (
	lease     = 30 * time.Second
	retention = time.Hour
)

// start has nanoseconds below the stores' microsecond resolution, so the
// suite checks that a lease reads back exactly as it was granted.
var start = time.Date(2030, 1, 2, 3, 4, 5, 123_456_789, time.UTC)

// Run runs the suite. newStore returns an empty store with opts; it is
// called once per subtest, possibly from parallel subtests.
func Run(t *testing.T, newStore func(t *testing.T, opts dedupe.Options) Store) {
	setup := func(t *testing.T) (Store, *clock) {
		t.Helper()
		t.Parallel()
		c := &clock{now: start}
		return newStore(t, dedupe.Options{Lease: lease, Retention: retention, Now: c.Now}), c
	}
	// granted is the lease the stores grant at c's time: they truncate the
	// clock to microseconds.
	granted := func(c *clock) time.Time {
		return c.Now().Truncate(time.Microsecond).Add(lease)
	}

	tests := []struct {
		name string
		run  func(t *testing.T, s Store, c *clock)
	}{
		{"new claim is acquired with attempt 1", func(t *testing.T, s Store, c *clock) {
			want := dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)}
			expect(t, s, "id-1", want)
		}},
		{"claim during the lease is busy until its end", func(t *testing.T, s Store, c *clock) {
			acq := expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Busy, LeaseUntil: acq.LeaseUntil})
			c.Advance(lease - time.Microsecond)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Busy, LeaseUntil: acq.LeaseUntil})
		}},
		{"event type is not part of the identity", func(t *testing.T, s Store, c *clock) {
			acq := claim(t, s, "id-1", "batch.succeeded")
			got := claim(t, s, "id-1", "other.type")
			if got.State != dedupe.Busy || !got.LeaseUntil.Equal(acq.LeaseUntil) {
				t.Fatalf("second claim with another event type = %+v, want busy", got)
			}
		}},
		{"expired lease is taken over with the next attempt", func(t *testing.T, s Store, c *clock) {
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
			c.Advance(lease)
			second := expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 2, LeaseUntil: granted(c)})
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Busy, LeaseUntil: second.LeaseUntil})
			c.Advance(lease + time.Second)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 3, LeaseUntil: granted(c)})
		}},
		{"published claim is a duplicate with its message id", func(t *testing.T, s Store, c *clock) {
			acq := claim(t, s, "id-1", "batch.succeeded")
			markPublished(t, s, "id-1", acq.Attempt, "msg-1")
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-1"})
			// Long after the lease, until retention ends, it stays published.
			c.Advance(retention - 2*time.Microsecond)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-1"})
		}},
		{"empty message id is kept", func(t *testing.T, s Store, c *clock) {
			acq := claim(t, s, "id-1", "batch.succeeded")
			markPublished(t, s, "id-1", acq.Attempt, "")
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Duplicate})
		}},
		{"released claim is acquired again", func(t *testing.T, s Store, c *clock) {
			acq := claim(t, s, "id-1", "batch.succeeded")
			release(t, s, "id-1", acq.Attempt)
			c.Advance(time.Second)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
		}},
		{"stale holder cannot release the claim that took over", func(t *testing.T, s Store, c *clock) {
			claim(t, s, "id-1", "batch.succeeded")
			c.Advance(lease)
			second := expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 2, LeaseUntil: granted(c)})
			release(t, s, "id-1", 1)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Busy, LeaseUntil: second.LeaseUntil})
			release(t, s, "id-1", 3)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Busy, LeaseUntil: second.LeaseUntil})
			release(t, s, "id-1", 2)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
		}},
		{"release after mark published keeps it published", func(t *testing.T, s Store, c *clock) {
			acq := claim(t, s, "id-1", "batch.succeeded")
			markPublished(t, s, "id-1", acq.Attempt, "msg-1")
			release(t, s, "id-1", acq.Attempt)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-1"})
		}},
		{"stale holder's publish is recorded", func(t *testing.T, s Store, c *clock) {
			claim(t, s, "id-1", "batch.succeeded")
			c.Advance(lease)
			second := claim(t, s, "id-1", "batch.succeeded")
			markPublished(t, s, "id-1", 1, "msg-1")
			release(t, s, "id-1", second.Attempt)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-1"})
		}},
		{"release of a missing claim is a no-op", func(t *testing.T, s Store, c *clock) {
			release(t, s, "never-claimed", 1)
			expect(t, s, "never-claimed", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
		}},
		{"mark published without a claim records it", func(t *testing.T, s Store, c *clock) {
			markPublished(t, s, "never-claimed", 1, "msg-1")
			expect(t, s, "never-claimed", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-1"})
			c.Advance(retention - time.Microsecond)
			expect(t, s, "never-claimed", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-1"})
		}},
		{"pending claim past retention is new", func(t *testing.T, s Store, c *clock) {
			claim(t, s, "id-1", "batch.succeeded")
			c.Advance(lease)
			claim(t, s, "id-1", "batch.succeeded") // attempt 2
			c.Advance(retention - lease)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
		}},
		{"published claim expires a retention after publishing", func(t *testing.T, s Store, c *clock) {
			acq := claim(t, s, "id-1", "batch.succeeded")
			c.Advance(10 * time.Second)
			markPublished(t, s, "id-1", acq.Attempt, "msg-1")
			c.Advance(retention - time.Microsecond)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-1"})
			c.Advance(time.Microsecond)
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
		}},
		{"distinct ids are independent", func(t *testing.T, s Store, c *clock) {
			a := claim(t, s, "id-a", "batch.succeeded")
			b := expect(t, s, "id-b", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
			markPublished(t, s, "id-a", a.Attempt, "msg-a")
			expect(t, s, "id-b", dedupe.Claim{State: dedupe.Busy, LeaseUntil: b.LeaseUntil})
			release(t, s, "id-b", b.Attempt)
			expect(t, s, "id-a", dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-a"})
			expect(t, s, "id-b", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
		}},
		{"hostile ids are distinct claims", func(t *testing.T, s Store, c *clock) {
			// Ids come from a request header. Pairs that a naive mapping
			// would merge ("a/b" and "a", the two invalid bytes) must not.
			ids := []string{
				"a", "a/b", "a/b/c", "/", "..", ".", "", " ", "__name__", "__.*__",
				strings.Repeat("x", 300), strings.Repeat("é", 1000),
				"nul\x00byte", "nul", "bad\xffutf8", "bad\xfeutf8", "bad\uFFFDutf8",
				"msg_2f3a9b7c-0d1e-4f5a-8b6c-7d8e9f0a1b2c", "日本語",
			}
			for _, id := range ids {
				expect(t, s, id, dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
			}
			for i, id := range ids {
				expect(t, s, id, dedupe.Claim{State: dedupe.Busy, LeaseUntil: granted(c)})
				markPublished(t, s, id, 1, "msg-"+string(rune('a'+i)))
			}
			for i, id := range ids {
				expect(t, s, id, dedupe.Claim{State: dedupe.Duplicate, MessageID: "msg-" + string(rune('a'+i))})
			}
		}},
		{"concurrent claims of one id acquire it once", func(t *testing.T, s Store, c *clock) {
			const n = 20
			var (
				wg     sync.WaitGroup
				ready  = make(chan struct{})
				claims = make([]dedupe.Claim, n)
				errs   = make([]error, n)
			)
			for i := range n {
				wg.Go(func() {
					<-ready
					claims[i], errs[i] = s.Claim(t.Context(), "id-1", "batch.succeeded")
				})
			}
			began := time.Now()
			close(ready)
			wg.Wait()
			t.Logf("%d concurrent claims took %v", n, time.Since(began))

			count := map[dedupe.State]int{}
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("claim %d: %v", i, errs[i])
				}
				count[claims[i].State]++
			}
			if count[dedupe.Acquired] != 1 || count[dedupe.Busy] != n-1 {
				t.Fatalf("outcomes = %v, want 1 acquired and %d busy", count, n-1)
			}
			for i := range n {
				if !claims[i].LeaseUntil.Equal(granted(c)) {
					t.Errorf("claim %d: %+v, want lease until %v", i, claims[i], granted(c))
				}
			}
		}},
		{"concurrent takeovers of an expired lease acquire it at most once", func(t *testing.T, s Store, c *clock) {
			// Contending transactions may run out of retries; a store may
			// then answer ErrUnavailable, but never grant the claim twice.
			const n = 10
			claim(t, s, "id-1", "batch.succeeded")
			c.Advance(lease)
			var (
				wg     sync.WaitGroup
				ready  = make(chan struct{})
				claims = make([]dedupe.Claim, n)
				errs   = make([]error, n)
			)
			for i := range n {
				wg.Go(func() {
					<-ready
					claims[i], errs[i] = s.Claim(t.Context(), "id-1", "batch.succeeded")
				})
			}
			began := time.Now()
			close(ready)
			wg.Wait()

			count := map[string]int{}
			var acquired dedupe.Claim
			for i := range n {
				switch {
				case errs[i] != nil && !errors.Is(errs[i], dedupe.ErrUnavailable):
					t.Fatalf("claim %d: err = %v, want ErrUnavailable", i, errs[i])
				case errs[i] != nil:
					count["unavailable"]++
					t.Log(errs[i])
				case claims[i].State == dedupe.Acquired:
					acquired = claims[i]
					fallthrough
				default:
					count[claims[i].State.String()]++
				}
			}
			t.Logf("%d concurrent takeovers took %v: %v", n, time.Since(began), count)
			if count["acquired"] > 1 || count["duplicate"] > 0 {
				t.Fatalf("outcomes = %v, want at most one acquired and no duplicate", count)
			}
			if count["acquired"] == 1 {
				if acquired.Attempt != 2 || !acquired.LeaseUntil.Equal(granted(c)) {
					t.Errorf("acquired %+v, want attempt 2 until %v", acquired, granted(c))
				}
				expect(t, s, "id-1", dedupe.Claim{State: dedupe.Busy, LeaseUntil: granted(c)})
			}
		}},
		{"done context is unavailable", func(t *testing.T, s Store, c *clock) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			if _, err := s.Claim(ctx, "id-1", "batch.succeeded"); !errors.Is(err, dedupe.ErrUnavailable) {
				t.Errorf("Claim: err = %v, want ErrUnavailable", err)
			}
			if err := s.MarkPublished(ctx, "id-1", 1, "msg-1"); !errors.Is(err, dedupe.ErrUnavailable) {
				t.Errorf("MarkPublished: err = %v, want ErrUnavailable", err)
			}
			if err := s.Release(ctx, "id-1", 1); !errors.Is(err, dedupe.ErrUnavailable) {
				t.Errorf("Release: err = %v, want ErrUnavailable", err)
			}
			// Nothing was recorded.
			expect(t, s, "id-1", dedupe.Claim{State: dedupe.Acquired, Attempt: 1, LeaseUntil: granted(c)})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, c := setup(t)
			tt.run(t, s, c)
		})
	}

	t.Run("zero options take the defaults", func(t *testing.T) {
		t.Parallel()
		s := newStore(t, dedupe.Options{})
		before := time.Now()
		got := claim(t, s, "id-1", "batch.succeeded")
		after := time.Now()
		const defaultLease = 60 * time.Second
		if got.State != dedupe.Acquired || got.Attempt != 1 ||
			got.LeaseUntil.Before(before.Add(defaultLease-time.Microsecond)) || got.LeaseUntil.After(after.Add(defaultLease)) {
			t.Fatalf("claim = %+v, want acquired with a lease of %v from about %v", got, defaultLease, before)
		}
	})
}

func claim(t *testing.T, s Store, id, eventType string) dedupe.Claim {
	t.Helper()
	got, err := s.Claim(t.Context(), id, eventType)
	if err != nil {
		t.Fatalf("Claim(%q): %v", id, err)
	}
	return got
}

// expect claims id and fails unless the result is want.
func expect(t *testing.T, s Store, id string, want dedupe.Claim) dedupe.Claim {
	t.Helper()
	got := claim(t, s, id, "batch.succeeded")
	if got.State != want.State || got.Attempt != want.Attempt ||
		!got.LeaseUntil.Equal(want.LeaseUntil) || got.MessageID != want.MessageID {
		t.Fatalf("Claim(%q) = %+v, want %+v", id, got, want)
	}
	return got
}

func markPublished(t *testing.T, s Store, id string, attempt int, messageID string) {
	t.Helper()
	if err := s.MarkPublished(t.Context(), id, attempt, messageID); err != nil {
		t.Fatalf("MarkPublished(%q, %d): %v", id, attempt, err)
	}
}

func release(t *testing.T, s Store, id string, attempt int) {
	t.Helper()
	if err := s.Release(t.Context(), id, attempt); err != nil {
		t.Fatalf("Release(%q, %d): %v", id, attempt, err)
	}
}

// clock is a fake clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
