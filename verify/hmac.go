package verify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"sync/atomic"
)

// HMAC is the static "v1" [Method]: HMAC-SHA256 over
// "<webhook-id>.<webhook-timestamp>.<body>" with any of a set of secrets. The
// set can be replaced while deliveries are verified, for rotation without a
// restart. The zero HMAC holds no secret. It is safe for concurrent use.
type HMAC struct {
	keys atomic.Pointer[[]*secretKey]
}

var _ Method = (*HMAC)(nil)

// NewHMAC returns an HMAC that accepts a signature made with any of secrets.
func NewHMAC(secrets ...Secret) *HMAC {
	m := new(HMAC)
	m.SetSecrets(secrets...)
	return m
}

// SetSecrets replaces the set of accepted secrets. Deliveries being verified
// finish with the set they started with. Zero Secrets are ignored.
func (m *HMAC) SetSecrets(secrets ...Secret) {
	keys := make([]*secretKey, 0, len(secrets))
	for _, s := range secrets {
		if s.k != nil {
			keys = append(keys, s.k)
		}
	}
	m.keys.Store(&keys)
}

// Verify returns [SchemeV1] when any "v1" entry of h matches the MAC of the
// delivery under any secret, else [ErrNoMatch]. Entries of other versions are
// skipped; entries that do not decode to 32 bytes (standard base64, padded or
// not) never match. Only the first 32 "v1" entries are considered.
func (m *HMAC) Verify(_ context.Context, h *Headers, body []byte) (Scheme, error) {
	keys := m.keys.Load()
	if keys == nil || len(*keys) == 0 {
		return "", ErrNoMatch
	}

	var sigs [maxEntries][sha256.Size]byte
	n := 0
	for _, e := range h.Entries {
		if n < len(sigs) && e.Version == string(SchemeV1) && decodeMAC(&sigs[n], e.Signature) {
			n++
		}
	}
	if n == 0 {
		return "", ErrNoMatch
	}

	// One MAC per secret, compared with every entry.
	var sum [sha256.Size]byte
	for _, k := range *keys {
		k.sum(&sum, h.ID, h.Timestamp, body)
		for i := range n {
			if hmac.Equal(sum[:], sigs[i][:]) {
				return SchemeV1, nil
			}
		}
	}
	return "", ErrNoMatch
}

// SignV1 returns the "v1,<base64>" signature entry of a delivery, as a sender
// computes it. It is for tests and tools. It panics on the zero Secret.
func SignV1(s Secret, id, timestamp string, body []byte) string {
	if s.k == nil {
		panic("verify: SignV1 with the zero Secret")
	}
	var sum [sha256.Size]byte
	s.k.sum(&sum, id, timestamp, body)
	return string(SchemeV1) + "," + base64.StdEncoding.EncodeToString(sum[:])
}

// Lengths of a 32-byte MAC in standard base64, padded and not.
const (
	paddedMACLen = (sha256.Size + 2) / 3 * 4
	rawMACLen    = (sha256.Size*8 + 5) / 6
)

// decodeMAC decodes a base64 signature into dst and reports whether it is
// exactly a 32-byte MAC. It works on stack buffers only.
func decodeMAC(dst *[sha256.Size]byte, s string) bool {
	enc := base64.StdEncoding
	switch len(s) {
	case paddedMACLen:
	case rawMACLen:
		enc = base64.RawStdEncoding
	default:
		return false
	}
	// Copying into an array avoids the heap allocation of []byte(s).
	var src [paddedMACLen]byte
	var out [paddedMACLen / 4 * 3]byte // room for what padded input decodes to
	n := copy(src[:], s)
	got, err := enc.Decode(out[:], src[:n])
	if err != nil || got != sha256.Size {
		return false
	}
	copy(dst[:], out[:sha256.Size])
	return true
}

// macState is one reusable HMAC with the scratch space of one computation.
// The scratch lives here, on the heap, because slices passed to the
// hash.Hash interface escape.
type macState struct {
	mac    hash.Hash
	prefix [maxIDLen + 1 + 20 + 1]byte // "<id>.<timestamp>." for valid headers
	sum    [sha256.Size]byte
}

// sum writes the MAC of "<id>.<timestamp>.<body>" to dst. The body goes into
// the hash as is, never copied.
func (k *secretKey) sum(dst *[sha256.Size]byte, id, timestamp string, body []byte) {
	st, _ := k.pool.Get().(*macState)
	if st == nil {
		st = &macState{mac: k.newMAC()}
	}
	p := append(st.prefix[:0], id...)
	p = append(p, '.')
	p = append(p, timestamp...)
	p = append(p, '.')
	st.mac.Reset()
	st.mac.Write(p)
	st.mac.Write(body)
	copy(dst[:], st.mac.Sum(st.sum[:0]))
	k.pool.Put(st)
}
