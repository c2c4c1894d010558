package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// coldStart is one start of a program: from exec to its port accepting,
// and to the first 200 of a delivery sent as soon as it accepts.
type coldStart struct {
	listen, first200 time.Duration
}

// measureColdStart starts the server, posts one signed delivery as soon as
// the port accepts, and stops it.
func measureColdStart(name, bin string, args []string, env map[string]string, secret verify.Secret, body []byte) (coldStart, error) {
	s, err := startServer(name, bin, args, env)
	if err != nil {
		return coldStart{}, err
	}
	defer s.stop()
	cs := coldStart{listen: s.listening.Sub(s.start)}
	if err := postOnce(s.url, "cold-"+strconv.FormatInt(time.Now().UnixNano(), 36), secret, body); err != nil {
		return cs, fmt.Errorf("%s: first delivery: %w; stderr: %s", name, err, s.stderr.String())
	}
	cs.first200 = time.Since(s.start)
	return cs, nil
}

var coldClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// postOnce sends one v1-signed delivery and wants a 200.
func postOnce(url, id string, secret verify.Secret, body []byte) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Webhook-Id", id)
	req.Header.Set("Webhook-Timestamp", ts)
	req.Header.Set("Webhook-Signature", verify.SignV1(secret, id, ts, body))
	resp, err := coldClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// rpcProxy is a cleartext HTTP/2 reverse proxy in front of an emulator that
// records the gRPC method of every call passing through, so that the
// harness can tell which calls a program makes before its first request.
type rpcProxy struct {
	ln    net.Listener
	srv   *http.Server
	mu    sync.Mutex
	calls []string
}

func startRPCProxy(target string) (*rpcProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	var h2c http.Protocols
	h2c.SetUnencryptedHTTP2(true)
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.Out.URL.Scheme = "http"
			r.Out.URL.Host = target
		},
		Transport:     &http.Transport{Protocols: &h2c},
		FlushInterval: -1,
	}
	p := &rpcProxy{ln: ln}
	p.srv = &http.Server{Protocols: &h2c, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.calls = append(p.calls, r.URL.Path)
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	})}
	go p.srv.Serve(ln)
	return p, nil
}

func (p *rpcProxy) addr() string { return p.ln.Addr().String() }

// take returns the calls recorded since the last take.
func (p *rpcProxy) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.calls
	p.calls = nil
	return c
}

func (p *rpcProxy) close() { p.srv.Close() }

// hitCounter is an HTTP server that counts requests: a JWKS location that
// must not be fetched.
type hitCounter struct {
	srv  *http.Server
	url  string
	hits atomic.Int64
}

func startHitCounter() (*hitCounter, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	h := &hitCounter{url: "http://" + ln.Addr().String() + "/.well-known/jwks.json"}
	h.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.hits.Add(1)
		http.Error(w, "not here", http.StatusServiceUnavailable)
	})}
	go h.srv.Serve(ln)
	return h, nil
}

// startupCalls is what a program called before and after its first
// delivery, seen through the proxies.
type startupCalls struct {
	firestoreBefore, pubsubBefore []string
	firestoreFirst, pubsubFirst   []string
	jwksBefore, jwksFirst         int64
}

// traceStartup starts the server with its emulator hosts pointing at
// recording proxies and its JWKS URL at a counter, waits a second after it
// listens (long enough for any background call to show), then sends one
// delivery.
func traceStartup(name, bin string, args []string, env map[string]string, fsHost, psHost string, secret verify.Secret, body []byte) (startupCalls, error) {
	var sc startupCalls
	fp, err := startRPCProxy(fsHost)
	if err != nil {
		return sc, err
	}
	defer fp.close()
	pp, err := startRPCProxy(psHost)
	if err != nil {
		return sc, err
	}
	defer pp.close()
	jw, err := startHitCounter()
	if err != nil {
		return sc, err
	}
	defer jw.srv.Close()
	e := map[string]string{}
	for k, v := range env {
		e[k] = v
	}
	e["FIRESTORE_EMULATOR_HOST"], e["PUBSUB_EMULATOR_HOST"], e["GEMINI_JWKS_URL"] = fp.addr(), pp.addr(), jw.url
	s, err := startServer(name, bin, args, e)
	if err != nil {
		return sc, err
	}
	defer s.stop()
	time.Sleep(time.Second)
	sc.firestoreBefore, sc.pubsubBefore, sc.jwksBefore = fp.take(), pp.take(), jw.hits.Load()
	if err := postOnce(s.url, "trace-"+strconv.FormatInt(time.Now().UnixNano(), 36), secret, body); err != nil {
		return sc, fmt.Errorf("%s through the proxies: %w; stderr: %s", name, err, s.stderr.String())
	}
	sc.firestoreFirst, sc.pubsubFirst, sc.jwksFirst = fp.take(), pp.take(), jw.hits.Load()-sc.jwksBefore
	return sc, nil
}
