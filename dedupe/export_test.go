package dedupe

// Len reports how many claims m holds, expired or not, so that tests can
// see the sweep.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.claims)
}
