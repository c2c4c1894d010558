package verify_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// ExampleNewV1a verifies a dynamic-webhook delivery: a "v1a" Ed25519
// signature by one of the keys of a JWKS that names no key ids.
func ExampleNewV1a() {
	// Gemini's side, played by a local server: one Ed25519 key, no kid.
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	jwks := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":%q}]}`,
		base64.RawURLEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, jwks)
	}))
	defer srv.Close()

	// At start-up: one key source and one Verifier for all requests. Nothing
	// is fetched until the first dynamic delivery.
	keys := verify.NewJWKS(srv.URL, verify.JWKSOptions{})
	defer keys.Close()
	v := verify.New(verify.Options{
		Now: func() time.Time { return time.Unix(1767225600, 0) }, // a fixed clock for the example
	}, verify.NewV1a(keys))

	// Per request.
	body := []byte(`{"type":"batch.succeeded","version":"v1","data":{"id":"batches/abc"}}`)
	req := httptest.NewRequest("POST", "/", bytes.NewReader(body))
	req.Header.Set("webhook-id", "msg_1")
	req.Header.Set("webhook-timestamp", "1767225600")
	req.Header.Set("webhook-signature", verify.SignV1a(priv, "msg_1", "1767225600", body))
	h, err := verify.ParseHeaders(req.Header)
	if err != nil {
		fmt.Println("400:", err)
		return
	}
	scheme, err := v.Verify(context.Background(), &h, body)
	fmt.Println("verified:", scheme, err)

	_, err = v.Verify(context.Background(), &h, []byte(`{"type":"batch.failed"}`))
	fmt.Println("tampered:", errors.Is(err, verify.ErrNoMatch))
	// Output:
	// verified: v1a <nil>
	// tampered: true
}

// ExampleSignV1a shows the signature entry a dynamic-webhook sender
// computes, for tests of code that receives deliveries.
func ExampleSignV1a() {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, ed25519.SeedSize))
	fmt.Println(verify.SignV1a(priv, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`)))
	// Output: v1a,2iFnCkcL0nCB7d0lgaT5vmGnQgJl4zcl9qd7UbPYvulcwR3MRYzjXT2JCSEV4dFH3XNALA4OW0zY5fFdGv9GBA==
}
