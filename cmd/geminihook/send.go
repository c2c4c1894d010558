package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/spf13/cobra"

	"github.com/geminihook/geminihook/verify"
)

// sendOptions are the flags of `geminihook send`.
type sendOptions struct {
	url         string
	secret      string
	keyFile     string
	kid         string
	eventType   string
	bodyFile    string
	id          string
	metadata    []string
	count       int
	concurrency int
	duplicates  bool
	retry       bool
	maxAttempts int
	backoff     time.Duration
	timeout     time.Duration
	json        bool
}

func newSendCmd() *cobra.Command {
	o := &sendOptions{}
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Sign and post realistic deliveries, like Gemini (also a load generator)",
		Long: `Build a delivery for an event type (or take the body from a file), sign it
and post it: v1 with --secret (static webhooks), v1a with --key (dynamic
webhooks, Ed25519), or as a JWT with --key and --kid. Prints the status and
the answer, or, for many events, progress and a summary.

Event types: ` + strings.Join(eventTypes, ", ") + `; any other type is
sent as given, with an empty data object.`,
		Example: `  geminihook send --url http://localhost:8080/ --secret whsec_... --type batch.succeeded
  geminihook send --url http://localhost:8080/ --key keys/private.pem --type video.generated --metadata team=vision
  geminihook send --secret whsec_... --count 1000 --concurrency 50 --retry`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.url, "url", "http://localhost:8080/", "the receiver's URL")
	f.StringVar(&o.secret, "secret", "", "sign v1 with this whsec_ secret (static webhooks)")
	f.StringVar(&o.keyFile, "key", "", "sign with this PEM private key: v1a (Ed25519), or a JWT with --kid (Ed25519 or RSA)")
	f.StringVar(&o.kid, "kid", "", "send a JWT whose header names this key id (needs --key)")
	f.StringVar(&o.eventType, "type", "batch.succeeded", "event type of the generated body")
	f.StringVar(&o.bodyFile, "body", "", "send this file's bytes as the body instead (- for stdin)")
	f.StringVar(&o.id, "id", "", "webhook-id (default: a new msg_ id per event; with --count, a prefix)")
	f.StringArrayVar(&o.metadata, "metadata", nil, "user_metadata entry key=value (repeatable), as dynamic webhooks echo it")
	f.IntVar(&o.count, "count", 1, "number of distinct events to send")
	f.IntVar(&o.concurrency, "concurrency", 1, "deliveries in flight at once")
	f.BoolVar(&o.duplicates, "duplicates", false, "deliver every event a second time, same id and a new timestamp, as Gemini's retries do")
	f.BoolVar(&o.retry, "retry", false, "retry like Gemini: on non-2xx or timeout, back off exponentially and resend with the same id and a new timestamp")
	f.IntVar(&o.maxAttempts, "max-attempts", 8, "attempts per event with --retry")
	f.DurationVar(&o.backoff, "backoff", time.Second, "first wait between attempts with --retry; doubles each time")
	f.DurationVar(&o.timeout, "timeout", 15*time.Second, "timeout of one attempt")
	f.BoolVar(&o.json, "json", false, "print the summary as JSON")
	return cmd
}

// eventTypes are the types the body generator knows.
var eventTypes = []string{
	"batch.succeeded", "batch.failed", "batch.expired", "batch.cancelled", "batch.completed",
	"interaction.requires_action", "interaction.completed", "interaction.failed", "interaction.cancelled",
	"video.generated",
}

// signer signs one delivery attempt: the webhook-signature header value.
type signer func(id, timestamp string, body []byte) (string, error)

