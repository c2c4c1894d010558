package geminihook

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

// discardPublisher acknowledges every message at once.
type discardPublisher struct{ n atomic.Int64 }

func (p *discardPublisher) Publish(context.Context, publish.Message) (string, error) {
	return strconv.FormatInt(p.n.Add(1), 10), nil
}

// BenchmarkHandler is the receiver's own cost of a new 2 KiB delivery:
// New with the in-memory claim store and a discarding publisher, log lines
// written (to io.Discard), no network. `make bench` measures the same over
// HTTP against a bare handler.
func BenchmarkHandler(b *testing.B) {
	cfg, err := LoadConfig(env(map[string]string{"GEMINI_WEBHOOK_SECRETS": testSecretText}))
	if err != nil {
		b.Fatal(err)
	}
	rcv, err := New(context.Background(), cfg,
		WithClaimStore(dedupe.NewMemory(dedupe.Options{})),
		WithPublisher(new(discardPublisher), nil),
		WithLogOutput(io.Discard))
	if err != nil {
		b.Fatal(err)
	}
	defer rcv.Shutdown(context.Background())
	secret, _ := verify.ParseSecret(testSecretText)
	head := `{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batches/abc123","output_file_uri":"gs://gemini-batch-results/abc123/results.jsonl","display_name":"`
	body := []byte(head + strings.Repeat("n", 2048-len(head)-2) + `"}}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	i := 0
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		i++
		id := "msg_bench_" + strconv.Itoa(i)
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(verify.HeaderID, id)
		req.Header.Set(verify.HeaderTimestamp, ts)
		req.Header.Set(verify.HeaderSignature, verify.SignV1(secret, id, ts, body))
		w := httptest.NewRecorder()
		rcv.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
