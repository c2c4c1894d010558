package verify_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// deliverV1a verifies one v1a delivery signed by the fixture's first key.
func deliverV1a(t testing.TB, m *verify.V1a) error {
	t.Helper()
	h := mustHeaders(t, dynID, dynTS, verify.SignV1a(fixtureKeys().ed[0], dynID, dynTS, dynBody))
	_, err := m.Verify(context.Background(), h, dynBody)
	return err
}

func TestJWKSNoFetchInConstructor(t *testing.T) {
	t.Parallel()
	ks := newKeyServer(t, fixtureKeys().standardDoc())
	k := newJWKS(t, ks, newClock(), verify.JWKSOptions{})
	verify.NewV1a(k)
	verify.NewJWT(k, verify.JWTOptions{})
	time.Sleep(20 * time.Millisecond)
	if k.Fetches() != 0 || ks.hits.Load() != 0 {
		t.Fatalf("%d fetches before any delivery, want 0", k.Fetches())
	}
}

// TestJWKSUnusable: a key set that cannot be read leaves no keys, so dynamic
// deliveries fail with ErrKeysUnavailable (503), quickly.
func TestJWKSUnusable(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	tests := []struct {
		name   string
		doc    []byte
		status int
		delay  time.Duration
		opts   verify.JWKSOptions
	}{
		{name: "server error", doc: f.standardDoc(), status: http.StatusInternalServerError},
		{name: "not found", doc: []byte(`{"keys":[]}`), status: http.StatusNotFound},
		{name: "garbage", doc: []byte("<html>not a key set</html>")},
		{name: "truncated", doc: f.standardDoc()[:100]},
		{name: "empty set", doc: []byte(`{"keys":[]}`)},
		{name: "only unusable keys", doc: []byte(`{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"OKP","crv":"Ed25519","x":"AAAA"},{"kty":"OKP","crv":"X25519","x":"` + strings.Repeat("A", 43) + `"}]}`)},
		{name: "only encryption keys", doc: []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","use":"enc","x":"` + okpJWK(f.ed[0])["x"].(string) + `"}]}`)},
		{name: "larger than MaxBytes", doc: append(f.standardDoc(), strings.Repeat(" ", 4096)...), opts: verify.JWKSOptions{MaxBytes: 4096}},
		{name: "larger than the default 1 MiB", doc: append(f.standardDoc(), strings.Repeat(" ", 1<<20)...)},
		{name: "slower than the client timeout", doc: f.standardDoc(), delay: 5 * time.Second, opts: verify.JWKSOptions{Client: &http.Client{Timeout: 100 * time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks := newKeyServer(t, nil)
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			ks.set(tt.doc, status)
			ks.setDelay(tt.delay)
			k := newJWKS(t, ks, newClock(), tt.opts)
			v1a, jwt := verify.NewV1a(k), verify.NewJWT(k, verify.JWTOptions{})
			tok := signJWT(`{"alg":"RS256","kid":"rsa-1"}`, claims(""), rs256(f.rsa))

			start := time.Now()
			err := deliverV1a(t, v1a)
			if elapsed := time.Since(start); elapsed > 2*time.Second {
				t.Errorf("Verify() took %v, want it bounded by the client timeout", elapsed)
			}
			if !errors.Is(err, verify.ErrKeysUnavailable) || errors.Is(err, verify.ErrNoMatch) {
				t.Fatalf("V1a.Verify() error = %v, want ErrKeysUnavailable only", err)
			}
			// Within the refresh gap, no new fetch: the failure is remembered.
			_, err = jwt.Verify(context.Background(), &verify.Headers{Signature: tok}, dynBody)
			if !errors.Is(err, verify.ErrKeysUnavailable) {
				t.Fatalf("JWT.Verify() error = %v, want ErrKeysUnavailable", err)
			}
			if n := k.Fetches(); n != 1 {
				t.Errorf("%d fetches, want 1", n)
			}
		})
	}
}

// TestJWKSOutage follows one key source through outages and recoveries.
func TestJWKSOutage(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, nil)
	c := newClock()
	k := newJWKS(t, ks, c, verify.JWKSOptions{})
	m := verify.NewV1a(k)
	forged := func() error {
		h := mustHeaders(t, dynID, dynTS, verify.SignV1a(edKey(99), dynID, dynTS, dynBody))
		_, err := m.Verify(context.Background(), h, dynBody)
		return err
	}

	steps := []struct {
		name        string
		up          bool
		advance     time.Duration
		deliver     func() error
		wantErr     error
		wantFetches int64
	}{
		{name: "down from the start", deliver: func() error { return deliverV1a(t, m) }, wantErr: verify.ErrKeysUnavailable, wantFetches: 1},
		{name: "retry within the gap: no fetch", advance: 10 * time.Second, deliver: func() error { return deliverV1a(t, m) }, wantErr: verify.ErrKeysUnavailable, wantFetches: 1},
		{name: "forged while down is unavailable too", deliver: forged, wantErr: verify.ErrKeysUnavailable, wantFetches: 1},
		{name: "up again, after the gap", up: true, advance: 20 * time.Second, deliver: func() error { return deliverV1a(t, m) }, wantFetches: 2},
		{name: "down again, keys cached", advance: 2 * time.Hour, deliver: func() error { return deliverV1a(t, m) }, wantFetches: 3},
		{name: "forged with cached keys is no match", advance: time.Minute, deliver: forged, wantErr: verify.ErrNoMatch, wantFetches: 4},
		{name: "still verifies with cached keys", advance: 3 * time.Hour, deliver: func() error { return deliverV1a(t, m) }, wantFetches: 5},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if st.up {
			ks.set(f.standardDoc(), http.StatusOK)
		} else if st.advance > time.Hour || st.name == "down from the start" {
			ks.set([]byte("unavailable"), http.StatusServiceUnavailable)
		}
		err := st.deliver()
		k.WaitIdle()
		if !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: Verify() error = %v, want %v", st.name, err, st.wantErr)
		}
		if st.wantErr == nil && err != nil {
			t.Fatalf("%s: Verify() error = %v", st.name, err)
		}
		if n := k.Fetches(); n != st.wantFetches {
			t.Fatalf("%s: %d fetches, want %d", st.name, n, st.wantFetches)
		}
	}
}

