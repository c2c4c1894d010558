package verify_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

const (
	testIssuer   = "https://generativelanguage.googleapis.com"
	testAudience = "https://hooks.example.com/gemini"
)

// claims returns a JSON claims object with iss, aud, iat and exp (5 minutes
// ahead of the fake clock) followed by extra members (",..." text).
func claims(extra string) string {
	return fmt.Sprintf(`{"iss":%q,"aud":%q,"iat":%d,"exp":%d%s}`, testIssuer, testAudience, testNow, testNow+300, extra)
}

func bodySHA256Hex(body []byte) string {
	s := sha256.Sum256(body)
	return hex.EncodeToString(s[:])
}

func bodySHA256URL(body []byte) string {
	s := sha256.Sum256(body)
	return b64url.EncodeToString(s[:])
}

func ps256(priv *rsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		d := sha256.Sum256(input)
		sig, err := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		if err != nil {
			panic(err)
		}
		return sig
	}
}

// esSigner signs in JWS form: r and s as fixed-size big-endian integers.
func esSigner(priv *ecdsa.PrivateKey) func([]byte) []byte {
	return func(input []byte) []byte {
		var digest []byte
		switch priv.Curve {
		case elliptic.P256():
			d := sha256.Sum256(input)
			digest = d[:]
		default:
			d := sha512.Sum384(input)
			digest = d[:]
		}
		r, s, err := ecdsa.Sign(rand.Reader, priv, digest)
		if err != nil {
			panic(err)
		}
		size := (priv.Curve.Params().BitSize + 7) / 8
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out
	}
}

