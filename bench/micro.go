// Package bench is the benchmark harness of geminihook: each figure is the
// product measured side by side with a reference or a floor in the same
// run, so that it can be published as a ratio that holds on a noisy
// machine. `make bench` runs it (bench/cmd/bench) and writes BENCHMARKS.md.
//
// This file holds the verification micro-benchmarks. Each [Group] is one
// input, with the product ("ours") and what it is compared with; `go test
// -bench . ./bench` runs the same functions one after the other, and the
// harness runs them interleaved.
package bench

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/geminihook/geminihook/verify"
)

// Side is one of the things a Group compares.
type Side struct {
	// Name is "ours", "reference" or "floor".
	Name string
	// What says what the side measures, for the report.
	What string
	F    func(b *testing.B)
}

// Group is one input measured on every side.
type Group struct {
	// Item is the number of the list the group answers.
	Item  int
	Name  string
	Sides []Side
}

// Side names.
const (
	Ours      = "ours"
	Reference = "reference"
	Floor     = "floor"
)

// Sizes of the bodies of the verification benchmarks.
var Sizes = []int{1 << 10, 16 << 10}

const benchID = "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"

// Groups returns every verification group: v1 at each size with one and two
// secrets (item 1), v1a with three kid-less keys (item 2), JWT RS256
// (item 3).
func Groups() []Group {
	var gs []Group
	for _, size := range Sizes {
		for _, n := range []int{1, 2} {
			gs = append(gs, v1Group(size, n))
		}
	}
	for _, size := range Sizes {
		gs = append(gs, v1aGroup(size))
	}
	gs = append(gs, jwtGroup(1<<10))
	return gs
}

// Body returns a JSON webhook body of exactly size bytes (at least 200).
func Body(size int) []byte {
	head := `{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batches/abc123","output_file_uri":"gs://gemini-batch-results/abc123/results.jsonl","display_name":"`
	tail := `"}}`
	return []byte(head + strings.Repeat("n", size-len(head)-len(tail)) + tail)
}

// requestHeader is what a delivery's request carries besides its body, with
// a timestamp of now, so that every side's clock check passes.
func requestHeader(sig string) http.Header {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("User-Agent", "Google-Gemini-Webhooks")
	h.Set("Traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	h.Set(verify.HeaderID, benchID)
	h.Set(verify.HeaderTimestamp, strconv.FormatInt(time.Now().Unix(), 10))
	h.Set(verify.HeaderSignature, sig)
	return h
}

// keys is a JWKS as Gemini's was seen: three Ed25519 keys without kid, and
// an RSA key with kid and alg, served on loopback.
type keys struct {
	ed  [3]ed25519.PrivateKey
	rsa *rsa.PrivateKey
	url string
}

var fixture = sync.OnceValue(func() *keys {
	k := new(keys)
	var doc []map[string]string
	for i := range k.ed {
		seed := make([]byte, ed25519.SeedSize)
		for j := range seed {
			seed[j] = byte(i + j + 1)
		}
		k.ed[i] = ed25519.NewKeyFromSeed(seed)
		doc = append(doc, map[string]string{"kty": "OKP", "crv": "Ed25519",
			"x": base64.RawURLEncoding.EncodeToString(k.ed[i].Public().(ed25519.PublicKey))})
	}
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	doc = append(doc, map[string]string{"kty": "RSA", "use": "sig", "kid": "rsa-1", "alg": "RS256",
		"n": base64.RawURLEncoding.EncodeToString(k.rsa.N.Bytes()),
		"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.rsa.E)).Bytes())})
	set, _ := json.Marshal(map[string]any{"keys": doc})
	// The server lives as long as the process: the key source of every
	// group fetches from it once.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(set)
	}))
	k.url = srv.URL + "/.well-known/jwks.json"
	return k
})

const (
	jwtIssuer   = "https://generativelanguage.googleapis.com"
	jwtAudience = "https://hooks.example.com/gemini"
)

// receiverVerifier is the verifier as the receiver wires it (receiver.go):
// the static secrets, then v1a, then JWT, over one key source.
func receiverVerifier(secrets []verify.Secret) *verify.Verifier {
	ks := verify.NewJWKS(fixture().url, verify.JWKSOptions{})
	return verify.New(verify.Options{},
		verify.NewHMAC(secrets...),
		verify.NewV1a(ks),
		verify.NewJWT(ks, verify.JWTOptions{Issuer: jwtIssuer, Audience: jwtAudience}),
	)
}

// parseAndVerify is what the handler does with a delivery's headers and
// body: parse the headers, then verify.
func parseAndVerify(b *testing.B, v *verify.Verifier, hdr http.Header, body []byte) {
	ctx := context.Background()
	check := func() {
		h, err := verify.ParseHeaders(hdr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := v.Verify(ctx, &h, body); err != nil {
			b.Fatal(err)
		}
	}
	check() // the first dynamic delivery fetches the keys
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		check()
	}
}

// verifyOnly is the verification alone, on headers parsed once.
func verifyOnly(b *testing.B, v *verify.Verifier, hdr http.Header, body []byte) {
	ctx := context.Background()
	h, err := verify.ParseHeaders(hdr)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Verify(ctx, &h, body); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, &h, body); err != nil {
			b.Fatal(err)
		}
	}
}

