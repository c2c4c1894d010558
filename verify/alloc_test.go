//go:build !race

// The race detector makes sync.Pool drop items at random, so allocation
// counts only hold without it.

package verify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// TestVerifyAllocations holds the hot path to zero allocations. It does not
// call t.Parallel: AllocsPerRun counts the allocations of the whole process.
func TestVerifyAllocations(t *testing.T) {
	a := mustSecret(t, verify.GenerateSecret())
	b := mustSecret(t, verify.GenerateSecret())
	body := []byte(strings.Repeat("x", 4096))
	const id, ts = "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "1767225600"
	now := func() time.Time { return time.Unix(1767225600, 0) }

	tests := []struct {
		name   string
		method verify.Method
		sig    string
		ok     bool
	}{
		{name: "one secret, match", method: verify.NewHMAC(a), sig: verify.SignV1(a, id, ts, body), ok: true},
		{name: "two secrets, match on second", method: verify.NewHMAC(b, a), sig: verify.SignV1(a, id, ts, body), ok: true},
		{name: "two secrets, two entries, no match", method: verify.NewHMAC(b, a), sig: verify.SignV1(mustSecret(t, verify.GenerateSecret()), id, ts, body) + " v1," + strings.Repeat("A", 43), ok: false},
		{name: "other versions only", method: verify.NewHMAC(a), sig: "v1a," + strings.Repeat("A", 86) + "==", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := mustHeaders(t, id, ts, tt.sig)
			v := verify.New(verify.Options{Now: now}, tt.method)
			allocs := testing.AllocsPerRun(200, func() {
				_, err := v.Verify(context.Background(), h, body)
				if (err == nil) != tt.ok {
					t.Fatalf("Verify() error = %v, want ok=%v", err, tt.ok)
				}
			})
			if allocs != 0 {
				t.Errorf("Verify() allocates %v times per call, want 0", allocs)
			}
		})
	}
}

// TestV1aAllocations holds the v1a steady state (keys cached, the key that
// verified last tried first) to zero allocations.
func TestV1aAllocations(t *testing.T) {
	f := fixtureKeys()
	body := []byte(strings.Repeat("x", 4096))
	const id, ts = "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "1767225600"
	m := verify.NewV1a(newJWKS(t, newKeyServer(t, f.standardDoc()), newClock(), verify.JWKSOptions{}))
	h := mustHeaders(t, id, ts, verify.SignV1a(f.ed[2], id, ts, body))
	if _, err := m.Verify(context.Background(), h, body); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := m.Verify(context.Background(), h, body); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("V1a.Verify() allocates %v times per call, want 0", allocs)
	}
}