func (o *sendOptions) validate() error {
	switch {
	case o.secret == "" && o.keyFile == "":
		return usageError{errors.New("one of --secret (v1) or --key (v1a, JWT) is required")}
	case o.secret != "" && o.keyFile != "":
		return usageError{errors.New("--secret and --key are exclusive")}
	case o.kid != "" && o.keyFile == "":
		return usageError{errors.New("--kid needs --key")}
	case o.count < 1:
		return usageError{fmt.Errorf("--count %d: must be at least 1", o.count)}
	case o.concurrency < 1:
		return usageError{fmt.Errorf("--concurrency %d: must be at least 1", o.concurrency)}
	case o.maxAttempts < 1:
		return usageError{fmt.Errorf("--max-attempts %d: must be at least 1", o.maxAttempts)}
	case o.backoff <= 0:
		return usageError{fmt.Errorf("--backoff %v: must be positive", o.backoff)}
	case o.timeout <= 0:
		return usageError{fmt.Errorf("--timeout %v: must be positive", o.timeout)}
	case o.bodyFile != "" && len(o.metadata) > 0:
		return usageError{errors.New("--metadata applies to generated bodies, not to --body")}
	}
	for _, kv := range o.metadata {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return usageError{fmt.Errorf("--metadata %q: want key=value", kv)}
		}
	}
	return nil
}

func (o *sendOptions) signer() (signer, error) {
	if o.secret != "" {
		s, err := verify.ParseSecret(o.secret)
		if err != nil {
			return nil, usageError{fmt.Errorf("--secret: %w", err)}
		}
		return func(id, ts string, body []byte) (string, error) { return verify.SignV1(s, id, ts, body), nil }, nil
	}
	key, err := readPrivateKey(o.keyFile)
	if err != nil {
		return nil, usageError{fmt.Errorf("--key: %w", err)}
	}
	if o.kid == "" {
		ed, ok := key.(ed25519.PrivateKey)
		if !ok {
			return nil, usageError{errors.New("--key: v1a needs an Ed25519 key; give --kid to send a JWT")}
		}
		return func(id, ts string, body []byte) (string, error) { return verify.SignV1a(ed, id, ts, body), nil }, nil
	}
	var alg jwa.SignatureAlgorithm
	switch key.(type) {
	case ed25519.PrivateKey:
		alg = jwa.EdDSA
	case *rsa.PrivateKey:
		alg = jwa.RS256
	default:
		return nil, usageError{errors.New("--key: a JWT needs an Ed25519 or RSA key")}
	}
	aud := o.url
	return func(_, _ string, body []byte) (string, error) { return signJWT(key, alg, o.kid, aud, body) }, nil
}

// signJWT makes the token a dynamic delivery may carry: signed by kid's
// key, short-lived, bound to the body by its SHA-256.
func signJWT(key crypto.Signer, alg jwa.SignatureAlgorithm, kid, aud string, body []byte) (string, error) {
	sum := sha256.Sum256(body)
	now := time.Now()
	tok, err := jwt.NewBuilder().
		Issuer("https://generativelanguage.googleapis.com").
		Audience([]string{aud}).
		IssuedAt(now).
		Expiration(now.Add(5*time.Minute)).
		Claim("body_sha256", hex.EncodeToString(sum[:])).
		Build()
	if err != nil {
		return "", err
	}
	hdr := jws.NewHeaders()
	if err := hdr.Set(jws.KeyIDKey, kid); err != nil {
		return "", err
	}
	b, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	return string(b), err
}

// delivery is one event to deliver.
type delivery struct {
	id   string
	body []byte
}

func (o *sendOptions) events(stdin io.Reader) ([]delivery, error) {
	var fixed []byte
	if o.bodyFile != "" {
		var err error
		if o.bodyFile == "-" {
			fixed, err = io.ReadAll(stdin)
		} else {
			fixed, err = os.ReadFile(o.bodyFile)
		}
		if err != nil {
			return nil, usageError{fmt.Errorf("--body: %w", err)}
		}
	}
	md := map[string]any{}
	for _, kv := range o.metadata {
		k, v, _ := strings.Cut(kv, "=")
		if n, err := strconv.ParseFloat(v, 64); err == nil && !math.IsInf(n, 0) && !math.IsNaN(n) {
			md[k] = json.Number(v)
		} else {
			md[k] = v
		}
	}
	run := newRunID()
	evs := make([]delivery, o.count)
	for i := range evs {
		id := "msg_" + run + "_" + strconv.Itoa(i)
		switch {
		case o.id != "" && o.count == 1:
			id = o.id
		case o.id != "":
			id = o.id + "_" + strconv.Itoa(i)
		}
		body := fixed
		if body == nil {
			body = sampleBody(o.eventType, run+"_"+strconv.Itoa(i), md)
		}
		evs[i] = delivery{id: id, body: body}
	}
	return evs, nil
}

