package geminihook

import (
	"bufio"
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// The server settings of `geminihook serve` (cmd/geminihook/serve.go),
// scaled down five times in time so that the slow-client rows run in a
// second: ReadHeaderTimeout 5s, ReadTimeout 5s + MAX_BODY_BYTES/(64 KiB/s),
// MaxHeaderBytes 64 KiB (not scaled). TestServeBoundsSlowClients in
// test/chaos holds the real binary to the unscaled values.
const (
	hostileHeaderTimeout = time.Second
	hostileMaxHeader     = 64 << 10
	hostileMaxBody       = 4096
)

// hostileReadTimeout is serve.go's ReadTimeout for a body limit, scaled:
// the header timeout plus one second per 64 KiB of the limit, divided by five.
func hostileReadTimeout(maxBody int64) time.Duration {
	return hostileHeaderTimeout + time.Duration(maxBody/(64<<10))*time.Second/5
}

// serveLike serves h as `geminihook serve` does, scaled (see above), and
// returns its address.
func serveLike(t *testing.T, h http.Handler, maxBody int64, requestTimeout time.Duration) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadHeaderTimeout = hostileHeaderTimeout
	srv.Config.ReadTimeout = hostileReadTimeout(maxBody)
	srv.Config.WriteTimeout = hostileReadTimeout(maxBody) + requestTimeout + 500*time.Millisecond
	srv.Config.IdleTimeout = 6 * time.Second
	srv.Config.MaxHeaderBytes = hostileMaxHeader
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// wire is one request exactly as it goes over the connection.
type wire struct {
	method string
	// headers are "Name: value" lines, sent in order and unchecked.
	headers []string
	// body follows the head as is. Content-Length is added unless a header
	// sets Content-Length or Transfer-Encoding.
	body string
	// trickle, when set, sends the body (or, with slowHead, the end of the
	// head) one byte per trickle, forever if endless.
	trickle  time.Duration
	slowHead bool
	endless  bool
}

func (w wire) head() string {
	method := w.method
	if method == "" {
		method = http.MethodPost
	}
	var b strings.Builder
	b.WriteString(method + " / HTTP/1.1\r\nHost: geminihook.test\r\nConnection: close\r\nContent-Type: application/json\r\n")
	framed := false
	for _, h := range w.headers {
		b.WriteString(h + "\r\n")
		name, _, _ := strings.Cut(strings.ToLower(h), ":")
		framed = framed || name == "content-length" || name == "transfer-encoding"
	}
	if !framed && !w.endless {
		b.WriteString("Content-Length: " + strconv.Itoa(len(w.body)) + "\r\n")
	}
	if !w.slowHead {
		b.WriteString("\r\n")
	}
	return b.String()
}

// send writes w to addr and reads the answer. status is 0 when the server
// closed the connection without answering.
func (w wire) send(addr string) (status int, answer string, err error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(15 * time.Second))
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		if _, err := io.WriteString(c, w.head()); err != nil {
			return
		}
		if w.trickle == 0 {
			io.WriteString(c, w.body)
			return
		}
		rest := w.body
		if w.slowHead {
			rest = "X-Slow: " + strings.Repeat("a", 1<<10)
		}
		for i := 0; w.endless || i < len(rest); i++ {
			select {
			case <-stop:
				return
			case <-time.After(w.trickle):
			}
			b := byte('a')
			if i < len(rest) {
				b = rest[i]
			}
			if _, err := c.Write([]byte{b}); err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		// Closed without an answer.
		return 0, "", nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), nil
}

// signedLines are valid signature headers for id, ts and body.
func signedLines(secret verify.Secret, id, ts, body string) []string {
	return []string{
		"webhook-id: " + id,
		"webhook-timestamp: " + ts,
		"webhook-signature: " + verify.SignV1(secret, id, ts, []byte(body)),
	}
}

