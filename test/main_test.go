// Package test drives the built geminihook binary over HTTP, as Gemini
// would, against the Firestore and Pub/Sub emulators.
package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "geminihook-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "geminihook")
	build := exec.Command("go", "build", "-race", "-o", binary, "../cmd/geminihook")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the receiver:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const project = "geminihook-e2e"

// process is a running receiver.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{}
	err    error
}

// receiverEnv is the environment of a receiver process: none of the
// variables of the test's own environment that configure the receiver, then
// vars.
func receiverEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GOOGLE_CLOUD_PROJECT", "FIRESTORE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST", "PORT", "K_SERVICE",
			"GEMINI_WEBHOOK_SECRETS", "PUBSUB_TOPIC", "DEDUPE_COLLECTION":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// start runs the receiver with vars and waits until it listens.
func start(t *testing.T, vars map[string]string) *process {
	t.Helper()
	port := freePort(t)
	vars["PORT"] = strconv.Itoa(port)
	p := &process{t: t, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{}),
		url: "http://127.0.0.1:" + strconv.Itoa(port) + "/"}
	p.cmd = exec.Command(binary, "serve")
	p.cmd.Env = receiverEnv(vars)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("receiver stdout:\n%s\nreceiver stderr:\n%s", p.stdout, p.stderr)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			t.Fatalf("receiver exited at start-up: %v\n%s", p.err, p.stderr)
		default:
		}
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			c.Close()
			return p
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("receiver did not listen within 30s\n%s", p.stderr)
	return nil
}

func (p *process) signal(s os.Signal) {
	if err := p.cmd.Process.Signal(s); err != nil {
		p.t.Fatal(err)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(d time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(d):
		p.t.Fatalf("receiver still running after %v", d)
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 0
}

// delivery is one signed webhook request.
type delivery struct {
	id   string
	body []byte
}

func post(url string, secret verify.Secret, d delivery) (int, http.Header, string, error) {
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(d.body))
	if err != nil {
		return 0, nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", d.id)
	req.Header.Set("webhook-timestamp", stamp)
	req.Header.Set("webhook-signature", verify.SignV1(secret, d.id, stamp, d.body))
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), nil
}

func event(id string) delivery {
	return delivery{id: id, body: []byte(`{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batch_` + id + `","output_file_uri":"gs://b/r.jsonl"}}`)}
}

// backends is a topic with a subscription and a claims collection on the
// emulators, reached directly (not through any proxy).
type backends struct {
	t          *testing.T
	topic      string
	collection string
	sub        string
	ps         *pubsub.Client
	fs         *firestore.Client
}

func newBackends(t *testing.T) *backends {
	t.Helper()
	emulator.FirestoreHost(t)
	emulator.PubSubHost(t)
	ctx := context.Background()
	b := &backends{t: t, topic: emulator.UniqueName("events-"), collection: emulator.UniqueName("claims-")}
	var err error
	if b.ps, err = pubsub.NewClient(ctx, project); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.ps.Close() })
	if b.fs, err = firestore.NewClient(ctx, project); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.fs.Close() })
	if _, err := b.ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: publish.TopicName(project, b.topic)}); err != nil {
		t.Fatal(err)
	}
	b.sub = "projects/" + project + "/subscriptions/" + b.topic
	if _, err := b.ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: b.sub, Topic: publish.TopicName(project, b.topic), AckDeadlineSeconds: 60,
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// vars configures a receiver for these backends at the given emulator
// addresses (proxies or the emulators themselves).
func (b *backends) vars(firestoreAddr, pubsubAddr string) map[string]string {
	return map[string]string{
		"GOOGLE_CLOUD_PROJECT":    project,
		"FIRESTORE_EMULATOR_HOST": firestoreAddr,
		"PUBSUB_EMULATOR_HOST":    pubsubAddr,
		"PUBSUB_TOPIC":            b.topic,
		"DEDUPE_COLLECTION":       b.collection,
		"GEMINI_WEBHOOK_SECRETS":  secretText,
		"REQUEST_TIMEOUT":         "3s",
		"DEDUPE_LEASE":            "10s",
	}
}

// messages pulls until want messages arrived, then listens for quiet more,
// and returns the webhook ids received, with repeats.
func (b *backends) messages(want int, quiet time.Duration) []string {
	b.t.Helper()
	var ids []string
	for _, m := range emulator.Receive(b.t, b.ps, b.sub, want, quiet, 30*time.Second) {
		ids = append(ids, m.Attributes["webhook_id"])
	}
	return ids
}

// claimState is the state of a claim, or "" when there is none.
func (b *backends) claimState(id string) string {
	b.t.Helper()
	snap, err := b.fs.Collection(b.collection).Doc(dedupe.DocID(id)).Get(context.Background())
	if err != nil {
		return ""
	}
	s, _ := snap.DataAt("state")
	return fmt.Sprint(s)
}

const secretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func mustSecret(t *testing.T) verify.Secret {
	s, err := verify.ParseSecret(secretText)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syncBuffer captures a process's output.
type syncBuffer struct{ emulator.Buffer }

// lines returns the lines written so far.
func (s *syncBuffer) lines() []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s.String()))
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

func newCmd(vars map[string]string) *exec.Cmd {
	cmd := exec.Command(binary, "serve")
	cmd.Env = receiverEnv(vars)
	return cmd
}
