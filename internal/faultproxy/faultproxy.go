// Package faultproxy is a loopback TCP proxy that tests put between the
// receiver and an emulator to make the emulator unreachable, slow, or cut
// off mid-conversation, on command.
package faultproxy

import (
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Mode is how the proxy treats connections.
type Mode int

const (
	// Forward passes traffic through.
	Forward Mode = iota
	// Refuse closes every new connection at once and cuts the open ones:
	// the backend looks down.
	Refuse
	// BlackHole accepts connections and reads from them but forwards
	// nothing: the backend looks hung. Leaving BlackHole closes the
	// connections it swallowed, as a healed network resets them: their
	// bytes are gone, so they could never resume.
	BlackHole
)

// String returns the mode's name, for test reports.
func (m Mode) String() string {
	switch m {
	case Forward:
		return "forward"
	case Refuse:
		return "refuse"
	case BlackHole:
		return "black-hole"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Stats counts what the proxy did to connections since it started.
type Stats struct {
	// Forwarded is the connections passed to the target.
	Forwarded int
	// Refused is the connections closed on arrival in Refuse mode.
	Refused int
	// BlackHoled is the connections accepted and swallowed in BlackHole mode.
	BlackHoled int
	// Cut is the open connections closed by Cut, SetMode or Close (each
	// client connection counted once, not its upstream half).
	Cut int
}

// Proxy forwards loopback TCP connections to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	mode  Mode
	delay time.Duration
	// conns maps each open connection to whether it is a client
	// connection (true) or the upstream half of a forwarded one (false).
	conns map[net.Conn]bool
	holes map[net.Conn]struct{}
	stats Stats
	wg    sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target. The proxy
// is closed when the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}, holes: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the host:port to give the client instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetMode switches the mode. Switching to Refuse or BlackHole cuts the
// connections already open, so that pooled client connections fail too.
// Switching to Forward closes the connections a black hole swallowed and
// leaves forwarded ones alone.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	p.mode = m
	if m == Forward {
		for c := range p.holes {
			p.closeLocked(c)
		}
	}
	p.mu.Unlock()
	if m != Forward {
		p.Cut()
	}
}

// Mode returns the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Stats returns what the proxy has done so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// SetDelay delays every chunk forwarded in either direction by d.
func (p *Proxy) SetDelay(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Cut closes every open connection; new ones are handled by the mode.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		p.closeLocked(c)
	}
}

// closeLocked closes c and forgets it, so that it is counted once. p.mu is
// held.
func (p *Proxy) closeLocked(c net.Conn) {
	client, ok := p.conns[c]
	if !ok {
		return
	}
	c.Close()
	delete(p.conns, c)
	delete(p.holes, c)
	if client {
		p.stats.Cut++
	}
}

// Close stops the proxy and cuts its connections.
func (p *Proxy) Close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		switch mode {
		case Refuse:
			p.stats.Refused++
		case BlackHole:
			p.stats.BlackHoled++
			p.conns[c] = true
			p.holes[c] = struct{}{}
		default:
			p.stats.Forwarded++
		}
		p.mu.Unlock()
		switch mode {
		case Refuse:
			c.Close()
			continue
		case BlackHole:
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				io.Copy(io.Discard, c)
				p.untrack(c)
			}()
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	up, err := net.DialTimeout("tcp", p.target, 2*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.mode != Forward {
		// The mode changed while dialling: this connection must not
		// slip through the fault.
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c] = true
	p.conns[up] = false
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(up, c) }()
	go func() { defer wg.Done(); p.pipe(c, up) }()
	wg.Wait()
	p.untrack(c)
	p.untrack(up)
}

func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			d := p.delay
			p.mu.Unlock()
			if d > 0 {
				time.Sleep(d)
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.holes, c)
	p.mu.Unlock()
}
