package verify

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// decodeMACWithBase64 is decodeMAC as it was written first, with
// encoding/base64 on stack buffers: the table decoder must accept and
// reject exactly the same strings, and give the same bytes.
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

func checkDecodeMAC(t *testing.T, s string) {
	t.Helper()
	var got, want [sha256.Size]byte
	okGot, okWant := decodeMAC(&got, s), decodeMACWithBase64(&want, s)
	if okGot != okWant || okGot && got != want {
		t.Fatalf("decodeMAC(%q) = %v %x, encoding/base64 %v %x", s, okGot, got, okWant, want)
	}
}

func TestDecodeMACMatchesBase64(t *testing.T) {
	t.Parallel()
	var mac [sha256.Size]byte
	for range 200 {
		rand.Read(mac[:])
		padded := base64.StdEncoding.EncodeToString(mac[:])
		raw := base64.RawStdEncoding.EncodeToString(mac[:])
		for _, s := range []string{padded, raw} {
			checkDecodeMAC(t, s)
			// Every byte value at every position, and non-canonical last
			// symbols (unused low bits set).
			for pos := range len(s) {
				for c := range 256 {
					b := []byte(s)
					b[pos] = byte(c)
					checkDecodeMAC(t, string(b))
				}
			}
		}
	}
	for _, s := range []string{"", "=", padded43("A") + "==", padded43("A")[:42] + "==", "A\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		string(bytes.Repeat([]byte("/"), 43)), string(bytes.Repeat([]byte("+"), 44))} {
		checkDecodeMAC(t, s)
	}
}

func padded43(c string) string { return string(bytes.Repeat([]byte(c), 43)) }

func FuzzDecodeMAC(f *testing.F) {
	f.Add("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE")
	f.Add("g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=")
	f.Fuzz(func(t *testing.T, s string) { checkDecodeMAC(t, s) })
}

// BenchmarkDecodeMAC decodes one v1 signature entry, with decodeMAC and with
// encoding/base64 (what decodeMAC replaced).
func BenchmarkDecodeMAC(b *testing.B) {
	s := "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	var dst [sha256.Size]byte
	for _, c := range []struct {
		name   string
		decode func(*[sha256.Size]byte, string) bool
	}{{"decodeMAC", decodeMAC}, {"encoding-base64", decodeMACWithBase64}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !c.decode(&dst, s) {
					b.Fatal("no MAC")
				}
			}
		})
	}
}
