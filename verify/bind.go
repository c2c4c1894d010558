package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
)

// A JWT's signature covers its claims, not the webhook body. Google documents
// no claim that ties the two together, so the claims that can are looked for
// under the names below; any of them, when present, must agree with the body.

// hashClaims may hold the SHA-256 of the raw body (hex or base64, either
// alphabet, padded or not, optionally prefixed "sha256:" or "sha256=").
// Claims are matched by value, so a name that meant some other hash would
// cause a mismatch, never a false acceptance.
var hashClaims = []string{"body_sha256", "body_hash", "payload_sha256", "payload_hash"}

// eventClaims may hold the event itself as an object with "type" and "data";
// the claims object itself is tried first.
var eventClaims = []string{"event", "payload", "body"}

// binding is what the claims say about the body.
type binding int

const (
	unbound  binding = iota // no claim describes the body
	bound                   // every claim that describes the body agrees with it
	mismatch                // some claim describes another body
)

// bodyBinding compares the claims (decoded with UseNumber) with the raw body.
func bodyBinding(claims map[string]any, body []byte) binding {
	result := unbound

	var sum []byte
	for _, name := range hashClaims {
		v, ok := claims[name]
		if !ok {
			continue
		}
		if sum == nil {
			s := sha256.Sum256(body)
			sum = s[:]
		}
		if s, ok := v.(string); !ok || !hashMatches(s, sum) {
			return mismatch
		}
		result = bound
	}

	var event map[string]any
	parsed := false
	containers := []any{claims}
	for _, name := range eventClaims {
		containers = append(containers, claims[name])
	}
	for _, c := range containers {
		obj, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, hasType := obj["type"]
		data, hasData := obj["data"]
		// Both are needed: a lone "type" claim could mean something else
		// (a token type), and rejecting on it would drop real deliveries.
		if !hasType || !hasData {
			continue
		}
		if !parsed {
			event, _ = decodeObject(body)
			parsed = true
		}
		if event == nil || !jsonEqual(typ, event["type"]) || !jsonEqual(data, event["data"]) {
			return mismatch
		}
		result = bound
	}
	return result
}

// hashMatches reports whether s encodes sum in one of the accepted forms.
func hashMatches(s string, sum []byte) bool {
	if len(s) > 7 && strings.EqualFold(s[:6], "sha256") && (s[6] == ':' || s[6] == '=') {
		s = s[7:]
	}
	if len(s) == hex.EncodedLen(sha256.Size) {
		if got, err := hex.DecodeString(s); err == nil {
			return hmac.Equal(got, sum)
		}
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if enc.EncodedLen(sha256.Size) != len(s) {
			continue
		}
		if got, err := enc.DecodeString(s); err == nil {
			return hmac.Equal(got, sum)
		}
	}
	return false
}

// decodeObject decodes one JSON object, numbers kept as json.Number; nil if
// b is anything else.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errTrailingData
	}
	return obj, nil
}

var errTrailingData = errors.New("data after the JSON value")

// jsonEqual reports whether two decoded JSON values are the same value:
// object members in any order, numbers by exact decimal value (1, 1.0 and
// 10e-1 are equal; no rounding through float64). A nil interface means an
// absent member and equals only another absent member or JSON null.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		v, ok := b.(bool)
		return ok && a == v
	case string:
		v, ok := b.(string)
		return ok && a == v
	case json.Number:
		v, ok := b.(json.Number)
		return ok && numberEqual(a, v)
	case []any:
		v, ok := b.([]any)
		if !ok || len(a) != len(v) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], v[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		v, ok := b.(map[string]any)
		if !ok || len(a) != len(v) {
			return false
		}
		for k, x := range a {
			y, ok := v[k]
			if !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	}
	return false
}

func numberEqual(a, b json.Number) bool {
	if a == b {
		return true
	}
	x, ok := parseDecimal(string(a))
	if !ok {
		return false
	}
	y, ok := parseDecimal(string(b))
	return ok && x == y
}

// decimal is a number as sign * digits * 10^exp, with no leading or trailing
// zero in digits; zero is the zero decimal, whatever its sign.
type decimal struct {
	neg    bool
	digits string
	exp    int64
}

// parseDecimal normalises a JSON number by string manipulation only, so that
// an exponent like 1e999999999 costs nothing (big.Rat would build 10^exp).
func parseDecimal(s string) (decimal, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expText, hasExp := strings.Cut(strings.ToLower(s), "e")
	var exp int64
	if hasExp {
		e, err := strconv.ParseInt(expText, 10, 64)
		if err != nil || e > 1<<60 || e < -(1<<60) {
			return decimal{}, false
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return decimal{}, false
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	exp -= int64(len(frac))
	if digits == "" {
		return decimal{}, true
	}
	trimmed := strings.TrimRight(digits, "0")
	exp += int64(len(digits) - len(trimmed))
	return decimal{neg: neg, digits: trimmed, exp: exp}, true
}