// Hostile deliveries, each with the status it must get, a bound on how long
// the receiver may take to give it, and nothing published or claimed for
// any of them. Sent byte for byte over TCP to the real handler behind a
// server configured like `geminihook serve` (scaled), with the limit
// MAX_BODY_BYTES=4096 and a local JWKS that holds one Ed25519 key.
func TestHostileDeliveries(t *testing.T) {
	trusted := edKey(t)
	ks := newKeyServer(t, jwks([]ed25519.PrivateKey{trusted}, nil))
	r := newRig(t, func(o *rigOptions) {
		o.env["MAX_BODY_BYTES"] = strconv.Itoa(hostileMaxBody)
		o.env["GEMINI_JWKS_URL"] = ks.srv.URL
	})
	addr := serveLike(t, r.handler, hostileMaxBody, 5*time.Second)

	now := strconv.FormatInt(time.Now().Unix(), 10)
	body := batchBody
	var ids []string
	n := 0
	// id returns a fresh id for a row, remembered for the claim check.
	id := func() string {
		n++
		s := "msg_hostile_" + strconv.Itoa(n)
		ids = append(ids, s)
		return s
	}
	// signed is a valid delivery of body with a fresh id, then extra lines.
	signed := func(extra ...string) []string {
		return append(signedLines(r.secret, id(), now, body), extra...)
	}
	// with is a valid delivery whose header name is replaced by value.
	with := func(name, value string) []string {
		lines := signed()
		for i, l := range lines {
			if strings.HasPrefix(l, name+":") {
				lines[i] = name + ": " + value
			}
		}
		if name == "webhook-id" {
			ids = append(ids, value)
		}
		return lines
	}
	// stamped is a delivery with timestamp ts, validly signed for it.
	stamped := func(ts string) []string { return signedLines(r.secret, id(), ts, body) }
	// withID is a delivery signed for id x (which ParseHeaders judges first).
	withID := func(x string) []string { return signedLines(r.secret, x, now, body) }
	// validSig returns a fresh id and the valid v1 signature of body with it.
	validSig := func() (string, string) {
		x := id()
		return x, verify.SignV1(r.secret, x, now, []byte(body))
	}
	sigLines := func(x, sig string) []string {
		return []string{"webhook-id: " + x, "webhook-timestamp: " + now, "webhook-signature: " + sig}
	}
	mac := func(n int) string { return "v1," + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xa5}, n)) }
	entries := func(k int) string { return strings.TrimSpace(strings.Repeat(mac(32)+" ", k)) }
	v1aFrom := func(key ed25519.PrivateKey) []string {
		x := id()
		return sigLines(x, verify.SignV1a(key, x, now, []byte(body)))
	}
	jws := func(header string) string {
		e := base64.RawURLEncoding.EncodeToString
		return e([]byte(header)) + "." + e([]byte(`{"body_sha256":"00"}`)) + "." + e([]byte("sig"))
	}
	over := strings.Repeat("x", hostileMaxBody+1)
	quick := 2 * time.Second

	rows := []struct {
		name  string
		req   wire
		want  int // 0: the connection is closed without an answer
		bound time.Duration
	}{
		// Repeated and conflicting headers.
		{"webhook-id twice, same value", wire{headers: func() []string { l := signed(); return append(l, l[0]) }()}, 400, quick},
		{"webhook-id twice, conflicting", wire{headers: signed("webhook-id: msg_other")}, 400, quick},
		{"webhook-id in two spellings", wire{headers: signed("WEBHOOK-ID: msg_other")}, 400, quick},
		{"webhook-timestamp twice", wire{headers: signed("Webhook-Timestamp: " + now)}, 400, quick},
		{"webhook-signature twice, both valid", wire{headers: func() []string { l := signed(); return append(l, l[2]) }()}, 400, quick},

		// The signature list.
		{"5000 short signature entries", wire{headers: with("webhook-signature", strings.Repeat("v1,x ", 5000))}, 400, quick},
		{"1000 signature entries", wire{headers: with("webhook-signature", entries(1000))}, 400, quick},
		{"2000 signature entries, past the header limit", wire{headers: with("webhook-signature", entries(2000))}, 431, quick},
		{"33 entries, the valid one last", wire{headers: func() []string {
			x, sig := validSig()
			return sigLines(x, entries(32)+" "+sig)
		}()}, 400, quick},
		{"32 entries, none valid", wire{headers: with("webhook-signature", entries(32))}, 401, quick},
		{"entries without a comma", wire{headers: with("webhook-signature", "v1 c2lnbmF0dXJl")}, 401, quick},
		{"a lone comma", wire{headers: with("webhook-signature", ",")}, 401, quick},
		{"base64 garbage", wire{headers: with("webhook-signature", "v1,!!not*base64!!")}, 401, quick},
		{"MAC of 31 bytes", wire{headers: with("webhook-signature", mac(31))}, 401, quick},
		{"MAC of 33 bytes", wire{headers: with("webhook-signature", mac(33))}, 401, quick},
		{"MAC of 64 bytes", wire{headers: with("webhook-signature", mac(64))}, 401, quick},
		{"valid MAC truncated", wire{headers: func() []string { x, sig := validSig(); return sigLines(x, sig[:len(sig)-4]) }()}, 401, quick},
		{"valid MAC with extra padding", wire{headers: func() []string { x, sig := validSig(); return sigLines(x, sig+"==") }()}, 401, quick},
		{"valid MAC under version V1", wire{headers: func() []string { x, sig := validSig(); return sigLines(x, "V1"+sig[2:]) }()}, 401, quick},
		{"valid MAC split by a space", wire{headers: func() []string { x, sig := validSig(); return sigLines(x, sig[:20]+" "+sig[20:]) }()}, 401, quick},
		{"valid MAC after a tab, not a space", wire{headers: func() []string { x, sig := validSig(); return sigLines(x, mac(32)+"\t"+sig) }()}, 401, quick},
		{"blank signature", wire{headers: with("webhook-signature", "   ")}, 400, quick},
		{"v1a entry by an untrusted key", wire{headers: v1aFrom(edKey(t))}, 401, quick},
		{"32 v1a entries by an untrusted key", wire{headers: func() []string {
			x, key := id(), edKey(t)
			return sigLines(x, strings.TrimSpace(strings.Repeat(verify.SignV1a(key, x, now, []byte(body))+" ", 32)))
		}()}, 401, quick},
		{"v1a entry of the wrong length", wire{headers: with("webhook-signature", "v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 63)))}, 401, quick},
		{"JWT-shaped garbage", wire{headers: with("webhook-signature", "a.b.c")}, 401, quick},
		{"JWT with alg none", wire{headers: with("webhook-signature", jws(`{"alg":"none"}`))}, 401, quick},
		{"JWT with alg HS256", wire{headers: with("webhook-signature", jws(`{"alg":"HS256","kid":"k"}`))}, 401, quick},
		{"token of 9 KiB", wire{headers: with("webhook-signature", strings.Repeat("A", 9<<10)+".e30.c2ln")}, 401, quick},
		{"signature of 60 KiB", wire{headers: with("webhook-signature", "v1,"+strings.Repeat("A", 60<<10))}, 401, quick},
		{"headers over 64 KiB", wire{headers: signed("X-Pad: " + strings.Repeat("p", 70<<10))}, 431, quick},

		// Timestamps, each validly signed.
		{"timestamp -1", wire{headers: stamped("-1")}, 401, quick},
		{"timestamp 0", wire{headers: stamped("0")}, 401, quick},
		{"timestamp minimum int64", wire{headers: stamped("-9223372036854775808")}, 401, quick},
		{"timestamp maximum int64", wire{headers: stamped("9223372036854775807")}, 401, quick},
		{"timestamp past int64", wire{headers: stamped("9223372036854775808")}, 400, quick},
		{"timestamp of 40 digits", wire{headers: stamped(strings.Repeat("9", 40))}, 400, quick},
		{"timestamp in hex", wire{headers: stamped("0x" + strconv.FormatInt(time.Now().Unix(), 16))}, 400, quick},
		{"timestamp with exponent", wire{headers: stamped("1.7e9")}, 400, quick},
		{"timestamp with a plus sign", wire{headers: stamped("+" + now)}, 400, quick},
		{"timestamp with a fraction", wire{headers: stamped(now + ".0")}, 400, quick},
		{"timestamp with an inner space", wire{headers: stamped(now[:5] + " " + now[5:])}, 400, quick},
		{"timestamp in Arabic-Indic digits", wire{headers: stamped("١٧٦٧٢٢٥٦٠٠")}, 400, quick},
		{"timestamp empty", wire{headers: with("webhook-timestamp", "")}, 400, quick},
		{"timestamp 6 minutes old", wire{headers: stamped(strconv.FormatInt(time.Now().Add(-6*time.Minute).Unix(), 10))}, 401, quick},
		{"timestamp 6 minutes ahead", wire{headers: stamped(strconv.FormatInt(time.Now().Add(6*time.Minute).Unix(), 10))}, 401, quick},
		{"signature of another timestamp", wire{headers: with("webhook-timestamp", strconv.FormatInt(time.Now().Unix()-1, 10))}, 401, quick},

		// Ids.
		{"id empty", wire{headers: with("webhook-id", "")}, 400, quick},
		{"id of 257 bytes", wire{headers: withID(strings.Repeat("i", 257))}, 400, quick},
		{"id of 10 KiB", wire{headers: withID(strings.Repeat("i", 10<<10))}, 400, quick},
		{"id with a space", wire{headers: withID("msg 1")}, 400, quick},
		{"id with a control byte", wire{headers: withID("msg_\x01")}, 400, quick},
		{"id with NUL", wire{headers: withID("msg_\x00x")}, 400, quick},
		{"id with DEL", wire{headers: withID("msg_\x7f")}, 400, quick},
		{"id with a non-UTF-8 byte", wire{headers: withID("msg_\xff")}, 400, quick},
		{"id with UTF-8 letters", wire{headers: withID("msg_é")}, 400, quick},
		{"id with a slash, forged", wire{headers: with("webhook-id", "projects/x/databases/(default)/documents/c/d")}, 401, quick},
		{"id '.', forged", wire{headers: with("webhook-id", ".")}, 401, quick},
		{"id '..', forged", wire{headers: with("webhook-id", "..")}, 401, quick},

		// Bodies and framing.
		{"body over the limit with Content-Length", wire{headers: signedLines(r.secret, id(), now, over), body: over}, 413, quick},
		{"body over the limit, chunked", wire{headers: append(signedLines(r.secret, id(), now, over), "Transfer-Encoding: chunked"), body: chunked(over, 1000)}, 413, quick},
		{"Content-Length of 10 GiB, 10 bytes sent", wire{headers: signed("Content-Length: 10737418240"), body: "0123456789"}, 413, quick},
		{"unterminated chunked body past the limit", wire{headers: signed("Transfer-Encoding: chunked"), body: chunked(strings.Repeat("y", 64<<10), 8<<10)[:40<<10]}, 413, quick},
		{"body of exactly the limit, forged", wire{headers: sigLines(id(), mac(32)), body: over[1:]}, 401, quick},
		{"malformed chunk size", wire{headers: signed("Transfer-Encoding: chunked"), body: "zz\r\nabc\r\n0\r\n\r\n"}, 400, quick},
		{"Content-Length negative", wire{headers: signed("Content-Length: -1"), body: body}, 400, quick},
		{"two different Content-Lengths", wire{headers: signed("Content-Length: 10", "Content-Length: 20"), body: body}, 400, quick},
		// Chunked framing wins and the Content-Length is dropped (RFC 9112
		// 6.3), so no second request hides in the body: the forged
		// signature is what refuses it.
		{"Content-Length and chunked together, forged", wire{headers: append(sigLines(id(), mac(32)), "Content-Length: 5", "Transfer-Encoding: chunked"), body: chunked(body, 50)}, 401, quick},
		{"Transfer-Encoding gzip", wire{headers: signed("Transfer-Encoding: gzip"), body: body}, 501, quick},
		{"method GET", wire{method: http.MethodGet, headers: signed()}, 405, quick},
		{"method PURGE", wire{method: "PURGE", headers: signed()}, 405, quick},

		// Slow clients.
		{"slow headers", wire{headers: signed(), slowHead: true, trickle: 50 * time.Millisecond, endless: true}, 0, hostileHeaderTimeout + time.Second},
		{"slow body", wire{headers: signedLines(r.secret, id(), now, body), body: body, trickle: 50 * time.Millisecond}, 400, hostileReadTimeout(hostileMaxBody) + time.Second},
	}
	if len(rows) < 40 {
		t.Fatalf("%d rows, the issue asks for at least 40", len(rows))
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			status, answer, err := row.req.send(addr)
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			if status != row.want {
				t.Errorf("status %d (%s), want %d", status, strings.TrimSpace(answer), row.want)
			}
			if took > row.bound {
				t.Errorf("answered after %v, bound %v", took, row.bound)
			}
			if status >= 400 && status < 600 && status != 431 && status != 501 && strings.HasPrefix(answer, "{") {
				var m map[string]string
				if json.Unmarshal([]byte(answer), &m) != nil || m["error"] == "" {
					t.Errorf("answer %q is not the JSON error of the contract", answer)
				}
			}
		})
	}
	t.Run("nothing published or claimed", func(t *testing.T) {
		// Runs after the parallel rows above have finished.
		r.nothingReceived(2 * time.Second)
		for _, x := range ids {
			if c := r.claim(x); c != nil {
				t.Errorf("claim left for %s: %v", x, c)
			}
		}
		if n := ks.fetches.Load(); n > 2 {
			t.Errorf("%d JWKS fetches for forged dynamic deliveries, want at most 2 (first fetch, one refresh)", n)
		}
	})
}

