package publish

import (
	"strings"
	"testing"
)

// BenchmarkParseEnvelope reads the envelope of a 2 KiB delivery, as the
// handler does for every one, with the fast path (ParseEnvelope) and with
// encoding/json alone (the path every body took before the fast path).
func BenchmarkParseEnvelope(b *testing.B) {
	head := `{"type":"batch.succeeded","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"batches/abc123","output_file_uri":"gs://gemini-batch-results/abc123/results.jsonl","display_name":"`
	tail := `"},"user_metadata":{"team":"vision","run":42}}`
	body := []byte(head + strings.Repeat("n", 2048-len(head)-len(tail)) + tail)
	for _, c := range []struct {
		name  string
		parse func([]byte) Envelope
	}{{"ParseEnvelope", ParseEnvelope}, {"encoding-json", parseEnvelopeJSON}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if e := c.parse(body); e.ResourceID == "" {
					b.Fatal("no resource id")
				}
			}
		})
	}
}
