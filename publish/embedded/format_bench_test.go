package embedded

import (
	"fmt"
	"sort"
	"strings"
	"testing"
)

// formatWithFmt is FormatMessage as it was first written, with fmt; the
// hand-built one must print the same bytes.
func formatWithFmt(id string, attrs map[string]string, data []byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- Pub/Sub message %s\n", id)
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "  %s: %s\n", k, attrs[k])
	}
	fmt.Fprintf(&b, "  data: %s\n", data)
	return b.String()
}

var formatCases = []struct {
	id    string
	attrs map[string]string
	data  []byte
}{
	{"1", map[string]string{"webhook_id": "msg_1", "event_type": "batch.succeeded", "signature_scheme": "v1"}, []byte(`{"type":"batch.succeeded"}`)},
	{"", nil, nil},
	{"42", map[string]string{"k": "%s %d\n", "é": "ü"}, []byte("not json \x00\xff %v")},
}

func TestFormatMessageUnchanged(t *testing.T) {
	t.Parallel()
	for _, c := range formatCases {
		if got, want := FormatMessage(c.id, c.attrs, c.data), formatWithFmt(c.id, c.attrs, c.data); got != want {
			t.Errorf("FormatMessage(%q) =\n%q\nwant\n%q", c.id, got, want)
		}
	}
}

// BenchmarkFormatMessage prints a 2 KiB delivery, as embedded mode does for
// each one.
func BenchmarkFormatMessage(b *testing.B) {
	attrs := map[string]string{"webhook_id": "msg_2f1e0c3a", "event_type": "batch.succeeded", "event_version": "v1",
		"resource_id": "batches/abc123", "event_timestamp": "2026-01-22T12:00:00Z", "webhook_timestamp": "1767225600", "signature_scheme": "v1"}
	data := []byte(strings.Repeat("x", 2048))
	for _, c := range []struct {
		name string
		f    func(string, map[string]string, []byte) string
	}{{"FormatMessage", FormatMessage}, {"fmt", formatWithFmt}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.f("12345678901234567", attrs, data)
			}
		})
	}
}
