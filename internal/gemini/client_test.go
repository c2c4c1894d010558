package gemini_test

// These tests run against httptest servers that follow the documented REST
// shapes of the WebhookService; they cannot reach the real Gemini API.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geminihook/geminihook/internal/gemini"
)

const testKey = "AIzaTESTKEY-never-printed"

// recorded is one request the test server saw.
type recorded struct {
	method, path, query, key, contentType string
	body                                  map[string]any
}

// server answers every request with status and body, and records it.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newServer(t *testing.T, status int, answer string) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec := recorded{method: r.Method, path: r.URL.Path, query: r.URL.RawQuery, key: r.Header.Get("x-goog-api-key"), contentType: r.Header.Get("Content-Type")}
		if len(b) > 0 {
			if err := json.Unmarshal(b, &rec.body); err != nil {
				t.Errorf("request body %q is not a JSON object: %v", b, err)
			}
		}
		s.mu.Lock()
		s.reqs = append(s.reqs, rec)
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) only(t *testing.T) recorded {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(s.reqs))
	}
	return s.reqs[0]
}

func client(t *testing.T, baseURL string) *gemini.Client {
	t.Helper()
	c, err := gemini.New(testKey, gemini.WithBaseURL(baseURL+"/v1beta"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const snakeWebhook = `{"name":"webhooks/abc","uri":"https://example.com/hook","subscribed_events":["batch.succeeded","video.generated"],
"state":"enabled","create_time":"2026-01-22T12:00:00Z","update_time":"2026-01-23T12:00:00.5Z",
"signing_secrets":[{"truncated_secret":"whsec_ab...","expire_time":"2026-01-24T12:00:00Z"}]}`

const camelWebhook = `{"name":"webhooks/abc","uri":"https://example.com/hook","subscribedEvents":["batch.succeeded","video.generated"],
"state":"ENABLED","createTime":"2026-01-22T12:00:00Z","updateTime":"2026-01-23T12:00:00.5Z",
"signingSecrets":[{"truncatedSecret":"whsec_ab...","expireTime":"2026-01-24T12:00:00Z"}]}`

func wantWebhook() gemini.Webhook {
	return gemini.Webhook{
		Name: "webhooks/abc", URI: "https://example.com/hook",
		SubscribedEvents: []string{"batch.succeeded", "video.generated"},
		State:            gemini.StateEnabled,
		CreateTime:       time.Date(2026, 1, 22, 12, 0, 0, 0, time.UTC),
		UpdateTime:       time.Date(2026, 1, 23, 12, 0, 0, 5e8, time.UTC),
		SigningSecrets:   []gemini.SigningSecretInfo{{Truncated: "whsec_ab...", ExpireTime: time.Date(2026, 1, 24, 12, 0, 0, 0, time.UTC)}},
	}
}

// TestRequests holds every method to the documented method, path, query,
// header and body, and checks what it makes of the answer.
func TestRequests(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name      string
		answer    string
		call      func(c *gemini.Client) (any, error)
		method    string
		path      string
		query     string
		body      string // JSON, "" for none
		wantValue any
	}{
		{
			name:   "create",
			answer: strings.Replace(snakeWebhook, `"state"`, `"new_signing_secret":"whsec_new","state"`, 1),
			call: func(c *gemini.Client) (any, error) {
				w, err := c.Create(ctx, gemini.CreateRequest{Name: "hook", URI: "https://example.com/hook", SubscribedEvents: []string{"batch.succeeded", "video.generated"}})
				return string(w.NewSigningSecret) + " " + w.ID(), err
			},
			method: "POST", path: "/v1beta/webhooks",
			body:      `{"name":"hook","uri":"https://example.com/hook","subscribed_events":["batch.succeeded","video.generated"]}`,
			wantValue: "whsec_new abc",
		},
		{
			name:   "create without name, camelCase answer",
			answer: strings.Replace(camelWebhook, `"state"`, `"newSigningSecret":"whsec_new","state"`, 1),
			call: func(c *gemini.Client) (any, error) {
				w, err := c.Create(ctx, gemini.CreateRequest{URI: "https://example.com/hook", SubscribedEvents: []string{"batch.succeeded"}})
				return string(w.NewSigningSecret), err
			},
			method: "POST", path: "/v1beta/webhooks",
			body:      `{"uri":"https://example.com/hook","subscribed_events":["batch.succeeded"]}`,
			wantValue: "whsec_new",
		},
		{
			name: "get by id", answer: snakeWebhook,
			call:   func(c *gemini.Client) (any, error) { return c.Get(ctx, "abc") },
			method: "GET", path: "/v1beta/webhooks/abc", wantValue: wantWebhook(),
		},
		{
			name: "get by name, camelCase answer", answer: camelWebhook,
			call:   func(c *gemini.Client) (any, error) { return c.Get(ctx, "webhooks/abc") },
			method: "GET", path: "/v1beta/webhooks/abc", wantValue: wantWebhook(),
		},
		{
			name: "list page", answer: `{"webhooks":[` + snakeWebhook + `],"next_page_token":"t2"}`,
			call:   func(c *gemini.Client) (any, error) { return c.ListPage(ctx, 10, "t1") },
			method: "GET", path: "/v1beta/webhooks", query: "page_size=10&page_token=t1",
			wantValue: gemini.Page{Webhooks: []gemini.Webhook{wantWebhook()}, NextPageToken: "t2"},
		},
		{
			name: "list page camelCase", answer: `{"webhooks":[` + camelWebhook + `],"nextPageToken":"t2"}`,
			call:   func(c *gemini.Client) (any, error) { return c.ListPage(ctx, 0, "") },
			method: "GET", path: "/v1beta/webhooks",
			wantValue: gemini.Page{Webhooks: []gemini.Webhook{wantWebhook()}, NextPageToken: "t2"},
		},
		{
			name: "list page empty", answer: `{}`,
			call:   func(c *gemini.Client) (any, error) { return c.ListPage(ctx, 0, "") },
			method: "GET", path: "/v1beta/webhooks", wantValue: gemini.Page{},
		},
		{
			name: "update", answer: snakeWebhook,
			call: func(c *gemini.Client) (any, error) {
				return c.Update(ctx, "abc", gemini.Webhook{URI: "https://example.com/new", SubscribedEvents: []string{"batch.failed"}, State: gemini.StateEnabled},
					[]string{gemini.FieldURI, gemini.FieldState})
			},
			method: "PATCH", path: "/v1beta/webhooks/abc", query: "update_mask=uri%2Cstate",
			body:      `{"name":"webhooks/abc","uri":"https://example.com/new","subscribed_events":["batch.failed"],"state":"enabled"}`,
			wantValue: wantWebhook(),
		},
		{
			name: "delete", answer: `{}`,
			call:   func(c *gemini.Client) (any, error) { return nil, c.Delete(ctx, "webhooks/abc") },
			method: "DELETE", path: "/v1beta/webhooks/abc",
		},
		{
			name: "ping", answer: `{}`,
			call:   func(c *gemini.Client) (any, error) { return nil, c.Ping(ctx, "abc") },
			method: "POST", path: "/v1beta/webhooks/abc:ping", body: `{}`,
		},
		{
			name: "rotate after 24h", answer: `{"secret":"whsec_rotated"}`,
			call: func(c *gemini.Client) (any, error) {
				s, err := c.Rotate(ctx, "abc", gemini.RevokeAfter24h)
				return string(s), err
			},
			method: "POST", path: "/v1beta/webhooks/abc:rotateSigningSecret",
			body: `{"revocation_behavior":"revoke_previous_secrets_after_h24"}`, wantValue: "whsec_rotated",
		},
		{
			name: "rotate immediately", answer: `{"secret":"whsec_rotated"}`,
			call: func(c *gemini.Client) (any, error) {
				s, err := c.Rotate(ctx, "abc", gemini.RevokeImmediately)
				return string(s), err
			},
			method: "POST", path: "/v1beta/webhooks/abc:rotateSigningSecret",
			body: `{"revocation_behavior":"revoke_previous_secrets_immediately"}`, wantValue: "whsec_rotated",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, 200, c.answer)
			got, err := c.call(client(t, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			if c.wantValue != nil && !reflect.DeepEqual(got, c.wantValue) {
				t.Errorf("got %#v\nwant %#v", got, c.wantValue)
			}
			r := srv.only(t)
			if r.method != c.method || r.path != c.path || r.query != c.query {
				t.Errorf("request %s %s?%s, want %s %s?%s", r.method, r.path, r.query, c.method, c.path, c.query)
			}
			if r.key != testKey {
				t.Errorf("x-goog-api-key %q, want the key", r.key)
			}
			var want map[string]any
			if c.body != "" {
				if err := json.Unmarshal([]byte(c.body), &want); err != nil {
					t.Fatal(err)
				}
				if r.contentType != "application/json" {
					t.Errorf("Content-Type %q", r.contentType)
				}
			}
			if !reflect.DeepEqual(r.body, want) {
				t.Errorf("body %v, want %v", r.body, want)
			}
		})
	}
}

func TestAPIErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		status  int
		answer  string
		wantIs  error
		wantMsg string
	}{
		{"permission denied", 403, `{"error":{"code":403,"message":"Method doesn't allow unregistered callers.","status":"PERMISSION_DENIED"}}`,
			gemini.ErrPermissionDenied, "gemini API: HTTP 403 PERMISSION_DENIED: Method doesn't allow unregistered callers."},
		{"not found", 404, `{"error":{"code":404,"message":"Webhook not found.","status":"NOT_FOUND"}}`,
			gemini.ErrNotFound, "gemini API: HTTP 404 NOT_FOUND: Webhook not found."},
		{"bad key, echoed", 400, `{"error":{"code":400,"message":"API key ` + testKey + ` not valid.","status":"INVALID_ARGUMENT"}}`,
			gemini.ErrInvalidArgument, "gemini API: HTTP 400 INVALID_ARGUMENT: API key [redacted] not valid."},
		{"unauthenticated", 401, `{"error":{"code":401,"message":"no","status":"UNAUTHENTICATED"}}`,
			gemini.ErrUnauthenticated, "gemini API: HTTP 401 UNAUTHENTICATED: no"},
		{"not JSON", 502, "<html>\n\x1b[31mBad gateway</html>",
			nil, "gemini API: HTTP 502 Bad Gateway: <html> [31mBad gateway</html>"},
		{"redirect not followed", 302, ``, nil, "gemini API: HTTP 302 Found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, c.status, c.answer)
			_, err := client(t, srv.URL).Get(context.Background(), "abc")
			var ae *gemini.APIError
			if !errors.As(err, &ae) || ae.HTTPStatus != c.status {
				t.Fatalf("error %v, want an *APIError with status %d", err, c.status)
			}
			if err.Error() != c.wantMsg {
				t.Errorf("message %q\nwant    %q", err.Error(), c.wantMsg)
			}
			if c.wantIs != nil && !errors.Is(err, c.wantIs) {
				t.Errorf("errors.Is(%v, %v) is false", err, c.wantIs)
			}
			if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, ae), testKey) {
				t.Error("the error shows the API key")
			}
		})
	}
}

