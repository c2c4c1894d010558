package dedupe_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/dedupe/dedupetest"
)

func TestMemory(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T, opts dedupe.Options) dedupetest.Store {
		return dedupe.NewMemory(opts)
	})
}

func TestMemorySweepsExpiredClaims(t *testing.T) {
	t.Parallel()
	// A steady stream of deliveries, each live for one retention: the
	// store must hold about the live ones, not everything ever seen.
	const (
		retention = time.Second
		step      = time.Millisecond
		live      = int(retention / step)
		total     = 50 * live
	)
	tests := []struct {
		name    string
		publish bool
	}{
		{"pending claims", false},
		{"published claims", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var (
				mu  sync.Mutex
				now = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			)
			m := dedupe.NewMemory(dedupe.Options{
				Lease:     100 * time.Millisecond,
				Retention: retention,
				Now: func() time.Time {
					mu.Lock()
					defer mu.Unlock()
					return now
				},
			})
			peak := 0
			for i := range total {
				id := fmt.Sprintf("id-%d", i)
				c, err := m.Claim(t.Context(), id, "batch.succeeded")
				if err != nil || c.State != dedupe.Acquired {
					t.Fatalf("Claim(%q) = %+v, %v; want acquired", id, c, err)
				}
				if tt.publish {
					if err := m.MarkPublished(t.Context(), id, c.Attempt, "msg"); err != nil {
						t.Fatal(err)
					}
				}
				peak = max(peak, m.Len())
				mu.Lock()
				now = now.Add(step)
				mu.Unlock()
			}
			// The sweep runs when the map doubles, from a floor of 1024.
			if limit := max(2*(live+1), 1024); peak > limit {
				t.Errorf("store held %d claims at its peak, want at most %d (%d live)", peak, limit, live)
			}
			if got := m.Len(); got < live {
				t.Errorf("store holds %d claims, fewer than the %d live ones", got, live)
			}
		})
	}
}
