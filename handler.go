package geminihook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

// Verifier checks a delivery's signature headers against its raw body.
type Verifier interface {
	Verify(ctx context.Context, h *verify.Headers, body []byte) (verify.Scheme, error)
}

// ClaimStore remembers which webhook ids are being, or have been, published.
type ClaimStore interface {
	Claim(ctx context.Context, webhookID, eventType string) (dedupe.Claim, error)
	MarkPublished(ctx context.Context, webhookID string, attempt int, messageID string) error
	Release(ctx context.Context, webhookID string, attempt int) error
}

// Publisher publishes one message and returns once Pub/Sub acknowledged it.
type Publisher interface {
	Publish(ctx context.Context, msg publish.Message) (messageID string, err error)
}

// retryAfterUnavailable is what a 503 asks Gemini to wait, in seconds.
const retryAfterUnavailable = "5"

// settleTimeout bounds the bookkeeping after a publish (mark or release),
// which must run even when the delivery's own deadline has passed.
const settleTimeout = 5 * time.Second

// Handler is the receiver's HTTP handler: verify, claim, publish, mark. It
// is safe for concurrent use.
type Handler struct {
	verifier  Verifier
	claims    ClaimStore
	publisher Publisher
	log       *slog.Logger
	maxBody   int64
	timeout   time.Duration
	ordering  bool
	project   string
	now       func() time.Time

	mu       sync.Mutex
	inflight int
	draining bool
	idle     chan struct{}
}

// HandlerOptions are what a Handler needs besides its three collaborators.
type HandlerOptions struct {
	Logger          *slog.Logger
	MaxBodyBytes    int64
	RequestTimeout  time.Duration
	OrderByResource bool
	// Project qualifies trace ids in log lines.
	Project string
}

// NewHandler returns a Handler over its collaborators.
func NewHandler(v Verifier, c ClaimStore, p Publisher, o HandlerOptions) *Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	return &Handler{
		verifier: v, claims: c, publisher: p, log: o.Logger,
		maxBody: o.MaxBodyBytes, timeout: o.RequestTimeout, ordering: o.OrderByResource,
		project: o.Project, now: time.Now,
	}
}

// delivery is what one request's log line reports.
type delivery struct {
	status    int
	outcome   string
	webhookID string
	eventType string
	scheme    verify.Scheme
	err       error
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	var d delivery
	if h.enter() {
		d = h.serve(w, r)
		h.leave()
	} else {
		w.Header().Set("Retry-After", retryAfterUnavailable)
		d = delivery{outcome: "retry:shutting_down"}
		d.status = writeError(w, http.StatusServiceUnavailable, "unavailable", "the receiver is shutting down; retry")
	}
	h.logDelivery(r, d, h.now().Sub(start))
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) delivery {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return reject(w, http.StatusMethodNotAllowed, "method", "method_not_allowed", "only POST is accepted", nil)
	}
	hdr, err := verify.ParseHeaders(r.Header)
	if err != nil {
		cause := "malformed_header"
		if errors.Is(err, verify.ErrMissingHeader) {
			cause = "missing_header"
		}
		// The error names the header, never its value.
		return reject(w, http.StatusBadRequest, cause, "bad_request", err.Error(), err)
	}
	d := delivery{webhookID: hdr.ID}
	body, err := readBody(w, r, h.maxBody)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return d.reject(w, http.StatusRequestEntityTooLarge, "body_too_large", "body_too_large",
				"the body exceeds "+strconv.FormatInt(h.maxBody, 10)+" bytes", err)
		}
		return d.reject(w, http.StatusBadRequest, "body_read", "bad_request", "the body could not be read", err)
	}

	// The work goes on if Gemini hangs up: finishing it lets the retry find
	// a published claim instead of publishing again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), h.timeout)
	defer cancel()

	d.scheme, err = h.verifier.Verify(ctx, &hdr, body)
	if err != nil {
		if isVerification(err) {
			return d.reject(w, http.StatusUnauthorized, verificationCause(err), "unauthorized", "signature verification failed", err)
		}
		w.Header().Set("Retry-After", retryAfterUnavailable)
		return d.reject(w, http.StatusServiceUnavailable, "retry:keys_unavailable", "unavailable", "verification keys are unavailable; retry", err)
	}

	env := publish.ParseEnvelope(body)
	d.eventType = env.Type
	claim, err := h.claims.Claim(ctx, hdr.ID, env.Type)
	if err != nil {
		w.Header().Set("Retry-After", retryAfterUnavailable)
		return d.reject(w, http.StatusServiceUnavailable, "retry:claim_unavailable", "unavailable", "the claim store is unavailable; retry", err)
	}
	switch claim.State {
	case dedupe.Duplicate:
		d.status, d.outcome = writeJSON(w, http.StatusOK, map[string]string{"status": "duplicate"}), "duplicate"
		return d
	case dedupe.Busy:
		w.Header().Set("Retry-After", retryAfter(claim.LeaseUntil.Sub(h.now())))
		return d.reject(w, http.StatusConflict, "retry:in_progress", "in_progress", "another attempt of this delivery is in progress; retry", nil)
	}

	msg := publish.Message{Data: body, Attributes: env.Attributes(hdr.ID, hdr.Timestamp, string(d.scheme))}
	if h.ordering {
		msg.OrderingKey = env.ResourceID
	}
	messageID, err := h.publisher.Publish(ctx, msg)
	settle, cancelSettle := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancelSettle()
	if err != nil {
		if rerr := h.claims.Release(settle, hdr.ID, claim.Attempt); rerr != nil {
			// The lease still expires, so the id becomes claimable anyway.
			err = errors.Join(err, rerr)
		}
		w.Header().Set("Retry-After", retryAfterUnavailable)
		return d.reject(w, http.StatusServiceUnavailable, "retry:publish_failed", "unavailable", "Pub/Sub is unavailable; retry", err)
	}
	if err := h.markPublished(settle, hdr.ID, claim.Attempt, messageID); err != nil {
		// The event is on Pub/Sub: answering an error would only make
		// Gemini publish it again once the lease expires.
		d.err = err
	}
	d.status, d.outcome = writeJSON(w, http.StatusOK, map[string]string{"status": "published", "message_id": messageID}), "published"
	return d
}