// TestRedirectKeepsKey checks that a redirect is not followed, so that the
// key header never reaches another location.
func TestRedirectKeepsKey(t *testing.T) {
	t.Parallel()
	elsewhere := newServer(t, 200, snakeWebhook)
	srv := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/v1beta/webhooks/abc", http.StatusTemporaryRedirect))
	t.Cleanup(srv.Close)
	if _, err := client(t, srv.URL).Get(context.Background(), "abc"); err == nil {
		t.Fatal("a redirect was followed")
	}
	if len(elsewhere.reqs) != 0 {
		t.Errorf("the redirect target saw %d requests", len(elsewhere.reqs))
	}
}

func TestTransportErrorHidesKey(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 200, `{}`)
	srv.Close()
	_, err := client(t, srv.URL).Get(context.Background(), "abc")
	if err == nil || strings.Contains(err.Error(), testKey) {
		t.Fatalf("error %v: want one without the key", err)
	}
	var ae *gemini.APIError
	if errors.As(err, &ae) {
		t.Errorf("a transport failure is an *APIError: %v", err)
	}
}

func TestListFollowsPages(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		tokens = append(tokens, r.URL.Query().Get("page_token"))
		mu.Unlock()
		switch r.URL.Query().Get("page_token") {
		case "":
			io.WriteString(w, `{"webhooks":[{"name":"webhooks/a","uri":"https://a"}],"next_page_token":"p2"}`)
		case "p2":
			io.WriteString(w, `{"webhooks":[{"name":"webhooks/b","uri":"https://b"}],"nextPageToken":"p3"}`)
		default:
			io.WriteString(w, `{"webhooks":[{"name":"webhooks/c","uri":"https://c"}]}`)
		}
	}))
	t.Cleanup(srv.Close)
	all, err := client(t, srv.URL).List(context.Background(), 1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range all {
		ids = append(ids, w.ID())
	}
	if !reflect.DeepEqual(ids, []string{"a", "b", "c"}) || !reflect.DeepEqual(tokens, []string{"", "p2", "p3"}) {
		t.Errorf("ids %v after tokens %q", ids, tokens)
	}
}

