package verify_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/geminihook/geminihook/verify"
)

// key returns n deterministic key bytes.
func key(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func TestParseSecret(t *testing.T) {
	t.Parallel()
	k32 := key(32) // 32 bytes: padded base64 ends in "="
	padded := base64.StdEncoding.EncodeToString(k32)
	raw := base64.RawStdEncoding.EncodeToString(k32)

	tests := []struct {
		name    string
		in      string
		wantKey []byte // nil when an error is expected
		wantErr error
	}{
		{name: "padded", in: "whsec_" + padded, wantKey: k32},
		{name: "unpadded", in: "whsec_" + raw, wantKey: k32},
		{name: "no padding needed", in: "whsec_" + base64.StdEncoding.EncodeToString(key(24)), wantKey: key(24)},
		{name: "surrounding white space", in: " whsec_" + padded + "\n", wantKey: k32},
		{name: "16 bytes", in: "whsec_" + base64.StdEncoding.EncodeToString(key(16)), wantKey: key(16)},
		{name: "1024 bytes", in: "whsec_" + base64.StdEncoding.EncodeToString(key(1024)), wantKey: key(1024)},
		{name: "spec example", in: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", wantKey: mustDecode(t, "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")},

		{name: "empty", in: "", wantErr: verify.ErrInvalidSecret},
		{name: "missing prefix", in: padded, wantErr: verify.ErrInvalidSecret},
		{name: "other prefix", in: "whsek_" + padded, wantErr: verify.ErrInvalidSecret},
		{name: "upper-case prefix", in: "WHSEC_" + padded, wantErr: verify.ErrInvalidSecret},
		{name: "prefix only", in: "whsec_", wantErr: verify.ErrInvalidSecret},
		{name: "not base64", in: "whsec_!!!!" + raw, wantErr: verify.ErrInvalidSecret},
		{name: "URL-safe alphabet", in: "whsec_" + base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe}), wantErr: verify.ErrInvalidSecret},
		{name: "inner newline", in: "whsec_" + padded[:20] + "\n" + padded[20:], wantErr: verify.ErrInvalidSecret},
		{name: "inner space", in: "whsec_" + padded[:20] + " " + padded[20:], wantErr: verify.ErrInvalidSecret},
		{name: "wrong padding", in: "whsec_" + raw + "==", wantErr: verify.ErrInvalidSecret},
		{name: "padding inside", in: "whsec_" + padded[:8] + "=" + padded[8:], wantErr: verify.ErrInvalidSecret},
		{name: "impossible length", in: "whsec_" + raw[:41], wantErr: verify.ErrInvalidSecret},
		{name: "15 bytes", in: "whsec_" + base64.StdEncoding.EncodeToString(key(15)), wantErr: verify.ErrInvalidSecret},
		{name: "1025 bytes", in: "whsec_" + base64.StdEncoding.EncodeToString(key(1025)), wantErr: verify.ErrInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := verify.ParseSecret(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseSecret() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if body := strings.TrimPrefix(strings.TrimSpace(tt.in), "whsec_"); len(body) >= 4 && strings.Contains(err.Error(), body) {
					t.Errorf("error %q contains the secret", err)
				}
				return
			}
			// The key is unexported: compare what it signs with an independent HMAC.
			if sig, want := verify.SignV1(got, "msg_1", "1", []byte("{}")), referenceV1(tt.wantKey, "msg_1", "1", []byte("{}")); sig != want {
				t.Errorf("ParseSecret() signs %q, want %q", sig, want)
			}
		})
	}
}

func mustDecode(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseSecrets(t *testing.T) {
	t.Parallel()
	a := "whsec_" + base64.StdEncoding.EncodeToString(key(32))
	b := "whsec_" + base64.RawStdEncoding.EncodeToString(key(24))
	bad := "whsec_c2hvcnQ=" // "short": 5 bytes

	tests := []struct {
		name     string
		in       string
		wantKeys [][]byte
		wantErr  error
		// wantMsg is a substring the error must contain.
		wantMsg string
	}{
		{name: "empty", in: ""},
		{name: "separators only", in: " ,\t, \n"},
		{name: "one", in: a, wantKeys: [][]byte{key(32)}},
		{name: "comma", in: a + "," + b, wantKeys: [][]byte{key(32), key(24)}},
		{name: "space", in: a + " " + b, wantKeys: [][]byte{key(32), key(24)}},
		{name: "comma and spaces", in: " " + a + " , " + b + " ,", wantKeys: [][]byte{key(32), key(24)}},
		{name: "newline", in: a + "\n" + b + "\n", wantKeys: [][]byte{key(32), key(24)}},
		{name: "bad second", in: a + "," + bad, wantErr: verify.ErrInvalidSecret, wantMsg: "secret 2 of 2"},
		{name: "bad first", in: "nope " + a, wantErr: verify.ErrInvalidSecret, wantMsg: "secret 1 of 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := verify.ParseSecrets(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseSecrets() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.wantMsg) {
					t.Errorf("error %q does not contain %q", err, tt.wantMsg)
				}
				if strings.Contains(err.Error(), "c2hvcnQ") || strings.Contains(err.Error(), "nope") {
					t.Errorf("error %q contains a secret", err)
				}
				if got != nil {
					t.Errorf("ParseSecrets() = %v with an error, want nil", got)
				}
				return
			}
			if tt.wantKeys == nil {
				if got != nil {
					t.Errorf("ParseSecrets() = %v, want nil", got)
				}
				return
			}
			if len(got) != len(tt.wantKeys) {
				t.Fatalf("ParseSecrets() gave %d secrets, want %d", len(got), len(tt.wantKeys))
			}
			for i, s := range got {
				if sig, want := verify.SignV1(s, "msg_1", "1", nil), referenceV1(tt.wantKeys[i], "msg_1", "1", nil); sig != want {
					t.Errorf("secret %d signs %q, want %q", i, sig, want)
				}
			}
		})
	}
}

// TestSecretNeverPrints checks the formats a log line or a panic could use.
func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	k := key(32)
	s, err := verify.ParseSecret("whsec_" + base64.StdEncoding.EncodeToString(k))
	if err != nil {
		t.Fatal(err)
	}
	holder := struct {
		Exported   verify.Secret
		unexported verify.Secret
		List       []verify.Secret
	}{s, s, []verify.Secret{s}}

	leaks := []string{
		base64.StdEncoding.EncodeToString(k)[:8],
		fmt.Sprintf("%x", k[:4]),
		fmt.Sprintf("%v", k[:4])[1:8],
		string(k[:4]),
	}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for _, value := range []any{s, &s, holder, &holder} {
			out := fmt.Sprintf(format, value)
			for _, leak := range leaks {
				if strings.Contains(out, leak) {
					t.Errorf("Sprintf(%q, %T) = %q contains key material %q", format, value, out, leak)
				}
			}
		}
	}
}

func TestGenerateSecret(t *testing.T) {
	t.Parallel()
	a, b := verify.GenerateSecret(), verify.GenerateSecret()
	if a == b {
		t.Fatal("GenerateSecret() returned the same secret twice")
	}
	for _, s := range []string{a, b} {
		if _, err := verify.ParseSecret(s); err != nil {
			t.Errorf("ParseSecret(GenerateSecret()) error = %v", err)
		}
		if len(s) != len("whsec_")+44 {
			t.Errorf("GenerateSecret() has %d characters, want a 32-byte key", len(s))
		}
	}
}
