package verify_test

import (
	"context"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/geminihook/geminihook/verify"
)

const fuzzSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// FuzzSignatureList hides one valid v1 entry among arbitrary items of the
// webhook-signature list. Differential invariant: the delivery verifies if
// and only if the list has at most 32 space-separated items, whatever the
// other items are (unknown versions, garbage, other valid-looking MACs).
func FuzzSignatureList(f *testing.F) {
	f.Add("", "")
	f.Add("v1,AAAA v2,BBBB", "v1a,"+strings.Repeat("A", 86))
	f.Add(strings.Repeat("v1,x ", 31), "")
	f.Add(strings.Repeat("v1,x ", 32), "")
	f.Add("   ,  ,,, v1, ,v1", "eyJhbGciOiJub25lIn0.e30.")
	f.Add("V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE")
	f.Add("\tv1,AAAA\t", "v1,\x00\xff")

	secret := mustSecret(f, fuzzSecret)
	m := verify.NewHMAC(secret)
	const id, ts = "msg_fuzz", "1767225600"
	body := []byte(`{"type":"batch.succeeded"}`)
	valid := verify.SignV1(secret, id, ts, body)

	f.Fuzz(func(t *testing.T, before, after string) {
		sig := before + " " + valid + " " + after
		// Items are separated by spaces only (not tabs or other white space).
		items := 0
		for item := range strings.SplitSeq(sig, " ") {
			if item != "" {
				items++
			}
		}
		h, err := verify.ParseHeaders(http.Header{
			verify.HeaderID: {id}, verify.HeaderTimestamp: {ts}, verify.HeaderSignature: {sig},
		})
		if items > 32 {
			if !errors.Is(err, verify.ErrMalformedHeader) {
				t.Fatalf("%d items: ParseHeaders error = %v, want ErrMalformedHeader", items, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%d items: ParseHeaders error = %v", items, err)
		}
		if _, err := m.Verify(context.Background(), &h, body); err != nil {
			t.Fatalf("the valid entry among %d items does not verify: %v", items, err)
		}
		// The same list over another body never verifies.
		if _, err := m.Verify(context.Background(), &h, append(body, ' ')); !errors.Is(err, verify.ErrNoMatch) {
			t.Fatalf("another body: error = %v, want ErrNoMatch", err)
		}
	})
}

// FuzzTimestamp checks webhook-timestamp parsing against its definition:
// accepted exactly when it is an optional '-' and decimal digits whose value
// fits an int64, and then Unix is that value.
func FuzzTimestamp(f *testing.F) {
	for _, s := range []string{"1767225600", "-1", "0", "-0", "00012", "+1", "", "-", "1e9", "0x10", " 1", "1 ",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"١٢٣", "１２３", "12.0", "1_000", strings.Repeat("9", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ts string) {
		h, err := verify.ParseHeaders(http.Header{
			verify.HeaderID: {"msg_1"}, verify.HeaderTimestamp: {ts}, verify.HeaderSignature: {"v1,AAAA"},
		})
		digits := strings.TrimPrefix(ts, "-")
		decimal := digits != "" && strings.Trim(digits, "0123456789") == ""
		var want big.Int
		fits := decimal
		if decimal {
			want.SetString(ts, 10)
			fits = want.IsInt64()
		}
		switch {
		case fits && err != nil:
			t.Fatalf("ParseHeaders(%q) error = %v, want %d", ts, err, want.Int64())
		case fits && h.Unix != want.Int64():
			t.Fatalf("ParseHeaders(%q).Unix = %d, want %d", ts, h.Unix, want.Int64())
		case !fits && !errors.Is(err, verify.ErrMalformedHeader):
			t.Fatalf("ParseHeaders(%q) error = %v, want ErrMalformedHeader", ts, err)
		}
	})
}

// FuzzTimestampWindow checks the tolerance window for every int64
// timestamp, clock and tolerance against exact arithmetic: too old when now
// is more than the tolerance after it, too new when more than the tolerance
// before it, accepted otherwise (the bounds included). No overflow, no panic.
func FuzzTimestampWindow(f *testing.F) {
	f.Add(int64(1767225600), int64(1767225600), uint32(0), int64(5*time.Minute))
	f.Add(int64(1767225300), int64(1767225600), uint32(0), int64(5*time.Minute))
	f.Add(int64(1767225299), int64(1767225600), uint32(999999999), int64(5*time.Minute))
	f.Add(int64(1767225900), int64(1767225600), uint32(1), int64(5*time.Minute))
	f.Add(int64(-1<<63), int64(1767225600), uint32(0), int64(1))
	f.Add(int64(1<<63-1), int64(-1767225600), uint32(5), int64(1<<63-1))
	f.Add(int64(0), int64(0), uint32(500000000), int64(time.Second/2))
	f.Fuzz(func(t *testing.T, ts, nowSec int64, nowNsec uint32, tol int64) {
		// time.Time holds seconds since year 1 in an int64.
		nowSec = max(min(nowSec, 1<<62), -1<<62)
		nowNsec %= 1e9
		if tol <= 0 {
			return // the default then applies; covered by the unit tests
		}
		now := time.Unix(nowSec, int64(nowNsec))
		v := verify.New(verify.Options{Tolerance: time.Duration(tol), Now: func() time.Time { return now }})
		_, err := v.Verify(context.Background(), &verify.Headers{ID: "msg_1", Timestamp: "x", Unix: ts}, nil)

		// age = now - ts, in nanoseconds, exactly.
		age := new(big.Int).Mul(big.NewInt(nowSec), big.NewInt(1e9))
		age.Add(age, big.NewInt(int64(nowNsec)))
		age.Sub(age, new(big.Int).Mul(big.NewInt(ts), big.NewInt(1e9)))
		var want error = verify.ErrNoMatch // inside the window: on to the (absent) methods
		switch {
		case age.Cmp(big.NewInt(tol)) > 0:
			want = verify.ErrTooOld
		case age.Cmp(big.NewInt(-tol)) < 0:
			want = verify.ErrTooNew
		}
		if !errors.Is(err, want) {
			t.Fatalf("ts %d, now %d.%09d, tolerance %v: error %v, want %v", ts, nowSec, nowNsec, time.Duration(tol), err, want)
		}
	})
}

// FuzzParseSecrets checks the parser of GEMINI_WEBHOOK_SECRETS and of the
// secrets file: no panic; errors wrap ErrInvalidSecret and never repeat a
// secret (the text of any item), since they are logged; every secret
// accepted signs and verifies; a Secret never prints its key.
func FuzzParseSecrets(f *testing.F) {
	for _, s := range []string{
		fuzzSecret, fuzzSecret + ", " + fuzzSecret + "\n", "whsec_", "whsec_!!", "whsec_" + strings.Repeat("A", 20),
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw==", "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", " \t\r\n,,",
		"whsec_MfKQ9r8GKYqrTwjU\nPD8ILPZIo2LaLaSw", "whsec_" + strings.Repeat("QUFB", 400), "whsec_\u00e9\u00e9\u00e9",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, list string) {
		secrets, err := verify.ParseSecrets(list)
		fields := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
		if err != nil {
			if !errors.Is(err, verify.ErrInvalidSecret) {
				t.Fatalf("error %v does not wrap ErrInvalidSecret", err)
			}
			for _, field := range fields {
				key := strings.TrimPrefix(field, "whsec_")
				if len(key) >= 8 && strings.Contains(err.Error(), key) {
					t.Fatalf("error %q repeats a secret", err)
				}
			}
			return
		}
		if len(secrets) != len(fields) {
			t.Fatalf("%d secrets from %d items", len(secrets), len(fields))
		}
		for _, s := range secrets {
			sig := verify.SignV1(s, "msg_1", "1767225600", []byte("{}"))
			h := mustHeaders(t, "msg_1", "1767225600", sig)
			if _, err := verify.NewHMAC(s).Verify(context.Background(), h, []byte("{}")); err != nil {
				t.Fatalf("a parsed secret does not verify its own signature: %v", err)
			}
			if s.String() != "verify.Secret(redacted)" || s.GoString() != s.String() {
				t.Fatalf("Secret prints %q, %q", s.String(), s.GoString())
			}
		}
	})
}