// markTry bounds one attempt at marking a claim, so that a hung write leaves
// time to try again within settleTimeout.
const markTry = time.Second

// markPublished marks the claim, trying again until ctx ends: the event is
// on Pub/Sub, and a claim left pending would let a retry publish it again
// once the lease ends. The write is idempotent, so a try that reached
// Firestore but timed out does no harm.
func (h *Handler) markPublished(ctx context.Context, webhookID string, attempt int, messageID string) error {
	backoff := 50 * time.Millisecond
	for {
		tctx, cancel := context.WithTimeout(ctx, markTry)
		err := h.claims.MarkPublished(tctx, webhookID, attempt, messageID)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 500*time.Millisecond)
	}
}

func (d delivery) reject(w http.ResponseWriter, status int, outcome, code, message string, err error) delivery {
	d.status = writeError(w, status, code, message)
	if len(outcome) < 6 || outcome[:6] != "retry:" {
		outcome = "rejected:" + outcome
	}
	d.outcome, d.err = outcome, err
	return d
}

func reject(w http.ResponseWriter, status int, outcome, code, message string, err error) delivery {
	return delivery{}.reject(w, status, outcome, code, message, err)
}

func isVerification(err error) bool {
	return errors.Is(err, verify.ErrNoMatch) || errors.Is(err, verify.ErrTooOld) || errors.Is(err, verify.ErrTooNew)
}

func verificationCause(err error) string {
	switch {
	case errors.Is(err, verify.ErrTooOld):
		return "timestamp_too_old"
	case errors.Is(err, verify.ErrTooNew):
		return "timestamp_too_new"
	}
	return "bad_signature"
}

// readBody reads at most limit bytes; a larger body fails with
// *http.MaxBytesError without reading past the limit.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	rd := http.MaxBytesReader(w, r.Body, limit)
	size := int64(512)
	if r.ContentLength > 0 {
		// One allocation of the announced size, plus one byte so that
		// reading to EOF needs no growth.
		size = r.ContentLength + 1
	}
	buf := make([]byte, 0, size)
	for {
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

func retryAfter(d time.Duration) string {
	s := math.Ceil(d.Seconds())
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(int(s))
}

func writeError(w http.ResponseWriter, status int, code, message string) int {
	return writeJSON(w, status, map[string]string{"error": code, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, v map[string]string) int {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return status
}

func (h *Handler) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.draining {
		return false
	}
	h.inflight++
	return true
}

func (h *Handler) leave() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.inflight--
	if h.draining && h.inflight == 0 {
		close(h.idle)
	}
}

// Drain refuses new deliveries with 503 (Gemini retries them) and waits
// until the deliveries in flight have been answered, or ctx ends.
func (h *Handler) Drain(ctx context.Context) error {
	h.mu.Lock()
	if !h.draining {
		h.draining = true
		h.idle = make(chan struct{})
		if h.inflight == 0 {
			close(h.idle)
		}
	}
	idle := h.idle
	h.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
