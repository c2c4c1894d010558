package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// decodeMACWithBase64 decodes a signature entry as it was first done, with
// encoding/base64 on stack buffers: the reference macMatches is held to.
func decodeMACWithBase64(dst *[sha256.Size]byte, s string) bool {
	enc := base64.StdEncoding
	switch len(s) {
	case paddedMACLen:
	case rawMACLen:
		enc = base64.RawStdEncoding
	default:
		return false
	}
	var src [paddedMACLen]byte
	var out [paddedMACLen / 4 * 3]byte
	n := copy(src[:], s)
	got, err := enc.Decode(out[:], src[:n])
	if err != nil || got != sha256.Size {
		return false
	}
	copy(dst[:], out[:sha256.Size])
	return true
}

// checkMACMatches holds macMatches to decoding with encoding/base64 and
// comparing: an entry matches exactly when it decodes to the MAC.
func checkMACMatches(t *testing.T, mac *[sha256.Size]byte, s string) {
	t.Helper()
	var enc [paddedMACLen]byte
	encodeMAC(&enc, mac)
	if want := base64.StdEncoding.EncodeToString(mac[:]); string(enc[:]) != want {
		t.Fatalf("encodeMAC(%x) = %q, encoding/base64 %q", mac[:], enc[:], want)
	}
	var dec [sha256.Size]byte
	want := decodeMACWithBase64(&dec, s) && dec == *mac
	e := Entry{Version: string(SchemeV1), Signature: s}
	got := macEntry(e) && macMatches(&enc, s)
	if got != want {
		t.Fatalf("entry %q against MAC %x: matches %v, decoding with encoding/base64 says %v", s, mac[:], got, want)
	}
}

func TestMACMatchesDecoding(t *testing.T) {
	t.Parallel()
	var mac [sha256.Size]byte
	for range 200 {
		rand.Read(mac[:])
		padded := base64.StdEncoding.EncodeToString(mac[:])
		raw := base64.RawStdEncoding.EncodeToString(mac[:])
		for _, s := range []string{padded, raw} {
			checkMACMatches(t, &mac, s)
			// Every byte value at every position, and non-canonical last
			// symbols (unused low bits set).
			for pos := range len(s) {
				for c := range 256 {
					b := []byte(s)
					b[pos] = byte(c)
					checkMACMatches(t, &mac, string(b))
				}
			}
		}
	}
	for _, s := range []string{"", "=", padded43("A") + "==", padded43("A")[:42] + "==", "A\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		string(bytes.Repeat([]byte("/"), 43)), string(bytes.Repeat([]byte("+"), 44)), padded43("A"), padded43("A") + "="} {
		checkMACMatches(t, &[sha256.Size]byte{}, s)
		checkMACMatches(t, &mac, s)
	}
}

func padded43(c string) string { return string(bytes.Repeat([]byte(c), 43)) }

func FuzzMACMatches(f *testing.F) {
	f.Add("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte("k"))
	f.Add("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE", []byte("k"))
	f.Add("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=", []byte("k"))
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAD=", []byte{})
	f.Fuzz(func(t *testing.T, s string, seed []byte) {
		// The MAC is the entry's own decoding when it has one, so that
		// matches are explored, not only misses.
		var mac [sha256.Size]byte
		if !decodeMACWithBase64(&mac, s) {
			mac = sha256.Sum256(seed)
		} else if len(seed) > 0 {
			mac[seed[0]%sha256.Size] ^= seed[len(seed)-1] | 1
		}
		checkMACMatches(t, &mac, s)
	})
}

// BenchmarkMatchMAC compares one v1 signature entry with a MAC: encoded once
// and compared in base64, as Verify does, and decoded with encoding/base64
// then compared (what it replaced).
func BenchmarkMatchMAC(b *testing.B) {
	s := "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	var mac [sha256.Size]byte
	decodeMACWithBase64(&mac, s)
	b.Run("compare-in-base64", func(b *testing.B) {
		b.ReportAllocs()
		var enc [paddedMACLen]byte
		for b.Loop() {
			encodeMAC(&enc, &mac)
			if !macEntry(Entry{string(SchemeV1), s}) || !macMatches(&enc, s) {
				b.Fatal("no match")
			}
		}
	})
	b.Run("encoding-base64", func(b *testing.B) {
		b.ReportAllocs()
		var dec [sha256.Size]byte
		for b.Loop() {
			if !decodeMACWithBase64(&dec, s) || !hmac.Equal(dec[:], mac[:]) {
				b.Fatal("no match")
			}
		}
	})
}
