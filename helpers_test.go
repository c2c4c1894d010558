package geminihook

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

const testProject = "geminihook-test"

// testSecretText is the static secret the test receivers trust.
const testSecretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// rig is a receiver on the emulators with a subscription on its topic.
type rig struct {
	t          *testing.T
	handler    *Handler
	url        string
	secret     verify.Secret
	fs         *firestore.Client
	collection string
	ps         *pubsub.Client
	sub        string
	logs       *emulator.Buffer
}

type rigOptions struct {
	// env adds to or overrides the receiver's configuration.
	env map[string]string
	// opts are passed to New after the rig's own.
	opts []Option
}

// newRig builds a receiver with New, as production does, from a
// configuration naming the emulators, a fresh topic and a fresh collection.
func newRig(t *testing.T, mods ...func(*rigOptions)) *rig {
	t.Helper()
	o := rigOptions{env: map[string]string{}}
	for _, m := range mods {
		m(&o)
	}
	ctx := context.Background()
	topic := emulator.UniqueName("events-")
	r := &rig{t: t, collection: emulator.UniqueName("claims-"), logs: &emulator.Buffer{}}
	vars := map[string]string{
		"GOOGLE_CLOUD_PROJECT":    testProject,
		"FIRESTORE_EMULATOR_HOST": emulator.FirestoreHost(t),
		"PUBSUB_EMULATOR_HOST":    emulator.PubSubHost(t),
		"PUBSUB_TOPIC":            topic,
		"DEDUPE_COLLECTION":       r.collection,
		"GEMINI_WEBHOOK_SECRETS":  testSecretText,
		"REQUEST_TIMEOUT":         "5s",
		"LOG_LEVEL":               "debug",
	}
	for k, v := range o.env {
		vars[k] = v
	}
	cfg, err := LoadConfig(env(vars))
	if err != nil {
		t.Fatal(err)
	}
	if r.secret, err = verify.ParseSecret(testSecretText); err != nil {
		t.Fatal(err)
	}
	rcv, err := New(ctx, cfg, append([]Option{WithLogOutput(r.logs)}, o.opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rcv.Shutdown(context.Background()) })
	r.handler = rcv.Handler
	if r.fs, err = firestore.NewClient(ctx, testProject); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.fs.Close() })
	if r.ps, err = pubsub.NewClient(ctx, testProject); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.ps.Close() })
	r.sub = "projects/" + testProject + "/subscriptions/" + topic
	// New creates the topic on the emulator, unless the rig replaced the
	// publisher.
	if _, err := r.ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: publish.TopicName(testProject, topic)}); err != nil && status.Code(err) != codes.AlreadyExists {
		t.Fatal(err)
	}
	if _, err := r.ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: r.sub, Topic: publish.TopicName(testProject, topic), AckDeadlineSeconds: 60,
	}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.handler)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	return r
}

// signedRequest builds a delivery of body signed now with secret, for
// serving in process (httptest.NewRequest).
func signedRequest(secret verify.Secret, id string, body []byte) *http.Request {
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", stamp)
	req.Header.Set("webhook-signature", verify.SignV1(secret, id, stamp, body))
	return req
}

// request builds a delivery signed with the rig's secret.
func (r *rig) request(id string, ts time.Time, body []byte) *http.Request {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, r.url, bytes.NewReader(body))
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", stamp)
	req.Header.Set("webhook-signature", verify.SignV1(r.secret, id, stamp, body))
	return req
}

func (r *rig) do(req *http.Request) (*http.Response, string) {
	r.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp, b.String()
}

// received pulls messages until want have arrived, then listens for quiet
// more so that an extra message would be seen too.
func (r *rig) received(want int, quiet time.Duration) []*pubsub.Message {
	r.t.Helper()
	return emulator.Receive(r.t, r.ps, r.sub, want, quiet, 20*time.Second)
}

func (r *rig) claim(id string) map[string]any {
	r.t.Helper()
	snap, err := r.fs.Collection(r.collection).Doc(dedupe.DocID(id)).Get(context.Background())
	if err != nil {
		return nil
	}
	return snap.Data()
}

// nothingReceived asserts that no message arrives within d.
func (r *rig) nothingReceived(d time.Duration) {
	r.t.Helper()
	if got := r.received(0, d); len(got) != 0 {
		r.t.Fatalf("%d messages published, want none: first %v", len(got), got[0].Attributes)
	}
}
