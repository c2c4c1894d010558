package geminihook

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/verify"
)

const batchBody = `{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batch_123456","output_file_uri":"gs://my-bucket/results.jsonl"}}`

func decode(t *testing.T, s string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("answer %q is not a JSON object of strings: %v", s, err)
	}
	return m
}

// Every rejection row of the contract's response table, with its exact
// status, and nothing published for any of them.
func TestRejections(t *testing.T) {
	r := newRig(t, func(o *rigOptions) { o.env["MAX_BODY_BYTES"] = "1024" })
	now := time.Now()
	body := []byte(batchBody)
	big := bytes.Repeat([]byte("x"), 1025)

	cases := []struct {
		name   string
		req    func() *http.Request
		status int
		header map[string]string
		code   string
	}{
		{"GET", func() *http.Request {
			req := r.request("msg_get", now, body)
			req.Method = http.MethodGet
			return req
		}, 405, map[string]string{"Allow": "POST"}, "method_not_allowed"},
		{"PUT", func() *http.Request {
			req := r.request("msg_put", now, body)
			req.Method = http.MethodPut
			return req
		}, 405, map[string]string{"Allow": "POST"}, "method_not_allowed"},
		{"missing webhook-id", func() *http.Request {
			req := r.request("msg_1", now, body)
			req.Header.Del("webhook-id")
			return req
		}, 400, nil, "bad_request"},
		{"missing webhook-timestamp", func() *http.Request {
			req := r.request("msg_1", now, body)
			req.Header.Del("webhook-timestamp")
			return req
		}, 400, nil, "bad_request"},
		{"missing webhook-signature", func() *http.Request {
			req := r.request("msg_1", now, body)
			req.Header.Del("webhook-signature")
			return req
		}, 400, nil, "bad_request"},
		{"timestamp not an integer", func() *http.Request {
			req := r.request("msg_1", now, body)
			req.Header.Set("webhook-timestamp", "12.5")
			return req
		}, 400, nil, "bad_request"},
		{"empty signature list", func() *http.Request {
			req := r.request("msg_1", now, body)
			req.Header.Set("webhook-signature", "  ")
			return req
		}, 400, nil, "bad_request"},
		{"signature by another secret", func() *http.Request {
			other, _ := verify.ParseSecret("whsec_" + strings.Repeat("A", 43))
			req := r.request("msg_1", now, body)
			req.Header.Set("webhook-signature", verify.SignV1(other, "msg_1", req.Header.Get("webhook-timestamp"), body))
			return req
		}, 401, nil, "unauthorized"},
		{"tampered body", func() *http.Request {
			req := r.request("msg_1", now, body)
			tampered := bytes.Replace(body, []byte("batch_123456"), []byte("batch_654321"), 1)
			req.Body = io.NopCloser(bytes.NewReader(tampered))
			return req
		}, 401, nil, "unauthorized"},
		{"signature of another id", func() *http.Request {
			req := r.request("msg_1", now, body)
			req.Header.Set("webhook-id", "msg_2")
			return req
		}, 401, nil, "unauthorized"},
		{"only unknown versions", func() *http.Request {
			req := r.request("msg_1", now, body)
			req.Header.Set("webhook-signature", "v2,"+strings.TrimPrefix(req.Header.Get("webhook-signature"), "v1,"))
			return req
		}, 401, nil, "unauthorized"},
		{"timestamp too old", func() *http.Request {
			return r.request("msg_1", now.Add(-DefaultTolerance-time.Minute), body)
		}, 401, nil, "unauthorized"},
		{"timestamp too new", func() *http.Request {
			return r.request("msg_1", now.Add(DefaultTolerance+time.Minute), body)
		}, 401, nil, "unauthorized"},
		{"body over the limit with Content-Length", func() *http.Request {
			return r.request("msg_big", now, big)
		}, 413, nil, "body_too_large"},
		{"body over the limit, chunked", func() *http.Request {
			req := r.request("msg_big", now, big)
			req.Body = io.NopCloser(io.MultiReader(bytes.NewReader(big)))
			req.ContentLength = -1
			return req
		}, 413, nil, "body_too_large"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, answer := r.do(c.req())
			if resp.StatusCode != c.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, answer, c.status)
			}
			for k, v := range c.header {
				if got := resp.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if got := decode(t, answer)["error"]; got != c.code {
				t.Errorf("error %q, want %q", got, c.code)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
	r.nothingReceived(2 * time.Second)
	if c := r.claim("msg_1"); c != nil {
		t.Errorf("a rejected delivery left a claim: %v", c)
	}
	// The same rig does publish a good delivery: the silence above is not
	// a broken pipeline.
	if resp, answer := r.do(r.request("msg_1", now, body)); resp.StatusCode != 200 {
		t.Fatalf("valid delivery after rejections: %d %s", resp.StatusCode, answer)
	}
	if got := r.received(1, 500*time.Millisecond); len(got) != 1 {
		t.Fatalf("%d messages, want 1", len(got))
	}
}

func TestPublishThenDuplicate(t *testing.T) {
	r := newRig(t)
	body := []byte(batchBody)
	sent := time.Now()
	resp, answer := r.do(r.request("msg_0001", sent, body))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s", resp.StatusCode, answer)
	}
	got := decode(t, answer)
	if got["status"] != "published" || got["message_id"] == "" {
		t.Fatalf("answer %v", got)
	}

	// Gemini's retry of the same event: same id and body, new timestamp
	// and signature.
	resp, answer = r.do(r.request("msg_0001", sent.Add(90*time.Second), body))
	if resp.StatusCode != 200 || decode(t, answer)["status"] != "duplicate" {
		t.Fatalf("retry: %d %s, want 200 duplicate", resp.StatusCode, answer)
	}

	msgs := r.received(1, time.Second)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want exactly 1", len(msgs))
	}
	m := msgs[0]
	if !bytes.Equal(m.Data, body) {
		t.Errorf("data %q, want the raw body", m.Data)
	}
	if m.ID != got["message_id"] {
		t.Errorf("message id %q, answer said %q", m.ID, got["message_id"])
	}
	want := map[string]string{
		"webhook_id":        "msg_0001",
		"event_type":        "batch.succeeded",
		"event_version":     "v1",
		"resource_id":       "batch_123456",
		"event_timestamp":   "2026-01-22T12:00:00Z",
		"webhook_timestamp": strconv.FormatInt(sent.Unix(), 10),
		"signature_scheme":  "v1",
	}
	if len(m.Attributes) != len(want) {
		t.Errorf("attributes %v, want %v", m.Attributes, want)
	}
	for k, v := range want {
		if m.Attributes[k] != v {
			t.Errorf("attribute %s = %q, want %q", k, m.Attributes[k], v)
		}
	}
	c := r.claim("msg_0001")
	if c["state"] != "published" || c["message_id"] != m.ID || c["event_type"] != "batch.succeeded" {
		t.Errorf("claim %v", c)
	}
}

