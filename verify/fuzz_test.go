package verify_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/geminihook/geminihook/verify"
)

// validID restates the webhook-id rule independently of the package.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 256 {
		return false
	}
	for _, c := range []byte(id) {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

func FuzzParseHeaders(f *testing.F) {
	f.Add("msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "1767225600", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,AAAA v1a,BBBB  v2,CCC nocomma")
	f.Add("batches/abc", "-1", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	f.Add("", "+1", "")
	f.Add("msg\x00\xff", "9223372036854775808", "   ")
	f.Add(strings.Repeat("a", 257), "1e9", entries(33))
	f.Add("x", "0", ",,, v1,, ,v1")
	// Dynamic forms: v1a entries (valid, unpadded, wrong length), a JWT,
	// and mixtures of them.
	fx := fixtureKeys()
	v1a := verify.SignV1a(fx.ed[0], "msg_1", "1767225600", nil)
	token := signJWT(`{"alg":"RS256","kid":"rsa-1"}`, `{"exp":1767225900}`, rs256(fx.rsa))
	f.Add("msg_1", "1767225600", v1a)
	f.Add("msg_1", "1767225600", strings.TrimRight(v1a, "="))
	f.Add("msg_1", "1767225600", "v1a,"+strings.Repeat("A", 87)+" v1a,"+strings.Repeat("/", 88))
	f.Add("msg_1", "1767225600", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= "+v1a+" v1b,xyz")
	f.Add("msg_1", "1767225600", token)
	f.Add("msg_1", "1767225600", token+" "+v1a)
	f.Add("msg_1", "1767225600", "v1a,"+token)
	f.Add("msg_1", "1767225600", strings.Repeat(v1a+" ", 32))

	secret := mustSecret(f, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	hmacMethod := verify.NewHMAC(secret)
	// One key source for the whole run, on a fixed clock: after the first
	// fetch, misses never refetch, so the fuzzer cannot hammer the server.
	keys := newJWKS(f, newKeyServer(f, fx.standardDoc()), newClock(), verify.JWKSOptions{})
	dynamic := []verify.Method{verify.NewV1a(keys), verify.NewJWT(keys, verify.JWTOptions{AllowUnboundBody: true})}

	f.Fuzz(func(t *testing.T, id, ts, sig string) {
		got, err := verify.ParseHeaders(http.Header{
			"webhook-id":           {id},
			verify.HeaderTimestamp: {ts},
			"WEBHOOK-SIGNATURE":    {sig},
			"Content-Type":         {"application/json"},
		})
		if err != nil {
			if !errors.Is(err, verify.ErrMalformedHeader) {
				t.Fatalf("error %v is not ErrMalformedHeader", err)
			}
			var he *verify.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not a *HeaderError", err)
			}
			// The message is built from fixed text only.
			if msg := err.Error(); len(msg) > 100 {
				t.Fatalf("error message %q is suspiciously long", msg)
			}
			return
		}
		if !validID(got.ID) || got.ID != id {
			t.Fatalf("ID = %q, want the valid id %q", got.ID, id)
		}
		if got.Timestamp != ts {
			t.Fatalf("Timestamp = %q, want %q", got.Timestamp, ts)
		}
		if strings.HasPrefix(ts, "+") || strings.TrimSpace(ts) != ts {
			t.Fatalf("accepted timestamp %q", ts)
		}
		if unix, err := strconv.ParseInt(ts, 10, 64); err != nil || unix != got.Unix {
			t.Fatalf("Unix = %d for %q, strconv gives %d, %v", got.Unix, ts, unix, err)
		}
		if got.Signature != sig || strings.TrimSpace(sig) == "" {
			t.Fatalf("Signature = %q, want the non-blank %q", got.Signature, sig)
		}
		if len(got.Entries) > 32 {
			t.Fatalf("%d entries, want at most 32", len(got.Entries))
		}
		for _, e := range got.Entries {
			if strings.Contains(e.Version, ",") || strings.Contains(e.Version+e.Signature, " ") {
				t.Fatalf("entry %+v was split wrongly", e)
			}
			if !strings.Contains(sig, e.Version+","+e.Signature) {
				t.Fatalf("entry %+v is not in %q", e, sig)
			}
		}
		// Whatever ParseHeaders accepts, HMAC must handle without panicking.
		if _, err := hmacMethod.Verify(context.Background(), &got, nil); err != nil && !errors.Is(err, verify.ErrNoMatch) {
			t.Fatalf("HMAC.Verify() error = %v, want nil or ErrNoMatch", err)
		}
		// And so must the dynamic methods, which may also report missing keys.
		for _, m := range dynamic {
			if _, err := m.Verify(context.Background(), &got, nil); err != nil && !errors.Is(err, verify.ErrNoMatch) && !errors.Is(err, verify.ErrKeysUnavailable) {
				t.Fatalf("%T.Verify() error = %v", m, err)
			}
		}
		if n := keys.Fetches(); n > 1 {
			t.Fatalf("%d key set fetches on a fixed clock, want at most 1", n)
		}
	})
}

// FuzzParseToken feeds arbitrary webhook-signature values and bodies to the
// JWT method: the compact-JWS pre-check, header decoding, key selection and
// claims. Invariants: no panic; only nil, ErrNoMatch or ErrKeysUnavailable;
// nil only for the validly signed seeds (segments decode strictly, so no
// other spelling verifies); errors never quote the value; at most one fetch.
func FuzzParseToken(f *testing.F) {
	fx := fixtureKeys()
	hashClaim := `,"body_sha256":"` + bodySHA256Hex(dynBody) + `"`
	valid := map[string]bool{}
	sign := func(header, claims string, signer func([]byte) []byte) string {
		tok := signJWT(header, claims, signer)
		f.Add(tok, dynBody)
		return tok
	}
	valid[sign(`{"alg":"RS256","kid":"rsa-1","typ":"JWT"}`, claims(hashClaim), rs256(fx.rsa))] = true
	valid[sign(`{"alg":"RS256"}`, claims(`,"type":"batch.succeeded","data":{"id":"batches/abc","output_file_uri":"gs://b/results.jsonl"}`), rs256(fx.rsa))] = true
	valid[sign(`{"alg":"EdDSA"}`, claims(`,"event":{"type":"batch.succeeded","data":{"output_file_uri":"gs://b/results.jsonl","id":"batches/abc"}}`), eddsa(fx.ed[2]))] = true
	valid[sign(`{"alg":"RS256","kid":"rsa-1"}`, claims(""), rs256(fx.rsa))] = true // unbound, allowed below
	sign(`{"alg":"none"}`, claims(hashClaim), func([]byte) []byte { return []byte{0} })
	sign(`{"alg":"HS256","kid":"rsa-1"}`, claims(hashClaim), hs256(fx.rsa.N.Bytes()))
	sign(`{"alg":"RS256","kid":"rsa-1","crit":["b64"],"b64":false}`, claims(hashClaim), rs256(fx.rsa))
	sign(`{"alg":"RS256","kid":"rsa-1"}`, `{"exp":0,"type":"x","data":{"n":1e99999999999}}`, rs256(fx.rsa))
	sign(`{"alg":"RS256","kid":"rsa-1"}`, claims(`,"type":"t","data":[1.0,-0,{"a":"\u00e9"}]`), rs256(fx.rsa))
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.c2ln", []byte(`{}`))
	f.Add("..", []byte(nil))
	f.Add("a.b.c", []byte(`{"type":"t","data":{}}`))
	f.Add("a.b.c.d", []byte(nil))
	f.Add(strings.Repeat("A", 8<<10)+".B.C", []byte(nil))
	f.Add("v1a,AAAA", []byte(nil))
	f.Add(" eyJhbGciOiJSUzI1NiJ9.e30.c2ln ", []byte(nil))

	keys := newJWKS(f, newKeyServer(f, fx.standardDoc()), newClock(), verify.JWKSOptions{})
	m := verify.NewJWT(keys, verify.JWTOptions{AllowUnboundBody: true})

	f.Fuzz(func(t *testing.T, sig string, body []byte) {
		candidates := []*verify.Headers{{ID: "msg_1", Timestamp: "1767225600", Unix: testNow, Signature: sig}}
		if h, err := verify.ParseHeaders(headers("msg_1", "1767225600", sig)); err == nil {
			candidates = append(candidates, &h)
		}
		for _, h := range candidates {
			scheme, err := m.Verify(context.Background(), h, body)
			switch {
			case err == nil:
				if scheme != verify.SchemeJWT || !valid[sig] {
					t.Fatalf("Verify(%q) = %q, nil for a value that is not a valid seed", sig, scheme)
				}
			case !errors.Is(err, verify.ErrNoMatch) && !errors.Is(err, verify.ErrKeysUnavailable):
				t.Fatalf("Verify(%q) error = %v", sig, err)
			case len(sig) >= 8 && strings.Contains(err.Error(), sig):
				t.Fatalf("error %q quotes the header value", err)
			}
		}
		if n := keys.Fetches(); n > 1 {
			t.Fatalf("%d key set fetches on a fixed clock, want at most 1", n)
		}
	})
}
