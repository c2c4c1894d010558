package verify_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// Example verifies a delivery the way the receiver does: parse the headers
// (400 on error), then check timestamp and signature (401 on ErrNoMatch,
// ErrTooOld, ErrTooNew).
func Example() {
	// At start-up: secrets from configuration, one Verifier for all requests.
	secrets, err := verify.ParseSecrets("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	signedAt := time.Unix(1614265330, 0)
	v := verify.New(verify.Options{
		Tolerance: 5 * time.Minute,
		Now:       func() time.Time { return signedAt.Add(30 * time.Second) }, // a fixed clock for the example
	}, verify.NewHMAC(secrets...))

	// Per request: the Standard Webhooks specification's sample delivery.
	body := `{"test": 2432232314}`
	req := httptest.NewRequest("POST", "/", strings.NewReader(body))
	req.Header.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	req.Header.Set("webhook-timestamp", "1614265330")
	req.Header.Set("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")

	h, err := verify.ParseHeaders(req.Header)
	if err != nil {
		fmt.Println("400:", err)
		return
	}
	scheme, err := v.Verify(context.Background(), &h, []byte(body))
	fmt.Println("verified:", scheme, err)

	// The same headers with a re-serialised body no longer verify.
	_, err = v.Verify(context.Background(), &h, []byte(`{"test":2432232314}`))
	fmt.Println("tampered:", errors.Is(err, verify.ErrNoMatch), err)
	// Output:
	// verified: v1 <nil>
	// tampered: true verify: no matching signature
}

// ExampleSignV1 shows the signature entry a sender computes, for tests of
// code that receives deliveries.
func ExampleSignV1() {
	secret, err := verify.ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	fmt.Println(verify.SignV1(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", []byte(`{"test": 2432232314}`)))
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}
