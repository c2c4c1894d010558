package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// maxTokenLen bounds the work an unauthenticated header value can ask for:
// a longer one is rejected before any decoding.
const maxTokenLen = 8 << 10

// b64urlStrict decodes JWS segments. Strict: a segment has one spelling, so
// a token cannot be altered and still verify.
var b64urlStrict = base64.RawURLEncoding.Strict()

// jwsAlgs are the only token algorithms ever verified. "none" and the HMAC
// algorithms are absent: with a public key set, HS256 "keyed" with a public
// key is the classic algorithm-confusion forgery.
var jwsAlgs = []jwa.SignatureAlgorithm{
	jwa.RS256, jwa.RS384, jwa.RS512,
	jwa.PS256, jwa.PS384, jwa.PS512,
	jwa.ES256, jwa.ES384, jwa.ES512,
	jwa.EdDSA,
}

// JWTOptions configure a [JWT].
type JWTOptions struct {
	// Audience, when set, must be one of the token's "aud" values.
	Audience string
	// Issuer, when set, must equal the token's "iss".
	Issuer string
	// AllowUnboundBody accepts a token whose claims say nothing about the
	// body. RISK: such a token authenticates the sender only; anyone who
	// obtains one (a log, a proxy) can attach any body to it until it
	// expires, or forever if it has no "exp". Leave it off unless Gemini's
	// tokens turn out to carry no body claim at all.
	AllowUnboundBody bool
	// Tolerance is the clock skew allowed on "exp", "nbf" and "iat"; zero or
	// negative means DefaultTolerance.
	Tolerance time.Duration
	// Now returns the current time; nil means the clock of the key source.
	Now func() time.Time
}

// JWT is the [Method] for the form of dynamic deliveries that Google's guide
// describes: the whole webhook-signature value is a compact JWS (a JWT),
// signed with a key of a [JWKS]. It is safe for concurrent use.
//
// The key is chosen by the token's "kid". A token without "kid" is tried
// against every key of its algorithm, and a "kid" the set does not hold
// against the keys published without one: the live key set has shown keys
// without kid, and a kid is only a hint (every key tried is trusted). The
// algorithm comes from the key, never from the token alone: the token's "alg"
// must be one the key allows (its own "alg" if it has one, else RS256 for
// RSA, the curve's ES algorithm for EC, EdDSA for Ed25519), and "none" and
// HMAC algorithms are always refused. Tokens with a "crit" header are
// refused, since no extension is understood.
type JWT struct {
	keys      *JWKS
	opts      JWTOptions
	verifiers map[jwa.SignatureAlgorithm]jws.Verifier
	validate  []jwt.ValidateOption
}

var _ Method = (*JWT)(nil)

