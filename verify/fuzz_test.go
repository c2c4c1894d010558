package verify_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/geminihook/geminihook/verify"
)

// validID restates the webhook-id rule independently of the package.
func validID(id string) bool {
	if len(id) == 0 || len(id) > 256 {
		return false
	}
	for _, c := range []byte(id) {
		if c < '!' || c > '~' {
			return false
		}
	}
	return true
}

func FuzzParseHeaders(f *testing.F) {
	f.Add("msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "1767225600", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,AAAA v1a,BBBB  v2,CCC nocomma")
	f.Add("batches/abc", "-1", "eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	f.Add("", "+1", "")
	f.Add("msg\x00\xff", "9223372036854775808", "   ")
	f.Add(strings.Repeat("a", 257), "1e9", entries(33))
	f.Add("x", "0", ",,, v1,, ,v1")

	secret := mustSecret(f, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	hmacMethod := verify.NewHMAC(secret)

	f.Fuzz(func(t *testing.T, id, ts, sig string) {
		got, err := verify.ParseHeaders(http.Header{
			"webhook-id":           {id},
			verify.HeaderTimestamp: {ts},
			"WEBHOOK-SIGNATURE":    {sig},
			"Content-Type":         {"application/json"},
		})
		if err != nil {
			if !errors.Is(err, verify.ErrMalformedHeader) {
				t.Fatalf("error %v is not ErrMalformedHeader", err)
			}
			var he *verify.HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not a *HeaderError", err)
			}
			// The message is built from fixed text only.
			if msg := err.Error(); len(msg) > 100 {
				t.Fatalf("error message %q is suspiciously long", msg)
			}
			return
		}
		if !validID(got.ID) || got.ID != id {
			t.Fatalf("ID = %q, want the valid id %q", got.ID, id)
		}
		if got.Timestamp != ts {
			t.Fatalf("Timestamp = %q, want %q", got.Timestamp, ts)
		}
		if strings.HasPrefix(ts, "+") || strings.TrimSpace(ts) != ts {
			t.Fatalf("accepted timestamp %q", ts)
		}
		if unix, err := strconv.ParseInt(ts, 10, 64); err != nil || unix != got.Unix {
			t.Fatalf("Unix = %d for %q, strconv gives %d, %v", got.Unix, ts, unix, err)
		}
		if got.Signature != sig || strings.TrimSpace(sig) == "" {
			t.Fatalf("Signature = %q, want the non-blank %q", got.Signature, sig)
		}
		if len(got.Entries) > 32 {
			t.Fatalf("%d entries, want at most 32", len(got.Entries))
		}
		for _, e := range got.Entries {
			if strings.Contains(e.Version, ",") || strings.Contains(e.Version+e.Signature, " ") {
				t.Fatalf("entry %+v was split wrongly", e)
			}
			if !strings.Contains(sig, e.Version+","+e.Signature) {
				t.Fatalf("entry %+v is not in %q", e, sig)
			}
		}
		// Whatever ParseHeaders accepts, HMAC must handle without panicking.
		if _, err := hmacMethod.Verify(context.Background(), &got, nil); err != nil && !errors.Is(err, verify.ErrNoMatch) {
			t.Fatalf("HMAC.Verify() error = %v, want nil or ErrNoMatch", err)
		}
	})
}
