package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

func TestParseKeySet(t *testing.T) {
	t.Parallel()
	b64 := base64.RawURLEncoding.EncodeToString
	edPub, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	okp := fmt.Sprintf(`"kty":"OKP","crv":"Ed25519","x":%q`, b64(edPub))
	rsaMembers := fmt.Sprintf(`"kty":"RSA","n":%q,"e":%q`, b64(rsaKey.N.Bytes()), b64(big.NewInt(int64(rsaKey.E)).Bytes()))
	ecMembers := fmt.Sprintf(`"kty":"EC","crv":"P-256","x":%q,"y":%q`, b64(ec.X.FillBytes(make([]byte, 32))), b64(ec.Y.FillBytes(make([]byte, 32))))
	offCurve := fmt.Sprintf(`"kty":"EC","crv":"P-256","x":%q,"y":%q`, b64(ec.X.FillBytes(make([]byte, 32))), b64(make([]byte, 32)))

	type want struct {
		ed   int
		algs [][]jwa.SignatureAlgorithm // per JWS key, in order
	}
	tests := []struct {
		name    string
		keys    string
		want    want
		wantErr bool
	}{
		{name: "Ed25519 without alg", keys: "{" + okp + "}", want: want{ed: 1, algs: [][]jwa.SignatureAlgorithm{{jwa.EdDSA}}}},
		{name: "Ed25519 alg EdDSA", keys: "{" + okp + `,"alg":"EdDSA"}`, want: want{ed: 1, algs: [][]jwa.SignatureAlgorithm{{jwa.EdDSA}}}},
		{name: "Ed25519 alg Ed25519 (RFC 9864): v1a only", keys: "{" + okp + `,"alg":"Ed25519"}`, want: want{ed: 1}},
		{name: "Ed25519 with an RSA alg", keys: "{" + okp + `,"alg":"RS256"}`, wantErr: true},
		{name: "Ed25519 private key: public part used", keys: "{" + okp + fmt.Sprintf(`,"d":%q}`, b64(edPriv.Seed())), want: want{ed: 1, algs: [][]jwa.SignatureAlgorithm{{jwa.EdDSA}}}},
		{name: "Ed25519 of the wrong length", keys: `{"kty":"OKP","crv":"Ed25519","x":"AAAA"}`, wantErr: true},
		{name: "X25519", keys: fmt.Sprintf(`{"kty":"OKP","crv":"X25519","x":%q}`, b64(edPub)), wantErr: true},
		{name: "use enc", keys: "{" + okp + `,"use":"enc"}`, wantErr: true},
		{name: "key_ops without verify", keys: "{" + okp + `,"key_ops":["sign"]}`, wantErr: true},
		{name: "key_ops with verify", keys: "{" + okp + `,"key_ops":["verify"]}`, want: want{ed: 1, algs: [][]jwa.SignatureAlgorithm{{jwa.EdDSA}}}},
		{name: "RSA without alg: RS256 only", keys: "{" + rsaMembers + "}", want: want{algs: [][]jwa.SignatureAlgorithm{{jwa.RS256}}}},
		{name: "RSA alg PS384", keys: "{" + rsaMembers + `,"alg":"PS384"}`, want: want{algs: [][]jwa.SignatureAlgorithm{{jwa.PS384}}}},
		{name: "RSA alg HS256", keys: "{" + rsaMembers + `,"alg":"HS256"}`, wantErr: true},
		{name: "RSA alg none", keys: "{" + rsaMembers + `,"alg":"none"}`, wantErr: true},
		{name: "EC P-256 without alg", keys: "{" + ecMembers + "}", want: want{algs: [][]jwa.SignatureAlgorithm{{jwa.ES256}}}},
		{name: "EC P-256 alg ES512", keys: "{" + ecMembers + `,"alg":"ES512"}`, wantErr: true},
		{name: "EC point off the curve", keys: "{" + offCurve + "}", wantErr: true},
		{name: "symmetric key", keys: `{"kty":"oct","k":"c2VjcmV0","alg":"HS256"}`, wantErr: true},
		{name: "unknown key type next to a good key", keys: `{"kty":"AKP","alg":"ML-DSA-44","pub":"AAAA"},{` + okp + "}", want: want{ed: 1, algs: [][]jwa.SignatureAlgorithm{{jwa.EdDSA}}}},
		{name: "no keys", keys: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := parseKeySet([]byte(`{"keys":[` + tt.keys + `]}`))
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseKeySet() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if len(s.ed) != tt.want.ed {
				t.Errorf("%d Ed25519 keys for v1a, want %d", len(s.ed), tt.want.ed)
			}
			var algs [][]jwa.SignatureAlgorithm
			for _, k := range s.jws {
				algs = append(algs, k.algs)
			}
			if !slices.EqualFunc(algs, tt.want.algs, slices.Equal) {
				t.Errorf("JWS algorithms %v, want %v", algs, tt.want.algs)
			}
		})
	}
}