// NewJWT returns the JWT method with keys from keys. With nil keys, every
// delivery fails with [ErrNoMatch].
func NewJWT(keys *JWKS, opts JWTOptions) *JWT {
	if opts.Tolerance <= 0 {
		opts.Tolerance = DefaultTolerance
	}
	if opts.Now == nil {
		opts.Now = time.Now
		if keys != nil {
			opts.Now = keys.now
		}
	}
	m := &JWT{keys: keys, opts: opts, verifiers: make(map[jwa.SignatureAlgorithm]jws.Verifier, len(jwsAlgs))}
	for _, alg := range jwsAlgs {
		if v, err := jws.NewVerifier(alg); err == nil {
			m.verifiers[alg] = v
		}
	}
	m.validate = []jwt.ValidateOption{
		jwt.WithClock(jwt.ClockFunc(opts.Now)),
		jwt.WithAcceptableSkew(opts.Tolerance),
	}
	if opts.Issuer != "" {
		m.validate = append(m.validate, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		m.validate = append(m.validate, jwt.WithAudience(opts.Audience))
	}
	return m
}

// Verify returns [SchemeJWT] when h's signature value is a compact JWS that
// verifies with a key of the key set, whose claims are valid now and bind
// the body.
//
// A value that is not a lone compact JWS of at most 8 KiB (a signature list
// with entries, anything but three base64url segments) fails with
// [ErrNoMatch] without touching the key source, as does a token whose header
// is unusable or names an algorithm never accepted. A token no cached key
// verifies and whose "kid" the set does not hold (or that has none) causes a
// fetch of the key set (at most once per refresh gap) and one more try. With
// no keys at all and the key set unreachable, the error wraps
// [ErrKeysUnavailable].
//
// The claims must bind the body: a SHA-256 of the raw body in "body_sha256"
// (or "body_hash", "payload_sha256", "payload_hash"), or the event itself,
// "type" and "data" equal as JSON values to those of the body, in the claims
// or in an "event", "payload" or "body" claim. Any such claim that disagrees
// with the body rejects the token; a token with none is rejected unless
// AllowUnboundBody is set. "exp" is not required, but an "exp" of 0 counts
// as expired (jwx would ignore it).
func (m *JWT) Verify(ctx context.Context, h *Headers, body []byte) (Scheme, error) {
	tok := h.Signature
	if m.keys == nil || len(h.Entries) != 0 || len(tok) > maxTokenLen {
		return "", ErrNoMatch
	}
	d1, d2, ok := splitCompact(tok)
	if !ok {
		return "", ErrNoMatch
	}
	hdr, ok := parseProtected(tok[:d1])
	if !ok {
		return "", fmt.Errorf("%w: unusable token header", ErrNoMatch)
	}
	verifier := m.verifiers[hdr.alg]
	if verifier == nil {
		return "", fmt.Errorf("%w: token algorithm not accepted", ErrNoMatch)
	}
	sig, err := b64urlStrict.DecodeString(tok[d2+1:])
	if err != nil {
		return "", ErrNoMatch
	}
	input := []byte(tok[:d2])

	s, err := m.keys.keys(ctx)
	if err != nil {
		return "", err
	}
	if ok, named := m.verifySignature(s, hdr, verifier, input, sig); !ok {
		if named {
			// The named key exists and did not verify (or does not allow
			// the algorithm): fetching again cannot change that.
			return "", fmt.Errorf("%w: token signature", ErrNoMatch)
		}
		fresh, err := m.keys.refreshOnMiss(ctx, s)
		if err != nil {
			return "", err
		}
		if fresh == s {
			return "", fmt.Errorf("%w: token signature", ErrNoMatch)
		}
		if ok, _ := m.verifySignature(fresh, hdr, verifier, input, sig); !ok {
			return "", fmt.Errorf("%w: token signature", ErrNoMatch)
		}
	}

	payload, err := b64urlStrict.DecodeString(tok[d1+1 : d2])
	if err != nil {
		return "", fmt.Errorf("%w: token payload", ErrNoMatch)
	}
	if err := m.checkClaims(payload, body); err != nil {
		return "", err
	}
	return SchemeJWT, nil
}

// verifySignature tries the candidate keys of s. named reports whether the
// token's kid is a kid of s, i.e. whether a new fetch could not help.
func (m *JWT) verifySignature(s *keySet, hdr joseHeader, v jws.Verifier, input, sig []byte) (ok, named bool) {
	if hdr.kid != "" {
		for _, k := range s.jws {
			if k.kid == hdr.kid {
				named = true
				break
			}
		}
	}
	for _, k := range s.jws {
		switch {
		case named && k.kid != hdr.kid:
			continue
		case !named && hdr.kid != "" && k.kid != "":
			// An unknown kid can only mean a key published without one.
			continue
		case !k.allows(hdr.alg):
			continue
		}
		if v.Verify(input, sig, k.pub) == nil {
			return true, named
		}
	}
	return false, named
}

// checkClaims validates the registered claims and the body binding of a
// payload whose signature has been verified.
func (m *JWT) checkClaims(payload, body []byte) error {
	claims, err := decodeObject(payload)
	if err != nil || claims == nil {
		return fmt.Errorf("%w: token claims are not a JSON object", ErrNoMatch)
	}
	t, err := registeredClaims(claims)
	if err != nil {
		return fmt.Errorf("%w: unusable registered claims", ErrNoMatch)
	}
	// jwx treats "exp": 0 as absent; it is the start of 1970.
	if _, ok := claims[jwt.ExpirationKey]; ok && t.Expiration().Unix() == 0 {
		return fmt.Errorf("%w: token expired", ErrNoMatch)
	}
	if err := jwt.Validate(t, m.validate...); err != nil {
		return fmt.Errorf("%w: %s", ErrNoMatch, claimsReason(err))
	}
	switch bodyBinding(claims, body) {
	case mismatch:
		return fmt.Errorf("%w: token describes another body", ErrNoMatch)
	case unbound:
		if !m.opts.AllowUnboundBody {
			return fmt.Errorf("%w: token does not bind the body", ErrNoMatch)
		}
	}
	return nil
}

// registeredClaims builds a jwt.Token holding the claims jwt.Validate checks,
// from claims already decoded. Letting jwx decode the payload itself would
// decode it twice and, measured, costs about a quarter of a whole RS256
// verification. Numbers go in as float64, as jwx's own decoding gives them,
// so that jwx accepts and rejects exactly the same values either way.
func registeredClaims(claims map[string]any) (jwt.Token, error) {
	t := jwt.New()
	for _, name := range []string{jwt.ExpirationKey, jwt.NotBeforeKey, jwt.IssuedAtKey, jwt.IssuerKey, jwt.AudienceKey} {
		v, ok := claims[name]
		if !ok {
			continue
		}
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err != nil {
				return nil, err
			}
			v = f
		}
		if err := t.Set(name, v); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// claimsReason names a validation failure with fixed text only.
func claimsReason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired()):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotYetValid()):
		return "token not yet valid"
	case errors.Is(err, jwt.ErrInvalidIssuedAt()):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrInvalidIssuer()):
		return "token issuer"
	case errors.Is(err, jwt.ErrInvalidAudience()):
		return "token audience"
	}
	return "token claims invalid"
}

