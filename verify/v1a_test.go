package verify_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

const (
	dynID = "msg_0c6c1f0e-8e8f-4c5e-9a39-2b1f8c1d2e3f"
	dynTS = "1767225600"
)

var dynBody = []byte(`{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-01T00:00:00Z","data":{"id":"batches/abc","output_file_uri":"gs://b/results.jsonl"}}`)

// referenceV1a computes a v1a entry the plain way, independent of SignV1a.
func referenceV1a(priv ed25519.PrivateKey, id, ts string, body []byte) string {
	return "v1a," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(id+"."+ts+"."+string(body))))
}

func TestSignV1a(t *testing.T) {
	t.Parallel()
	priv := edKey(9)
	got := verify.SignV1a(priv, dynID, dynTS, dynBody)
	if want := referenceV1a(priv, dynID, dynTS, dynBody); got != want {
		t.Fatalf("SignV1a() = %q, want %q", got, want)
	}
}

func TestV1aVerify(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, f.standardDoc())
	m := verify.NewV1a(newJWKS(t, ks, newClock(), verify.JWKSOptions{}))
	sig := func(priv ed25519.PrivateKey) string { return verify.SignV1a(priv, dynID, dynTS, dynBody) }
	raw := func(entry string) string { return strings.TrimRight(entry, "=") }
	v1 := verify.SignV1(mustSecret(t, verify.GenerateSecret()), dynID, dynTS, dynBody)
	foreign := edKey(200)

	tests := []struct {
		name    string
		sig     string
		body    []byte
		wantErr error
	}{
		{name: "first key", sig: sig(f.ed[0])},
		{name: "second key", sig: sig(f.ed[1])},
		{name: "third key", sig: sig(f.ed[2])},
		{name: "first key again, after the third was remembered", sig: sig(f.ed[0])},
		{name: "unpadded base64", sig: raw(sig(f.ed[1]))},
		{name: "after a v1 entry and a foreign v1a entry", sig: v1 + " " + sig(foreign) + " " + sig(f.ed[2])},
		{name: "unknown versions skipped", sig: "v2,AAAA " + sig(f.ed[0]) + " v1b,BBBB"},
		{name: "foreign key", sig: sig(foreign), wantErr: verify.ErrNoMatch},
		{name: "tampered body", sig: sig(f.ed[0]), body: []byte(`{"type":"batch.failed"}`), wantErr: verify.ErrNoMatch},
		{name: "re-serialised body", sig: sig(f.ed[0]), body: []byte(strings.ReplaceAll(string(dynBody), ",", ", ")), wantErr: verify.ErrNoMatch},
		{name: "signature of 63 bytes", sig: "v1a," + base64.StdEncoding.EncodeToString(make([]byte, 63)), wantErr: verify.ErrNoMatch},
		{name: "signature of 65 bytes", sig: "v1a," + base64.StdEncoding.EncodeToString(make([]byte, 65)), wantErr: verify.ErrNoMatch},
		{name: "not base64", sig: "v1a," + strings.Repeat("!", 88), wantErr: verify.ErrNoMatch},
		{name: "v1 entry only", sig: v1, wantErr: verify.ErrNoMatch},
		{name: "all-zero signature", sig: "v1a," + base64.StdEncoding.EncodeToString(make([]byte, 64)), wantErr: verify.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := dynBody
			if tt.body != nil {
				body = tt.body
			}
			scheme, err := m.Verify(context.Background(), mustHeaders(t, dynID, dynTS, tt.sig), body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && scheme != verify.SchemeV1a {
				t.Errorf("Verify() = %q, want %q", scheme, verify.SchemeV1a)
			}
			if err != nil && strings.Contains(err.Error(), tt.sig[min(4, len(tt.sig)):]) {
				t.Errorf("error %q contains the signature", err)
			}
		})
	}
	if n := ks.hits.Load(); n != 1 {
		t.Errorf("key set fetched %d times, want 1: misses within the refresh gap must not refetch", n)
	}
}

// TestV1aWithoutEntriesNeverFetches: a delivery that does not carry the v1a
// form must not touch the key source, so static deliveries are unaffected
// by the JWKS and cannot be used to hammer it.
func TestV1aWithoutEntriesNeverFetches(t *testing.T) {
	t.Parallel()
	ks := newKeyServer(t, nil)
	ks.set([]byte("down"), http.StatusServiceUnavailable)
	k := newJWKS(t, ks, newClock(), verify.JWKSOptions{})
	m := verify.NewV1a(k)
	for _, sig := range []string{
		verify.SignV1(mustSecret(t, verify.GenerateSecret()), dynID, dynTS, dynBody),
		"v1a,AAAA",
		"v1a," + strings.Repeat("A", 87),
		"eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
		entries(32),
	} {
		if _, err := m.Verify(context.Background(), mustHeaders(t, dynID, dynTS, sig), dynBody); !errors.Is(err, verify.ErrNoMatch) {
			t.Errorf("Verify(%.20q) error = %v, want ErrNoMatch", sig, err)
		}
	}
	if n := k.Fetches(); n != 0 || ks.hits.Load() != 0 {
		t.Errorf("%d fetches, %d requests; want none", n, ks.hits.Load())
	}
}