func newRunID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sampleBody is a realistic thin payload of the given type, as Gemini's
// guide describes it.
func sampleBody(eventType, n string, metadata map[string]any) []byte {
	data := map[string]any{}
	switch eventType {
	case "batch.succeeded", "batch.completed":
		data = map[string]any{"id": "batches/" + n, "output_file_uri": "gs://gemini-batch-results/" + n + "/results.jsonl"}
	case "batch.failed", "interaction.failed":
		prefix := "batches/"
		if strings.HasPrefix(eventType, "interaction") {
			prefix = "interactions/"
		}
		data = map[string]any{"id": prefix + n, "error_code": "RESOURCE_EXHAUSTED", "error_message": "quota exceeded while processing the request"}
	case "batch.expired", "batch.cancelled":
		data = map[string]any{"id": "batches/" + n}
	case "interaction.requires_action", "interaction.completed", "interaction.cancelled":
		data = map[string]any{"id": "interactions/" + n}
	case "video.generated":
		data = map[string]any{"id": "operations/" + n, "output_file_uri": "gs://gemini-videos/" + n + ".mp4", "file_name": "files/" + n}
	}
	// Fields in the order Gemini's guide shows them.
	b, _ := json.Marshal(struct {
		Type         string         `json:"type"`
		Version      string         `json:"version"`
		Timestamp    string         `json:"timestamp"`
		Data         map[string]any `json:"data"`
		UserMetadata map[string]any `json:"user_metadata,omitempty"`
	}{eventType, "v1", time.Now().UTC().Format(time.RFC3339), data, metadata})
	return b
}

// result is what became of one event.
type result struct {
	id       string
	attempts int
	status   int    // last status, 0 when the last attempt failed without one
	outcome  string // the receiver's "status" field, or the error
	latency  []time.Duration
}

func (o *sendOptions) run(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	sign, err := o.signer()
	if err != nil {
		return err
	}
	evs, err := o.events(stdin)
	if err != nil {
		return err
	}
	client := &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			MaxIdleConns:        o.concurrency,
			MaxIdleConnsPerHost: o.concurrency,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	deliver := func(ev delivery) result { return o.deliver(ctx, client, sign, ev) }

	if o.count == 1 && !o.duplicates {
		r := deliver(evs[0])
		fmt.Fprintf(stdout, "%s %s attempts=%d\n", statusText(r.status), r.outcome, r.attempts)
		if r.status < 200 || r.status > 299 {
			return fmt.Errorf("delivery %s not accepted", evs[0].id)
		}
		return nil
	}

	start := time.Now()
	results := make([]result, 0, len(evs)*2)
	var mu sync.Mutex
	var done atomic.Int64
	total := len(evs)
	if o.duplicates {
		total *= 2
	}
	stopProgress := progress(stderr, &done, total)
	work := make(chan delivery)
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ev := range work {
				rs := []result{deliver(ev)}
				done.Add(1)
				if o.duplicates {
					rs = append(rs, deliver(ev))
					done.Add(1)
				}
				mu.Lock()
				results = append(results, rs...)
				mu.Unlock()
			}
		}()
	}
	for _, ev := range evs {
		select {
		case work <- ev:
		case <-ctx.Done():
		}
	}
	close(work)
	wg.Wait()
	stopProgress()
	s := summarize(results, time.Since(start))
	if o.retry && !o.json {
		// Which events needed Gemini-style retries, and how many.
		sort.Slice(results, func(i, j int) bool { return results[i].id < results[j].id })
		for _, r := range results {
			if r.attempts > 1 {
				fmt.Fprintf(stdout, "%s: %d attempts, last %s %s\n", r.id, r.attempts, statusText(r.status), r.outcome)
			}
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(s)
	} else {
		fmt.Fprintln(stdout, s.line())
	}
	if s.Accepted < len(results) {
		return fmt.Errorf("%d of %d deliveries not accepted", len(results)-s.Accepted, len(results))
	}
	return nil
}

