package verify

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Scheme names the signature scheme that verified a delivery. It becomes the
// Pub/Sub attribute signature_scheme.
type Scheme string

// Schemes of the Standard Webhooks family that Gemini uses.
const (
	// SchemeV1 is HMAC-SHA256 with a static secret.
	SchemeV1 Scheme = "v1"
	// SchemeV1a is Ed25519 with a published public key.
	SchemeV1a Scheme = "v1a"
	// SchemeJWT is a compact JWS as the whole signature header.
	SchemeJWT Scheme = "jwt"
)

// Method verifies the signatures of one scheme. Implementations are safe for
// concurrent use.
type Method interface {
	// Verify returns the scheme that verified the delivery, or an error
	// wrapping ErrNoMatch when no signature of its scheme matches, including
	// when the delivery carries none. Any other error (e.g. keys that cannot
	// be fetched) is returned as is. The timestamp has already been checked.
	Verify(ctx context.Context, h *Headers, body []byte) (Scheme, error)
}

// DefaultTolerance is the allowed clock difference when Options.Tolerance is
// zero, the value of every official Standard Webhooks library.
const DefaultTolerance = 5 * time.Minute

// Options configure a [Verifier].
type Options struct {
	// Tolerance is the allowed difference between the delivery's timestamp
	// and now, in both directions. Zero or negative means DefaultTolerance.
	Tolerance time.Duration
	// Now returns the current time; nil means the wall clock (time.Now,
	// read in full at most once a second and carried forward on the
	// monotonic clock in between).
	Now func() time.Time
}

// Verifier checks the timestamp of a delivery, then its signature with each
// [Method] in order. It is safe for concurrent use.
type Verifier struct {
	tolerance time.Duration
	now       func() time.Time // Options.Now; nil: clock
	clock     *clock
	methods   []Method
}

// New returns a Verifier that tries methods in the given order. Nil methods
// are ignored; with no method every delivery fails with [ErrNoMatch].
func New(opts Options, methods ...Method) *Verifier {
	v := &Verifier{tolerance: opts.Tolerance, now: opts.Now}
	if v.tolerance <= 0 {
		v.tolerance = DefaultTolerance
	}
	if v.now == nil {
		v.clock = newClock()
	}
	for _, m := range methods {
		if m != nil {
			v.methods = append(v.methods, m)
		}
	}
	return v
}

// Verify returns the scheme that verified the delivery described by h (as
// returned by [ParseHeaders]) and its raw body.
//
// A timestamp outside the tolerance gives [ErrTooOld] or [ErrTooNew] before
// any signature is checked (exactly the tolerance is accepted). Otherwise the
// first method that verifies wins. When none does, the result is the first
// error that is not [ErrNoMatch] if a method returned one (a key source that
// is down must surface as "retry later", not "forged"), else ErrNoMatch.
func (v *Verifier) Verify(ctx context.Context, h *Headers, body []byte) (Scheme, error) {
	if err := v.checkTimestamp(h.Unix); err != nil {
		return "", err
	}
	var failure error
	for _, m := range v.methods {
		scheme, err := m.Verify(ctx, h, body)
		if err == nil {
			return scheme, nil
		}
		if failure == nil && !errors.Is(err, ErrNoMatch) {
			failure = err
		}
	}
	if failure != nil {
		return "", failure
	}
	return "", ErrNoMatch
}

// checkTimestamp compares now and ts as (seconds, nanoseconds) pairs: any
// int64 is a valid timestamp, and time.Unix(ts, 0) overflows for extreme ones.
func (v *Verifier) checkTimestamp(ts int64) error {
	var sec, nsec int64
	if v.now != nil {
		now := v.now()
		sec, nsec = now.Unix(), int64(now.Nanosecond())
	} else {
		sec, nsec = v.clock.unix()
	}
	tolSec, tolNsec := int64(v.tolerance/time.Second), int64(v.tolerance%time.Second)

	if ts <= sec {
		// Age is (sec-ts) s + nsec ns; the difference is non-negative unless it overflowed.
		age := sec - ts
		if age < 0 || age > tolSec || (age == tolSec && nsec > tolNsec) {
			return ErrTooOld
		}
		return nil
	}
	// Lead is (ts-sec) s - nsec ns, at least one nanosecond.
	lead, leadNsec := ts-sec, int64(0)
	if lead < 0 {
		return ErrTooNew
	}
	if nsec > 0 {
		lead, leadNsec = lead-1, int64(time.Second)-nsec
	}
	if lead > tolSec || (lead == tolSec && leadNsec > tolNsec) {
		return ErrTooNew
	}
	return nil
}

// clock is the wall clock, read in full (time.Now: the wall and the
// monotonic clocks) at most once a second, and carried forward in between
// on the monotonic clock alone (time.Since). On the machines measured, the
// full read cost about 65 ns, half the work verification adds to one HMAC
// of a 1 KiB body; a wall clock stepped since the last full read is seen
// within a second, which a tolerance of minutes cannot notice. (A machine
// suspended and resumed, whose monotonic clock stood still meanwhile, sees
// the jump within a second of monotonic time too; a delivery judged in that
// second against the old time is refused as too new, and its retry passes.)
type clock struct {
	base atomic.Pointer[clockBase]
}

// clockBase is one full reading: the time, for its monotonic clock, and its
// wall clock as Unix seconds and nanoseconds.
type clockBase struct {
	at        time.Time
	sec, nsec int64
}

func newClock() *clock {
	c := new(clock)
	c.renew()
	return c
}

func (c *clock) renew() *clockBase {
	now := time.Now()
	b := &clockBase{at: now, sec: now.Unix(), nsec: int64(now.Nanosecond())}
	c.base.Store(b)
	return b
}

// unix returns the current wall time as Unix seconds and nanoseconds.
func (c *clock) unix() (sec, nsec int64) {
	b := c.base.Load()
	d := time.Since(b.at)
	if d < 0 || d >= time.Second {
		b, d = c.renew(), 0
	}
	ns := b.nsec + int64(d) // below two seconds
	return b.sec + ns/int64(time.Second), ns % int64(time.Second)
}
