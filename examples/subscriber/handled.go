package subscriber

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/geminihook/geminihook/event"
)

// Handled remembers the webhook ids whose events this subscriber has
// handled, so that a redelivered event is skipped. Implementations are safe
// for concurrent use.
//
// The check is best effort by design: two copies of one event handled at
// the same moment (on two instances, or two requests of one) can both run
// before either is recorded. Make handlers idempotent where running twice
// would hurt; for most (download a result, notify a channel) it does not.
type Handled interface {
	// Has reports whether webhookID was recorded. An error means the
	// answer is unknown; the caller lets Pub/Sub redeliver.
	Has(ctx context.Context, webhookID string) (bool, error)
	// Add records webhookID as handled. Recording an id twice is not an
	// error.
	Add(ctx context.Context, webhookID string, t event.Type) error
}

// DefaultMemoryTTL is how long MemoryHandled remembers an id by default:
// past Gemini's 24 hours of retries, within which the receiver may publish
// an event twice.
const DefaultMemoryTTL = 25 * time.Hour

// MemoryHandled is a Handled in the instance's memory: the capacity most
// recently used ids, each for at most ttl. It forgets everything when the
// instance stops, and instances do not share it; use FirestoreHandled when
// that matters.
type MemoryHandled struct {
	capacity int
	ttl      time.Duration
	now      func() time.Time

	mu    sync.Mutex
	order *list.List // of *memoryEntry, most recently used first
	byID  map[string]*list.Element
}

type memoryEntry struct {
	id      string
	expires time.Time
}

// NewMemoryHandled returns an empty MemoryHandled holding at most capacity
// ids (at least 1) for ttl each (DefaultMemoryTTL when not positive).
func NewMemoryHandled(capacity int, ttl time.Duration) *MemoryHandled {
	if capacity < 1 {
		capacity = 1
	}
	if ttl <= 0 {
		ttl = DefaultMemoryTTL
	}
	return &MemoryHandled{
		capacity: capacity, ttl: ttl, now: time.Now,
		order: list.New(), byID: make(map[string]*list.Element),
	}
}

// Has reports whether webhookID was added less than ttl ago and not
// evicted since. It never fails.
func (m *MemoryHandled) Has(_ context.Context, webhookID string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	el, ok := m.byID[webhookID]
	if !ok {
		return false, nil
	}
	if !m.now().Before(el.Value.(*memoryEntry).expires) {
		m.remove(el)
		return false, nil
	}
	m.order.MoveToFront(el)
	return true, nil
}

// Add records webhookID for ttl from now, evicting the least recently used
// id when full. It never fails.
func (m *MemoryHandled) Add(_ context.Context, webhookID string, _ event.Type) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	expires := m.now().Add(m.ttl)
	if el, ok := m.byID[webhookID]; ok {
		el.Value.(*memoryEntry).expires = expires
		m.order.MoveToFront(el)
		return nil
	}
	for m.order.Len() >= m.capacity {
		m.remove(m.order.Back())
	}
	m.byID[webhookID] = m.order.PushFront(&memoryEntry{id: webhookID, expires: expires})
	return nil
}

func (m *MemoryHandled) remove(el *list.Element) {
	m.order.Remove(el)
	delete(m.byID, el.Value.(*memoryEntry).id)
}

// Len returns how many ids are held, expired ones included until they are
// looked up or evicted.
func (m *MemoryHandled) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.order.Len()
}
