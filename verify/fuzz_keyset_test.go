package verify

import (
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// FuzzParseKeySet feeds arbitrary documents to the JWKS parser, which reads
// what the key endpoint serves. Invariants: no panic; a set is returned only
// with at least one and at most maxKeys keys; every v1a key is 32 bytes;
// every JWS key allows at least one algorithm, and never none or HMAC; an
// error never quotes the document.
func FuzzParseKeySet(f *testing.F) {
	b64 := base64.RawURLEncoding.EncodeToString
	x := b64(ed25519.NewKeyFromSeed(make([]byte, 32)).Public().(ed25519.PublicKey))
	okp := fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","x":%q}`, x)
	for _, doc := range []string{
		`{"keys":[` + okp + `]}`,
		`{"keys":[` + strings.Replace(okp, "}", `,"alg":"EdDSA","kid":"k1","use":"sig","key_ops":["verify"]}`, 1) + `]}`,
		`{"keys":[` + strings.Replace(okp, "}", `,"alg":"RS256"}`, 1) + `]}`,
		`{"keys":[{"kty":"RSA","n":"sXch","e":"AQAB","alg":"HS256"}]}`,
		`{"keys":[{"kty":"RSA","n":"` + strings.Repeat("A", 342) + `","e":"AQAB"}]}`,
		`{"keys":[{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}]}`,
		`{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"AKP","alg":"ML-DSA-44","pub":"AAAA"},` + okp + `]}`,
		`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AAAA"}]}`,
		`{"keys":[]}`, `{"keys":null}`, `{}`, `[]`, `null`, ``, `{"keys":[1,"a",null,{}]}`,
		`{"keys":[` + strings.TrimSuffix(strings.Repeat(okp+",", 70), ",") + `]}`,
		`{"keys":[` + okp + `],"keys":[]}`,
	} {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		s, err := parseKeySet(doc)
		if err != nil {
			if len(doc) >= 16 && strings.Contains(err.Error(), string(doc)) {
				t.Fatalf("error %q quotes the document", err)
			}
			return
		}
		if n := len(s.ed) + len(s.jws); n == 0 {
			t.Fatal("a key set with no key")
		}
		if len(s.ed) > maxKeys || len(s.jws) > maxKeys {
			t.Fatalf("%d v1a keys and %d JWS keys, limit %d", len(s.ed), len(s.jws), maxKeys)
		}
		for _, k := range s.ed {
			if len(k.pub) != ed25519.PublicKeySize {
				t.Fatalf("v1a key of %d bytes", len(k.pub))
			}
		}
		for _, k := range s.jws {
			if len(k.algs) == 0 {
				t.Fatal("a JWS key that allows no algorithm")
			}
			for _, alg := range k.algs {
				switch alg {
				case jwa.NoSignature, jwa.HS256, jwa.HS384, jwa.HS512:
					t.Fatalf("a JWS key allows %s", alg)
				}
			}
		}
	})
}
