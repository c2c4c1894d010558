// Package gemini is a small client of the Gemini API's WebhookService, the
// REST API that registers the project-level (static) webhooks whose
// deliveries the receiver verifies, and rotates their signing secrets.
//
// It speaks the documented REST shapes under
// https://generativelanguage.googleapis.com/v1beta, authenticated by an API
// key in the x-goog-api-key header. Request bodies and query parameters use
// snake_case field names (subscribed_events, update_mask, page_token,
// revocation_behavior), which is what Google's own SDKs send (python-genai and
// js-genai, generated from the API's OpenAPI description) and what Google's
// JSON transcoding also accepts as the proto field name. Answers are decoded
// in snake_case, as those SDKs read them, or in lowerCamelCase
// (subscribedEvents, newSigningSecret, nextPageToken), the proto3 JSON form.
//
// The API key never appears in an error, and a signing secret is held in a
// [Secret], which does not print.
package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBaseURL is the Gemini API's v1beta REST root.
const DefaultBaseURL = "https://generativelanguage.googleapis.com/v1beta"

// DefaultTimeout bounds one request when the caller's http.Client has none.
const DefaultTimeout = 30 * time.Second

// maxAnswerBytes bounds an answer read into memory: a page of the largest
// size the API allows (1000 webhooks) is well below it.
const maxAnswerBytes = 8 << 20

// Client calls the WebhookService. It is safe for concurrent use.
type Client struct {
	base      string // no trailing slash
	key       string
	http      *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	baseURL   string
	http      *http.Client
	userAgent string
}

// WithBaseURL replaces [DefaultBaseURL], e.g. with a test server's URL plus
// "/v1beta". It must be https, or http on a loopback host, so that the API
// key never crosses a network in clear text.
func WithBaseURL(u string) Option { return func(s *settings) { s.baseURL = u } }

// WithHTTPClient sends the requests with h (its transport and timeout). The
// Client still refuses redirects, so that the API key header is never sent
// to another location; with no timeout set, [DefaultTimeout] applies.
func WithHTTPClient(h *http.Client) Option { return func(s *settings) { s.http = h } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(s *settings) { s.userAgent = ua } }

// New returns a Client authenticated by apiKey. It fails, with an error
// wrapping [ErrNoAPIKey] or [ErrBaseURL], when the key is empty or the base
// URL is unusable.
func New(apiKey string, opts ...Option) (*Client, error) {
	s := settings{baseURL: DefaultBaseURL, userAgent: "geminihook"}
	for _, o := range opts {
		o(&s)
	}
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == "" {
		return nil, ErrNoAPIKey
	}
	base, err := checkBaseURL(s.baseURL)
	if err != nil {
		return nil, err
	}
	h := &http.Client{}
	if s.http != nil {
		copied := *s.http
		h = &copied
	}
	if h.Timeout == 0 {
		h.Timeout = DefaultTimeout
	}
	// Go forwards custom headers such as x-goog-api-key on redirects, even
	// to another host; the API never redirects, so none is followed.
	h.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{base: base, key: apiKey, http: h, userAgent: s.userAgent}, nil
}

func checkBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBaseURL, err)
	}
	switch {
	case u.Host == "":
		return "", fmt.Errorf("%w: %q has no host", ErrBaseURL, raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%w: %q must not carry credentials, a query or a fragment", ErrBaseURL, raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return "", fmt.Errorf("%w: %q must be https (http only on a loopback host)", ErrBaseURL, raw)
	}
	return strings.TrimRight(u.String(), "/"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// do sends one request and decodes a 2xx answer into out (when not nil).
// Any other status becomes an *APIError.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("gemini: %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("gemini: %s %s: %w", method, path, err)
	}
	req.Header.Set("x-goog-api-key", c.key)
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// A *url.Error names the URL, which holds no key (it travels in a
		// header); redact anyway in case a transport quotes the request.
		return fmt.Errorf("gemini: %s %s: %s: %w", method, path, c.redact(errorText(err)), errTransport)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return fmt.Errorf("gemini: %s %s: reading the answer: %s: %w", method, path, c.redact(errorText(err)), errTransport)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return c.apiError(resp.StatusCode, data)
	}
	if len(data) > maxAnswerBytes {
		return fmt.Errorf("gemini: %s %s: answer larger than %d bytes", method, path, maxAnswerBytes)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	// encoding/json errors name types and offsets, never values, so a
	// malformed answer that carries a secret does not leak it here.
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("gemini: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// errTransport marks errors where no answer was received; it is not
// exported because callers have nothing to branch on beyond "not an
// *APIError".
var errTransport = errors.New("no answer from the Gemini API")

func errorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// redact removes the API key from s, should an answer or an error ever
// quote it.
func (c *Client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}
