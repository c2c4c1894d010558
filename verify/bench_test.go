package verify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"

	"github.com/geminihook/geminihook/verify"
)

const (
	benchID = "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
	benchTS = "1767225600"
)

var benchSizes = []int{1 << 10, 16 << 10}

// BenchmarkHMACVerify measures the v1 method. With two secrets the delivery
// is signed with the second, so both MACs are computed (rotation overlap).
func BenchmarkHMACVerify(b *testing.B) {
	for _, size := range benchSizes {
		for _, n := range []int{1, 2} {
			b.Run(fmt.Sprintf("body=%dKiB/secrets=%d", size>>10, n), func(b *testing.B) {
				secrets := make([]verify.Secret, n)
				for i := range secrets {
					secrets[i] = mustSecret(b, verify.GenerateSecret())
				}
				body := []byte(strings.Repeat("x", size))
				h := mustHeaders(b, benchID, benchTS, verify.SignV1(secrets[n-1], benchID, benchTS, body))
				m := verify.NewHMAC(secrets...)
				ctx := context.Background()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := m.Verify(ctx, h, body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkBareHMAC is the floor: one reused HMAC-SHA256 over the same
// bytes, with no parsing, decoding or comparison.
func BenchmarkBareHMAC(b *testing.B) {
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			mac := hmac.New(sha256.New, key(32))
			prefix := []byte(benchID + "." + benchTS + ".")
			body := []byte(strings.Repeat("x", size))
			sum := make([]byte, 0, sha256.Size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				mac.Reset()
				mac.Write(prefix)
				mac.Write(body)
				sum = mac.Sum(sum[:0])
			}
		})
	}
}

func BenchmarkParseHeaders(b *testing.B) {
	h := headers(benchID, benchTS, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYq=")
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Google-Gemini-Webhooks")
	h.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.ParseHeaders(h); err != nil {
			b.Fatal(err)
		}
	}
}
