package verify

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"slices"
	"sync"
	"sync/atomic"
)

// V1a is the Standard Webhooks asymmetric [Method], which live traffic of
// dynamic Gemini webhooks uses: "v1a,<base64>" entries, each an Ed25519
// signature over "<webhook-id>.<webhook-timestamp>.<body>", made with one of
// the Ed25519 keys of a [JWKS]. Those keys carry no "kid", so every trusted
// key is tried; the key that verified last is tried first, so that the steady
// state costs one signature check. It is safe for concurrent use.
type V1a struct {
	keys *JWKS
	last atomic.Pointer[edKey]
	// bufs holds *[]byte for the signed message, which Ed25519 needs in one
	// piece.
	bufs sync.Pool
}

var _ Method = (*V1a)(nil)

// NewV1a returns the v1a method with keys from keys. With nil keys, every
// delivery fails with [ErrNoMatch].
func NewV1a(keys *JWKS) *V1a {
	return &V1a{keys: keys}
}

// Verify returns [SchemeV1a] when any "v1a" entry of h is a valid signature
// of the delivery by any Ed25519 key of the key set.
//
// A delivery with no "v1a" entry that decodes to a 64-byte signature
// (standard base64, padded or not) fails with [ErrNoMatch] without touching
// the key source, so static deliveries never cause a fetch. When no cached
// key verifies, the key set is fetched again (at most once per refresh gap)
// and the entries tried once more: that is how a newly published key is
// found. With no keys at all and the key set unreachable, the error wraps
// [ErrKeysUnavailable].
func (m *V1a) Verify(ctx context.Context, h *Headers, body []byte) (Scheme, error) {
	var sigs [maxEntries][ed25519.SignatureSize]byte
	n := 0
	for _, e := range h.Entries {
		if n < len(sigs) && e.Version == string(SchemeV1a) && decodeEd25519Sig(&sigs[n], e.Signature) {
			n++
		}
	}
	if n == 0 || m.keys == nil {
		return "", ErrNoMatch
	}

	s, err := m.keys.keys(ctx)
	if err != nil {
		return "", err
	}
	bp := m.message(h, body)
	defer m.release(bp)
	if m.match(s, *bp, &sigs, n) {
		return SchemeV1a, nil
	}

	fresh, err := m.keys.refreshOnMiss(ctx, s)
	if err != nil {
		return "", err
	}
	if fresh != s && m.match(fresh, *bp, &sigs, n) {
		return SchemeV1a, nil
	}
	return "", ErrNoMatch
}

// match tries the last successful key first, then every other key of s.
func (m *V1a) match(s *keySet, msg []byte, sigs *[maxEntries][ed25519.SignatureSize]byte, n int) bool {
	// The remembered key counts only while it is still in the set: a key
	// withdrawn from the JWKS must stop verifying.
	last := m.last.Load()
	if last != nil && !slices.Contains(s.ed, last) {
		last = nil
	}
	if last != nil {
		for i := range n {
			if ed25519.Verify(last.pub, msg, sigs[i][:]) {
				return true
			}
		}
	}
	for _, k := range s.ed {
		if k == last {
			continue
		}
		for i := range n {
			if ed25519.Verify(k.pub, msg, sigs[i][:]) {
				m.last.Store(k)
				return true
			}
		}
	}
	return false
}

// maxPooledMessage keeps one large body from pinning its buffer forever.
const maxPooledMessage = 64 << 10

// message returns a buffer holding "<id>.<timestamp>.<body>".
func (m *V1a) message(h *Headers, body []byte) *[]byte {
	bp, _ := m.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	b := append((*bp)[:0], h.ID...)
	b = append(b, '.')
	b = append(b, h.Timestamp...)
	b = append(b, '.')
	*bp = append(b, body...)
	return bp
}

func (m *V1a) release(bp *[]byte) {
	if cap(*bp) <= maxPooledMessage {
		m.bufs.Put(bp)
	}
}

// SignV1a returns the "v1a,<base64>" signature entry of a delivery, as a
// dynamic-webhook sender computes it. It is for tests and tools. It panics if
// priv is not an Ed25519 private key (64 bytes).
func SignV1a(priv ed25519.PrivateKey, id, timestamp string, body []byte) string {
	msg := make([]byte, 0, len(id)+len(timestamp)+2+len(body))
	msg = append(msg, id...)
	msg = append(msg, '.')
	msg = append(msg, timestamp...)
	msg = append(msg, '.')
	msg = append(msg, body...)
	return string(SchemeV1a) + "," + base64.StdEncoding.EncodeToString(ed25519.Sign(priv, msg))
}

// Lengths of a 64-byte signature in standard base64, padded and not.
const (
	paddedEd25519SigLen = (ed25519.SignatureSize + 2) / 3 * 4
	rawEd25519SigLen    = (ed25519.SignatureSize*8 + 5) / 6
)

// decodeEd25519Sig decodes a base64 signature into dst and reports whether it
// is exactly 64 bytes. It works on stack buffers only.
func decodeEd25519Sig(dst *[ed25519.SignatureSize]byte, s string) bool {
	enc := base64.StdEncoding
	switch len(s) {
	case paddedEd25519SigLen:
	case rawEd25519SigLen:
		enc = base64.RawStdEncoding
	default:
		return false
	}
	var src [paddedEd25519SigLen]byte
	var out [paddedEd25519SigLen / 4 * 3]byte
	n := copy(src[:], s)
	got, err := enc.Decode(out[:], src[:n])
	if err != nil || got != ed25519.SignatureSize {
		return false
	}
	copy(dst[:], out[:ed25519.SignatureSize])
	return true
}
