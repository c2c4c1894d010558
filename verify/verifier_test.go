package verify_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// fakeMethod returns a fixed result and counts its calls.
type fakeMethod struct {
	scheme verify.Scheme
	err    error
	calls  atomic.Int32
}

func (m *fakeMethod) Verify(context.Context, *verify.Headers, []byte) (verify.Scheme, error) {
	m.calls.Add(1)
	return m.scheme, m.err
}

func accepts(s verify.Scheme) *fakeMethod { return &fakeMethod{scheme: s} }
func fails(err error) *fakeMethod         { return &fakeMethod{err: err} }

var errUnavailable = errors.New("jwks unavailable")

func TestVerifierTimestamp(t *testing.T) {
	t.Parallel()
	const base = 1767225600 // 2026-01-01T00:00:00Z
	at := func(sec int64, nsec int64) func() time.Time {
		return func() time.Time { return time.Unix(sec, nsec) }
	}
	tests := []struct {
		name      string
		tolerance time.Duration
		now       func() time.Time
		ts        int64
		wantErr   error
	}{
		{name: "now", now: at(base, 0), ts: base},
		{name: "past boundary", now: at(base, 0), ts: base - 300},
		{name: "past beyond boundary", now: at(base, 0), ts: base - 301, wantErr: verify.ErrTooOld},
		{name: "future boundary", now: at(base, 0), ts: base + 300},
		{name: "future beyond boundary", now: at(base, 0), ts: base + 301, wantErr: verify.ErrTooNew},
		{name: "zero tolerance means 5m", tolerance: 0, now: at(base, 0), ts: base - 300},
		{name: "negative tolerance means 5m", tolerance: -time.Second, now: at(base, 0), ts: base + 300},
		{name: "custom tolerance past", tolerance: time.Hour, now: at(base, 0), ts: base - 3600},
		{name: "custom tolerance past beyond", tolerance: time.Hour, now: at(base, 0), ts: base - 3601, wantErr: verify.ErrTooOld},
		{name: "custom tolerance future beyond", tolerance: time.Second, now: at(base, 0), ts: base + 2, wantErr: verify.ErrTooNew},

		// Now has a fraction of a second; the timestamp has none.
		{name: "fraction: 299.5s ago", now: at(base, 5e8), ts: base - 299},
		{name: "fraction: 300.5s ago", now: at(base, 5e8), ts: base - 300, wantErr: verify.ErrTooOld},
		{name: "fraction: 299.5s ahead", now: at(base, 5e8), ts: base + 300},
		{name: "fraction: 300.5s ahead", now: at(base, 5e8), ts: base + 301, wantErr: verify.ErrTooNew},
		{name: "fraction: 0.5s ahead", now: at(base, 5e8), ts: base + 1},
		{name: "sub-second tolerance at past boundary", tolerance: 1500 * time.Millisecond, now: at(base, 5e8), ts: base - 1},
		{name: "sub-second tolerance past beyond", tolerance: 1500 * time.Millisecond, now: at(base, 5e8+1), ts: base - 1, wantErr: verify.ErrTooOld},
		{name: "sub-second tolerance at future boundary", tolerance: 1500 * time.Millisecond, now: at(base, 5e8), ts: base + 2},
		{name: "sub-second tolerance future beyond", tolerance: 1500 * time.Millisecond, now: at(base, 5e8-1), ts: base + 2, wantErr: verify.ErrTooNew},

		// Integers far from now are valid input and must not overflow.
		{name: "zero", now: at(base, 0), ts: 0, wantErr: verify.ErrTooOld},
		{name: "negative", now: at(base, 0), ts: -1, wantErr: verify.ErrTooOld},
		{name: "min int64", now: at(base, 0), ts: math.MinInt64, wantErr: verify.ErrTooOld},
		{name: "max int64", now: at(base, 0), ts: math.MaxInt64, wantErr: verify.ErrTooNew},
		{name: "milliseconds by mistake", now: at(base, 0), ts: base * 1000, wantErr: verify.ErrTooNew},
		{name: "max tolerance, min int64", tolerance: math.MaxInt64, now: at(base, 999999999), ts: math.MinInt64, wantErr: verify.ErrTooOld},
		{name: "max tolerance, max int64", tolerance: math.MaxInt64, now: at(base, 1), ts: math.MaxInt64, wantErr: verify.ErrTooNew},
		{name: "max tolerance, far but inside", tolerance: math.MaxInt64, now: at(base, 0), ts: base - 9e9},
		{name: "now before 1970", now: at(-base, 5e8), ts: -base - 300, wantErr: verify.ErrTooOld},
		{name: "now before 1970, inside", now: at(-base, 5e8), ts: -base + 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := accepts(verify.SchemeV1)
			v := verify.New(verify.Options{Tolerance: tt.tolerance, Now: tt.now}, m)
			_, err := v.Verify(context.Background(), &verify.Headers{Unix: tt.ts}, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			// A timestamp outside the window costs no signature check.
			want := int32(1)
			if tt.wantErr != nil {
				want = 0
			}
			if got := m.calls.Load(); got != want {
				t.Errorf("method called %d times, want %d", got, want)
			}
		})
	}
}

