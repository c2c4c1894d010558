package subscriber

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/geminihook/geminihook/event"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
)

// The tests below go through the functions framework, which serves the
// registered function as Cloud Run's generated main does. They share the
// package's current Subscriber, so none of them runs in parallel.

var framework struct {
	once sync.Once
	url  string
	err  error
}

// frameworkURL starts the functions framework with
// FUNCTION_TARGET=HandleGeminiEvent, once per test binary (it cannot be
// stopped), and returns its base URL.
func frameworkURL(t *testing.T) string {
	t.Helper()
	framework.once.Do(func() {
		// The framework reads FUNCTION_TARGET when it starts serving.
		t.Setenv("FUNCTION_TARGET", FunctionName)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			framework.err = err
			return
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		served := make(chan error, 1)
		go func() { served <- funcframework.StartHostPort("127.0.0.1", port) }()
		framework.url = "http://127.0.0.1:" + port
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			select {
			case framework.err = <-served:
				return
			default:
			}
			if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
				c.Close()
				return
			}
		}
		framework.err = fmt.Errorf("the functions framework did not listen on port %s", port)
	})
	if framework.err != nil {
		t.Fatal(framework.err)
	}
	return framework.url
}

// install makes s the Subscriber the registered function serves, for the
// duration of the test.
func install(t *testing.T, s *Subscriber) {
	current.mu.Lock()
	prev := current.sub
	current.sub = s
	current.mu.Unlock()
	t.Cleanup(func() {
		current.mu.Lock()
		current.sub = prev
		current.mu.Unlock()
	})
}

func post(t *testing.T, url string, header http.Header, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// binaryMode is how Eventarc delivers the CloudEvent to Cloud Run: the
// context in ce- headers, the data as the body.
func binaryMode(body string, attrs map[string]string, messageID string) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Ce-Id", messageID)
	h.Set("Ce-Source", ceSource)
	h.Set("Ce-Specversion", "1.0")
	h.Set("Ce-Type", ceType)
	h.Set("Ce-Time", "2026-01-22T12:00:01.234Z")
	return h, messagePublishedData(body, attrs, messageID)
}

func structuredMode(body string, attrs map[string]string, messageID string) (http.Header, []byte) {
	h := http.Header{}
	h.Set("Content-Type", "application/cloudevents+json; charset=utf-8")
	return h, structuredCloudEvent(body, attrs, messageID)
}

func TestRegisteredWithFunctionsFramework(t *testing.T) {
	url := frameworkURL(t)
	s, rec, logs := newTestSubscriber(NewMemoryHandled(100, 0))
	install(t, s)

	body := geminiBody("batch.succeeded", `{"id":"batch_ff","output_file_uri":"gs://b/r.jsonl"}`)
	attrs := receiverAttributes(body, "msg_ff_1", "v1")
	for name, mode := range map[string]func(string, map[string]string, string) (http.Header, []byte){
		"binary": binaryMode, "structured": structuredMode,
	} {
		h, b := mode(body, attrs, "42")
		if status, answer := post(t, url+"/", h, b); status/100 != 2 {
			t.Fatalf("%s mode: status %d %q, want 2xx", name, status, answer)
		}
	}
	if got := rec.of(event.BatchSucceeded); !slices.Equal(got, []string{"msg_ff_1"}) {
		t.Errorf("handled %v, want msg_ff_1 once", got)
	}
	if got := outcomes(t, logs.String()); !slices.Equal(got, []string{outcomeHandled, outcomeDuplicate}) {
		t.Errorf("outcomes %v, want handled then duplicate", got)
	}

	// An unknown type is acknowledged, a transient failure is not.
	ping := geminiBody("webhook.ping", `{}`)
	h, b := binaryMode(ping, receiverAttributes(ping, "msg_ff_2", "v1"), "43")
	if status, answer := post(t, url+"/", h, b); status/100 != 2 {
		t.Errorf("unknown type: status %d %q, want 2xx", status, answer)
	}
	s.Handlers[event.VideoGenerated] = func(context.Context, *slog.Logger, *event.Event) error {
		return fmt.Errorf("storage unavailable")
	}
	video := geminiBody("video.generated", `{"id":"operations/v"}`)
	h, b = binaryMode(video, receiverAttributes(video, "msg_ff_3", "v1a"), "44")
	if status, answer := post(t, url+"/", h, b); status/100 == 2 {
		t.Errorf("failing handler: status %d %q, want non-2xx so that Pub/Sub redelivers", status, answer)
	}
}