func TestParseKeySetBound(t *testing.T) {
	t.Parallel()
	var keys []string
	for range maxKeys + 10 {
		pub, _, _ := ed25519.GenerateKey(rand.Reader)
		keys = append(keys, fmt.Sprintf(`{"kty":"OKP","crv":"Ed25519","alg":"Ed25519","x":%q}`, base64.RawURLEncoding.EncodeToString(pub)))
	}
	s, err := parseKeySet(fmt.Appendf(nil, `{"keys":[%s]}`, strings.Join(keys, ",")))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ed) != maxKeys {
		t.Errorf("%d keys kept, want %d", len(s.ed), maxKeys)
	}
}

func TestSecureRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		to   string
		via  int
		want bool
	}{
		{to: "https://keys.example.com/jwks.json", via: 1, want: true},
		{to: "http://keys.example.com/jwks.json", via: 1, want: false},
		{to: "http://127.0.0.1:8080/jwks.json", via: 1, want: true},
		{to: "http://[::1]/jwks.json", via: 1, want: true},
		{to: "http://localhost/jwks.json", via: 1, want: true},
		{to: "https://keys.example.com/jwks.json", via: 5, want: false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.to)
		if err != nil {
			t.Fatal(err)
		}
		err = secureRedirect(&http.Request{URL: u}, make([]*http.Request, tt.via))
		if (err == nil) != tt.want {
			t.Errorf("secureRedirect(%s, %d) error = %v, want allowed %v", tt.to, tt.via, err, tt.want)
		}
	}
}

func TestJSONEqual(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":[true,null,"x"]}`, `{ "b" : [ true , null , "x" ] , "a" : 1 }`, true},
		{`1`, `1.0`, true},
		{`1`, `10e-1`, true},
		{`100`, `1E2`, true},
		{`0`, `-0.0e5`, true},
		{`-1.50`, `-15e-1`, true},
		{`1`, `-1`, false},
		{`1`, `"1"`, false},
		{`9007199254740993`, `9007199254740992`, false},
		{`1e999999999999`, `1e999999999999`, true},
		{`1e999999999999`, `10e999999999998`, true},
		{`1e99999999999999999999`, `1e99999999999999999998`, false},
		{`0.1`, `0.10000000000000001`, false},
		{`{"a":1}`, `{"a":1,"b":null}`, false},
		{`[1,2]`, `[2,1]`, false},
		{`null`, `false`, false},
		{`"é"`, `"\u00e9"`, true},
	}
	for _, tt := range tests {
		a, b := decodeAny(t, tt.a), decodeAny(t, tt.b)
		if got := jsonEqual(a, b); got != tt.want {
			t.Errorf("jsonEqual(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := jsonEqual(b, a); got != tt.want {
			t.Errorf("jsonEqual(%s, %s) = %v, want %v (symmetry)", tt.b, tt.a, got, tt.want)
		}
	}
}

func decodeAny(t *testing.T, s string) any {
	t.Helper()
	obj, err := decodeObject([]byte(`{"v":` + s + `}`))
	if err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return obj["v"]
}

