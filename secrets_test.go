package geminihook

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

const rotatedSecretText = "whsec_" + "Tm93IGlzIHRoZSB0aW1lIGZvciBhbGwgZ29vZCBtZW4u"

func TestSecretsFileAtStartup(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(testSecretText+"\n"+rotatedSecretText+"\n"), 0o600)
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("whsec_???"), 0o600)
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)

	c, err := LoadConfig(env(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "GEMINI_WEBHOOK_SECRETS_FILE": good}))
	if err != nil || len(c.FileSecrets) != 2 || c.SecretsFile != good {
		t.Fatalf("good file: %+v %v", c, err)
	}
	// A new deployment's secret is empty until Gemini issues one.
	if c, err := LoadConfig(env(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "GEMINI_WEBHOOK_SECRETS_FILE": empty})); err != nil || len(c.FileSecrets) != 0 {
		t.Errorf("empty file: %v, want accepted with no secret", err)
	}
	for name, path := range map[string]string{"bad": bad, "missing": filepath.Join(dir, "none")} {
		_, err := LoadConfig(env(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "GEMINI_WEBHOOK_SECRETS_FILE": path}))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Variable != "GEMINI_WEBHOOK_SECRETS_FILE" {
			t.Errorf("%s file: %v, want an error naming GEMINI_WEBHOOK_SECRETS_FILE", name, err)
		}
		if err != nil && strings.Contains(err.Error(), "???") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
}

// Rotation without a restart: the receiver picks up a new file content,
// accepts old and new during the overlap, and only the new one after.
func TestSecretsFileRotation(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets")
	write := func(s string) {
		// Replace the file as a mounted volume does, never half-written.
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			t.Fatal(err)
		}
	}
	write(testSecretText)
	r, logs := fileReceiver(t, path)

	old, _ := verify.ParseSecret(testSecretText)
	rotated, _ := verify.ParseSecret(rotatedSecretText)
	n := 0
	status := func(s verify.Secret) int {
		n++
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, signedRequest(s, "msg_rot_"+strconv.Itoa(n), []byte("{}")))
		return rec.Code
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("%s: not within 20s", what)
	}

	if status(old) != 200 || status(rotated) != 401 {
		t.Fatal("before rotation: want the old secret only")
	}
	write(rotatedSecretText + " " + testSecretText)
	eventually("overlap accepts the new secret", func() bool { return status(rotated) == 200 })
	if status(old) != 200 {
		t.Error("during the overlap the old secret must still verify")
	}
	write("whsec_not base64!")
	eventually("the unusable file is reported", func() bool { return strings.Contains(logs.String(), "secrets file unusable") })
	if status(rotated) != 200 || status(old) != 200 {
		t.Error("an unusable file must leave the secrets in use")
	}
	if strings.Contains(logs.String(), "not base64") {
		t.Errorf("the unusable file's content reached the log:\n%s", logs)
	}
	write(rotatedSecretText)
	eventually("the old secret is revoked", func() bool { return status(old) == 401 })
	if status(rotated) != 200 {
		t.Error("after the overlap the new secret must verify")
	}
}

type publisherFunc func() (string, error)

func (f publisherFunc) Publish(context.Context, publish.Message) (string, error) { return f() }

// A deployment starts with an empty secret; the first secret stored is
// picked up without a restart.
func TestSecretsFileStartsEmpty(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "secrets")
	os.WriteFile(path, []byte("\n"), 0o600)
	r, logs := fileReceiver(t, path)
	secret, _ := verify.ParseSecret(testSecretText)
	deliver := func() int {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, signedRequest(secret, "msg_first", []byte("{}")))
		return rec.Code
	}
	if got := deliver(); got != 401 {
		t.Fatalf("before any secret: %d, want 401", got)
	}
	os.WriteFile(path+".tmp", []byte(testSecretText), 0o600)
	os.Rename(path+".tmp", path)
	for deadline := time.Now().Add(20 * time.Second); deliver() != 200; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the stored secret was not picked up within 20s")
		}
	}
	if strings.Contains(logs.String(), "unusable") {
		t.Errorf("an empty secret at start-up is expected, not an error:\n%s", logs)
	}
}

// fileReceiver is a receiver whose only secrets come from the file at path,
// re-read every 20 ms, with claims in memory and a publisher that accepts
// everything.
func fileReceiver(t *testing.T, path string) (*Receiver, *emulator.Buffer) {
	t.Helper()
	cfg, err := LoadConfig(env(map[string]string{"GEMINI_WEBHOOK_SECRETS_FILE": path}))
	if err != nil {
		t.Fatal(err)
	}
	logs := &emulator.Buffer{}
	r, err := New(context.Background(), cfg,
		WithClaimStore(dedupe.NewMemory(dedupe.Options{})),
		WithPublisher(publisherFunc(func() (string, error) { return "m1", nil }), nil),
		WithLogOutput(logs),
		func(o *options) { o.secretsReload = 20 * time.Millisecond })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Shutdown(context.Background()) })
	return r, logs
}
