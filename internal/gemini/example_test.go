package gemini_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/geminihook/geminihook/internal/gemini"
)

// Register a receiver's URL and keep the signing secret Gemini shows once.
// The example runs against a stand-in server, not the real API.
func ExampleClient_Create() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"name":"webhooks/abc123","uri":"https://example.com/hook",
			"subscribed_events":["batch.succeeded"],"state":"enabled","new_signing_secret":"whsec_c2VjcmV0"}`)
	}))
	defer srv.Close()

	c, err := gemini.New("my-api-key", gemini.WithBaseURL(srv.URL+"/v1beta"))
	if err != nil {
		panic(err)
	}
	w, err := c.Create(context.Background(), gemini.CreateRequest{
		URI:              "https://example.com/hook",
		SubscribedEvents: []string{"batch.succeeded"},
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(w.ID(), w.State, w.SubscribedEvents)
	fmt.Println(w.NewSigningSecret) // a Secret does not print
	store := string(w.NewSigningSecret)
	_ = store // hand it to Secret Manager, never to a log
	// Output:
	// abc123 enabled [batch.succeeded]
	// gemini.Secret(redacted)
}
