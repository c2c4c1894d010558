package verify

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"hash"
	"slices"
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
// skipped; an entry matches when it decodes (standard base64, padded or not)
// to the MAC, as base64.StdEncoding or RawStdEncoding would decode it,
// leniency about the unused low bits of the last symbol included. Only the
// first 32 "v1" entries of a MAC's length are considered.
func (m *HMAC) Verify(_ context.Context, h *Headers, body []byte) (Scheme, error) {
	keys := m.keys.Load()
	if keys == nil || len(*keys) == 0 || !slices.ContainsFunc(h.Entries, macEntry) {
		return "", ErrNoMatch
	}
	// One MAC per secret, encoded once and compared with every entry as
	// sent: decoding each entry instead (and zeroing room for them all)
	// cost a tenth of a 1 KiB verification.
	var sum [sha256.Size]byte
	var enc [paddedMACLen]byte
	for _, k := range *keys {
		k.sum(&sum, h.ID, h.Timestamp, body)
		encodeMAC(&enc, &sum)
		n := 0
		for _, e := range h.Entries {
			if !macEntry(e) {
				continue
			}
			if n++; n > maxEntries {
				break // a hand-built Headers; ParseHeaders allows no more
			}
			if macMatches(&enc, e.Signature) {
				return SchemeV1, nil
			}
		}
	}
	return "", ErrNoMatch
}

// macEntry reports whether e is a "v1" entry the length of a MAC in
// base64: 43 symbols, then "=" or nothing.
func macEntry(e Entry) bool {
	s := e.Signature
	return e.Version == string(SchemeV1) && (len(s) == rawMACLen || len(s) == paddedMACLen && s[rawMACLen] == '=')
}

// macMatches reports, in constant time, whether s, a [macEntry] signature,
// decodes to the MAC whose padded standard base64 is enc. The first 42
// symbols carry 252 bits and must be equal; the 43rd carries the last 4 bits
// in its high bits, and its 2 low bits are unused, as the decoders ignore
// them.
func macMatches(enc *[paddedMACLen]byte, s string) bool {
	const full = rawMACLen - 1
	var diff uint64
	for i := 0; i < 40; i += 8 { // eight symbols at a time
		diff |= binary.LittleEndian.Uint64(enc[i:]) ^ le64(s[i:])
	}
	diff |= uint64(enc[40]^s[40]) | uint64(enc[41]^s[41])
	last := b64dec[s[full]] // 0xff for a byte outside the alphabet
	diff |= uint64(last&0x80) | uint64(last>>2^b64dec[enc[full]]>>2)
	return subtle.ConstantTimeEq(int32(diff>>32|diff&0xffffffff), 0) == 1
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

// le64 reads the first eight bytes of s as a little-endian uint64.
func le64(s string) uint64 {
	_ = s[7]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// b64enc is the standard base64 alphabet.
const b64enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// encodeMAC writes the padded standard base64 of sum to dst, as
// base64.StdEncoding.Encode does, two symbols per table lookup: it runs once
// per secret for every delivery.
func encodeMAC(dst *[paddedMACLen]byte, sum *[sha256.Size]byte) {
	for i := range sha256.Size / 3 { // ten groups of 3 bytes -> 4 symbols
		in := (*[3]byte)(sum[3*i:])
		out := (*[4]byte)(dst[4*i:])
		v := uint(in[0])<<16 | uint(in[1])<<8 | uint(in[2])
		hi, lo := &b64pairs[v>>12], &b64pairs[v&0xfff]
		out[0], out[1], out[2], out[3] = hi[0], hi[1], lo[0], lo[1]
	}
	v := uint(sum[30])<<16 | uint(sum[31])<<8 // 2 bytes -> 3 symbols and "="
	hi, lo := &b64pairs[v>>12], &b64pairs[v&0xfff]
	dst[40], dst[41], dst[42], dst[43] = hi[0], hi[1], lo[0], '='
}

// b64pairs maps 12 bits to their two base64 symbols.
var b64pairs = func() (t [1 << 12][2]byte) {
	for v := range t {
		t[v] = [2]byte{b64enc[v>>6], b64enc[v&0x3f]}
	}
	return t
}()

// b64dec maps a symbol of the standard base64 alphabet to its value, and
// any other byte to 0xff.
var b64dec = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = byte(i)
	}
	return t
}()

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