// Real Pub/Sub payloads: the receiver's publisher sends messages to the
// emulator, which pushes them to the functions framework (that turns the
// push request into the CloudEvent a Pub/Sub-triggered function gets), and
// redelivers what the function did not acknowledge.
func TestPubSubEmulatorEndToEnd(t *testing.T) {
	emulator.PubSubHost(t)
	url := frameworkURL(t)
	s, rec, logs := newTestSubscriber(NewMemoryHandled(100, 0))
	var failures atomic.Int32
	failures.Store(1)
	handleSucceeded := s.Handlers[event.BatchSucceeded]
	s.Handlers[event.BatchSucceeded] = func(ctx context.Context, log *slog.Logger, ev *event.Event) error {
		if failures.Add(-1) >= 0 {
			return fmt.Errorf("transient")
		}
		return handleSucceeded(ctx, log, ev)
	}
	install(t, s)

	ctx := context.Background()
	const project = "geminihook-test"
	topic := emulator.UniqueName("subscriber-")
	pub, err := publish.New(ctx, publish.Options{Project: project, Topic: topic, Timeout: 5 * time.Second, CreateTopic: true})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Stop()
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sub := "projects/" + project + "/subscriptions/" + topic
	_, err = client.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name:  sub,
		Topic: publish.TopicName(project, topic),
		// The path names the topic, as the framework expects of a push.
		PushConfig:         &pubsubpb.PushConfig{PushEndpoint: url + "/" + publish.TopicName(project, topic)},
		AckDeadlineSeconds: 10,
		RetryPolicy:        &pubsubpb.RetryPolicy{MinimumBackoff: durationpb.New(time.Second), MaximumBackoff: durationpb.New(2 * time.Second)},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer client.SubscriptionAdminClient.DeleteSubscription(ctx, &pubsubpb.DeleteSubscriptionRequest{Subscription: sub})

	succeeded := geminiBody("batch.completed", `{"id":"batch_e2e","output_file_uri":"gs://b/e2e.jsonl"}`)
	video := `{"type":"video.generated","version":"v1","timestamp":"2026-01-22T12:00:00Z",` +
		`"data":{"id":"operations/e2e","video_uri":"gs://v/e2e.mp4"},"user_metadata":{"ticket":"T-7"}}`
	ping := geminiBody("webhook.ping", `{}`)
	messages := []publish.Message{
		{Data: []byte(succeeded), Attributes: receiverAttributes(succeeded, "msg_e2e_1", "v1")},
		{Data: []byte(video), Attributes: receiverAttributes(video, "msg_e2e_2", "v1a")},
		// The receiver published msg_e2e_2 twice (killed between publish
		// and marking its claim).
		{Data: []byte(video), Attributes: receiverAttributes(video, "msg_e2e_2", "v1a")},
		{Data: []byte(ping), Attributes: receiverAttributes(ping, "msg_e2e_3", "v1")},
	}
	for _, m := range messages {
		if _, err := pub.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	// batch.succeeded fails once and comes back; the rest is acknowledged
	// at the first push: 2 handled, 1 duplicate, 1 dropped, 1 retry.
	want := map[string]int{outcomeHandled: 2, outcomeDuplicate: 1, outcomeDropped: 1, outcomeRetry: 1}
	var got map[string]int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		got = map[string]int{}
		for _, o := range outcomes(t, logs.String()) {
			got[o]++
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			break
		}
	}
	// Nothing more arrives: every message was acknowledged.
	time.Sleep(3 * time.Second)
	got = map[string]int{}
	for _, o := range outcomes(t, logs.String()) {
		got[o]++
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("outcomes %v, want %v; log:\n%s", got, want, logs)
	}
	if calls := rec.of(event.BatchSucceeded); !slices.Equal(calls, []string{"msg_e2e_1"}) || failures.Load() >= 0 {
		t.Errorf("batch.succeeded handler completed %v (failures left %d), want once, after the failure", calls, failures.Load())
	}
	if calls := rec.of(event.VideoGenerated); !slices.Equal(calls, []string{"msg_e2e_2"}) {
		t.Errorf("video.generated handler calls %v, want one", calls)
	}
	for _, l := range logLines(t, logs.String()) {
		if l["message"] == "video generated: download it from gs://v/e2e.mp4" {
			if md, _ := l["user_metadata"].(map[string]any); md["ticket"] != "T-7" {
				t.Errorf("video handler logged user_metadata %v, want ticket T-7", l["user_metadata"])
			}
			return
		}
	}
	t.Errorf("no video handler line in:\n%s", logs)
}

// Without an installed Subscriber, the registered function builds one from
// the environment on the first event.
func TestHandleGeminiEventBuildsFromEnv(t *testing.T) {
	install(t, nil)
	t.Setenv("GOOGLE_CLOUD_PROJECT", "")
	t.Setenv("LOG_LEVEL", "error")
	body := geminiBody("webhook.ping", `{}`)
	if err := HandleGeminiEvent(context.Background(), pubsubCloudEvent(t, body, receiverAttributes(body, "msg_env", "v1"), "1")); err != nil {
		t.Fatal(err)
	}
	if _, ok := current.sub.Handled.(*MemoryHandled); !ok {
		t.Errorf("built %+v, want a Subscriber with MemoryHandled", current.sub)
	}
}