func TestJWTVerify(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, f.standardDoc())
	c := newClock()
	keys := newJWKS(t, ks, c, verify.JWKSOptions{})

	rsaHdr := `{"alg":"RS256","kid":"rsa-1","typ":"JWT"}`
	good := rs256(f.rsa)
	hashHex := `,"body_sha256":"` + bodySHA256Hex(dynBody) + `"`
	hashURL := `,"body_sha256":"` + bodySHA256URL(dynBody) + `"`
	pubDER, err := x509.MarshalPKIXPublicKey(&f.rsa.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	failedBody := []byte(`{"type":"batch.failed","version":"v1","data":{"id":"b1","error_code":3,"error_message":"quota"}}`)
	strict := verify.JWTOptions{Issuer: testIssuer, Audience: testAudience}
	unbound := verify.JWTOptions{AllowUnboundBody: true}
	big := strings.Repeat("x", 8<<10)

	tests := []struct {
		name    string
		opts    verify.JWTOptions
		token   string
		body    []byte // nil means dynBody
		wantErr error
	}{
		// Body binding.
		{name: "body_sha256 hex", token: signJWT(rsaHdr, claims(hashHex), good)},
		{name: "body_sha256 upper-case hex", token: signJWT(rsaHdr, claims(`,"body_sha256":"`+strings.ToUpper(bodySHA256Hex(dynBody))+`"`), good)},
		{name: "body_sha256 base64url", token: signJWT(rsaHdr, claims(hashURL), good)},
		{name: "body_hash with sha256: prefix", token: signJWT(rsaHdr, claims(`,"body_hash":"sha256:`+bodySHA256Hex(dynBody)+`"`), good)},
		{name: "event in the claims, other order and spacing", token: signJWT(rsaHdr, claims(`, "data" : { "output_file_uri" : "gs://b/results.jsonl",
			"id":"batches/abc" },"type":"batch.succeeded"`), good)},
		{name: "event in an event claim", token: signJWT(rsaHdr, claims(`,"event":{"type":"batch.succeeded","data":{"id":"batches/abc","output_file_uri":"gs://b/results.jsonl"}}`), good)},
		{name: "event numbers compared by value", body: failedBody, token: signJWT(rsaHdr, claims(`,"type":"batch.failed","data":{"error_message":"quota","error_code":3.0E0,"id":"b1"}`), good)},
		{name: "event and hash both agree", token: signJWT(rsaHdr, claims(hashURL+`,"type":"batch.succeeded","data":{"id":"batches/abc","output_file_uri":"gs://b/results.jsonl"}`), good)},
		{name: "claims describe another event", token: signJWT(rsaHdr, claims(`,"type":"batch.failed","data":{"id":"batches/abc","output_file_uri":"gs://b/results.jsonl"}`), good), wantErr: verify.ErrNoMatch},
		{name: "claims describe other data", token: signJWT(rsaHdr, claims(`,"type":"batch.succeeded","data":{"id":"batches/xyz","output_file_uri":"gs://b/results.jsonl"}`), good), wantErr: verify.ErrNoMatch},
		{name: "claims data has an extra member", token: signJWT(rsaHdr, claims(`,"type":"batch.succeeded","data":{"id":"batches/abc","output_file_uri":"gs://b/results.jsonl","x":null}`), good), wantErr: verify.ErrNoMatch},
		{name: "number that differs only past float64 precision", body: []byte(`{"type":"t","data":{"n":9007199254740993}}`), token: signJWT(rsaHdr, claims(`,"type":"t","data":{"n":9007199254740992}`), good), wantErr: verify.ErrNoMatch},
		{name: "hash of another body", body: failedBody, token: signJWT(rsaHdr, claims(hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "hash agrees, event does not", token: signJWT(rsaHdr, claims(hashHex+`,"event":{"type":"batch.failed","data":{}}`), good), wantErr: verify.ErrNoMatch},
		{name: "hash claim not a string", token: signJWT(rsaHdr, claims(`,"body_sha256":42`), good), wantErr: verify.ErrNoMatch},
		{name: "body not JSON but claims hold an event", body: []byte("not json"), token: signJWT(rsaHdr, claims(`,"type":"t","data":{}`), good), wantErr: verify.ErrNoMatch},
		{name: "unbound body", token: signJWT(rsaHdr, claims(""), good), wantErr: verify.ErrNoMatch},
		{name: "unbound body allowed", opts: unbound, token: signJWT(rsaHdr, claims(""), good)},
		{name: "a lone type claim binds nothing", token: signJWT(rsaHdr, claims(`,"type":"webhook"`), good), wantErr: verify.ErrNoMatch},
		{name: "a lone type claim, unbound allowed", opts: unbound, token: signJWT(rsaHdr, claims(`,"type":"webhook"`), good)},
		{name: "unbound allowed, but another event", opts: unbound, token: signJWT(rsaHdr, claims(`,"type":"batch.failed","data":{}`), good), wantErr: verify.ErrNoMatch},

		// Time claims, tolerance 5 minutes.
		{name: "expired beyond tolerance", token: signJWT(rsaHdr, fmt.Sprintf(`{"exp":%d%s}`, testNow-301, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "expired within skew", token: signJWT(rsaHdr, fmt.Sprintf(`{"exp":%d%s}`, testNow-299, hashHex), good)},
		{name: "expired, custom tolerance", opts: verify.JWTOptions{Tolerance: time.Minute}, token: signJWT(rsaHdr, fmt.Sprintf(`{"exp":%d%s}`, testNow-61, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "exp 0", token: signJWT(rsaHdr, `{"exp":0`+hashHex+`}`, good), wantErr: verify.ErrNoMatch},
		{name: "nbf in the future", token: signJWT(rsaHdr, fmt.Sprintf(`{"nbf":%d%s}`, testNow+301, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "nbf within skew", token: signJWT(rsaHdr, fmt.Sprintf(`{"nbf":%d%s}`, testNow+299, hashHex), good)},
		{name: "iat in the future", token: signJWT(rsaHdr, fmt.Sprintf(`{"iat":%d%s}`, testNow+400, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "exp not a number", token: signJWT(rsaHdr, `{"exp":"soon"`+hashHex+`}`, good), wantErr: verify.ErrNoMatch},
		{name: "no time claims", token: signJWT(rsaHdr, `{"x":1`+hashHex+`}`, good)},

		// Issuer and audience.
		{name: "iss and aud as configured", opts: strict, token: signJWT(rsaHdr, claims(hashHex), good)},
		{name: "aud in a list", opts: strict, token: signJWT(rsaHdr, fmt.Sprintf(`{"iss":%q,"aud":["a",%q]%s}`, testIssuer, testAudience, hashHex), good)},
		{name: "other issuer", opts: strict, token: signJWT(rsaHdr, fmt.Sprintf(`{"iss":"https://evil.example","aud":%q%s}`, testAudience, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "no issuer", opts: strict, token: signJWT(rsaHdr, fmt.Sprintf(`{"aud":%q%s}`, testAudience, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "other audience", opts: strict, token: signJWT(rsaHdr, fmt.Sprintf(`{"iss":%q,"aud":"https://other.example"%s}`, testIssuer, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "no audience", opts: strict, token: signJWT(rsaHdr, fmt.Sprintf(`{"iss":%q%s}`, testIssuer, hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "iss and aud not checked when not configured", token: signJWT(rsaHdr, fmt.Sprintf(`{"iss":"x","aud":"y"%s}`, hashHex), good)},

		// Algorithms: from the key, never from the token alone.
		{name: "alg none, empty signature", token: signJWT(`{"alg":"none"}`, claims(hashHex), func([]byte) []byte { return nil }), wantErr: verify.ErrNoMatch},
		{name: "alg none, some signature", token: signJWT(`{"alg":"none","kid":"rsa-1"}`, claims(hashHex), func([]byte) []byte { return []byte("x") }), wantErr: verify.ErrNoMatch},
		{name: "HS256 keyed with the RSA public key (PEM)", token: signJWT(`{"alg":"HS256","kid":"rsa-1"}`, claims(hashHex), hs256(pubPEM)), wantErr: verify.ErrNoMatch},
		{name: "HS256 keyed with the RSA public key (DER)", token: signJWT(`{"alg":"HS256"}`, claims(hashHex), hs256(pubDER)), wantErr: verify.ErrNoMatch},
		{name: "HS256 keyed with the RSA modulus", token: signJWT(`{"alg":"HS256","kid":"rsa-1"}`, claims(hashHex), hs256(f.rsa.N.Bytes())), wantErr: verify.ErrNoMatch},
		{name: "RS512 while the key says RS256", token: signJWT(`{"alg":"RS512","kid":"rsa-1"}`, claims(hashHex), rsaSigner(f.rsa, crypto.SHA512)), wantErr: verify.ErrNoMatch},
		{name: "PS256 while the key says RS256", token: signJWT(`{"alg":"PS256","kid":"rsa-1"}`, claims(hashHex), ps256(f.rsa)), wantErr: verify.ErrNoMatch},
		{name: "alg member in other case", token: signJWT(`{"ALG":"RS256","kid":"rsa-1"}`, claims(hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "crit header", token: signJWT(`{"alg":"RS256","kid":"rsa-1","crit":["exp"],"exp":1}`, claims(hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "unencoded payload", token: signJWT(`{"alg":"RS256","kid":"rsa-1","b64":false}`, claims(hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "header not an object", token: signJWT(`"RS256"`, claims(hashHex), good), wantErr: verify.ErrNoMatch},
		{name: "kid not a string", token: signJWT(`{"alg":"RS256","kid":1}`, claims(hashHex), good), wantErr: verify.ErrNoMatch},

		// Key selection.
		{name: "no kid: every key of the algorithm", token: signJWT(`{"alg":"RS256"}`, claims(hashHex), good)},
		{name: "EdDSA by a kid-less Ed25519 key", token: signJWT(`{"alg":"EdDSA"}`, claims(hashHex), eddsa(f.ed[1]))},
		{name: "EdDSA naming the RSA key", token: signJWT(`{"alg":"EdDSA","kid":"rsa-1"}`, claims(hashHex), eddsa(f.ed[1])), wantErr: verify.ErrNoMatch},
		{name: "right kid, other RSA key", token: signJWT(rsaHdr, claims(hashHex), rs256(otherRSA())), wantErr: verify.ErrNoMatch},

		// Shape.
		{name: "tampered claims", token: func() string {
			tok := strings.Split(signJWT(rsaHdr, claims(hashHex), good), ".")
			tok[1] = b64url.EncodeToString([]byte(claims(hashHex + `,"admin":true`)))
			return strings.Join(tok, ".")
		}(), wantErr: verify.ErrNoMatch},
		{name: "claims not an object", token: signJWT(rsaHdr, `[1,2]`, good), wantErr: verify.ErrNoMatch},
		{name: "claims with trailing data", token: signJWT(rsaHdr, claims(hashHex)+`{}`, good), wantErr: verify.ErrNoMatch},
		{name: "valid but longer than 8 KiB", token: signJWT(rsaHdr, claims(hashHex+`,"pad":"`+big+`"`), good), wantErr: verify.ErrNoMatch},
		{name: "padded segments", token: strings.Replace(signJWT(rsaHdr, claims(hashHex), good), ".", "=.", 1), wantErr: verify.ErrNoMatch},
		{name: "two segments", token: "eyJhbGciOiJSUzI1NiJ9.e30", wantErr: verify.ErrNoMatch},
		{name: "four segments", token: signJWT(rsaHdr, claims(hashHex), good) + ".e30", wantErr: verify.ErrNoMatch},
		{name: "empty payload segment", token: "eyJhbGciOiJSUzI1NiJ9..c2ln", wantErr: verify.ErrNoMatch},
		{name: "signature not base64url", token: signJWT(rsaHdr, claims(hashHex), good) + "*", wantErr: verify.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := dynBody
			if tt.body != nil {
				body = tt.body
			}
			m := verify.NewJWT(keys, tt.opts)
			scheme, err := m.Verify(context.Background(), &verify.Headers{ID: dynID, Timestamp: dynTS, Unix: testNow, Signature: tt.token}, body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			if errors.Is(err, verify.ErrKeysUnavailable) {
				t.Fatalf("Verify() error = %v with keys available", err)
			}
			if tt.wantErr == nil && scheme != verify.SchemeJWT {
				t.Errorf("Verify() = %q, want %q", scheme, verify.SchemeJWT)
			}
			if err != nil {
				for _, seg := range strings.Split(tt.token, ".") {
					if len(seg) >= 8 && strings.Contains(err.Error(), seg) {
						t.Errorf("error %q contains part of the token", err)
					}
				}
			}
		})
	}
}

// TestJWTNotItsForm: a delivery that does not carry a lone compact JWS never
// touches the key source.
func TestJWTNotItsForm(t *testing.T) {
	t.Parallel()
	ks := newKeyServer(t, nil)
	ks.set(nil, http.StatusInternalServerError)
	k := newJWKS(t, ks, newClock(), verify.JWKSOptions{})
	m := verify.NewJWT(k, verify.JWTOptions{})
	tok := signJWT(`{"alg":"RS256","kid":"rsa-1"}`, claims(""), rs256(fixtureKeys().rsa))
	for _, sig := range []string{
		verify.SignV1(mustSecret(t, verify.GenerateSecret()), dynID, dynTS, dynBody),
		verify.SignV1a(edKey(1), dynID, dynTS, dynBody),
		tok + " v1,AAAA", // a JWS next to entries is a signature list, not the JWT form
		"v1a," + tok,
		"a.b",
		strings.Repeat("a", 9000) + ".b.c",
		signJWT(`{"alg":"none"}`, claims(""), func([]byte) []byte { return []byte{1} }),
		signJWT(`{"alg":"HS256"}`, claims(""), hs256([]byte("k"))),
	} {
		h := mustHeaders(t, dynID, dynTS, sig)
		if _, err := m.Verify(context.Background(), h, dynBody); !errors.Is(err, verify.ErrNoMatch) {
			t.Errorf("Verify(%.24q) error = %v, want ErrNoMatch", sig, err)
		}
	}
	if k.Fetches() != 0 || ks.hits.Load() != 0 {
		t.Errorf("%d fetches, %d requests; want none", k.Fetches(), ks.hits.Load())
	}
	// And the form itself, with the key set down: 503, not 401.
	if _, err := m.Verify(context.Background(), mustHeaders(t, dynID, dynTS, tok), dynBody); !errors.Is(err, verify.ErrKeysUnavailable) || errors.Is(err, verify.ErrNoMatch) {
		t.Errorf("Verify(token) with the key set down: error = %v, want ErrKeysUnavailable only", err)
	}
}

func TestJWTNilKeys(t *testing.T) {
	t.Parallel()
	tok := signJWT(`{"alg":"RS256","kid":"rsa-1"}`, claims(""), rs256(fixtureKeys().rsa))
	if _, err := verify.NewJWT(nil, verify.JWTOptions{}).Verify(context.Background(), &verify.Headers{Signature: tok}, dynBody); !errors.Is(err, verify.ErrNoMatch) {
		t.Fatalf("Verify() error = %v, want ErrNoMatch", err)
	}
}

// TestJWTUnknownKid: an unknown kid refetches the key set (once per gap),
// then fails with ErrNoMatch; a kid published meanwhile is found.
func TestJWTUnknownKid(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, f.standardDoc())
	c := newClock()
	k := newJWKS(t, ks, c, verify.JWKSOptions{})
	m := verify.NewJWT(k, verify.JWTOptions{AllowUnboundBody: true})
	verifyToken := func(kid string, priv *rsa.PrivateKey) error {
		tok := signJWT(fmt.Sprintf(`{"alg":"RS256","kid":%q}`, kid), claims(""), rs256(priv))
		_, err := m.Verify(context.Background(), &verify.Headers{Signature: tok}, dynBody)
		return err
	}
	steps := []struct {
		name        string
		advance     time.Duration
		publish     bool
		kid         string
		priv        *rsa.PrivateKey
		wantErr     error
		wantFetches int64
	}{
		{name: "known kid, first fetch", kid: rsaKID, priv: f.rsa, wantFetches: 1},
		{name: "unknown kid refetches", advance: time.Minute, kid: "rsa-2", priv: otherRSA(), wantErr: verify.ErrNoMatch, wantFetches: 2},
		{name: "unknown kid within the gap does not", kid: "rsa-2", priv: otherRSA(), wantErr: verify.ErrNoMatch, wantFetches: 2},
		{name: "known kid, bad signature never refetches", advance: time.Minute, kid: rsaKID, priv: otherRSA(), wantErr: verify.ErrNoMatch, wantFetches: 2},
		{name: "kid published, found after the gap", publish: true, kid: "rsa-2", priv: otherRSA(), wantFetches: 3},
		{name: "then cached", kid: "rsa-2", priv: otherRSA(), wantFetches: 3},
	}
	for _, st := range steps {
		c.Advance(st.advance)
		if st.publish {
			ks.set(jwksDoc(okpJWK(f.ed[0]), rsaJWK(f.rsa, rsaKID, "RS256"), rsaJWK(otherRSA(), "rsa-2", "")), http.StatusOK)
		}
		if err := verifyToken(st.kid, st.priv); !errors.Is(err, st.wantErr) {
			t.Fatalf("%s: Verify() error = %v, want %v", st.name, err, st.wantErr)
		}
		if n := k.Fetches(); n != st.wantFetches {
			t.Fatalf("%s: %d fetches, want %d", st.name, n, st.wantFetches)
		}
	}
}

// TestJWTAlgorithmFromKey: without "alg" on the key, RSA allows RS256 only
// and EC the algorithm of its curve; with "alg", only that algorithm.
func TestJWTAlgorithmFromKey(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecJWK := func(k *ecdsa.PrivateKey, kid, alg string) map[string]any {
		size := (k.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, size), make([]byte, size)
		k.X.FillBytes(x)
		k.Y.FillBytes(y)
		m := map[string]any{"kty": "EC", "crv": k.Curve.Params().Name, "kid": kid, "x": b64url.EncodeToString(x), "y": b64url.EncodeToString(y)}
		if alg != "" {
			m["alg"] = alg
		}
		return m
	}
	ks := newKeyServer(t, jwksDoc(
		rsaJWK(f.rsa, "rsa-noalg", ""),
		rsaJWK(otherRSA(), "rsa-ps256", "PS256"),
		ecJWK(p256, "ec-256", ""),
		ecJWK(p384, "ec-384", "ES384"),
		ecJWK(p256, "ec-256-as-384", "ES384"), // alg disagrees with curve: unusable
	))
	m := verify.NewJWT(newJWKS(t, ks, newClock(), verify.JWKSOptions{}), verify.JWTOptions{AllowUnboundBody: true})

	tests := []struct {
		name, alg, kid string
		sign           func([]byte) []byte
		wantErr        error
	}{
		{name: "RSA without alg: RS256", alg: "RS256", kid: "rsa-noalg", sign: rs256(f.rsa)},
		{name: "RSA without alg: not RS512", alg: "RS512", kid: "rsa-noalg", sign: rsaSigner(f.rsa, crypto.SHA512), wantErr: verify.ErrNoMatch},
		{name: "RSA without alg: not PS256", alg: "PS256", kid: "rsa-noalg", sign: ps256(f.rsa), wantErr: verify.ErrNoMatch},
		{name: "RSA with alg PS256: PS256", alg: "PS256", kid: "rsa-ps256", sign: ps256(otherRSA())},
		{name: "RSA with alg PS256: not RS256", alg: "RS256", kid: "rsa-ps256", sign: rs256(otherRSA()), wantErr: verify.ErrNoMatch},
		{name: "P-256 without alg: ES256", alg: "ES256", kid: "ec-256", sign: esSigner(p256)},
		{name: "P-256 without alg: not ES384", alg: "ES384", kid: "ec-256", sign: esSigner(p256), wantErr: verify.ErrNoMatch},
		{name: "P-384 with alg ES384", alg: "ES384", kid: "ec-384", sign: esSigner(p384)},
		{name: "alg that disagrees with the curve", alg: "ES384", kid: "ec-256-as-384", sign: esSigner(p256), wantErr: verify.ErrNoMatch},
		{name: "ES256 without kid", alg: "ES256", sign: esSigner(p256)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hdr := fmt.Sprintf(`{"alg":%q,"kid":%q}`, tt.alg, tt.kid)
			if tt.kid == "" {
				hdr = fmt.Sprintf(`{"alg":%q}`, tt.alg)
			}
			tok := signJWT(hdr, claims(""), tt.sign)
			_, err := m.Verify(context.Background(), &verify.Headers{Signature: tok}, dynBody)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestJWTDefaultClock: without JWTOptions.Now the token's times are checked
// against the key source's clock.
func TestJWTDefaultClock(t *testing.T) {
	t.Parallel()
	f := fixtureKeys()
	ks := newKeyServer(t, f.standardDoc())
	c := newClock()
	m := verify.NewJWT(newJWKS(t, ks, c, verify.JWKSOptions{}), verify.JWTOptions{AllowUnboundBody: true})
	tok := signJWT(`{"alg":"RS256","kid":"rsa-1"}`, claims(""), rs256(f.rsa))
	h := &verify.Headers{Signature: tok}
	if _, err := m.Verify(context.Background(), h, dynBody); err != nil {
		t.Fatalf("Verify() error = %v", err)
	}
	c.Advance(10*time.Minute + time.Second)
	if _, err := m.Verify(context.Background(), h, dynBody); !errors.Is(err, verify.ErrNoMatch) {
		t.Fatalf("Verify() 10m after exp: error = %v, want ErrNoMatch", err)
	}
}