func TestV1aNilKeys(t *testing.T) {
	t.Parallel()
	h := mustHeaders(t, dynID, dynTS, verify.SignV1a(edKey(1), dynID, dynTS, dynBody))
	if _, err := verify.NewV1a(nil).Verify(context.Background(), h, dynBody); !errors.Is(err, verify.ErrNoMatch) {
		t.Fatalf("Verify() error = %v, want ErrNoMatch", err)
	}
}

// TestV1aKeyAddedLater: a key published after the first fetch is found by
// the refetch a miss triggers, once the refresh gap has passed.
func TestV1aKeyAddedLater(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, f.standardDoc())
	c := newClock()
	k := newJWKS(t, ks, c, verify.JWKSOptions{})
	m := verify.NewV1a(k)
	newKey := edKey(100)
	verifyWith := func(priv ed25519.PrivateKey) error {
		_, err := m.Verify(context.Background(), mustHeaders(t, dynID, dynTS, verify.SignV1a(priv, dynID, dynTS, dynBody)), dynBody)
		return err
	}

	steps := []struct {
		name        string
		advance     time.Duration
		publish     bool
		priv        ed25519.PrivateKey
		wantErr     error
		wantFetches int64
	}{
		{name: "known key, first fetch", priv: f.ed[0], wantFetches: 1},
		{name: "new key not yet published", advance: time.Minute, priv: newKey, wantErr: verify.ErrNoMatch, wantFetches: 2},
		{name: "published, but within the gap of the last miss", publish: true, advance: 10 * time.Second, priv: newKey, wantErr: verify.ErrNoMatch, wantFetches: 2},
		{name: "after the gap the miss refetches", advance: 21 * time.Second, priv: newKey, wantFetches: 3},
		{name: "then it is cached", priv: newKey, wantFetches: 3},
		{name: "old keys still verify", priv: f.ed[2], wantFetches: 3},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if st.publish {
			ks.set(jwksDoc(okpJWK(f.ed[0]), okpJWK(f.ed[1]), okpJWK(f.ed[2]), okpJWK(newKey)), http.StatusOK)
		}
		if err := verifyWith(st.priv); !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: Verify() error = %v, want %v", st.name, err, st.wantErr)
		}
		if n := k.Fetches(); n != st.wantFetches {
			t.Fatalf("%s: %d fetches, want %d", st.name, n, st.wantFetches)
		}
	}
}

// TestV1aWithdrawnKey: the remembered key stops verifying once the key set
// no longer holds it.
func TestV1aWithdrawnKey(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, f.standardDoc())
	c := newClock()
	k := newJWKS(t, ks, c, verify.JWKSOptions{})
	m := verify.NewV1a(k)
	h := mustHeaders(t, dynID, dynTS, verify.SignV1a(f.ed[1], dynID, dynTS, dynBody))
	if _, err := m.Verify(context.Background(), h, dynBody); err != nil {
		t.Fatalf("Verify() before withdrawal: %v", err)
	}
	ks.set(jwksDoc(okpJWK(f.ed[0]), okpJWK(f.ed[2])), http.StatusOK)
	c.Advance(verify.DefaultRefreshInterval)
	// The scheduled refresh runs in the background: this delivery is still
	// verified with the keys it found.
	if _, err := m.Verify(context.Background(), h, dynBody); err != nil {
		t.Fatalf("Verify() while refreshing: %v", err)
	}
	k.WaitIdle()
	if n := k.Fetches(); n != 2 {
		t.Fatalf("%d fetches, want 2 (first and scheduled)", n)
	}
	if _, err := m.Verify(context.Background(), h, dynBody); !errors.Is(err, verify.ErrNoMatch) {
		t.Fatalf("Verify() after withdrawal error = %v, want ErrNoMatch", err)
	}
}

// TestV1aFetchBudget: many deliveries, one after another or at once, cost
// one fetch, whether they verify or are forged.
func TestV1aFetchBudget(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	tests := []struct {
		name       string
		concurrent bool
		forged     bool
	}{
		{name: "sequential valid"},
		{name: "sequential forged", forged: true},
		{name: "concurrent valid", concurrent: true},
		{name: "concurrent forged", concurrent: true, forged: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ks := newKeyServer(t, f.standardDoc())
			// A slow server keeps the first fetch in flight while the
			// concurrent deliveries arrive.
			ks.setDelay(50 * time.Millisecond)
			k := newJWKS(t, ks, newClock(), verify.JWKSOptions{})
			m := verify.NewV1a(k)
			want := error(nil)
			if tt.forged {
				want = verify.ErrNoMatch
			}
			deliver := func(i int) error {
				priv := f.ed[i%3]
				if tt.forged {
					priv = edKey(byte(100 + i))
				}
				id := fmt.Sprintf("msg_%d", i)
				_, err := m.Verify(context.Background(), mustHeaders(t, id, dynTS, verify.SignV1a(priv, id, dynTS, dynBody)), dynBody)
				return err
			}
			errs := make([]error, 20)
			if tt.concurrent {
				var wg sync.WaitGroup
				for i := range errs {
					wg.Go(func() { errs[i] = deliver(i) })
				}
				wg.Wait()
			} else {
				for i := range errs {
					errs[i] = deliver(i)
				}
			}
			for i, err := range errs {
				if !errors.Is(err, want) {
					t.Errorf("delivery %d: error = %v, want %v", i, err, want)
				}
			}
			if n := ks.hits.Load(); n != 1 || k.Fetches() != 1 {
				t.Errorf("%d requests, %d fetches; want 1", n, k.Fetches())
			}
		})
	}
}
