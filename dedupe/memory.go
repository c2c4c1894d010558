package dedupe

import (
	"context"
	"sync"
	"time"
)

// minSweep is the size below which Memory does not sweep: a small map costs
// less than scanning it.
const minSweep = 1024

// Memory is a claim store held in process memory, for the embedded mode:
// nothing survives a restart and nothing is shared between instances. Its
// semantics are those of [Firestore]. It is safe for concurrent use, and
// sweeps expired claims so that its memory is bounded by the claims received
// within one Retention.
type Memory struct {
	opts Options

	mu      sync.Mutex
	claims  map[string]memClaim
	sweepAt int // sweep when len(claims) reaches this
}

type memClaim struct {
	state      string
	leaseUntil time.Time
	expireAt   time.Time
	attempts   int
	messageID  string
}

// NewMemory returns an empty in-memory store; zero fields of opts take
// their defaults.
func NewMemory(opts Options) *Memory {
	return &Memory{
		opts:    opts.withDefaults(),
		claims:  make(map[string]memClaim),
		sweepAt: minSweep,
	}
}

// Claim claims webhookID for the caller; see [State] for the outcomes.
// eventType is kept for operators only and does not take part in identity.
// It fails, wrapping [ErrUnavailable], only when ctx is done.
func (m *Memory) Claim(ctx context.Context, webhookID, eventType string) (Claim, error) {
	if err := ctx.Err(); err != nil {
		return Claim{}, unavailable("claim", err)
	}
	now := m.opts.now()

	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.lookup(webhookID, now)
	switch {
	case !ok:
		c = memClaim{
			state:      statePending,
			leaseUntil: now.Add(m.opts.Lease),
			expireAt:   now.Add(m.opts.Retention),
			attempts:   1,
		}
	case c.state == statePublished:
		return Claim{State: Duplicate, MessageID: c.messageID}, nil
	case c.leaseUntil.After(now):
		return Claim{State: Busy, LeaseUntil: c.leaseUntil}, nil
	default:
		c.leaseUntil = now.Add(m.opts.Lease)
		c.attempts++
	}
	m.store(webhookID, c)
	return Claim{State: Acquired, Attempt: c.attempts, LeaseUntil: c.leaseUntil}, nil
}

// MarkPublished records that webhookID was published as messageID, whoever
// holds the claim now and even if it is gone: a publish that succeeded is a
// fact, and recording it is what keeps later attempts from publishing again.
// attempt is accepted for symmetry with Release. It fails, wrapping
// [ErrUnavailable], only when ctx is done.
func (m *Memory) MarkPublished(ctx context.Context, webhookID string, attempt int, messageID string) error {
	if err := ctx.Err(); err != nil {
		return unavailable("mark published", err)
	}
	now := m.opts.now()

	m.mu.Lock()
	defer m.mu.Unlock()
	c, _ := m.lookup(webhookID, now)
	c.state = statePublished
	c.messageID = messageID
	c.expireAt = now.Add(m.opts.Retention)
	m.store(webhookID, c)
	return nil
}

// Release gives up the claim after a failed publish, so that the next
// attempt acquires it at once. It deletes the claim only while it is pending
// and still owned by attempt: a holder whose lease was taken over cannot
// free the new holder's claim, and a published claim is never freed. A
// missing claim is not an error. It fails, wrapping [ErrUnavailable], only
// when ctx is done.
func (m *Memory) Release(ctx context.Context, webhookID string, attempt int) error {
	if err := ctx.Err(); err != nil {
		return unavailable("release", err)
	}
	now := m.opts.now()

	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.lookup(webhookID, now)
	if ok && c.state == statePending && c.attempts == attempt {
		delete(m.claims, webhookID)
	}
	return nil
}

// lookup returns the live claim of id. An expired claim is deleted, so it
// reads as absent exactly as in Firestore, where the TTL policy removes it
// some time after it expires. m.mu must be held.
func (m *Memory) lookup(id string, now time.Time) (memClaim, bool) {
	c, ok := m.claims[id]
	if !ok {
		return memClaim{}, false
	}
	if !c.expireAt.After(now) {
		delete(m.claims, id)
		return memClaim{}, false
	}
	return c, true
}

// store writes c under id, sweeping first when the map has doubled since
// the last sweep: each sweep is paid for by the inserts that grew the map,
// so inserts stay O(1) amortised, and the map never holds more than about
// twice the live claims. m.mu must be held.
func (m *Memory) store(id string, c memClaim) {
	if _, ok := m.claims[id]; !ok && len(m.claims) >= m.sweepAt {
		now := m.opts.now()
		for k, v := range m.claims {
			if !v.expireAt.After(now) {
				delete(m.claims, k)
			}
		}
		m.sweepAt = max(2*len(m.claims), minSweep)
	}
	m.claims[id] = c
}