func TestVerifierMethods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		methods    []*fakeMethod
		want       verify.Scheme
		wantErr    error
		wantCalled []int32 // calls per method
	}{
		{name: "no methods", wantErr: verify.ErrNoMatch},
		{name: "first verifies", methods: []*fakeMethod{accepts(verify.SchemeV1), accepts(verify.SchemeV1a)}, want: verify.SchemeV1, wantCalled: []int32{1, 0}},
		{name: "second verifies", methods: []*fakeMethod{fails(verify.ErrNoMatch), accepts(verify.SchemeV1a)}, want: verify.SchemeV1a, wantCalled: []int32{1, 1}},
		{name: "none verifies", methods: []*fakeMethod{fails(verify.ErrNoMatch), fails(fmt.Errorf("%w: no v1a entry", verify.ErrNoMatch))}, wantErr: verify.ErrNoMatch, wantCalled: []int32{1, 1}},
		{name: "verified despite an unavailable key source", methods: []*fakeMethod{fails(errUnavailable), accepts(verify.SchemeV1)}, want: verify.SchemeV1, wantCalled: []int32{1, 1}},
		{name: "unavailable before no match", methods: []*fakeMethod{fails(errUnavailable), fails(verify.ErrNoMatch)}, wantErr: errUnavailable, wantCalled: []int32{1, 1}},
		{name: "unavailable after no match", methods: []*fakeMethod{fails(verify.ErrNoMatch), fails(errUnavailable)}, wantErr: errUnavailable, wantCalled: []int32{1, 1}},
		{name: "first of two failures", methods: []*fakeMethod{fails(errUnavailable), fails(context.DeadlineExceeded)}, wantErr: errUnavailable, wantCalled: []int32{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			methods := []verify.Method{nil} // nil methods are ignored
			for _, m := range tt.methods {
				methods = append(methods, m)
			}
			v := verify.New(verify.Options{Now: func() time.Time { return time.Unix(100, 0) }}, methods...)
			got, err := v.Verify(context.Background(), &verify.Headers{Unix: 100}, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && !errors.Is(tt.wantErr, verify.ErrNoMatch) && errors.Is(err, verify.ErrNoMatch) {
				t.Errorf("Verify() error = %v also matches ErrNoMatch", err)
			}
			if got != tt.want {
				t.Errorf("Verify() = %q, want %q", got, tt.want)
			}
			for i, m := range tt.methods {
				if c := m.calls.Load(); c != tt.wantCalled[i] {
					t.Errorf("method %d called %d times, want %d", i, c, tt.wantCalled[i])
				}
			}
		})
	}
}

// TestVerifierEndToEnd runs ParseHeaders, the real clock and HMAC together.
func TestVerifierEndToEnd(t *testing.T) {
	t.Parallel()
	secret := mustSecret(t, verify.GenerateSecret())
	body := []byte(`{"type":"interaction.completed","data":{"id":"int_1"}}`)
	now := time.Now().Unix()
	tests := []struct {
		name    string
		ts      int64
		sign    verify.Secret
		wantErr error
	}{
		{name: "fresh", ts: now, sign: secret},
		{name: "stale", ts: now - 3600, sign: secret, wantErr: verify.ErrTooOld},
		{name: "early", ts: now + 3600, sign: secret, wantErr: verify.ErrTooNew},
		{name: "forged", ts: now, sign: mustSecret(t, verify.GenerateSecret()), wantErr: verify.ErrNoMatch},
	}
	v := verify.New(verify.Options{}, verify.NewHMAC(secret))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts := fmt.Sprint(tt.ts)
			h := mustHeaders(t, "msg_1", ts, verify.SignV1(tt.sign, "msg_1", ts, body))
			scheme, err := v.Verify(context.Background(), h, body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && scheme != verify.SchemeV1 {
				t.Errorf("Verify() = %q, want %q", scheme, verify.SchemeV1)
			}
		})
	}
}