func TestHashMatches(t *testing.T) {
	t.Parallel()
	sum := make([]byte, 32)
	for i := range sum {
		sum[i] = byte(i * 9)
	}
	hexSum := fmt.Sprintf("%x", sum)
	tests := []struct {
		in   string
		want bool
	}{
		{hexSum, true},
		{fmt.Sprintf("%X", sum), true},
		{"sha256:" + hexSum, true},
		{"SHA256=" + base64.StdEncoding.EncodeToString(sum), true},
		{base64.RawURLEncoding.EncodeToString(sum), true},
		{base64.URLEncoding.EncodeToString(sum), true},
		{base64.RawStdEncoding.EncodeToString(sum), true},
		{hexSum[:62], false},
		{hexSum[:63] + "g", false},
		{base64.RawURLEncoding.EncodeToString(sum[:31]), false},
		{"", false},
		{"sha256:", false},
	}
	for _, tt := range tests {
		if got := hashMatches(tt.in, sum); got != tt.want {
			t.Errorf("hashMatches(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// FuzzBodyBinding feeds arbitrary claims and bodies to the claim checks that
// follow a verified signature. Invariants: no panic; only nil or ErrNoMatch;
// a JSON value equals itself; claims holding the body's own event bind it.
func FuzzBodyBinding(f *testing.F) {
	f.Add([]byte(`{"type":"batch.succeeded","data":{"id":"b"}}`), []byte(`{"data":{"id":"b"},"type":"batch.succeeded"}`))
	f.Add([]byte(`{"body_sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}`), []byte(""))
	f.Add([]byte(`{"event":{"type":1,"data":[1e5,-0.0,null,true,"\u00e9"]},"exp":0}`), []byte(`{"type":1.0,"data":[100000,0,null,true,"é"]}`))
	f.Add([]byte(`{"exp":1e300,"nbf":-1e300,"iat":"x","aud":[1]}`), []byte(`{}`))
	f.Add([]byte(`{"type":"t","data":{"n":1e99999999999999999999}}`), []byte(`{"type":"t","data":{"n":1e99999999999999999999}}`))
	f.Add([]byte(`{"payload_hash":"sha256=47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU"}`), []byte("[]"))

	f.Add([]byte(`{"exp":1.7672259e9,"nbf":"1767225000","iat":"2026-01-01T00:00:00Z","iss":"x","aud":["a","b"]}`), []byte(`{}`))
	f.Add([]byte(`{"exp":null,"aud":[1],"iss":2}`), []byte(`{}`))
	f.Add([]byte(`{"exp":-5,"exp":1767225900}`), []byte(`{}`))

	m := NewJWT(nil, JWTOptions{Now: func() time.Time { return time.Unix(1767225600, 0) }})
	f.Fuzz(func(t *testing.T, claims, body []byte) {
		if err := m.checkClaims(claims, body); err != nil && !errors.Is(err, ErrNoMatch) {
			t.Fatalf("checkClaims() error = %v", err)
		}
		c, err := decodeObject(claims)
		if err == nil {
			_ = bodyBinding(c, body)
			if !jsonEqual(any(c), any(c)) {
				t.Fatalf("claims %s are not equal to themselves", claims)
			}
			sameAsJWX(t, m, claims, c)
		}
		event, err := decodeObject(body)
		if err != nil {
			return
		}
		typ, hasType := event["type"]
		data, hasData := event["data"]
		if hasType && hasData {
			if got := bodyBinding(map[string]any{"type": typ, "data": data}, body); got != bound {
				t.Fatalf("bodyBinding(own event of %s) = %v, want bound", body, got)
			}
		}
	})
}

// sameAsJWX checks that registeredClaims accepts and validates claims as
// jwx does when it decodes the registered claims itself. (jwx also rejects
// a payload whose other claims hold a number beyond float64, or that repeats
// a member with a bad first value; the package keeps the last member, as RFC
// 7519 allows, and does not care about numbers in other claims.)
func sameAsJWX(t *testing.T, m *JWT, payload []byte, claims map[string]any) {
	t.Helper()
	mine, errMine := registeredClaims(claims)
	subset := map[string]any{}
	for _, k := range []string{jwt.ExpirationKey, jwt.NotBeforeKey, jwt.IssuedAtKey, jwt.IssuerKey, jwt.AudienceKey} {
		if v, ok := claims[k]; ok {
			subset[k] = v
		}
	}
	registered, err := json.Marshal(subset) // json.Number is written verbatim
	if err != nil {
		t.Fatal(err)
	}
	theirs := jwt.New()
	errTheirs := json.Unmarshal(registered, theirs)
	if (errMine == nil) != (errTheirs == nil) {
		t.Fatalf("claims %s: registeredClaims error = %v, jwx error = %v", payload, errMine, errTheirs)
	}
	if errMine != nil {
		return
	}
	vMine, vTheirs := jwt.Validate(mine, m.validate...), jwt.Validate(theirs, m.validate...)
	if (vMine == nil) != (vTheirs == nil) {
		t.Fatalf("claims %s: Validate = %v, jwx-decoded Validate = %v", payload, vMine, vTheirs)
	}
	if !mine.Expiration().Equal(theirs.Expiration()) || !mine.NotBefore().Equal(theirs.NotBefore()) || !mine.IssuedAt().Equal(theirs.IssuedAt()) ||
		mine.Issuer() != theirs.Issuer() || !slices.Equal(mine.Audience(), theirs.Audience()) {
		t.Fatalf("claims %s: registered claims differ from jwx's decoding", payload)
	}
}

func TestRegisteredClaimsMatchJWX(t *testing.T) {
	t.Parallel()
	m := NewJWT(nil, JWTOptions{Now: func() time.Time { return time.Unix(1767225600, 0) }, Issuer: "x", Audience: "b"})
	for _, payload := range []string{
		`{}`,
		`{"exp":1767225900,"nbf":1767225000,"iat":1767225600,"iss":"x","aud":"b"}`,
		`{"exp":1.7672259e9,"aud":["a","b"],"iss":"x"}`,
		`{"exp":"1767225900","iss":"x","aud":"b"}`,
		`{"exp":"2026-01-01T00:10:00Z","iss":"x","aud":"b"}`,
		`{"exp":-1,"iss":"x","aud":"b"}`,
		`{"exp":1e400}`,
		`{"exp":1e300}`,
		`{"exp":null}`,
		`{"exp":true}`,
		`{"aud":[1]}`,
		`{"aud":[]}`,
		`{"iss":2}`,
		`{"iat":1767225600.999999999}`,
		`{"exp":1767225900,"exp":5}`,
	} {
		claims, err := decodeObject([]byte(payload))
		if err != nil {
			t.Fatalf("%s: %v", payload, err)
		}
		sameAsJWX(t, m, []byte(payload), claims)
	}
}
