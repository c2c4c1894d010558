package verify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
	"sync"
	"unicode"
)

// secretPrefix starts every Standard Webhooks static secret.
const secretPrefix = "whsec_"

// Bounds of a decoded key. The spec asks senders for 24 to 64 bytes; the
// floor rejects keys too short to be secret, the ceiling bounds the work of
// parsing configuration.
const (
	minKeyLen = 16
	maxKeyLen = 1024
)

// Secret is one static signing secret. The zero Secret holds no key and is
// ignored by [NewHMAC] and [HMAC.SetSecrets].
//
// A Secret never prints its key: fmt shows a placeholder, and the key is held
// only inside a closure, which fmt cannot look into even when the Secret is an
// unexported field of a struct being printed.
type Secret struct {
	k *secretKey
}

type secretKey struct {
	newMAC func() hash.Hash
	// pool holds *macState made by newMAC, so that verifying allocates nothing.
	pool sync.Pool
}

// ParseSecret parses "whsec_" followed by the standard base64 (padded or
// not) of a key of 16 to 1024 bytes. Surrounding white space is ignored.
// Errors wrap [ErrInvalidSecret] and never contain the secret.
func ParseSecret(s string) (Secret, error) {
	s = strings.TrimSpace(s)
	encoded, ok := strings.CutPrefix(s, secretPrefix)
	if !ok {
		return Secret{}, fmt.Errorf("%w: no %q prefix", ErrInvalidSecret, secretPrefix)
	}
	// Go's decoder skips '\r' and '\n' inside the input; a secret must not.
	for i := 0; i < len(encoded); i++ {
		if !isStdBase64(encoded[i]) {
			return Secret{}, fmt.Errorf("%w: not standard base64", ErrInvalidSecret)
		}
	}
	enc := base64.RawStdEncoding
	if strings.HasSuffix(encoded, "=") {
		enc = base64.StdEncoding
	}
	key, err := enc.DecodeString(encoded)
	if err != nil {
		return Secret{}, fmt.Errorf("%w: not standard base64", ErrInvalidSecret)
	}
	if len(key) < minKeyLen || len(key) > maxKeyLen {
		return Secret{}, fmt.Errorf("%w: key is %d bytes, want %d to %d", ErrInvalidSecret, len(key), minKeyLen, maxKeyLen)
	}
	return newSecret(key), nil
}

// ParseSecrets parses a list of secrets separated by commas and/or white
// space, as in GEMINI_WEBHOOK_SECRETS. An empty list gives nil, nil. An error
// names the position of the bad secret (1-based), never its text.
func ParseSecrets(list string) ([]Secret, error) {
	fields := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(fields) == 0 {
		return nil, nil
	}
	secrets := make([]Secret, 0, len(fields))
	for i, f := range fields {
		s, err := ParseSecret(f)
		if err != nil {
			return nil, fmt.Errorf("secret %d of %d: %w", i+1, len(fields), err)
		}
		secrets = append(secrets, s)
	}
	return secrets, nil
}

// GenerateSecret returns a new random secret in "whsec_" form (32-byte key),
// for tools and local runs that have none configured.
func GenerateSecret() string {
	key := make([]byte, 32)
	_, _ = rand.Read(key) // never fails: crypto/rand crashes the program instead.
	return secretPrefix + base64.StdEncoding.EncodeToString(key)
}

// String returns a placeholder: the key is never printed.
func (s Secret) String() string { return "verify.Secret(redacted)" }

// GoString returns a placeholder, for %#v.
func (s Secret) GoString() string { return s.String() }

func newSecret(key []byte) Secret {
	return Secret{k: &secretKey{newMAC: func() hash.Hash { return hmac.New(sha256.New, key) }}}
}

func isStdBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}
