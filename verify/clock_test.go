package verify

import (
	"testing"
	"time"
)

// The clock tells wall time as time.Now does, never goes back, and reads
// the wall clock again once its base is a second old.
func TestClock(t *testing.T) {
	t.Parallel()
	c := newClock()
	prev := c.Now()
	for range 1000 {
		now, wall := c.Now(), time.Now()
		if d := wall.Sub(now); d < 0 || d > 10*time.Millisecond {
			t.Fatalf("clock %v, time.Now %v: %v apart", now, wall, d)
		}
		if now.Before(prev) {
			t.Fatalf("clock went back from %v to %v", prev, now)
		}
		prev = now
	}
	// A base over a second old, and one ahead of the monotonic clock: the
	// next reading is time.Now's, and the base is renewed.
	for _, base := range []time.Time{time.Now().Add(-2 * time.Second), time.Now().Add(time.Hour)} {
		c.base.Store(&base)
		if d := time.Since(c.Now()); d < 0 || d > 10*time.Millisecond {
			t.Errorf("with base %v the clock is %v off time.Now", base, d)
		}
		if c.base.Load().Equal(base) {
			t.Errorf("base %v was not renewed", base)
		}
	}
}
