package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of [JWKSOptions].
const (
	DefaultJWKSTimeout     = 5 * time.Second
	DefaultRefreshInterval = time.Hour
	DefaultMinRefreshGap   = 30 * time.Second
	DefaultMaxJWKSBytes    = 1 << 20
)

// maxFetchTime bounds one fetch even with a caller's client that has no
// timeout: while a fetch is in flight no other starts, so a hung one would
// stall every later refresh.
const maxFetchTime = 30 * time.Second

// JWKSOptions configure a [JWKS]. The zero value means all defaults.
type JWKSOptions struct {
	// Client fetches the key set. Nil means a client with a 5 s timeout
	// that follows redirects only to https (or loopback) locations.
	Client *http.Client
	// RefreshInterval is the age after which keys are refreshed; zero or
	// negative means 1 h. The refresh is lazy: the first delivery that finds
	// the keys older starts it in the background and is verified with the
	// keys it has (no ticker, which Cloud Run would starve of CPU between
	// requests anyway).
	RefreshInterval time.Duration
	// MinRefreshGap is the least time between the starts of two fetches,
	// whatever triggers them (a miss, the schedule, or a first fetch that
	// failed); zero or negative means 30 s. It caps what a flood of forged
	// deliveries, or an outage, costs the key endpoint.
	MinRefreshGap time.Duration
	// MaxBytes is the largest key set document read; zero or negative means
	// 1 MiB. A larger document is a failed fetch.
	MaxBytes int64
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// JWKS is the key source of dynamic deliveries: the JSON Web Key Set at a
// pinned URL, fetched on first use, cached, and refreshed on a schedule and
// when a delivery names or needs a key the cache lacks. Keys survive a failed
// refresh. A key set with no key this package can use counts as a failed
// fetch, so a broken publication never replaces good keys.
//
// Create one with [NewJWKS], once per process, and share it between [V1a] and
// [JWT]. JWKS is safe for concurrent use; concurrent callers share one fetch.
type JWKS struct {
	url      string
	client   *http.Client
	interval time.Duration
	gap      time.Duration
	maxBytes int64
	now      func() time.Time

	// set is nil until the first successful fetch, then immutable snapshots.
	set     atomic.Pointer[keySet]
	fetches atomic.Int64

	// base is the parent of every fetch's context; Close cancels it.
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu          sync.Mutex
	inflight    *fetchCall
	lastAttempt time.Time // start of the last fetch; zero before the first
	lastErr     error     // outcome of the last fetch
	closed      bool
}

// fetchCall is one fetch that any number of callers may wait for.
type fetchCall struct {
	done chan struct{}
	err  error // written before done is closed
}

// NewJWKS returns a key source for the key set at url. It makes no network
// call: the first fetch happens on the first dynamic delivery, so a cold
// start never waits for it. The URL is trusted as given (configuration has
// already refused non-https, non-loopback locations).
func NewJWKS(url string, opts JWKSOptions) *JWKS {
	k := &JWKS{
		url:      url,
		client:   opts.Client,
		interval: opts.RefreshInterval,
		gap:      opts.MinRefreshGap,
		maxBytes: opts.MaxBytes,
		now:      opts.Now,
	}
	if k.client == nil {
		k.client = &http.Client{Timeout: DefaultJWKSTimeout, CheckRedirect: secureRedirect}
	}
	if k.interval <= 0 {
		k.interval = DefaultRefreshInterval
	}
	if k.gap <= 0 {
		k.gap = DefaultMinRefreshGap
	}
	if k.maxBytes <= 0 {
		k.maxBytes = DefaultMaxJWKSBytes
	}
	if k.now == nil {
		k.now = time.Now
	}
	k.base, k.cancel = context.WithCancel(context.Background())
	return k
}

// Close cancels a fetch in flight and waits for it to end. Afterwards no
// fetch starts; keys already held still verify. Close is idempotent.
func (k *JWKS) Close() {
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.cancel()
	k.wg.Wait()
}

// keys returns the current key set. The first call fetches it, sharing the
// fetch with concurrent callers; a failure (or a recent failure within the
// refresh gap) gives an error wrapping [ErrKeysUnavailable]. Keys older than
// the refresh interval are returned as they are while a refresh runs in the
// background.
func (k *JWKS) keys(ctx context.Context) (*keySet, error) {
	if s := k.set.Load(); s != nil {
		if k.now().Sub(s.fetched) >= k.interval {
			k.mu.Lock()
			if k.inflight == nil && k.mayFetchLocked() {
				k.startLocked()
			}
			k.mu.Unlock()
		}
		return s, nil
	}

	k.mu.Lock()
	if s := k.set.Load(); s != nil {
		k.mu.Unlock()
		return s, nil
	}
	call := k.inflight
	if call == nil {
		if !k.mayFetchLocked() {
			err := k.lastErr
			k.mu.Unlock()
			return nil, unavailable(err)
		}
		call = k.startLocked()
	}
	k.mu.Unlock()

	if err := wait(ctx, call); err != nil {
		return nil, unavailable(err)
	}
	if s := k.set.Load(); s != nil {
		return s, nil
	}
	return nil, unavailable(errors.New("no keys"))
}

// refreshOnMiss is called when seen, the set a caller verified with, had no
// key for its delivery. It returns a newer set to try once more, or seen
// itself when there is none: the fetch failed, or the last one started
// less than the refresh gap ago (the same answer for every forged delivery
// in a flood). A miss joins a fetch already in flight rather than starting
// another. The only error is the caller's context ending while it waits.
func (k *JWKS) refreshOnMiss(ctx context.Context, seen *keySet) (*keySet, error) {
	k.mu.Lock()
	if cur := k.set.Load(); cur != seen && cur != nil {
		// Refreshed since the caller looked: try the new keys, no fetch.
		k.mu.Unlock()
		return cur, nil
	}
	call := k.inflight
	if call == nil {
		if !k.mayFetchLocked() {
			k.mu.Unlock()
			return seen, nil
		}
		call = k.startLocked()
	}
	k.mu.Unlock()

	if err := wait(ctx, call); err != nil && ctx.Err() != nil {
		return nil, err
	}
	if cur := k.set.Load(); cur != nil {
		return cur, nil
	}
	return seen, nil
}

// mayFetchLocked reports whether a new fetch may start now. k.mu is held.
func (k *JWKS) mayFetchLocked() bool {
	if k.closed {
		return false
	}
	return k.lastAttempt.IsZero() || k.now().Sub(k.lastAttempt) >= k.gap
}

// startLocked starts a fetch in its own goroutine, so that a caller whose
// context ends does not cancel it for the others. k.mu is held.
func (k *JWKS) startLocked() *fetchCall {
	call := &fetchCall{done: make(chan struct{})}
	k.inflight = call
	k.lastAttempt = k.now()
	k.wg.Add(1)
	go func() {
		defer k.wg.Done()
		ctx, cancel := context.WithTimeout(k.base, maxFetchTime)
		s, err := k.fetch(ctx)
		cancel()

		k.mu.Lock()
		if err == nil {
			k.set.Store(s)
		}
		k.lastErr = err
		call.err = err
		k.inflight = nil
		k.mu.Unlock()
		close(call.done)
	}()
	return call
}

// wait returns the outcome of call, or the context's error if it ends first.
func wait(ctx context.Context, call *fetchCall) error {
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fetch downloads and parses the key set. Its errors name the URL and the
// kind of failure only.
func (k *JWKS) fetch(ctx context.Context) (*keySet, error) {
	k.fetches.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, fmt.Errorf("jwks: bad request: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json")
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks: GET %s: status %d", k.url, resp.StatusCode)
	}
	doc, err := io.ReadAll(io.LimitReader(resp.Body, k.maxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("jwks: GET %s: reading: %w", k.url, err)
	}
	if int64(len(doc)) > k.maxBytes {
		return nil, fmt.Errorf("jwks: GET %s: document larger than %d bytes", k.url, k.maxBytes)
	}
	s, err := parseKeySet(doc)
	if err != nil {
		return nil, fmt.Errorf("jwks: GET %s: %w", k.url, err)
	}
	s.fetched = k.now()
	return s, nil
}

// unavailable wraps the cause of missing keys in ErrKeysUnavailable. The
// cause is formatted, not wrapped: callers branch on the sentinel only.
func unavailable(cause error) error {
	if cause == nil {
		return ErrKeysUnavailable
	}
	return fmt.Errorf("%w: %v", ErrKeysUnavailable, cause)
}

// secureRedirect keeps the default client from following the key location to
// plain http, where keys could be replaced in transit.
func secureRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("too many redirects")
	}
	if req.URL.Scheme != "https" && !isLoopback(req.URL.Hostname()) {
		return errors.New("redirect to a non-https location")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
