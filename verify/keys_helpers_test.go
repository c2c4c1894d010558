package verify_test

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// testNow is the fixed start of every fake clock: 2026-01-01T00:00:00Z.
const testNow = 1767225600

// fakeClock is a settable clock shared by a JWKS and the test.
type fakeClock struct{ ns atomic.Int64 }

func newClock() *fakeClock {
	c := new(fakeClock)
	c.ns.Store(testNow * int64(time.Second))
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fixture holds the keys of the test key set: three Ed25519 keys without
// kid, as Gemini's JWKS was seen to publish, and an RSA key with kid and alg.
type fixture struct {
	ed  [3]ed25519.PrivateKey
	rsa *rsa.PrivateKey
}

const rsaKID = "rsa-1"

// fixtureKeys are generated once: RSA key generation is slow.
var fixtureKeys = sync.OnceValue(func() *fixture {
	f := new(fixture)
	for i := range f.ed {
		f.ed[i] = edKey(byte(i + 1))
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	f.rsa = k
	return f
})

var otherRSA = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// edKey returns a deterministic Ed25519 key.
func edKey(seed byte) ed25519.PrivateKey {
	s := make([]byte, ed25519.SeedSize)
	for i := range s {
		s[i] = seed + byte(i)
	}
	return ed25519.NewKeyFromSeed(s)
}

var b64url = base64.RawURLEncoding

// okpJWK is an Ed25519 public key as a JWK, without kid.
func okpJWK(priv ed25519.PrivateKey) map[string]any {
	return map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64url.EncodeToString(priv.Public().(ed25519.PublicKey))}
}

// rsaJWK is an RSA public key as a JWK; empty kid or alg are left out.
func rsaJWK(priv *rsa.PrivateKey, kid, alg string) map[string]any {
	m := map[string]any{
		"kty": "RSA", "use": "sig",
		"n": b64url.EncodeToString(priv.N.Bytes()),
		"e": b64url.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
	}
	if kid != "" {
		m["kid"] = kid
	}
	if alg != "" {
		m["alg"] = alg
	}
	return m
}

func jwksDoc(keys ...map[string]any) []byte {
	doc, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return doc
}

// standardDoc is the fixture's key set.
func (f *fixture) standardDoc() []byte {
	return jwksDoc(okpJWK(f.ed[0]), okpJWK(f.ed[1]), okpJWK(f.ed[2]), rsaJWK(f.rsa, rsaKID, "RS256"))
}

// keyServer serves a replaceable JWKS document and counts requests.
type keyServer struct {
	*httptest.Server
	mu     sync.Mutex
	doc    []byte
	status int
	delay  time.Duration
	hits   atomic.Int64
}

func newKeyServer(t testing.TB, doc []byte) *keyServer {
	t.Helper()
	ks := &keyServer{doc: doc, status: http.StatusOK}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.hits.Add(1)
		ks.mu.Lock()
		doc, status, delay := ks.doc, ks.status, ks.delay
		ks.mu.Unlock()
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(doc)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) set(doc []byte, status int) {
	ks.mu.Lock()
	ks.doc, ks.status = doc, status
	ks.mu.Unlock()
}

func (ks *keyServer) setDelay(d time.Duration) {
	ks.mu.Lock()
	ks.delay = d
	ks.mu.Unlock()
}

// newJWKS returns a key source for ks with the clock c, closed at cleanup.
func newJWKS(t testing.TB, ks *keyServer, c *fakeClock, opts verify.JWKSOptions) *verify.JWKS {
	t.Helper()
	opts.Now = c.Now
	k := verify.NewJWKS(ks.URL+"/.well-known/jwks.json", opts)
	t.Cleanup(k.Close)
	return k
}

// signJWT builds a compact JWS by hand, independently of jwx: header and
// claims are given as raw JSON so that tests control every byte.
func signJWT(header, claims string, sign func(input []byte) []byte) string {
	input := b64url.EncodeToString([]byte(header)) + "." + b64url.EncodeToString([]byte(claims))
	return input + "." + b64url.EncodeToString(sign([]byte(input)))
}

func rs256(priv *rsa.PrivateKey) func([]byte) []byte {
	return rsaSigner(priv, crypto.SHA256)
}

func rsaSigner(priv *rsa.PrivateKey, h crypto.Hash) func([]byte) []byte {
	return func(input []byte) []byte {
		var digest []byte
		switch h {
		case crypto.SHA256:
			s := sha256.Sum256(input)
			digest = s[:]
		case crypto.SHA512:
			s := sha512.Sum512(input)
			digest = s[:]
		}
		sig, err := rsa.SignPKCS1v15(nil, priv, h, digest)
		if err != nil {
			panic(err)
		}
		return sig
	}
}

func eddsa(priv ed25519.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte { return ed25519.Sign(priv, input) }
}

func hs256(key []byte) func([]byte) []byte {
	return func(input []byte) []byte {
		m := hmac.New(sha256.New, key)
		m.Write(input)
		return m.Sum(nil)
	}
}

// jsonText marshals v, for claims built from maps.
func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
