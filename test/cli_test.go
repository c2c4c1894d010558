package test

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geminihook/geminihook/internal/emulator"
)

// The local dynamic-webhook loop a user runs, with the shipped binary only:
// keys new, jwks serve, serve with GEMINI_JWKS_URL, send --key (v1a) and
// send --key --kid (JWT), then tail shows both events.
func TestDynamicWebhookWithTheCLI(t *testing.T) {
	b := newBackends(t)
	dir := t.TempDir()
	out, err := exec.Command(binary, "keys", "new", "--out", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("keys new: %v %s", err, out)
	}
	kid := regexp.MustCompile(`kid (\S+)`).FindSubmatch(out)
	if kid == nil {
		t.Fatalf("no kid in %q", out)
	}

	jwksPort := freePort(t)
	jwks := exec.Command(binary, "jwks", "serve", "--dir", dir, "--addr", "127.0.0.1:"+strconv.Itoa(jwksPort))
	if err := jwks.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jwks.Process.Kill(); jwks.Wait() })

	vars := b.vars(emulator.FirestoreHost(t), emulator.PubSubHost(t))
	delete(vars, "GEMINI_WEBHOOK_SECRETS") // dynamic only
	vars["GEMINI_JWKS_URL"] = "http://127.0.0.1:" + strconv.Itoa(jwksPort) + "/jwks.json"
	p := start(t, vars)

	key := filepath.Join(dir, "private.pem")
	for _, args := range [][]string{
		{"send", "--url", p.url, "--key", key, "--type", "video.generated", "--metadata", "team=vision", "--id", "msg_cli_v1a", "--retry", "--backoff", "200ms"},
		{"send", "--url", p.url, "--key", key, "--kid", string(kid[1]), "--type", "batch.failed", "--id", "msg_cli_jwt", "--retry", "--backoff", "200ms"},
	} {
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "200 published") {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}

	// tail reads what the receiver published.
	tail := exec.Command(binary, "tail", "--project", project, "--subscription", b.sub, "--limit", "2")
	tail.Env = append(receiverEnv(nil), "PUBSUB_EMULATOR_HOST="+emulator.PubSubHost(t))
	done := make(chan struct{})
	var tailOut []byte
	go func() { tailOut, err = tail.Output(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		tail.Process.Kill()
		t.Fatal("tail did not stop after 2 events")
	}
	if err != nil {
		t.Fatalf("tail: %v", err)
	}
	for _, want := range []string{
		"video.generated  webhook_id=msg_cli_v1a", "scheme=v1a meta.team=vision",
		"batch.failed  webhook_id=msg_cli_jwt", "scheme=jwt",
	} {
		if !strings.Contains(string(tailOut), want) {
			t.Errorf("tail output lacks %q:\n%s", want, tailOut)
		}
	}
}
