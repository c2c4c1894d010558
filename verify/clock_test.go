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
	prev := clockTime(c)
	for range 1000 {
		now, wall := clockTime(c), time.Now()
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
	for _, at := range []time.Time{time.Now().Add(-2 * time.Second), time.Now().Add(time.Hour)} {
		base := &clockBase{at: at, sec: at.Unix(), nsec: int64(at.Nanosecond())}
		c.base.Store(base)
		if d := time.Since(clockTime(c)); d < 0 || d > 10*time.Millisecond {
			t.Errorf("with a base at %v the clock is %v off time.Now", at, d)
		}
		if c.base.Load() == base {
			t.Errorf("the base at %v was not renewed", at)
		}
	}
	// Nanoseconds carried past a second roll into the seconds.
	at := time.Now()
	c.base.Store(&clockBase{at: at.Add(-900 * time.Millisecond), sec: 100, nsec: 500_000_000})
	if sec, nsec := c.unix(); sec != 101 || nsec < 400_000_000 || nsec > 420_000_000 {
		t.Errorf("unix() = %d s %d ns, want 101 s and about 400 ms", sec, nsec)
	}
}

func clockTime(c *clock) time.Time { return time.Unix(c.unix()) }
