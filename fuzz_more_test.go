package geminihook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

// recordingPublisher remembers what it was asked to publish.
type recordingPublisher struct {
	mu   sync.Mutex
	msgs []publish.Message
}

func (p *recordingPublisher) Publish(_ context.Context, m publish.Message) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.msgs = append(p.msgs, m)
	return "m1", nil
}

func (p *recordingPublisher) take() []publish.Message {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := p.msgs
	p.msgs = nil
	return m
}

// FuzzHandler sends arbitrary header values, methods and bodies straight to
// the handler (no HTTP parsing in front of it, so control bytes, invalid
// UTF-8 and empty values reach it), with an in-memory claim store and a
// recording publisher. Invariants: only the statuses of the contract, each
// with a JSON answer; a publish only for a POST whose v1 signature over
// exactly these bytes is in the list, and then the raw body and the id as
// sent; exactly one log line, JSON, that repeats neither the signature nor
// the body.
func FuzzHandler(f *testing.F) {
	const ts = "1767225600"
	now := time.Unix(1767225600, 0)
	secret, err := verify.ParseSecret(testSecretText)
	if err != nil {
		f.Fatal(err)
	}
	sign := func(id string, body string) string { return verify.SignV1(secret, id, ts, []byte(body)) }
	f.Add(uint8(0), "msg_1", ts, sign("msg_1", batchBody), []byte(batchBody))
	f.Add(uint8(0), "msg_2", ts, "v1,AAAA "+sign("msg_2", "x"), []byte("x"))
	f.Add(uint8(0), "msg_3", ts, sign("msg_3", strings.Repeat("b", 1025)), []byte(strings.Repeat("b", 1025)))
	f.Add(uint8(1), "msg_4", ts, sign("msg_4", "{}"), []byte("{}"))
	f.Add(uint8(0), "msg\x00\xff", "+1", "   ", []byte(nil))
	f.Add(uint8(0), "..", "-9223372036854775808", "v1a,AAAA a.b.c", []byte("{"))
	f.Add(uint8(0), "msg_5", ts+"0", sign("msg_5", "{}"), []byte("{}"))

	var logs emulator.Buffer
	pub := &recordingPublisher{}
	v := verify.New(verify.Options{Now: func() time.Time { return now }}, verify.NewHMAC(secret))
	h := NewHandler(v, dedupe.NewMemory(dedupe.Options{Now: func() time.Time { return now }}), pub, HandlerOptions{
		Logger: NewLogger(&logs, 0), MaxBodyBytes: 1024, RequestTimeout: time.Second,
	})
	methods := []string{http.MethodPost, http.MethodGet, http.MethodPut, "PURGE"}

	f.Fuzz(func(t *testing.T, method uint8, id, timestamp, sig string, body []byte) {
		req := httptest.NewRequest(methods[int(method)%len(methods)], "/", bytes.NewReader(body))
		req.Header = http.Header{"Webhook-Id": {id}, "webhook-timestamp": {timestamp}, "WEBHOOK-SIGNATURE": {sig}}
		before := len(logs.String())
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch rec.Code {
		case 200, 400, 401, 405, 413:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		var answer map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("answer %q is not a JSON object: %v", rec.Body, err)
		}
		published := pub.take()
		if rec.Code == 200 {
			signed := false
			for item := range strings.SplitSeq(sig, " ") {
				signed = signed || item == verify.SignV1(secret, id, timestamp, body)
			}
			if req.Method != http.MethodPost || !signed || len(body) > 1024 {
				t.Fatalf("answered 200 to %s with signature %q", req.Method, sig)
			}
		}
		switch {
		case len(published) > 1:
			t.Fatalf("%d messages for one delivery", len(published))
		case len(published) == 1 && (rec.Code != 200 || answer["status"] != "published"):
			t.Fatalf("published, but answered %d %v", rec.Code, answer)
		case len(published) == 1 && (!bytes.Equal(published[0].Data, body) || published[0].Attributes["webhook_id"] != id):
			t.Fatalf("published data %q id %q, want the body and id as sent", published[0].Data, published[0].Attributes["webhook_id"])
		case len(published) == 0 && answer["status"] == "published":
			t.Fatal(`answered "published" with nothing published`)
		}

		line := logs.String()[before:]
		if strings.Count(line, "\n") != 1 {
			t.Fatalf("%d log lines for one delivery: %q", strings.Count(line, "\n"), line)
		}
		var fields map[string]any
		if err := json.Unmarshal([]byte(line), &fields); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if len(sig) >= 16 && strings.Contains(line, sig) {
			t.Fatalf("log line %q repeats the signature", line)
		}
		if len(body) >= 16 && bytes.Contains([]byte(line), body) {
			t.Fatalf("log line %q repeats the body", line)
		}
	})
}

