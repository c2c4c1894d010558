package test

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/internal/faultproxy"
	"github.com/geminihook/geminihook/verify"
)

// `geminihook serve` with nothing configured runs the whole flow in
// process and prints the secret it generated and every message.
func TestEmbeddedMode(t *testing.T) {
	p := start(t, map[string]string{})
	var secretText string
	re := regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)
	for deadline := time.Now().Add(10 * time.Second); secretText == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		secretText = re.FindString(p.stdout.String())
	}
	if !strings.Contains(p.stdout.String(), "NOTHING IS DURABLE") {
		t.Errorf("embedded mode does not say that nothing is durable:\n%s", p.stdout)
	}
	secret, err := verify.ParseSecret(secretText)
	if err != nil {
		t.Fatalf("no usable generated secret on stdout (%q): %v", secretText, err)
	}
	status, _, answer, err := post(p.url, secret, event("msg_embedded"))
	if err != nil || status != 200 || !strings.Contains(answer, `"published"`) {
		t.Fatalf("delivery: %d %s %v", status, answer, err)
	}
	if status, _, answer, _ := post(p.url, secret, event("msg_embedded")); status != 200 || !strings.Contains(answer, `"duplicate"`) {
		t.Fatalf("retry: %d %s, want 200 duplicate", status, answer)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(p.stdout.String(), "webhook_id: msg_embedded") {
			break
		}
	}
	if got := strings.Count(p.stdout.String(), "webhook_id: msg_embedded"); got != 1 {
		t.Fatalf("message printed %d times, want 1:\n%s", got, p.stdout)
	}
	p.signal(syscall.SIGTERM)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

func TestBadConfigurationStopsStartup(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"DEDUPE_RETENTION":       "a while",
		"GEMINI_WEBHOOK_SECRETS": "whsec_!!",
		"GEMINI_JWKS_URL":        "http://keys.example.com/jwks.json",
		"MAX_BODY_BYTES":         "lots",
	}
	for variable, value := range cases {
		t.Run(variable, func(t *testing.T) {
			t.Parallel()
			p := &process{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
			p.cmd = newCmd(map[string]string{variable: value, "PORT": "0"})
			p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
			if err := p.cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { p.err = p.cmd.Wait(); close(p.exited) }()
			if code := p.wait(10 * time.Second); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(p.stderr.String(), variable) {
				t.Errorf("stderr does not name %s:\n%s", variable, p.stderr)
			}
		})
	}
}

// Pub/Sub down: 503 with Retry-After, the id stays claimable, and Gemini's
// retry publishes it exactly once when Pub/Sub is back.
func TestPubSubDown(t *testing.T) {
	b := newBackends(t)
	ps := faultproxy.Start(t, emulator.PubSubHost(t))
	p := start(t, b.vars(emulator.FirestoreHost(t), ps.Addr()))
	secret := mustSecret(t)

	ps.SetMode(faultproxy.Refuse)
	status, h, answer, err := post(p.url, secret, event("msg_ps_down"))
	if err != nil || status != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("with Pub/Sub down: %d Retry-After=%q %s %v, want 503 with Retry-After", status, h.Get("Retry-After"), answer, err)
	}
	// Released, not merely left to expire: the next attempt may publish
	// at once.
	if s := b.claimState("msg_ps_down"); s != "" {
		t.Fatalf("claim %q left after a failed publish, want it released", s)
	}

	ps.SetMode(faultproxy.Forward)
	retryUntil200(t, p.url, secret, event("msg_ps_down"))
	if ids := b.messages(1, 2*time.Second); len(ids) != 1 || ids[0] != "msg_ps_down" {
		t.Fatalf("messages %v, want msg_ps_down once", ids)
	}
	if s := b.claimState("msg_ps_down"); s != "published" {
		t.Errorf("claim state %q, want published", s)
	}
}

// Firestore down: 503 with Retry-After and nothing published.
func TestFirestoreDown(t *testing.T) {
	b := newBackends(t)
	fs := faultproxy.Start(t, emulator.FirestoreHost(t))
	p := start(t, b.vars(fs.Addr(), emulator.PubSubHost(t)))
	secret := mustSecret(t)

	fs.SetMode(faultproxy.Refuse)
	status, h, answer, err := post(p.url, secret, event("msg_fs_down"))
	if err != nil || status != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("with Firestore down: %d Retry-After=%q %s %v, want 503 with Retry-After", status, h.Get("Retry-After"), answer, err)
	}
	if ids := b.messages(0, 2*time.Second); len(ids) != 0 {
		t.Fatalf("published %v while Firestore was down", ids)
	}

	fs.SetMode(faultproxy.Forward)
	retryUntil200(t, p.url, secret, event("msg_fs_down"))
	if ids := b.messages(1, 2*time.Second); len(ids) != 1 {
		t.Fatalf("messages %v, want msg_fs_down once", ids)
	}
}

// retryUntil200 re-sends d as Gemini would (same id, new timestamp) until
// it is answered 200.
func retryUntil200(t *testing.T, url string, secret verify.Secret, d delivery) {
	t.Helper()
	var status int
	var answer string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var err error
		status, _, answer, err = post(url, secret, d)
		if err == nil && status == 200 {
			return
		}
		if err == nil && status != 503 && status != 409 {
			t.Fatalf("retry answered %d %s, want 200, 409 or 503", status, answer)
		}
	}
	t.Fatalf("not accepted within 60s: last %d %s", status, answer)
}

// SIGTERM while deliveries are in flight: each is answered, every one
// answered 200 is on Pub/Sub, and the process exits cleanly.
func TestSIGTERMDrainsInFlight(t *testing.T) {
	b := newBackends(t)
	ps := faultproxy.Start(t, emulator.PubSubHost(t))
	p := start(t, b.vars(emulator.FirestoreHost(t), ps.Addr()))
	secret := mustSecret(t)
	// Warm the connection, then make every publish take a while.
	retryUntil200(t, p.url, secret, event("msg_warm"))
	ps.SetDelay(300 * time.Millisecond)

	const n = 20
	type result struct {
		id     string
		status int
		err    error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := event("msg_term_" + string(rune('a'+i)))
			status, _, _, err := post(p.url, secret, d)
			results <- result{d.id, status, err}
		}()
	}
	// Let the requests reach the handler and block on the slow publish.
	time.Sleep(400 * time.Millisecond)
	p.signal(syscall.SIGTERM)
	wg.Wait()
	close(results)
	if code := p.wait(15 * time.Second); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}

	ok := map[string]bool{"msg_warm": true}
	for r := range results {
		switch {
		case r.err == nil && r.status == 200:
			ok[r.id] = true
		case r.err == nil && r.status == 503:
		case r.err != nil:
			// Not accepted before the listener closed: Gemini retries.
		default:
			t.Errorf("%s: status %d", r.id, r.status)
		}
	}
	if len(ok) < n/2 {
		t.Errorf("only %d of %d in-flight deliveries were answered 200 during shutdown", len(ok)-1, n)
	}
	got := map[string]int{}
	for _, id := range b.messages(len(ok), 2*time.Second) {
		got[id]++
	}
	for id := range ok {
		if got[id] != 1 {
			t.Errorf("%s answered 200 but published %d times", id, got[id])
		}
	}
	// The log is one JSON object per line.
	for _, line := range p.stdout.lines() {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		}
	}
	if !strings.Contains(p.stderr.String(), "stopped") {
		t.Errorf("no clean stop reported:\n%s", p.stderr)
	}
}
