package gemini

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// CreateRequest is what a new webhook is made of.
type CreateRequest struct {
	// Name is sent as the body's name when set. The API describes it as the
	// resource name ("webhooks/{id}"); leave it empty to let Gemini choose.
	Name             string
	URI              string
	SubscribedEvents []string
}

// Create registers a webhook. The answer's NewSigningSecret is the only
// time Gemini shows that secret. Event names are not checked here (see
// [CheckEvents]): the server is the authority.
func (c *Client) Create(ctx context.Context, r CreateRequest) (Webhook, error) {
	in := struct {
		Name             string   `json:"name,omitempty"`
		URI              string   `json:"uri"`
		SubscribedEvents []string `json:"subscribed_events"`
	}{r.Name, r.URI, nonNil(r.SubscribedEvents)}
	var w Webhook
	if err := c.do(ctx, http.MethodPost, "/webhooks", nil, in, &w); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Get returns the webhook with the given id ("abc" or "webhooks/abc").
func (c *Client) Get(ctx context.Context, id string) (Webhook, error) {
	path, err := webhookPath(id, "")
	if err != nil {
		return Webhook{}, err
	}
	var w Webhook
	if err := c.do(ctx, http.MethodGet, path, nil, nil, &w); err != nil {
		return Webhook{}, err
	}
	return w, nil
}

// Page is one page of a listing.
type Page struct {
	Webhooks      []Webhook
	NextPageToken string // empty on the last page
}

// ListPage returns one page of webhooks. pageSize 0 lets the server choose
// (50); pageToken "" starts at the beginning.
func (c *Client) ListPage(ctx context.Context, pageSize int, pageToken string) (Page, error) {
	if pageSize < 0 {
		return Page{}, fmt.Errorf("gemini: page size %d is negative", pageSize)
	}
	q := url.Values{}
	if pageSize > 0 {
		q.Set("page_size", strconv.Itoa(pageSize))
	}
	if pageToken != "" {
		q.Set("page_token", pageToken)
	}
	var out struct {
		Webhooks           []Webhook `json:"webhooks"`
		NextPageToken      string    `json:"next_page_token"`
		NextPageTokenCamel string    `json:"nextPageToken"`
	}
	if err := c.do(ctx, http.MethodGet, "/webhooks", q, nil, &out); err != nil {
		return Page{}, err
	}
	return Page{Webhooks: out.Webhooks, NextPageToken: or(out.NextPageToken, out.NextPageTokenCamel)}, nil
}

// maxPages bounds List against a server that never stops paging.
const maxPages = 1000

// List returns every webhook, following next_page_token; pageSize is the
// size asked for each page (0: the server's default).
func (c *Client) List(ctx context.Context, pageSize int) ([]Webhook, error) {
	var all []Webhook
	seen := map[string]bool{}
	token := ""
	for range maxPages {
		p, err := c.ListPage(ctx, pageSize, token)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Webhooks...)
		if p.NextPageToken == "" {
			return all, nil
		}
		if seen[p.NextPageToken] {
			return nil, errors.New("gemini: listing webhooks: the server repeated a page token")
		}
		seen[p.NextPageToken] = true
		token = p.NextPageToken
	}
	return nil, fmt.Errorf("gemini: listing webhooks: more than %d pages", maxPages)
}

// Update changes the webhook with the given id. mask names the fields to
// change ([FieldURI], [FieldSubscribedEvents], [FieldState]) and is sent as
// the update_mask query parameter; the body carries w's uri,
// subscribed_events and state when set. Sending the current uri and events
// along with a narrower mask is harmless (the mask decides) and satisfies a
// server that requires them in every body, as the SDKs' signatures suggest.
func (c *Client) Update(ctx context.Context, id string, w Webhook, mask []string) (Webhook, error) {
	path, err := webhookPath(id, "")
	if err != nil {
		return Webhook{}, err
	}
	if len(mask) == 0 {
		return Webhook{}, fmt.Errorf("%w: no field to update", ErrUpdateMask)
	}
	for _, f := range mask {
		if !slices.Contains([]string{FieldURI, FieldSubscribedEvents, FieldState}, f) {
			return Webhook{}, fmt.Errorf("%w: unknown field %q", ErrUpdateMask, f)
		}
	}
	in := struct {
		Name             string   `json:"name"`
		URI              string   `json:"uri,omitempty"`
		SubscribedEvents []string `json:"subscribed_events,omitempty"`
		State            State    `json:"state,omitempty"`
	}{strings.TrimPrefix(path, "/"), w.URI, w.SubscribedEvents, w.State}
	q := url.Values{"update_mask": {strings.Join(mask, ",")}}
	var out Webhook
	if err := c.do(ctx, http.MethodPatch, path, q, in, &out); err != nil {
		return Webhook{}, err
	}
	return out, nil
}

// Delete deletes the webhook: Gemini stops sending to it.
func (c *Client) Delete(ctx context.Context, id string) error {
	path, err := webhookPath(id, "")
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil, nil)
}

// Ping asks Gemini to send a test delivery to the webhook.
func (c *Client) Ping(ctx context.Context, id string) error {
	path, err := webhookPath(id, ":ping")
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, nil, struct{}{}, nil)
}

// Rotate issues a new signing secret for the webhook and returns it; it is
// shown this once. how says when the previous secrets stop working.
func (c *Client) Rotate(ctx context.Context, id string, how Revocation) (Secret, error) {
	path, err := webhookPath(id, ":rotateSigningSecret")
	if err != nil {
		return "", err
	}
	if how != RevokeAfter24h && how != RevokeImmediately {
		return "", fmt.Errorf("gemini: unknown revocation behavior %q", string(how))
	}
	in := struct {
		RevocationBehavior Revocation `json:"revocation_behavior"`
	}{how}
	var out struct {
		Secret Secret `json:"secret"`
	}
	if err := c.do(ctx, http.MethodPost, path, nil, in, &out); err != nil {
		return "", err
	}
	if out.Secret == "" {
		return "", errors.New("gemini: rotateSigningSecret answered without a secret")
	}
	return out.Secret, nil
}

func webhookPath(id, verb string) (string, error) {
	id, err := ParseID(id)
	if err != nil {
		return "", err
	}
	return "/webhooks/" + id + verb, nil
}