func TestListStopsOnRepeatedToken(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 200, `{"webhooks":[],"next_page_token":"same"}`)
	if _, err := client(t, srv.URL).List(context.Background(), 0); err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Errorf("error %v, want a repeated page token", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	cases := []struct {
		key, base string
		want      error
	}{
		{testKey, gemini.DefaultBaseURL, nil},
		{testKey, "http://127.0.0.1:8080/v1beta", nil},
		{testKey, "http://localhost/v1beta/", nil},
		{testKey, "http://[::1]:9/v1beta", nil},
		{" ", gemini.DefaultBaseURL, gemini.ErrNoAPIKey},
		{testKey, "http://example.com/v1beta", gemini.ErrBaseURL},
		{testKey, "ftp://example.com/", gemini.ErrBaseURL},
		{testKey, "https://user:pw@example.com/", gemini.ErrBaseURL},
		{testKey, "https://example.com/?key=x", gemini.ErrBaseURL},
		{testKey, "/v1beta", gemini.ErrBaseURL},
		{testKey, "://", gemini.ErrBaseURL},
	}
	for _, c := range cases {
		_, err := gemini.New(c.key, gemini.WithBaseURL(c.base))
		if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
			t.Errorf("New(%q, %q): %v, want %v", c.key, c.base, err, c.want)
		}
	}
}

