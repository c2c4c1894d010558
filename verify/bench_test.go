package verify_test

import (
	"testing"

	"github.com/geminihook/geminihook/verify"
)

// The verification benchmarks, each beside its reference and floor, are in
// package bench (`go test -run '^$' -bench Verify ./bench`, and `make bench`).

func BenchmarkParseHeaders(b *testing.B) {
	h := headers("msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "1767225600", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwMfKQ9r8GKYq=")
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
