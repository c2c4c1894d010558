package chaos

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

// The bounds of `geminihook serve` (cmd/geminihook/serve.go) with
// MAX_BODY_BYTES=65536: headers within 5 s, the whole request within
// 5 s + 1 s per 64 KiB of the limit, headers of at most 64 KiB.
const (
	serveHeaderTimeout = 5 * time.Second
	serveReadTimeout   = serveHeaderTimeout + time.Second
)

// Slow and oversized clients against the real binary, with its real
// timeouts: each is cut off within its bound, and while a hundred of them
// hang on, a real delivery is still answered at once.
func TestServeBoundsSlowClients(t *testing.T) {
	t.Parallel()
	fsHost, psHost := emulator.FirestoreHost(t), emulator.PubSubHost(t)
	ctx := context.Background()
	topic := emulator.UniqueName("slow-")
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: publish.TopicName(project, topic)}); err != nil {
		t.Fatal(err)
	}
	rcv := newReceiver(t, map[string]string{
		"GOOGLE_CLOUD_PROJECT":    project,
		"FIRESTORE_EMULATOR_HOST": fsHost,
		"PUBSUB_EMULATOR_HOST":    psHost,
		"PUBSUB_TOPIC":            topic,
		"DEDUPE_COLLECTION":       emulator.UniqueName("slow-claims-"),
		"GEMINI_WEBHOOK_SECRETS":  secretText,
		"MAX_BODY_BYTES":          strconv.Itoa(maxBody),
		"GEMINI_JWKS_URL":         "http://127.0.0.1:9/jwks.json",
	})
	if err := rcv.start(); err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(rcv.url, "http://"), "/")
	secret, err := verify.ParseSecret(secretText)
	if err != nil {
		t.Fatal(err)
	}

	// Each slow client: how long until the receiver ends the exchange, and
	// with which status (0: closed without an answer).
	type outcome struct {
		status int
		took   time.Duration
	}
	slow := func(head string, trickle string) outcome {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return outcome{}
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		start := time.Now()
		done := make(chan struct{})
		defer close(done)
		go func() {
			io.WriteString(c, head)
			for i := 0; ; i++ {
				select {
				case <-done:
					return
				case <-time.After(100 * time.Millisecond):
				}
				if _, err := c.Write([]byte{trickle[i%len(trickle)]}); err != nil {
					return
				}
			}
		}()
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return outcome{0, time.Since(start)}
		}
		resp.Body.Close()
		return outcome{resp.StatusCode, time.Since(start)}
	}
	now := strconv.FormatInt(time.Now().Unix(), 10)
	signed := func(id string) string {
		return "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nwebhook-id: " + id +
			"\r\nwebhook-timestamp: " + now + "\r\nwebhook-signature: " + verify.SignV1(secret, id, now, []byte("{}")) + "\r\n"
	}

	// A first delivery, so that the clients to the emulators are connected
	// before the slow clients arrive.
	deliver := func(id string) (int, time.Duration, error) {
		body := []byte(`{"type":"batch.succeeded","data":{"id":"batches/slow"}}`)
		req, _ := http.NewRequest(http.MethodPost, rcv.url, bytes.NewReader(body))
		req.Header.Set("webhook-id", id)
		req.Header.Set("webhook-timestamp", now)
		req.Header.Set("webhook-signature", verify.SignV1(secret, id, now, body))
		start := time.Now()
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return 0, 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, time.Since(start), nil
	}
	if status, _, err := deliver("msg_warm_up"); err != nil || status != 200 {
		t.Fatalf("warm-up delivery: %d %v", status, err)
	}

	var wg sync.WaitGroup
	const loris = 100
	slowHeads := make([]outcome, loris)
	for i := range loris {
		wg.Go(func() { slowHeads[i] = slow(signed("msg_loris_"+strconv.Itoa(i)), "X-Slow: aaaa") })
	}
	var slowBody outcome
	wg.Go(func() { slowBody = slow(signed("msg_slow_body")+"Content-Length: 2000\r\n\r\n", "{") })

	// A real delivery while they hang on: answered long before the slow
	// clients are cut off.
	time.Sleep(500 * time.Millisecond)
	status, took, err := deliver("msg_during_loris")
	if err != nil {
		t.Fatalf("delivery during %d slow clients: %v", loris, err)
	}
	if status != 200 || took > 3*time.Second {
		t.Errorf("delivery during %d slow clients: %d after %v, want 200 within 3s", loris, status, took)
	}

	// Headers over 64 KiB.
	big := slow(signed("msg_big_head")+"X-Pad: "+strings.Repeat("p", 80<<10)+"\r\n\r\n", "x")

	wg.Wait()
	longest := time.Duration(0)
	for i, o := range slowHeads {
		longest = max(longest, o.took)
		if o.status != 0 || o.took < serveHeaderTimeout-500*time.Millisecond || o.took > serveHeaderTimeout+2*time.Second {
			t.Errorf("slow headers %d: status %d after %v, want the connection closed after about %v", i, o.status, o.took, serveHeaderTimeout)
		}
	}
	if slowBody.took > serveReadTimeout+2*time.Second || slowBody.status == 200 {
		t.Errorf("slow body: status %d after %v, want it ended within %v", slowBody.status, slowBody.took, serveReadTimeout)
	}
	if big.status != http.StatusRequestHeaderFieldsTooLarge || big.took > 2*time.Second {
		t.Errorf("80 KiB of headers: status %d after %v, want 431 at once", big.status, big.took)
	}
	t.Logf("%d slow-header clients cut after %v at most (ReadHeaderTimeout %v); slow body ended with %d after %v (ReadTimeout %v); 80 KiB of headers: %d",
		loris, longest.Round(time.Millisecond), serveHeaderTimeout, slowBody.status, slowBody.took.Round(time.Millisecond), serveReadTimeout, big.status)
}
