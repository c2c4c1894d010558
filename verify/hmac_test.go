package verify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/geminihook/geminihook/verify"
)

// referenceV1 computes a v1 entry the plain way, independent of the package.
func referenceV1(key []byte, id, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "." + string(body)))
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func mustSecret(t testing.TB, s string) verify.Secret {
	t.Helper()
	secret, err := verify.ParseSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

func mustHeaders(t testing.TB, id, ts, sig string) *verify.Headers {
	t.Helper()
	h, err := verify.ParseHeaders(headers(id, ts, sig))
	if err != nil {
		t.Fatal(err)
	}
	return &h
}

func TestSignV1(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, secret, id, ts, body string
		want                       string
	}{
		{
			// The Standard Webhooks specification's published vector.
			name:   "spec vector",
			secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
			id:     "msg_p5jXN8AQM9LWM0D4loKWxJek", ts: "1614265330", body: `{"test": 2432232314}`,
			want: "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		},
		{
			name:   "reference HMAC",
			secret: "whsec_" + base64.StdEncoding.EncodeToString(key(32)),
			id:     "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", ts: "1767225600",
			body: `{"type":"batch.succeeded","version":"v1","data":{"id":"batch_123"}}`,
			want: referenceV1(key(32), "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b", "1767225600",
				[]byte(`{"type":"batch.succeeded","version":"v1","data":{"id":"batch_123"}}`)),
		},
		{
			name:   "reference HMAC, long id and empty body",
			secret: "whsec_" + base64.StdEncoding.EncodeToString(key(64)),
			id:     strings.Repeat("x", 300), ts: "-5", body: "",
			want: referenceV1(key(64), strings.Repeat("x", 300), "-5", nil),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := verify.SignV1(mustSecret(t, tt.secret), tt.id, tt.ts, []byte(tt.body)); got != tt.want {
				t.Errorf("SignV1() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSpecVectorVariants changes one thing at a time in the specification's
// vector, whose MAC contains both '+' and '/'.
func TestSpecVectorVariants(t *testing.T) {
	t.Parallel()
	secret := mustSecret(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	const (
		id   = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts   = "1614265330"
		body = `{"test": 2432232314}`
		mac  = "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	tests := []struct {
		name    string
		sig     string
		body    string
		wantErr error
	}{
		{name: "as published", sig: "v1," + mac, body: body},
		{name: "unpadded", sig: "v1," + strings.TrimSuffix(mac, "="), body: body},
		{name: "re-serialised body", sig: "v1," + mac, body: `{"test":2432232314}`, wantErr: verify.ErrNoMatch},
		{name: "URL-safe alphabet", sig: "v1," + strings.NewReplacer("+", "-", "/", "_").Replace(mac), body: body, wantErr: verify.ErrNoMatch},
		{name: "double padding", sig: "v1," + strings.TrimSuffix(mac, "=") + "==", body: body, wantErr: verify.ErrNoMatch},
		{name: "one character changed", sig: "v1,h" + mac[1:], body: body, wantErr: verify.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := verify.NewHMAC(secret).Verify(context.Background(), mustHeaders(t, id, ts, tt.sig), []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Verify() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestSignV1ZeroSecretPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Error("SignV1 with the zero Secret did not panic")
		}
	}()
	verify.SignV1(verify.Secret{}, "msg_1", "1", nil)
}

func TestHMACVerify(t *testing.T) {
	t.Parallel()
	const (
		id = "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
		ts = "1767225600"
	)
	body := []byte(`{"type":"batch.succeeded","data":{"id":"batch_123"}}`)
	current := mustSecret(t, "whsec_"+base64.StdEncoding.EncodeToString(key(32)))
	previous := mustSecret(t, "whsec_"+base64.RawStdEncoding.EncodeToString(key(24)))
	stranger := mustSecret(t, verify.GenerateSecret())

	good := verify.SignV1(current, id, ts, body)
	old := verify.SignV1(previous, id, ts, body)
	wrong := verify.SignV1(stranger, id, ts, body)
	mac := strings.TrimPrefix(good, "v1,")
	macBytes, _ := base64.StdEncoding.DecodeString(mac)

	tests := []struct {
		name    string
		secrets []verify.Secret
		id, ts  string
		body    []byte
		sig     string
		wantErr error
	}{
		{name: "valid", secrets: []verify.Secret{current}, sig: good},
		{name: "valid unpadded entry", secrets: []verify.Secret{current}, sig: "v1," + strings.TrimRight(mac, "=")},
		{name: "valid among other versions", secrets: []verify.Secret{current}, sig: "v1a,AAAA " + good + " v2,BBBB"},
		{name: "rotation: held old secret matches", secrets: []verify.Secret{current, previous}, sig: old},
		{name: "rotation: two entries, second matches", secrets: []verify.Secret{current}, sig: wrong + " " + good},
		{name: "rotation: two entries, two secrets", secrets: []verify.Secret{current, previous}, sig: wrong + " " + old},
		{name: "entry after 31 misses", secrets: []verify.Secret{current}, sig: strings.Repeat(wrong+" ", 31) + good},

		{name: "wrong secret", secrets: []verify.Secret{stranger}, sig: good, wantErr: verify.ErrNoMatch},
		{name: "old secret no longer held", secrets: []verify.Secret{current}, sig: old, wantErr: verify.ErrNoMatch},
		{name: "tampered body", secrets: []verify.Secret{current}, body: []byte(`{"type":"batch.failed","data":{"id":"batch_123"}}`), sig: good, wantErr: verify.ErrNoMatch},
		{name: "body with a trailing newline", secrets: []verify.Secret{current}, body: append(append([]byte(nil), body...), '\n'), sig: good, wantErr: verify.ErrNoMatch},
		{name: "tampered id", secrets: []verify.Secret{current}, id: "msg_other", sig: good, wantErr: verify.ErrNoMatch},
		{name: "tampered timestamp", secrets: []verify.Secret{current}, ts: "1767225601", sig: good, wantErr: verify.ErrNoMatch},
		{name: "same time, other spelling", secrets: []verify.Secret{current}, ts: "01767225600", sig: good, wantErr: verify.ErrNoMatch},
		{name: "signature of 31 bytes", secrets: []verify.Secret{current}, sig: "v1," + base64.StdEncoding.EncodeToString(macBytes[:31]), wantErr: verify.ErrNoMatch},
		{name: "signature of 33 bytes", secrets: []verify.Secret{current}, sig: "v1," + base64.StdEncoding.EncodeToString(append(macBytes[:32:32], 0)), wantErr: verify.ErrNoMatch},
		{name: "signature of 64 bytes", secrets: []verify.Secret{current}, sig: "v1," + base64.StdEncoding.EncodeToString(append(macBytes[:32:32], macBytes...)), wantErr: verify.ErrNoMatch},
		{name: "signature in hex", secrets: []verify.Secret{current}, sig: "v1," + hexString(macBytes), wantErr: verify.ErrNoMatch},
		{name: "signature not base64", secrets: []verify.Secret{current}, sig: "v1," + strings.Repeat("!", 44), wantErr: verify.ErrNoMatch},
		{name: "empty signature", secrets: []verify.Secret{current}, sig: "v1,", wantErr: verify.ErrNoMatch},
		{name: "right MAC, unknown version", secrets: []verify.Secret{current}, sig: "v2," + mac, wantErr: verify.ErrNoMatch},
		{name: "right MAC, v1a version", secrets: []verify.Secret{current}, sig: "v1a," + mac, wantErr: verify.ErrNoMatch},
		{name: "right MAC, upper-case version", secrets: []verify.Secret{current}, sig: "V1," + mac, wantErr: verify.ErrNoMatch},
		{name: "no entries at all", secrets: []verify.Secret{current}, sig: "eyJhbGciOiJSUzI1NiJ9.e30.c2ln", wantErr: verify.ErrNoMatch},
		{name: "no secrets", secrets: nil, sig: good, wantErr: verify.ErrNoMatch},
		// A zero Secret would be an empty HMAC key that anyone can sign with.
		{name: "zero secret ignored", secrets: []verify.Secret{{}}, sig: referenceV1(nil, id, ts, body), wantErr: verify.ErrNoMatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			hid, hts, hbody := id, ts, body
			if tt.id != "" {
				hid = tt.id
			}
			if tt.ts != "" {
				hts = tt.ts
			}
			if tt.body != nil {
				hbody = tt.body
			}
			scheme, err := verify.NewHMAC(tt.secrets...).Verify(context.Background(), mustHeaders(t, hid, hts, tt.sig), hbody)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() error = %v, want %v", err, tt.wantErr)
			}
			want := verify.SchemeV1
			if tt.wantErr != nil {
				want = ""
			}
			if scheme != want {
				t.Errorf("Verify() scheme = %q, want %q", scheme, want)
			}
		})
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

// TestHMACEntryBound checks that a hand-built Headers with more than 32
// entries costs no more than 32: later entries are not considered.
func TestHMACEntryBound(t *testing.T) {
	t.Parallel()
	s := mustSecret(t, verify.GenerateSecret())
	h := mustHeaders(t, "msg_1", "1", "v1,x")
	h.Entries = nil
	for range 32 {
		h.Entries = append(h.Entries, verify.Entry{Version: "v1", Signature: strings.Repeat("A", 43) + "="})
	}
	good := strings.TrimPrefix(verify.SignV1(s, "msg_1", "1", nil), "v1,")
	h.Entries = append(h.Entries, verify.Entry{Version: "v1", Signature: good})
	if _, err := verify.NewHMAC(s).Verify(context.Background(), h, nil); !errors.Is(err, verify.ErrNoMatch) {
		t.Errorf("Verify() error = %v, want %v", err, verify.ErrNoMatch)
	}
}

func TestHMACZeroValue(t *testing.T) {
	t.Parallel()
	var m verify.HMAC
	s := mustSecret(t, verify.GenerateSecret())
	h := mustHeaders(t, "msg_1", "1", verify.SignV1(s, "msg_1", "1", nil))
	if _, err := m.Verify(context.Background(), h, nil); !errors.Is(err, verify.ErrNoMatch) {
		t.Fatalf("zero HMAC: Verify() error = %v, want %v", err, verify.ErrNoMatch)
	}
	m.SetSecrets(s)
	if _, err := m.Verify(context.Background(), h, nil); err != nil {
		t.Errorf("after SetSecrets: Verify() error = %v", err)
	}
}

func TestHMACSetSecrets(t *testing.T) {
	t.Parallel()
	a := mustSecret(t, verify.GenerateSecret())
	b := mustSecret(t, verify.GenerateSecret())
	body := []byte(`{}`)
	signedA := mustHeaders(t, "msg_1", "1", verify.SignV1(a, "msg_1", "1", body))
	signedB := mustHeaders(t, "msg_1", "1", verify.SignV1(b, "msg_1", "1", body))

	m := verify.NewHMAC(a)
	steps := []struct {
		name    string
		set     []verify.Secret // applied before the checks
		wantA   error
		wantB   error
		setSkip bool
	}{
		{name: "initial", setSkip: true, wantA: nil, wantB: verify.ErrNoMatch},
		{name: "overlap", set: []verify.Secret{b, a}, wantA: nil, wantB: nil},
		{name: "old revoked", set: []verify.Secret{b}, wantA: verify.ErrNoMatch, wantB: nil},
		{name: "emptied", set: nil, wantA: verify.ErrNoMatch, wantB: verify.ErrNoMatch},
		{name: "restored", set: []verify.Secret{a}, wantA: nil, wantB: verify.ErrNoMatch},
	}
	// Steps share m, so they run in order.
	for _, st := range steps {
		if !st.setSkip {
			m.SetSecrets(st.set...)
		}
		if _, err := m.Verify(context.Background(), signedA, body); !errors.Is(err, st.wantA) {
			t.Errorf("%s: signed with a: Verify() error = %v, want %v", st.name, err, st.wantA)
		}
		if _, err := m.Verify(context.Background(), signedB, body); !errors.Is(err, st.wantB) {
			t.Errorf("%s: signed with b: Verify() error = %v, want %v", st.name, err, st.wantB)
		}
	}
}

// TestHMACConcurrentRotation verifies while the secrets are swapped; run it
// with -race. Secret a stays in every set, so every delivery must verify.
func TestHMACConcurrentRotation(t *testing.T) {
	t.Parallel()
	a := mustSecret(t, verify.GenerateSecret())
	b := mustSecret(t, verify.GenerateSecret())
	body := []byte(strings.Repeat("x", 2048))
	h := mustHeaders(t, "msg_1", "1", verify.SignV1(a, "msg_1", "1", body))
	m := verify.NewHMAC(a)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if i%2 == 0 {
				m.SetSecrets(b, a)
			} else {
				m.SetSecrets(a)
			}
		}
	})
	var verifiers sync.WaitGroup
	for range 8 {
		verifiers.Go(func() {
			for range 200 {
				if _, err := m.Verify(context.Background(), h, body); err != nil {
					t.Errorf("Verify() error = %v during rotation", err)
					return
				}
			}
		})
	}
	verifiers.Wait()
	close(stop)
	wg.Wait()
}