func TestConcurrentCopiesPublishOnce(t *testing.T) {
	r := newRig(t)
	body := []byte(batchBody)
	const copies = 20
	statuses := make([]int, copies)
	answers := make([]string, copies)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range copies {
		req := r.request("msg_concurrent", time.Now(), body)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			statuses[i], answers[i] = resp.StatusCode, string(b)
		}()
	}
	close(start)
	wg.Wait()
	published := 0
	for i, s := range statuses {
		switch {
		case s == 200 && decode(t, answers[i])["status"] == "published":
			published++
		case s == 200 || s == 409:
		default:
			t.Errorf("copy %d: %d %s, want 200 or 409", i, s, answers[i])
		}
	}
	if published != 1 {
		t.Errorf("%d answers say published, want 1", published)
	}
	if msgs := r.received(1, 2*time.Second); len(msgs) != 1 {
		t.Fatalf("%d messages, want exactly 1", len(msgs))
	}
}

func TestLiveLeaseAnswers409(t *testing.T) {
	r := newRig(t, func(o *rigOptions) { o.env["DEDUPE_LEASE"] = "40s" })
	other := dedupe.NewFirestore(r.fs, r.collection, dedupe.Options{Lease: 40 * time.Second})
	if _, err := other.Claim(context.Background(), "msg_busy", "batch.succeeded"); err != nil {
		t.Fatal(err)
	}
	resp, answer := r.do(r.request("msg_busy", time.Now(), []byte(batchBody)))
	if resp.StatusCode != 409 {
		t.Fatalf("status %d %s, want 409", resp.StatusCode, answer)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 30 || ra > 40 {
		t.Errorf("Retry-After %q, want the remaining lease (about 40)", resp.Header.Get("Retry-After"))
	}
	r.nothingReceived(time.Second)
}

// Verified deliveries that we cannot read are events all the same.
func TestUnreadableAndUnknownEventsArePublished(t *testing.T) {
	r := newRig(t)
	cases := []struct {
		id, body, eventType, original string
	}{
		{"msg_unknown_type", `{"type":"webhook.ping","data":{}}`, "webhook.ping", ""},
		{"msg_not_json", `this is not JSON`, "unknown", ""},
		{"msg_no_type", `{"data":{"id":"x"}}`, "unknown", ""},
		{"msg_alias", `{"type":"batch.completed","data":{"id":"batches/abc"}}`, "batch.succeeded", "batch.completed"},
	}
	for _, c := range cases {
		resp, answer := r.do(r.request(c.id, time.Now(), []byte(c.body)))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", c.id, resp.StatusCode, answer)
		}
	}
	msgs := r.received(len(cases), time.Second)
	if len(msgs) != len(cases) {
		t.Fatalf("%d messages, want %d", len(msgs), len(cases))
	}
	byID := map[string]map[string]string{}
	data := map[string]string{}
	for _, m := range msgs {
		byID[m.Attributes["webhook_id"]] = m.Attributes
		data[m.Attributes["webhook_id"]] = string(m.Data)
	}
	for _, c := range cases {
		a := byID[c.id]
		if a["event_type"] != c.eventType || a["event_type_original"] != c.original {
			t.Errorf("%s: event_type %q original %q, want %q %q", c.id, a["event_type"], a["event_type_original"], c.eventType, c.original)
		}
		if data[c.id] != c.body {
			t.Errorf("%s: data %q, want the body as sent", c.id, data[c.id])
		}
	}
}