// joseHeader holds the members of a protected header this package uses.
type joseHeader struct {
	alg jwa.SignatureAlgorithm
	kid string
}

// parseProtected decodes the protected header. Members are matched exactly
// (encoding/json would match "ALG" to a field tagged "alg"). A "crit" member
// means an extension that must be understood, such as unencoded payloads
// ("b64"); none is, so such a token is refused.
func parseProtected(seg string) (joseHeader, bool) {
	raw, err := b64urlStrict.DecodeString(seg)
	if err != nil {
		return joseHeader{}, false
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return joseHeader{}, false
	}
	if _, ok := members["crit"]; ok {
		return joseHeader{}, false
	}
	if _, ok := members["b64"]; ok {
		return joseHeader{}, false
	}
	var h joseHeader
	var alg string
	if err := json.Unmarshal(members["alg"], &alg); err != nil {
		return joseHeader{}, false
	}
	h.alg = jwa.SignatureAlgorithm(alg)
	if kid, ok := members["kid"]; ok {
		if err := json.Unmarshal(kid, &h.kid); err != nil {
			return joseHeader{}, false
		}
	}
	return h, true
}

// splitCompact reports whether s is three non-empty base64url segments
// joined by two dots, and where the dots are.
func splitCompact(s string) (d1, d2 int, ok bool) {
	d1, d2 = -1, -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.':
			switch {
			case d1 < 0:
				d1 = i
			case d2 < 0:
				d2 = i
			default:
				return 0, 0, false
			}
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_':
		default:
			return 0, 0, false
		}
	}
	if d1 <= 0 || d2 <= d1+1 || d2 >= len(s)-1 {
		return 0, 0, false
	}
	return d1, d2, true
}