// deliver posts ev, and with --retry keeps trying as Gemini does.
func (o *sendOptions) deliver(ctx context.Context, client *http.Client, sign signer, ev delivery) result {
	r := result{id: ev.id}
	wait := o.backoff
	for {
		r.attempts++
		began := time.Now()
		r.status, r.outcome = o.attempt(ctx, client, sign, ev)
		r.latency = append(r.latency, time.Since(began))
		if r.status >= 200 && r.status < 300 || !o.retry || r.attempts >= o.maxAttempts {
			return r
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return r
		}
		wait *= 2
	}
}

// attempt posts ev once with a fresh timestamp and signature.
func (o *sendOptions) attempt(ctx context.Context, client *http.Client, sign signer, ev delivery) (int, string) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := sign(ev.id, ts, ev.body)
	if err != nil {
		return 0, "signing: " + err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, o.url, bytes.NewReader(ev.body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", ev.id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var a struct{ Status, Error, Message string }
	if json.Unmarshal(answer, &a) == nil {
		switch {
		case a.Status != "":
			return resp.StatusCode, a.Status
		case a.Error != "":
			return resp.StatusCode, a.Error + ": " + a.Message
		}
	}
	return resp.StatusCode, strings.TrimSpace(string(answer))
}

func statusText(code int) string {
	if code == 0 {
		return "error"
	}
	return strconv.Itoa(code)
}

// progress prints how far a long run is, once a second, until stopped.
func progress(w io.Writer, done *atomic.Int64, total int) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fmt.Fprintf(w, "sent %d/%d\n", done.Load(), total)
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// summary is the outcome of a run.
type summary struct {
	Deliveries int            `json:"deliveries"`
	Accepted   int            `json:"accepted"`
	Outcomes   map[string]int `json:"outcomes"`
	Statuses   map[string]int `json:"statuses"`
	Attempts   map[string]int `json:"attempts_per_delivery"`
	Seconds    float64        `json:"seconds"`
	PerSecond  float64        `json:"deliveries_per_second"`
	P50Ms      float64        `json:"p50_ms"`
	P99Ms      float64        `json:"p99_ms"`
	MaxMs      float64        `json:"max_ms"`
}

func summarize(rs []result, elapsed time.Duration) summary {
	s := summary{Deliveries: len(rs), Outcomes: map[string]int{}, Statuses: map[string]int{}, Attempts: map[string]int{}, Seconds: elapsed.Seconds()}
	var lat []time.Duration
	for _, r := range rs {
		if r.status >= 200 && r.status < 300 {
			s.Accepted++
		}
		s.Statuses[statusText(r.status)]++
		outcome := r.outcome
		if r.status == 0 {
			outcome = "error"
		}
		s.Outcomes[outcome]++
		s.Attempts[strconv.Itoa(r.attempts)]++
		lat = append(lat, r.latency...)
	}
	if elapsed > 0 {
		s.PerSecond = float64(len(rs)) / elapsed.Seconds()
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	if n := len(lat); n > 0 {
		s.P50Ms, s.P99Ms, s.MaxMs = ms(lat[n/2]), ms(lat[min(n-1, n*99/100)]), ms(lat[n-1])
	}
	return s
}

func (s summary) line() string {
	return fmt.Sprintf("%d deliveries in %.2fs (%.0f/s), %d accepted; statuses %s; outcomes %s; attempts %s; latency p50 %.2fms p99 %.2fms max %.2fms",
		s.Deliveries, s.Seconds, s.PerSecond, s.Accepted, counts(s.Statuses), counts(s.Outcomes), counts(s.Attempts), s.P50Ms, s.P99Ms, s.MaxMs)
}

func counts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Itoa(m[k])
	}
	return strings.Join(parts, " ")
}