// The handler stops reading a body at the limit instead of draining it.
func TestBodyReadStopsAtLimit(t *testing.T) {
	t.Parallel()
	const limit = 4096
	h := NewHandler(verify.New(verify.Options{}), nil, nil, HandlerOptions{MaxBodyBytes: limit})
	for _, name := range []string{"chunked", "lying Content-Length"} {
		t.Run(name, func(t *testing.T) {
			src := &countingReader{}
			req := httptest.NewRequest(http.MethodPost, "/", src)
			req.ContentLength = -1
			if name != "chunked" {
				req.ContentLength = 10
			}
			req.Header.Set("webhook-id", "msg_1")
			req.Header.Set("webhook-timestamp", strconv.FormatInt(time.Now().Unix(), 10))
			req.Header.Set("webhook-signature", "v1,AAAA")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if name == "chunked" && rec.Code != 413 {
				t.Fatalf("status %d, want 413", rec.Code)
			}
			if src.n > limit+1 {
				t.Errorf("read %d bytes of an endless body, limit %d", src.n, limit)
			}
		})
	}
}

type countingReader struct{ n int }

func (c *countingReader) Read(p []byte) (int, error) {
	c.n += len(p)
	for i := range p {
		p[i] = 'x'
	}
	return len(p), nil
}

