package gemini_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/geminihook/geminihook/internal/gemini"
)

// FuzzDecodeWebhook feeds the webhook decoder answers it did not expect: it
// must not panic, and what it decodes must encode again.
func FuzzDecodeWebhook(f *testing.F) {
	for _, s := range []string{snakeWebhook, camelWebhook, `{}`, `null`, `{"subscribed_events":null,"subscribedEvents":["x"]}`, `{"create_time":"yesterday"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var w gemini.Webhook
		if json.Unmarshal(b, &w) != nil {
			return
		}
		if _, err := json.Marshal(w); err != nil {
			t.Fatalf("decoded %q but cannot encode it: %v", b, err)
		}
	})
}

// FuzzAPIError feeds error answers to the client: whatever the body, the
// error is an *APIError on one line without the API key.
func FuzzAPIError(f *testing.F) {
	f.Add(403, []byte(`{"error":{"code":403,"message":"denied","status":"PERMISSION_DENIED"}}`))
	f.Add(400, []byte(`{"error":{"message":"key `+testKey+`"}}`))
	f.Add(500, []byte("<html>\n</html>"))
	f.Add(429, []byte(`{"error":"quota"}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 400 || status > 599 {
			return
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(status)
			w.Write(body)
		}))
		defer srv.Close()
		c, err := gemini.New(testKey, gemini.WithBaseURL(srv.URL))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Get(context.Background(), "abc")
		var ae *gemini.APIError
		if !errors.As(err, &ae) || ae.HTTPStatus != status {
			t.Fatalf("status %d: error %v", status, err)
		}
		if msg := err.Error(); strings.Contains(msg, testKey) || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("message %q", msg)
		}
	})
}
