package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// event is one distinct event Gemini has to deliver.
type event struct {
	id   string
	body []byte
}

// Kinds of attempt.
const (
	kindEvent     = "event"     // the event's own delivery and its retries
	kindDuplicate = "duplicate" // a spontaneous second delivery of the same event
	kindSweep     = "sweep"     // a late delivery of an event whose claim was left pending
	kindForged    = "forged"    // a delivery the receiver must refuse
)

// attempt is one HTTP request of the sender, as the sender saw it.
type attempt struct {
	event  int // index in the run's events; -1 for forged deliveries with their own id
	kind   string
	forged string // for forged deliveries, how it was forged
	start  time.Time
	end    time.Time
	// status is the HTTP status, 0 when no answer came.
	status int
	// answer is the receiver's "status" or "error" field, and messageID
	// its "message_id" (a 200 published).
	answer, messageID string
	// timeout is set when the attempt gave up waiting for an answer; an
	// attempt with status 0 and no timeout ended with a connection error.
	timeout bool
	// refused is set when the connection could not even be opened: the
	// receiver never saw the request.
	refused bool
	err     string
}

func (a *attempt) ok() bool { return a.status >= 200 && a.status < 300 }

// connError reports an attempt that ended because the connection failed:
// refused, reset, or closed before an answer.
func (a *attempt) connError() bool { return a.status == 0 && !a.timeout }

// sender behaves like Gemini: each event is retried with exponential backoff
// on any non-2xx answer and on timeouts, with the same id and a new
// timestamp (and signature) on every attempt.
type sender struct {
	url     string
	secret  verify.Secret
	client  *http.Client
	timeout time.Duration // of one attempt
	backoff time.Duration // first wait; doubles up to maxWait
	maxWait time.Duration
	slots   chan struct{} // requests in flight at once

	mu       sync.Mutex
	rnd      *rand.Rand
	attempts []*attempt
}

func newSender(url string, secret verify.Secret, concurrency int, seed uint64) *sender {
	return &sender{
		url:    url,
		secret: secret,
		client: &http.Client{Transport: &http.Transport{
			MaxIdleConns:        concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     30 * time.Second,
		}},
		timeout: 5 * time.Second,
		backoff: 200 * time.Millisecond,
		maxWait: 3 * time.Second,
		slots:   make(chan struct{}, concurrency),
		rnd:     rand.New(rand.NewPCG(seed, 1)),
	}
}

// jitter returns d scaled by a random factor in [0.75, 1.25).
func (s *sender) jitter(d time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(float64(d) * (0.75 + s.rnd.Float64()/2))
}

// deliver sends ev until it is answered 2xx or ctx ends, and reports
// whether it was accepted.
func (s *sender) deliver(ctx context.Context, i int, ev event, kind string) bool {
	wait := s.backoff
	for {
		a := s.post(ctx, i, kind, "", ev.id, strconv.FormatInt(time.Now().Unix(), 10), ev.body, "")
		if a.ok() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(s.jitter(wait)):
		}
		wait = min(2*wait, s.maxWait)
	}
}

// post makes one attempt. An empty signature means a valid v1 signature of
// id, timestamp and body.
func (s *sender) post(ctx context.Context, i int, kind, forged, id, timestamp string, body []byte, signature string) *attempt {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return &attempt{event: i, kind: kind, forged: forged, start: time.Now(), end: time.Now(), timeout: true, err: "run ended"}
	}
	defer func() { <-s.slots }()
	if signature == "" {
		signature = verify.SignV1(s.secret, id, timestamp, body)
	}
	a := &attempt{event: i, kind: kind, forged: forged}
	actx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(actx, http.MethodPost, s.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", timestamp)
	req.Header.Set("webhook-signature", signature)
	a.start = time.Now()
	resp, err := s.client.Do(req)
	if err == nil {
		var b []byte
		b, err = io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err == nil {
			a.status = resp.StatusCode
			var m struct {
				Status, Error string
				MessageID     string `json:"message_id"`
			}
			json.Unmarshal(b, &m)
			a.answer, a.messageID = m.Status+m.Error, m.MessageID
		}
	}
	a.end = time.Now()
	if err != nil {
		a.err = err.Error()
		var ne net.Error
		a.timeout = errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
		var oe *net.OpError
		a.refused = !a.timeout && errors.As(err, &oe) && oe.Op == "dial"
	}
	s.mu.Lock()
	s.attempts = append(s.attempts, a)
	s.mu.Unlock()
	return a
}

// all returns the attempts made so far.
func (s *sender) all() []*attempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*attempt(nil), s.attempts...)
}