// Log lines follow the contract and never contain a secret, a signature or
// a body.
func TestLogLines(t *testing.T) {
	r := newRig(t)
	body := []byte(`{"type":"batch.failed","data":{"id":"batch_9","error_message":"BODY-MARKER-7f3a"}}`)
	good := r.request("msg_log", time.Now(), body)
	good.Header.Set("X-Cloud-Trace-Context", "105445aa7843bc8bf206b12000100000/1;o=1")
	sig := good.Header.Get("webhook-signature")
	r.do(good)
	r.do(r.request("msg_log", time.Now(), body)) // duplicate
	bad := r.request("msg_bad", time.Now(), body)
	bad.Header.Set("webhook-signature", "v1,"+strings.Repeat("A", 43)+"=")
	r.do(bad)
	get := r.request("msg_get", time.Now(), body)
	get.Method = http.MethodGet
	r.do(get)

	out := r.logs.String()
	for _, secret := range []string{testSecretText, strings.TrimPrefix(testSecretText, "whsec_"), strings.TrimPrefix(sig, "v1,"), "BODY-MARKER", "A" + strings.Repeat("A", 42)} {
		if strings.Contains(out, secret) {
			t.Errorf("log contains %q:\n%s", secret, out)
		}
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d log lines, want one per delivery (4):\n%s", len(lines), out)
	}
	want := []struct {
		outcome, severity string
		status            float64
	}{
		{"published", "INFO", 200},
		{"duplicate", "INFO", 200},
		{"rejected:bad_signature", "WARNING", 401},
		{"rejected:method", "WARNING", 405},
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d is not JSON: %s", i, line)
		}
		if m["outcome"] != want[i].outcome || m["severity"] != want[i].severity || m["status"] != want[i].status {
			t.Errorf("line %d: %s, want outcome %s severity %s status %v", i, line, want[i].outcome, want[i].severity, want[i].status)
		}
		if _, ok := m["latency_ms"].(float64); !ok {
			t.Errorf("line %d has no latency_ms: %s", i, line)
		}
		if m["message"] == nil {
			t.Errorf("line %d has no message: %s", i, line)
		}
		if i < 3 && m["webhook_id"] == nil {
			t.Errorf("line %d has no webhook_id: %s", i, line)
		}
	}
	var first map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	if first["logging.googleapis.com/trace"] != "projects/"+testProject+"/traces/105445aa7843bc8bf206b12000100000" {
		t.Errorf("trace field: %v", first["logging.googleapis.com/trace"])
	}
	if first["event_type"] != "batch.failed" || first["scheme"] != "v1" {
		t.Errorf("first line: %v", first)
	}
}

func TestTraceID(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		header map[string]string
		want   string
	}{
		{"traceparent", map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"cloud trace", map[string]string{"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"}, "105445aa7843bc8bf206b12000100000"},
		{"traceparent wins", map[string]string{"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1"}, "4bf92f3577b34da6a3ce929d0e0e4736"},
		{"injection refused", map[string]string{"X-Cloud-Trace-Context": "\"}\n{\"severity\":\"CRITICAL/1"}, ""},
		{"not hex", map[string]string{"traceparent": "00-zzf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}, ""},
		{"all zero", map[string]string{"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, ""},
		{"none", nil, ""},
	}
	for _, c := range cases {
		h := http.Header{}
		for k, v := range c.header {
			h.Set(k, v)
		}
		if got := traceID(h); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// PUBSUB_ORDERING=resource publishes each event with its resource_id as
// the ordering key; without it, no key is set.
func TestOrderingByResource(t *testing.T) {
	for _, c := range []struct {
		ordering, wantKey string
	}{{"resource", "batch_123456"}, {"none", ""}} {
		t.Run(c.ordering, func(t *testing.T) {
			r := newRig(t, func(o *rigOptions) { o.env["PUBSUB_ORDERING"] = c.ordering })
			if resp, answer := r.do(r.request("msg_ordered", time.Now(), []byte(batchBody))); resp.StatusCode != 200 {
				t.Fatalf("status %d %s", resp.StatusCode, answer)
			}
			msgs := r.received(1, 500*time.Millisecond)
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			if msgs[0].OrderingKey != c.wantKey {
				t.Errorf("ordering key %q, want %q", msgs[0].OrderingKey, c.wantKey)
			}
		})
	}
}