// chunked frames s in chunks of n bytes, with the final chunk.
func chunked(s string, n int) string {
	var b strings.Builder
	for len(s) > 0 {
		c := s[:min(n, len(s))]
		s = s[len(c):]
		fmt.Fprintf(&b, "%x\r\n%s\r\n", len(c), c)
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// Ids shaped like paths are claimed under their hash, never as document
// names, and published as sent.
func TestPathLikeIDsAreHashed(t *testing.T) {
	r := newRig(t)
	ids := []string{"/", ".", "..", "a/b/c", "__name__", "projects/p/databases/(default)/documents/x/y", strings.Repeat("/", 256)}
	for _, id := range ids {
		if resp, answer := r.do(r.request(id, time.Now(), []byte(batchBody))); resp.StatusCode != 200 {
			t.Fatalf("%q: %d %s, want 200", id, resp.StatusCode, answer)
		}
		if c := r.claim(id); c == nil || c["webhook_id"] != id || c["state"] != "published" {
			t.Errorf("%q: claim %v, want a published claim under its hash", id, c)
		}
	}
	got := map[string]int{}
	for _, m := range r.received(len(ids), time.Second) {
		got[m.Attributes["webhook_id"]]++
	}
	for _, id := range ids {
		if got[id] != 1 {
			t.Errorf("%q published %d times, want 1", id, got[id])
		}
	}
}

// A key set that answers slowly, with garbage, or with a huge or endless
// document: dynamic deliveries get 503 (Gemini retries) within the bound
// REQUEST_TIMEOUT (here 2 s), nothing is published, and static deliveries
// are not affected.
func TestHostileJWKS(t *testing.T) {
	t.Parallel()
	const requestTimeout = 2 * time.Second
	key := edKey(t)
	good := jwks([]ed25519.PrivateKey{key}, nil)
	rows := []struct {
		name  string
		serve http.HandlerFunc
	}{
		{"slow", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(30 * time.Second):
			case <-r.Context().Done():
			}
			w.Write(good)
		}},
		{"headers then a stalled body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(good)))
			w.Write(good[:10])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
		{"garbage", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("<html>\x00\xff not a key set")) }},
		{"valid JSON, no keys", func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{"keys":[{"kty":"oct","k":"AAAA"}]}`)) }},
		{"huge: 2 MiB", func(w http.ResponseWriter, _ *http.Request) {
			w.Write(append(good[:len(good)-1], []byte(`,"pad":"`+strings.Repeat("p", 2<<20)+`"}`)...))
		}},
		{"endless", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"keys":[`))
			chunk := []byte(strings.Repeat(`{"kty":"OKP","crv":"Ed25519","x":"AAAA"},`, 100))
			for r.Context().Err() == nil {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		}},
		{"server error", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "boom", 500) }},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) }},
		{"redirect to plain http", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://jwks.example.invalid/jwks.json", http.StatusFound)
		}},
	}
	for _, row := range rows {
		t.Run(row.name, func(t *testing.T) {
			t.Parallel()
			var fetches atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fetches.Add(1)
				row.serve(w, r)
			}))
			t.Cleanup(srv.Close)
			r := newRig(t, func(o *rigOptions) {
				o.env["GEMINI_JWKS_URL"] = srv.URL + "/jwks.json"
				o.env["REQUEST_TIMEOUT"] = requestTimeout.String()
			})
			body := []byte(batchBody)
			for i := range 3 {
				id := "msg_jwks_" + strconv.Itoa(i)
				req := r.request(id, time.Now(), body)
				req.Header.Set("webhook-signature", verify.SignV1a(key, id, req.Header.Get("webhook-timestamp"), body))
				start := time.Now()
				resp, answer := r.do(req)
				if took := time.Since(start); took > requestTimeout+time.Second {
					t.Errorf("delivery %d answered after %v, bound %v", i, took, requestTimeout+time.Second)
				}
				if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
					t.Errorf("delivery %d: %d Retry-After=%q %s, want 503 with Retry-After", i, resp.StatusCode, resp.Header.Get("Retry-After"), answer)
				}
			}
			// Retries within the refresh gap do not refetch.
			if n := fetches.Load(); n > 1 && row.name != "redirect loop" {
				t.Errorf("%d fetches for 3 deliveries, want 1", n)
			}
			if resp, answer := r.do(r.request("msg_jwks_static", time.Now(), body)); resp.StatusCode != 200 {
				t.Errorf("static delivery: %d %s, want 200", resp.StatusCode, answer)
			}
			if got := r.received(1, 500*time.Millisecond); len(got) != 1 || got[0].Attributes["webhook_id"] != "msg_jwks_static" {
				t.Errorf("%d messages, want only the static delivery", len(got))
			}
		})
	}
}

