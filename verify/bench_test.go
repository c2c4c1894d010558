package verify_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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

// BenchmarkV1a measures the v1a method in the steady state: keys cached,
// three kid-less keys, the delivery signed by the last of them (the one
// remembered), so one Ed25519 verification per delivery.
func BenchmarkV1a(b *testing.B) {
	f := fixtureKeys()
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			ks := newKeyServer(b, f.standardDoc())
			m := verify.NewV1a(newJWKS(b, ks, newClock(), verify.JWKSOptions{}))
			body := []byte(strings.Repeat("x", size))
			h := mustHeaders(b, benchID, benchTS, verify.SignV1a(f.ed[2], benchID, benchTS, body))
			ctx := context.Background()
			if _, err := m.Verify(ctx, h, body); err != nil { // fetch, learn the key
				b.Fatal(err)
			}
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

// BenchmarkBareEd25519 is the floor: one ed25519.Verify over a prebuilt
// message.
func BenchmarkBareEd25519(b *testing.B) {
	priv := edKey(1)
	pub := priv.Public().(ed25519.PublicKey)
	for _, size := range benchSizes {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			msg := []byte(benchID + "." + benchTS + "." + strings.Repeat("x", size))
			sig := ed25519.Sign(priv, msg)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if !ed25519.Verify(pub, msg, sig) {
					b.Fatal("no match")
				}
			}
		})
	}
}

// benchToken is an RS256 token of the fixture's RSA key whose claims bind
// body by its SHA-256.
func benchToken(body []byte) string {
	return signJWT(`{"alg":"RS256","kid":"rsa-1","typ":"JWT"}`, claims(`,"body_sha256":"`+bodySHA256Hex(body)+`"`), rs256(fixtureKeys().rsa))
}

// BenchmarkJWT measures the JWT method in the steady state (keys cached):
// RS256, kid lookup, registered claims and body hash.
func BenchmarkJWT(b *testing.B) {
	ks := newKeyServer(b, fixtureKeys().standardDoc())
	m := verify.NewJWT(newJWKS(b, ks, newClock(), verify.JWKSOptions{}), verify.JWTOptions{Issuer: testIssuer, Audience: testAudience})
	body := []byte(strings.Repeat("x", 1<<10))
	h := &verify.Headers{ID: benchID, Timestamp: benchTS, Unix: testNow, Signature: benchToken(body)}
	ctx := context.Background()
	if _, err := m.Verify(ctx, h, body); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Verify(ctx, h, body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareRSAPlusJSON is the floor for BenchmarkJWT: base64 decoding,
// rsa.VerifyPKCS1v15 and json.Unmarshal of the claims, with no checks.
func BenchmarkBareRSAPlusJSON(b *testing.B) {
	pub := &fixtureKeys().rsa.PublicKey
	body := []byte(strings.Repeat("x", 1<<10))
	tok := benchToken(body)
	dot := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:dot])
	payloadSeg := tok[strings.IndexByte(tok, '.')+1 : dot]
	b.ReportAllocs()
	for b.Loop() {
		sig, err := base64.RawURLEncoding.DecodeString(tok[dot+1:])
		if err != nil {
			b.Fatal(err)
		}
		digest := sha256.Sum256(input)
		if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
			b.Fatal(err)
		}
		payload, err := base64.RawURLEncoding.DecodeString(payloadSeg)
		if err != nil {
			b.Fatal(err)
		}
		var c map[string]any
		if err := json.Unmarshal(payload, &c); err != nil {
			b.Fatal(err)
		}
	}
}