// FuzzReadBody checks the bounded body read on its own: it never takes more
// than limit+1 bytes from the client, refuses an announced length over the
// limit without reading, and otherwise returns the body exactly or a
// *http.MaxBytesError.
func FuzzReadBody(f *testing.F) {
	f.Add([]byte("hello"), uint16(10), uint8(0))
	f.Add([]byte("hello"), uint16(4), uint8(1))
	f.Add(bytes.Repeat([]byte("x"), 300), uint16(256), uint8(2))
	f.Add([]byte(""), uint16(0), uint8(3))
	f.Add([]byte("0123456789"), uint16(9), uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, limit16 uint16, framing uint8) {
		limit := int64(limit16) + 1
		src := &countingSource{r: bytes.NewReader(data)}
		req := httptest.NewRequest(http.MethodPost, "/", src)
		switch framing % 4 {
		case 0:
			req.ContentLength = -1 // chunked
		case 1:
			req.ContentLength = int64(len(data))
		case 2:
			req.ContentLength = int64(len(data) / 2) // announces less than it sends
		case 3:
			req.ContentLength = int64(len(data)) + 5 // announces more
		}
		got, err := readBody(httptest.NewRecorder(), req, limit)
		if src.n > limit+1 {
			t.Fatalf("read %d bytes with limit %d", src.n, limit)
		}
		var tooLarge *http.MaxBytesError
		switch {
		case req.ContentLength > limit:
			if !errors.As(err, &tooLarge) || src.n != 0 {
				t.Fatalf("announced %d over limit %d: error %v after reading %d bytes", req.ContentLength, limit, err, src.n)
			}
		case int64(len(data)) > limit:
			if !errors.As(err, &tooLarge) {
				t.Fatalf("%d bytes over limit %d: error %v", len(data), limit, err)
			}
		case err != nil || !bytes.Equal(got, data):
			t.Fatalf("readBody = %q, %v; want the body", got, err)
		}
	})
}

type countingSource struct {
	r io.Reader
	n int64
}

func (c *countingSource) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// FuzzTraceID checks the trace headers, which are untrusted and reach the
// log: the result is empty or 32 hex digits (not all zero) taken from one
// of them, so nothing else of a header is ever logged.
func FuzzTraceID(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "105445aa7843bc8bf206b12000100000/1;o=1")
	f.Add("", "\"}\n{\"severity\":\"CRITICAL/1")
	f.Add("00-00000000000000000000000000000000-00f067aa0ba902b7-01", "")
	f.Add("-4bf92f3577b34da6a3ce929d0e0e4736--", "4BF92F3577B34DA6A3CE929D0E0E4736")
	f.Fuzz(func(t *testing.T, traceparent, cloud string) {
		h := http.Header{"Traceparent": {traceparent}, "X-Cloud-Trace-Context": {cloud}}
		got := traceID(h)
		if got == "" {
			return
		}
		if !isHex32(got) || !strings.Contains(traceparent+"\x00"+cloud, got) {
			t.Fatalf("traceID = %q from %q, %q", got, traceparent, cloud)
		}
	})
}
