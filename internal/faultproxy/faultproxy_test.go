package faultproxy_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/geminihook/geminihook/internal/faultproxy"
)

// echo is a loopback server that echoes every line back.
func echo(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line and reads it back within d.
func roundTrip(c net.Conn, d time.Duration) error {
	c.SetDeadline(time.Now().Add(d))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err == nil && line != "ping\n" {
		err = errors.New("echo changed the line: " + line)
	}
	return err
}

func dial(t *testing.T, p *faultproxy.Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestModes(t *testing.T) {
	t.Parallel()
	p := faultproxy.Start(t, echo(t))

	open := dial(t, p)
	if err := roundTrip(open, 2*time.Second); err != nil {
		t.Fatalf("forward: %v", err)
	}

	// Refuse cuts the open connection and closes new ones.
	p.SetMode(faultproxy.Refuse)
	if err := roundTrip(open, 2*time.Second); err == nil {
		t.Fatal("a connection opened before Refuse still works")
	}
	if err := roundTrip(dial(t, p), 2*time.Second); err == nil {
		t.Fatal("a new connection works in Refuse mode")
	}

	// A black hole accepts and answers nothing.
	p.SetMode(faultproxy.BlackHole)
	hole := dial(t, p)
	if err := roundTrip(hole, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("black hole: %v, want a timeout", err)
	}

	// Healing resets what the black hole swallowed and forwards again.
	p.SetMode(faultproxy.Forward)
	if err := roundTrip(hole, 2*time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("swallowed connection after healing: %v, want it closed", err)
	}
	healthy := dial(t, p)
	if err := roundTrip(healthy, 2*time.Second); err != nil {
		t.Fatalf("forward after healing: %v", err)
	}

	p.Cut()
	if err := roundTrip(healthy, 2*time.Second); err == nil {
		t.Fatal("a connection survived Cut")
	}
	if p.Mode() != faultproxy.Forward || p.Mode().String() != "forward" {
		t.Errorf("Mode() = %v, want forward", p.Mode())
	}
	s := p.Stats()
	if s.Forwarded < 2 || s.Refused < 1 || s.BlackHoled != 1 || s.Cut < 3 {
		t.Errorf("Stats() = %+v, want >=2 forwarded, >=1 refused, 1 black-holed, >=3 cut", s)
	}
}

func TestDelay(t *testing.T) {
	t.Parallel()
	p := faultproxy.Start(t, echo(t))
	p.SetDelay(150 * time.Millisecond)
	start := time.Now()
	if err := roundTrip(dial(t, p), 2*time.Second); err != nil {
		t.Fatal(err)
	}
	// Delayed once on the way there and once on the way back.
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("round trip took %v, want at least 300ms", d)
	}
}
