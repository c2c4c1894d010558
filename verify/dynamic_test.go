package verify_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// TestVerifierAllMethods runs the receiver's configuration: HMAC for static
// webhooks, then v1a and JWT for dynamic ones, sharing one key source. A key
// set outage must not affect static deliveries, and forged static
// deliveries must never reach the key set.
func TestVerifierAllMethods(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	secret := mustSecret(t, verify.GenerateSecret())
	ks := newKeyServer(t, nil)
	ks.set([]byte("unavailable"), http.StatusServiceUnavailable)
	c := newClock()
	k := newJWKS(t, ks, c, verify.JWKSOptions{})
	v := verify.New(verify.Options{Now: c.Now},
		verify.NewHMAC(secret),
		verify.NewV1a(k),
		verify.NewJWT(k, verify.JWTOptions{Issuer: testIssuer, Audience: testAudience}),
	)
	v1 := func(ts string) string { return verify.SignV1(secret, dynID, ts, dynBody) }
	forgedV1 := func(ts string) string {
		return verify.SignV1(mustSecret(t, verify.GenerateSecret()), dynID, ts, dynBody) + " " + verify.SignV1(mustSecret(t, verify.GenerateSecret()), dynID, ts, dynBody)
	}
	v1a := func(ts string) string { return verify.SignV1a(f.ed[2], dynID, ts, dynBody) }
	jwt := func(string) string {
		return signJWT(`{"alg":"RS256","kid":"rsa-1"}`, claims(`,"body_sha256":"`+bodySHA256Hex(dynBody)+`"`), rs256(f.rsa))
	}

	steps := []struct {
		name        string
		up          bool
		advance     time.Duration
		sig         func(ts string) string
		age         time.Duration // of webhook-timestamp
		want        verify.Scheme
		wantErr     error
		wantFetches int64
	}{
		{name: "static, key set down", sig: v1, want: verify.SchemeV1},
		{name: "forged static, key set down", sig: forgedV1, wantErr: verify.ErrNoMatch},
		{name: "v1a, key set down", sig: v1a, wantErr: verify.ErrKeysUnavailable, wantFetches: 1},
		{name: "jwt, key set down", sig: jwt, wantErr: verify.ErrKeysUnavailable, wantFetches: 1},
		{name: "static still verifies", sig: v1, want: verify.SchemeV1, wantFetches: 1},
		{name: "v1a, key set back", up: true, advance: time.Minute, sig: v1a, want: verify.SchemeV1a, wantFetches: 2},
		{name: "jwt, key set back", sig: jwt, want: verify.SchemeJWT, wantFetches: 2},
		{name: "forged static, keys cached", sig: forgedV1, wantErr: verify.ErrNoMatch, wantFetches: 2},
		{name: "stale v1a is rejected before any key work", sig: v1a, age: 10 * time.Minute, wantErr: verify.ErrTooOld, wantFetches: 2},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if st.up {
			ks.set(f.standardDoc(), http.StatusOK)
		}
		ts := strconv.FormatInt(c.Now().Add(-st.age).Unix(), 10)
		sig := st.sig(ts)
		scheme, err := v.Verify(context.Background(), mustHeaders(t, dynID, ts, sig), dynBody)
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: Verify() error = %v, want %v", st.name, err, st.wantErr)
		}
		if errors.Is(st.wantErr, verify.ErrKeysUnavailable) && errors.Is(err, verify.ErrNoMatch) {
			t.Fatalf("%s: Verify() error = %v also matches ErrNoMatch: the handler would answer 401", st.name, err)
		}
		if scheme != st.want {
			t.Errorf("%s: Verify() = %q, want %q", st.name, scheme, st.want)
		}
		if n := k.Fetches(); n != st.wantFetches {
			t.Fatalf("%s: %d fetches, want %d", st.name, n, st.wantFetches)
		}
	}
}
