package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/geminihook/geminihook"
	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

// cli runs geminihook with args and returns its exit code and output.
func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// countingPublisher stands in for Pub/Sub where a test counts what the real
// handler publishes.
type countingPublisher struct{ n atomic.Int64 }

func (p *countingPublisher) Publish(context.Context, publish.Message) (string, error) {
	return "m" + strconv.FormatInt(p.n.Add(1), 10), nil
}

// receiver is the real handler, verifying v1 with secret and the dynamic
// schemes with the JWKS at jwksURL, claims in memory.
func receiver(t *testing.T, secret string, jwksURL string) (*httptest.Server, *countingPublisher) {
	t.Helper()
	var methods []verify.Method
	if secret != "" {
		s, err := verify.ParseSecret(secret)
		if err != nil {
			t.Fatal(err)
		}
		methods = append(methods, verify.NewHMAC(s))
	}
	if jwksURL != "" {
		keys := verify.NewJWKS(jwksURL, verify.JWKSOptions{})
		t.Cleanup(keys.Close)
		methods = append(methods, verify.NewV1a(keys), verify.NewJWT(keys, verify.JWTOptions{}))
	}
	pub := &countingPublisher{}
	h := geminihook.NewHandler(verify.New(verify.Options{}, methods...), dedupe.NewMemory(dedupe.Options{}), pub, geminihook.HandlerOptions{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv, pub
}

func TestSecretNew(t *testing.T) {
	t.Parallel()
	code, out, _ := cli(t, "secret", "new")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := verify.ParseSecret(strings.TrimSpace(out)); err != nil {
		t.Fatalf("%q is not a usable secret: %v", out, err)
	}
	_, again, _ := cli(t, "secret", "new")
	if again == out {
		t.Error("two secrets are equal")
	}
}

func TestSendV1(t *testing.T) {
	t.Parallel()
	secret := verify.GenerateSecret()
	srv, pub := receiver(t, secret, "")
	for _, typ := range eventTypes {
		code, out, errOut := cli(t, "send", "--url", srv.URL, "--secret", secret, "--type", typ)
		if code != 0 || !strings.HasPrefix(out, "200 published") {
			t.Fatalf("%s: exit %d, %q %q", typ, code, out, errOut)
		}
	}
	if pub.n.Load() != int64(len(eventTypes)) {
		t.Errorf("%d published, want %d", pub.n.Load(), len(eventTypes))
	}
	// A wrong secret is refused, and send says so with exit 1.
	code, out, _ := cli(t, "send", "--url", srv.URL, "--secret", verify.GenerateSecret())
	if code != 1 || !strings.HasPrefix(out, "401") {
		t.Errorf("wrong secret: exit %d, %q", code, out)
	}
}

// keys new, jwks serve, and send --key: a dynamic webhook tested locally,
// v1a and both JWT forms, verified by the receiver's own methods.
func TestDynamicRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := cli(t, "keys", "new", "--out", dir)
	if code != 0 {
		t.Fatalf("keys new: exit %d %s", code, errOut)
	}
	kid := regexp.MustCompile(`kid (\S+)`).FindStringSubmatch(out)
	if kid == nil {
		t.Fatalf("keys new printed no kid: %q", out)
	}
	if fi, err := os.Stat(filepath.Join(dir, privateKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode: %v %v, want 0600", fi.Mode(), err)
	}
	if code, _, errOut := cli(t, "keys", "new", "--out", dir); code != 1 || !strings.Contains(errOut, "--force") {
		t.Errorf("keys new over existing keys: exit %d %q, want a refusal mentioning --force", code, errOut)
	}
	rsaDir := t.TempDir()
	_, rsaOut, _ := cli(t, "keys", "new", "--out", rsaDir, "--type", "rsa")
	rsaKid := regexp.MustCompile(`kid (\S+)`).FindStringSubmatch(rsaOut)

	// One key set with both keys, served as jwks serve does.
	var keys []json.RawMessage
	for _, d := range []string{dir, rsaDir} {
		var set struct{ Keys []json.RawMessage }
		b, _ := os.ReadFile(filepath.Join(d, jwksFile))
		json.Unmarshal(b, &set)
		keys = append(keys, set.Keys...)
	}
	both, _ := json.Marshal(map[string]any{"keys": keys})
	jwksDir := t.TempDir()
	os.WriteFile(filepath.Join(jwksDir, jwksFile), both, 0o644)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go serveJWKS(ctx, ln, filepath.Join(jwksDir, jwksFile))

	srv, pub := receiver(t, "", "http://"+ln.Addr().String()+"/jwks.json")
	cases := [][]string{
		{"--key", filepath.Join(dir, privateKeyFile), "--type", "video.generated", "--metadata", "team=vision"},
		{"--key", filepath.Join(dir, privateKeyFile), "--kid", kid[1]},
		{"--key", filepath.Join(rsaDir, privateKeyFile), "--kid", rsaKid[1]},
	}
	for _, c := range cases {
		code, out, errOut := cli(t, append([]string{"send", "--url", srv.URL}, c...)...)
		if code != 0 || !strings.HasPrefix(out, "200 published") {
			t.Errorf("send %v: exit %d %q %q", c, code, out, errOut)
		}
	}
	if pub.n.Load() != int64(len(cases)) {
		t.Errorf("%d published, want %d", pub.n.Load(), len(cases))
	}
	// An RSA key cannot sign v1a.
	if code, _, errOut := cli(t, "send", "--url", srv.URL, "--key", filepath.Join(rsaDir, privateKeyFile)); code != 2 || !strings.Contains(errOut, "--key") {
		t.Errorf("v1a with an RSA key: exit %d %q, want 2 naming --key", code, errOut)
	}
}

// --count, --concurrency and --duplicates: every event published once, every
// second delivery a duplicate, and a summary that says so.
func TestSendManyWithDuplicates(t *testing.T) {
	t.Parallel()
	secret := verify.GenerateSecret()
	srv, pub := receiver(t, secret, "")
	code, out, errOut := cli(t, "send", "--url", srv.URL, "--secret", secret, "--count", "50", "--concurrency", "8", "--duplicates", "--json")
	if code != 0 {
		t.Fatalf("exit %d %s %s", code, out, errOut)
	}
	var s summary
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if s.Deliveries != 100 || s.Accepted != 100 || s.Outcomes["published"] != 50 || s.Outcomes["duplicate"] != 50 || s.PerSecond <= 0 || s.P50Ms <= 0 {
		t.Errorf("summary %+v", s)
	}
	if pub.n.Load() != 50 {
		t.Errorf("%d published, want 50", pub.n.Load())
	}
	_, line, _ := cli(t, "send", "--url", srv.URL, "--secret", secret, "--count", "5")
	if !strings.Contains(line, "5 deliveries") || !strings.Contains(line, "published=5") {
		t.Errorf("summary line %q", line)
	}
}

// --retry behaves like Gemini: same id, a new timestamp and signature on
// every attempt, exponential backoff, attempts reported.
func TestSendRetry(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var ids, stamps []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		ids = append(ids, r.Header.Get("webhook-id"))
		stamps = append(stamps, r.Header.Get("webhook-timestamp"))
		if len(ids) < 3 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(503)
			w.Write([]byte(`{"error":"unavailable","message":"retry"}`))
			return
		}
		w.Write([]byte(`{"status":"published","message_id":"1"}`))
	}))
	defer srv.Close()
	start := time.Now()
	code, out, errOut := cli(t, "send", "--url", srv.URL, "--secret", verify.GenerateSecret(), "--retry", "--backoff", "1s")
	if code != 0 || !strings.Contains(out, "attempts=3") {
		t.Fatalf("exit %d %q %q, want success after 3 attempts", code, out, errOut)
	}
	if ids[0] != ids[1] || ids[1] != ids[2] {
		t.Errorf("ids %v, want the same id on every attempt", ids)
	}
	if stamps[0] == stamps[1] || stamps[1] == stamps[2] {
		t.Errorf("timestamps %v, want a new one on every attempt", stamps)
	}
	if d := time.Since(start); d < 3*time.Second {
		t.Errorf("took %v: backoff of 1s then 2s not observed", d)
	}
	// Without --retry, one attempt and a failure.
	mu.Lock()
	ids = ids[:0]
	mu.Unlock()
	if code, _, _ := cli(t, "send", "--url", srv.URL, "--secret", verify.GenerateSecret()); code != 1 || len(ids) != 1 {
		t.Errorf("without --retry: exit %d after %d attempts, want 1 after 1", code, len(ids))
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	secret := verify.GenerateSecret()
	cases := []struct {
		args []string
		want string // in stderr
	}{
		{nil, "a command is required"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"send"}, "--secret"},
		{[]string{"send", "--secret", "whsec_nope"}, "--secret"},
		{[]string{"send", "--secret", secret, "--count", "0"}, "--count"},
		{[]string{"send", "--secret", secret, "--count", "many"}, "--count"},
		{[]string{"send", "--secret", secret, "--concurrency", "-1"}, "--concurrency"},
		{[]string{"send", "--secret", secret, "--metadata", "novalue"}, "--metadata"},
		{[]string{"send", "--secret", secret, "--kid", "k"}, "--kid"},
		{[]string{"send", "--key", "/nonexistent.pem"}, "--key"},
		{[]string{"send", "--bogus"}, "--bogus"},
		{[]string{"keys", "new"}, "--out"},
		{[]string{"keys", "new", "--out", "x", "--type", "dsa"}, "--type"},
		{[]string{"jwks", "serve", "--dir", "x", "--addr", "0.0.0.0:8081"}, "loopback"},
		{[]string{"tail", "--project", "p"}, "--topic"},
		{[]string{"serve", "extra"}, "unknown command"},
	}
	for _, c := range cases {
		code, _, errOut := cli(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

// tail prints events published to a topic, decoded, on the emulator.
func TestTail(t *testing.T) {
	emulator.PubSubHost(t)
	ctx := context.Background()
	const project = "geminihook-cli-test"
	topic := emulator.UniqueName("tail-")
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: publish.TopicName(project, topic)}); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr emulator.Buffer
	done := make(chan int)
	go func() {
		done <- run([]string{"tail", "--project", project, "--topic", topic, "--limit", "2"}, strings.NewReader(""), &stdout, &stderr)
	}()
	// Publish once tail's subscription exists.
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(stderr.String(), "tailing"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("tail did not start: %s", stderr.String())
		}
	}
	pub := ps.Publisher(topic)
	defer pub.Stop()
	bodies := []string{
		`{"type":"batch.completed","data":{"id":"batches/1","output_file_uri":"gs://b/1.jsonl"}}`,
		`{"type":"video.generated","data":{"id":"operations/2","video_uri":"gs://v/2.mp4"},"user_metadata":{"team":"vision"}}`,
	}
	for i, b := range bodies {
		attrs := publish.ParseEnvelope([]byte(b)).Attributes("msg_tail_"+strconv.Itoa(i), "1", "v1a")
		if _, err := pub.Publish(ctx, &pubsub.Message{Data: []byte(b), Attributes: attrs}).Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("tail exit %d: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("tail did not stop after --limit events")
	}
	out := stdout.String()
	for _, want := range []string{
		"batch.succeeded  webhook_id=msg_tail_0 (sent as batch.completed) resource=batches/1", "output=gs://b/1.jsonl",
		"video.generated  webhook_id=msg_tail_1 resource=operations/2 scheme=v1a meta.team=vision output=gs://v/2.mp4",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("tail output lacks %q:\n%s", want, out)
		}
	}
	// The temporary subscription is gone.
	it := ps.TopicAdminClient.ListTopicSubscriptions(ctx, &pubsubpb.ListTopicSubscriptionsRequest{Topic: publish.TopicName(project, topic)})
	if name, err := it.Next(); err == nil {
		t.Errorf("subscription %s left behind", name)
	}
}