// TestJWKSConcurrentMisses: misses that arrive together share one refetch.
func TestJWKSConcurrentMisses(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, f.standardDoc())
	c := newClock()
	k := newJWKS(t, ks, c, verify.JWKSOptions{})
	m := verify.NewV1a(k)
	if err := deliverV1a(t, m); err != nil {
		t.Fatal(err)
	}
	c.Advance(time.Minute)
	ks.setDelay(50 * time.Millisecond)
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			h := mustHeaders(t, dynID, dynTS, verify.SignV1a(edKey(byte(50+i)), dynID, dynTS, dynBody))
			_, errs[i] = m.Verify(context.Background(), h, dynBody)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, verify.ErrNoMatch) {
			t.Errorf("delivery %d: error = %v, want ErrNoMatch", i, err)
		}
	}
	if n := k.Fetches(); n != 2 {
		t.Errorf("%d fetches, want 2 (first, and one shared refetch)", n)
	}
}

// TestJWKSCallerContext: a caller whose context ends stops waiting, without
// cancelling the fetch for the others.
func TestJWKSCallerContext(t *testing.T) {
	t.Parallel()
	ks := newKeyServer(t, fixtureKeys().standardDoc())
	ks.setDelay(300 * time.Millisecond)
	k := newJWKS(t, ks, newClock(), verify.JWKSOptions{})
	m := verify.NewV1a(k)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	h := mustHeaders(t, dynID, dynTS, verify.SignV1a(fixtureKeys().ed[0], dynID, dynTS, dynBody))
	start := time.Now()
	_, err := m.Verify(ctx, h, dynBody)
	if !errors.Is(err, verify.ErrKeysUnavailable) || time.Since(start) > 200*time.Millisecond {
		t.Fatalf("Verify() = %v after %v, want ErrKeysUnavailable promptly", err, time.Since(start))
	}
	if err := deliverV1a(t, m); err != nil {
		t.Fatalf("Verify() after the shared fetch: %v", err)
	}
	if n := k.Fetches(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
}

func TestJWKSClose(t *testing.T) {
	t.Parallel()
	ks := newKeyServer(t, fixtureKeys().standardDoc())
	k := verify.NewJWKS(ks.URL, verify.JWKSOptions{})
	m := verify.NewV1a(k)
	if err := deliverV1a(t, m); err != nil {
		t.Fatal(err)
	}
	k.Close()
	k.Close() // idempotent
	if err := deliverV1a(t, m); err != nil {
		t.Fatalf("Verify() with cached keys after Close: %v", err)
	}

	// Close cancels a fetch in flight.
	ks.setDelay(10 * time.Second)
	k = verify.NewJWKS(ks.URL, verify.JWKSOptions{})
	m = verify.NewV1a(k)
	done := make(chan error)
	go func() { done <- deliverV1a(t, m) }()
	for k.Fetches() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	k.Close()
	if err := <-done; !errors.Is(err, verify.ErrKeysUnavailable) {
		t.Errorf("Verify() during Close: %v, want ErrKeysUnavailable", err)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Close took %v", elapsed)
	}
	if err := deliverV1a(t, m); !errors.Is(err, verify.ErrKeysUnavailable) || k.Fetches() != 1 {
		t.Errorf("Verify() after Close = %v with %d fetches, want ErrKeysUnavailable and no new fetch", err, k.Fetches())
	}
}

// TestJWKSUnknownKeyTypes: keys jwx cannot parse, or this package cannot
// use, are skipped without losing the others.
func TestJWKSUnknownKeyTypes(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	doc := jwksDoc(
		map[string]any{"kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA"},
		map[string]any{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"},
		map[string]any{"kty": "oct", "k": "c2VjcmV0"},
		map[string]any{"kty": "OKP", "crv": "Ed25519", "key_ops": []string{"sign"}, "x": okpJWK(edKey(77))["x"]},
		okpJWK(f.ed[0]),
	)
	ks := newKeyServer(t, doc)
	m := verify.NewV1a(newJWKS(t, ks, newClock(), verify.JWKSOptions{}))
	if err := deliverV1a(t, m); err != nil {
		t.Fatalf("Verify() = %v", err)
	}
	h := mustHeaders(t, dynID, dynTS, verify.SignV1a(edKey(77), dynID, dynTS, dynBody))
	if _, err := m.Verify(context.Background(), h, dynBody); !errors.Is(err, verify.ErrNoMatch) {
		t.Fatalf("Verify() with a key whose key_ops exclude verify: %v, want ErrNoMatch", err)
	}
}