// A flood of forged dynamic deliveries costs Google's key endpoint at most
// one fetch per refresh gap (30 s): the first fetch and one refresh on the
// first miss, however many deliveries.
func TestHostileJWKSRefreshFlood(t *testing.T) {
	t.Parallel()
	ks := newKeyServer(t, jwks([]ed25519.PrivateKey{edKey(t)}, nil))
	r := newRig(t, func(o *rigOptions) { o.env["GEMINI_JWKS_URL"] = ks.srv.URL })
	body := []byte(batchBody)
	forger := edKey(t)
	var wg sync.WaitGroup
	var wrong atomic.Int64
	for i := range 200 {
		wg.Go(func() {
			id := "msg_flood_" + strconv.Itoa(i)
			req := r.request(id, time.Now(), body)
			req.Header.Set("webhook-signature", verify.SignV1a(forger, id, req.Header.Get("webhook-timestamp"), body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 401 {
				wrong.Add(1)
			}
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	if n := wrong.Load(); n != 0 {
		t.Errorf("%d forged deliveries not answered 401", n)
	}
	if n := ks.fetches.Load(); n > 2 {
		t.Errorf("%d JWKS fetches for 200 forged deliveries, want at most 2", n)
	}
	r.nothingReceived(time.Second)
}

// Memory per delivery is bounded by MAX_BODY_BYTES: 32 concurrent endless
// bodies (chunked, so the receiver cannot refuse them by their length) are
// each cut at the limit and answered 413, and the heap grows by at most
// 3 x MAX_BODY_BYTES per request in flight. A Content-Length over the limit
// is refused before any byte of the body is read.
func TestHostileBodiesBoundMemory(t *testing.T) {
	const limit = DefaultMaxBodyBytes
	const flood = 32
	r := newRig(t) // MAX_BODY_BYTES at its default, 1 MiB
	// The rig's own server, without read timeouts: on a loaded machine 32
	// uploads of 1 MiB may outlast the scaled ones, and memory is the point.
	addr := strings.TrimPrefix(r.url, "http://")
	now := strconv.FormatInt(time.Now().Unix(), 10)

	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()

	var wg sync.WaitGroup
	statuses := make([]int, flood)
	for i := range flood {
		wg.Go(func() {
			// An endless chunked body: the server reads it through a
			// reader that never ends, one 32 KiB chunk at a time.
			pr, pw := io.Pipe()
			go func() {
				chunk := []byte(chunked(strings.Repeat("z", 32<<10), 32<<10))
				chunk = chunk[:len(chunk)-len("0\r\n\r\n")]
				for {
					if _, err := pw.Write(chunk); err != nil {
						return
					}
				}
			}()
			id := "msg_flood_body_" + strconv.Itoa(i)
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			head := wire{headers: append(signedLines(r.secret, id, now, "{}"), "Transfer-Encoding: chunked")}.head()
			go func() {
				io.WriteString(c, head)
				io.Copy(c, pr)
			}()
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			pr.CloseWithError(io.EOF)
			if err == nil {
				statuses[i] = resp.StatusCode
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled

	for i, s := range statuses {
		if s != 413 {
			t.Errorf("endless body %d: status %d, want 413", i, s)
		}
	}
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	bound := int64(flood * 3 * limit)
	t.Logf("heap in use grew by %.1f MiB at peak for %d endless bodies of limit %d KiB (bound %.0f MiB)",
		float64(growth)/(1<<20), flood, limit>>10, float64(bound)/(1<<20))
	if growth > bound {
		t.Errorf("heap grew by %d bytes, bound %d", growth, bound)
	}

	// Announced over the limit: refused from the header alone.
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := range 20 {
		req := wire{headers: append(signedLines(r.secret, "msg_cl_"+strconv.Itoa(i), now, "{}"), "Content-Length: 1073741824"), body: "{}"}
		if status, answer, err := req.send(addr); err != nil || status != 413 {
			t.Fatalf("Content-Length 1 GiB: %d %s %v, want 413", status, answer, err)
		}
	}
	runtime.ReadMemStats(&after)
	if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 4<<20 {
		t.Errorf("20 deliveries announcing 1 GiB allocated %d bytes, want well under one body", allocated)
	}
	r.nothingReceived(time.Second)
}

// A token that names its own key location (jku, x5u) or carries its own key
// (jwk) is verified against the pinned key set only: the attacker's key
// server is never contacted and the delivery is refused.
func TestHostileKeyLocationInToken(t *testing.T) {
	t.Parallel()
	attackerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pinnedKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attackerDoc := jwks(nil, map[string]*rsa.PrivateKey{"evil": attackerKey})
	var contacted atomic.Int64
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		contacted.Add(1)
		w.Write(attackerDoc)
	}))
	t.Cleanup(attacker.Close)
	ks := newKeyServer(t, jwks(nil, map[string]*rsa.PrivateKey{"rsa-1": pinnedKey}))
	r := newRig(t, func(o *rigOptions) { o.env["GEMINI_JWKS_URL"] = ks.srv.URL })

	body := []byte(batchBody)
	sum := sha256.Sum256(body)
	var doc struct{ Keys []map[string]any }
	if err := json.Unmarshal(attackerDoc, &doc); err != nil {
		t.Fatal(err)
	}
	embedded := doc.Keys[0]
	for i, header := range []map[string]any{
		{"alg": "RS256", "kid": "evil", "jku": attacker.URL + "/jwks.json"},
		{"alg": "RS256", "kid": "rsa-1", "jku": attacker.URL + "/jwks.json"},
		{"alg": "RS256", "x5u": attacker.URL + "/cert.pem"},
		{"alg": "RS256", "kid": "evil", "jwk": embedded},
	} {
		id := "msg_key_location_" + strconv.Itoa(i)
		req := r.request(id, time.Now(), body)
		h, _ := json.Marshal(header)
		c, _ := json.Marshal(map[string]any{"body_sha256": hex.EncodeToString(sum[:]), "iat": time.Now().Unix(), "exp": time.Now().Unix() + 300})
		input := b64url(h) + "." + b64url(c)
		digest := sha256.Sum256([]byte(input))
		sig, err := rsa.SignPKCS1v15(rand.Reader, attackerKey, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("webhook-signature", input+"."+b64url(sig))
		if resp, answer := r.do(req); resp.StatusCode != 401 {
			t.Errorf("token with header %v: %d %s, want 401", header, resp.StatusCode, answer)
		}
	}
	if n := contacted.Load(); n != 0 {
		t.Errorf("the attacker's key server was contacted %d times", n)
	}
	r.nothingReceived(time.Second)
}