// v1Group: n secrets, the delivery signed with the last one, so that every
// side computes n MACs (a receiver cannot know which secret signed).
func v1Group(size, n int) Group {
	texts := make([]string, n)
	for i := range texts {
		texts[i] = verify.GenerateSecret()
	}
	secrets := make([]verify.Secret, n)
	for i, t := range texts {
		s, err := verify.ParseSecret(t)
		if err != nil {
			panic(err)
		}
		secrets[i] = s
	}
	bd := Body(size)
	hdrFor := func() http.Header {
		h := requestHeader("")
		h.Set(verify.HeaderSignature, verify.SignV1(secrets[n-1], benchID, h.Get(verify.HeaderTimestamp), bd))
		return h
	}
	return Group{
		Item: 1,
		Name: fmt.Sprintf("v1, %d KiB, %d secret%s", size>>10, n, map[bool]string{true: "s"}[n > 1]),
		Sides: []Side{
			{Name: Ours, What: "verify.ParseHeaders + Verifier.Verify (receiver wiring)", F: func(b *testing.B) {
				parseAndVerify(b, receiverVerifier(secrets), hdrFor(), bd)
			}},
			{Name: "ours-verify", What: "Verifier.Verify on parsed headers", F: func(b *testing.B) {
				verifyOnly(b, receiverVerifier(secrets), hdrFor(), bd)
			}},
			{Name: Reference, What: fmt.Sprintf("standardwebhooks.Webhook.Verify, %d webhook(s) tried in turn", n), F: func(b *testing.B) {
				whs := make([]*standardwebhooks.Webhook, n)
				for i, t := range texts {
					wh, err := standardwebhooks.NewWebhook(t)
					if err != nil {
						b.Fatal(err)
					}
					whs[i] = wh
				}
				hdr := hdrFor()
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					for _, wh := range whs {
						if err = wh.Verify(bd, hdr); err == nil {
							break
						}
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}},
			{Name: Floor, What: fmt.Sprintf("%d bare HMAC-SHA256 of the signed bytes (reused hmac.Hash)", n), F: func(b *testing.B) {
				macs := make([]interface {
					Reset()
					Write([]byte) (int, error)
					Sum([]byte) []byte
				}, n)
				for i := range macs {
					key := make([]byte, 32)
					rand.Read(key)
					macs[i] = hmac.New(sha256.New, key)
				}
				prefix := []byte(benchID + "." + strconv.FormatInt(time.Now().Unix(), 10) + ".")
				sum := make([]byte, 0, sha256.Size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					for _, m := range macs {
						m.Reset()
						m.Write(prefix)
						m.Write(bd)
						sum = m.Sum(sum[:0])
					}
				}
			}},
		},
	}
}

// v1aGroup: three kid-less keys, the delivery signed by the last, in the
// steady state (keys cached, the key that verified last tried first).
func v1aGroup(size int) Group {
	k := fixture()
	bd := Body(size)
	secret, _ := verify.ParseSecret(verify.GenerateSecret())
	hdrFor := func() http.Header {
		h := requestHeader("")
		h.Set(verify.HeaderSignature, verify.SignV1a(k.ed[2], benchID, h.Get(verify.HeaderTimestamp), bd))
		return h
	}
	return Group{
		Item: 2,
		Name: fmt.Sprintf("v1a, %d KiB, 3 kid-less keys", size>>10),
		Sides: []Side{
			{Name: Ours, What: "verify.ParseHeaders + Verifier.Verify (receiver wiring, one static secret)", F: func(b *testing.B) {
				parseAndVerify(b, receiverVerifier([]verify.Secret{secret}), hdrFor(), bd)
			}},
			{Name: Floor, What: "one bare ed25519.Verify of the prebuilt signed bytes", F: func(b *testing.B) {
				msg := []byte(benchID + "." + strconv.FormatInt(time.Now().Unix(), 10) + "." + string(bd))
				sig := ed25519.Sign(k.ed[2], msg)
				pub := k.ed[2].Public().(ed25519.PublicKey)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if !ed25519.Verify(pub, msg, sig) {
						b.Fatal("no match")
					}
				}
			}},
		},
	}
}

// jwtToken is an RS256 token of the fixture's RSA key, issued now, whose
// claims bind bd by its SHA-256, as `geminihook send --kid` makes them.
func jwtToken(bd []byte) string {
	k := fixture()
	sum := sha256.Sum256(bd)
	now := time.Now().Unix()
	hdr := `{"alg":"RS256","kid":"rsa-1","typ":"JWT"}`
	claims := fmt.Sprintf(`{"iss":%q,"aud":%q,"iat":%d,"exp":%d,"body_sha256":%q}`, jwtIssuer, jwtAudience, now, now+3600, hex.EncodeToString(sum[:]))
	input := base64.RawURLEncoding.EncodeToString([]byte(hdr)) + "." + base64.RawURLEncoding.EncodeToString([]byte(claims))
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, k.rsa, crypto.SHA256, digest[:])
	if err != nil {
		panic(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

func jwtGroup(size int) Group {
	bd := Body(size)
	secret, _ := verify.ParseSecret(verify.GenerateSecret())
	return Group{
		Item: 3,
		Name: fmt.Sprintf("JWT RS256, %d KiB", size>>10),
		Sides: []Side{
			{Name: Ours, What: "verify.ParseHeaders + Verifier.Verify (receiver wiring: kid, alg from the key, exp/iat/iss/aud, body SHA-256)", F: func(b *testing.B) {
				parseAndVerify(b, receiverVerifier([]verify.Secret{secret}), requestHeader(jwtToken(bd)), bd)
			}},
			{Name: Floor, What: "base64 decoding, rsa.VerifyPKCS1v15 and json.Unmarshal of the claims", F: func(b *testing.B) {
				pub := &fixture().rsa.PublicKey
				tok := jwtToken(bd)
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
			}},
		},
	}
}