func TestRejectsBeforeSending(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 200, `{}`)
	c := client(t, srv.URL)
	ctx := context.Background()
	checks := []struct {
		name string
		err  error
		want error
	}{
		{"id with slash", c.Delete(ctx, "webhooks/a/b"), gemini.ErrInvalidID},
		{"id with verb", c.Ping(ctx, "abc:rotateSigningSecret"), gemini.ErrInvalidID},
		{"empty id", c.Delete(ctx, "webhooks/"), gemini.ErrInvalidID},
		{"empty mask", second(c.Update(ctx, "abc", gemini.Webhook{URI: "https://x"}, nil)), gemini.ErrUpdateMask},
		{"unknown mask field", second(c.Update(ctx, "abc", gemini.Webhook{}, []string{"name"})), gemini.ErrUpdateMask},
	}
	for _, ch := range checks {
		if !errors.Is(ch.err, ch.want) {
			t.Errorf("%s: %v, want %v", ch.name, ch.err, ch.want)
		}
	}
	if _, err := c.Rotate(ctx, "abc", "sometime"); err == nil {
		t.Error("unknown revocation behavior accepted")
	}
	if n := len(srv.reqs); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func second[T any](_ T, err error) error { return err }

func TestRotateWithoutSecret(t *testing.T) {
	t.Parallel()
	srv := newServer(t, 200, `{}`)
	if _, err := client(t, srv.URL).Rotate(context.Background(), "abc", gemini.RevokeAfter24h); err == nil {
		t.Error("an answer without a secret was accepted")
	}
}

func TestParseID(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"abc", "abc"}, {"webhooks/abc", "abc"}, {"a-b_c.d~9", "a-b_c.d~9"},
		{"", ""}, {"webhooks/", ""}, {"a/b", ""}, {"a b", ""}, {"a?b", ""}, {"a:ping", ""}, {"..", ""}, {"é", ""},
	}
	for _, c := range cases {
		got, err := gemini.ParseID(c.in)
		if got != c.want || (c.want == "") != errors.Is(err, gemini.ErrInvalidID) {
			t.Errorf("ParseID(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCheckEvents(t *testing.T) {
	t.Parallel()
	if err := gemini.CheckEvents(gemini.SubscribableEvents()); err != nil {
		t.Errorf("the subscribable events: %v", err)
	}
	for _, bad := range []string{"batch.succeded", "BATCH.SUCCEEDED", "", "batch.completed"} {
		err := gemini.CheckEvents([]string{"batch.failed", bad})
		if !errors.Is(err, gemini.ErrUnknownEvent) || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad)) {
			t.Errorf("CheckEvents(%q): %v", bad, err)
		}
	}
}

// TestSecretNeverPrints checks the ways a secret could reach a log.
func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	w := gemini.Webhook{Name: "webhooks/abc", NewSigningSecret: "whsec_TOPSECRET"}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	sb, _ := json.Marshal(struct{ S gemini.Secret }{w.NewSigningSecret})
	for _, out := range []string{
		fmt.Sprint(w.NewSigningSecret), fmt.Sprintf("%v %+v %#v %s %q %x", w, w, w, w.NewSigningSecret, w.NewSigningSecret, w.NewSigningSecret),
		string(b), string(sb),
	} {
		if strings.Contains(out, "TOPSECRET") || strings.Contains(out, fmt.Sprintf("%x", "TOPSECRET")) {
			t.Errorf("secret printed: %s", out)
		}
	}
	if string(w.NewSigningSecret) != "whsec_TOPSECRET" {
		t.Error("string(secret) does not reveal it")
	}
}

func TestWebhookJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(wantWebhook())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"abc","name":"webhooks/abc","uri":"https://example.com/hook","subscribed_events":["batch.succeeded","video.generated"],"state":"enabled","create_time":"2026-01-22T12:00:00Z","update_time":"2026-01-23T12:00:00.5Z","signing_secrets":[{"truncated_secret":"whsec_ab...","expire_time":"2026-01-24T12:00:00Z"}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	var back gemini.Webhook
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, wantWebhook()) {
		t.Errorf("round trip: %v %#v", err, back)
	}
}
