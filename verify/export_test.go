package verify

// Fetches returns how many times k has started fetching its key set.
func (k *JWKS) Fetches() int64 { return k.fetches.Load() }

// WaitIdle waits for the fetch in flight, if any, to end.
func (k *JWKS) WaitIdle() {
	k.mu.Lock()
	call := k.inflight
	k.mu.Unlock()
	if call != nil {
		<-call.done
	}
}
