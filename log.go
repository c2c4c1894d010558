package geminihook

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// NewLogger returns a logger that writes one JSON object per line in the
// shape Cloud Logging reads from a function's stdout: severity and message.
func NewLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) > 0 {
				return a
			}
			switch a.Key {
			case slog.LevelKey:
				return slog.String("severity", severity(a.Value.Any().(slog.Level)))
			case slog.MessageKey:
				a.Key = "message"
			}
			return a
		},
	}))
}

func severity(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARNING"
	case l >= slog.LevelInfo:
		return "INFO"
	}
	return "DEBUG"
}

// logDelivery writes the one line per delivery. Every value in it is either
// ours or validated (the webhook id is printable ASCII, the event type comes
// from a verified body); secrets, signatures and bodies never reach it, and
// errors are those of our packages and the client libraries, which do not
// quote them.
func (h *Handler) logDelivery(r *http.Request, d delivery, latency time.Duration) {
	level := slog.LevelInfo
	switch {
	case d.status >= 500 || d.err != nil && d.status < 300:
		level = slog.LevelError
	case d.status >= 400:
		level = slog.LevelWarn
	}
	if !h.log.Enabled(r.Context(), level) {
		return
	}
	attrs := make([]slog.Attr, 0, 10)
	if trace := traceID(r.Header); trace != "" {
		if h.project != "" {
			trace = "projects/" + h.project + "/traces/" + trace
		}
		attrs = append(attrs, slog.String("logging.googleapis.com/trace", trace))
	}
	if d.webhookID != "" {
		attrs = append(attrs, slog.String("webhook_id", d.webhookID))
	}
	if d.eventType != "" {
		attrs = append(attrs, slog.String("event_type", d.eventType))
	}
	if d.scheme != "" {
		attrs = append(attrs, slog.String("scheme", string(d.scheme)))
	}
	attrs = append(attrs,
		slog.String("outcome", d.outcome),
		slog.Int("status", d.status),
		slog.Float64("latency_ms", float64(latency.Microseconds())/1000),
	)
	if d.err != nil {
		attrs = append(attrs, slog.String("error", d.err.Error()))
	}
	h.log.LogAttrs(r.Context(), level, "delivery "+d.outcome, attrs...)
}

// traceID returns the trace id of a request from traceparent or
// X-Cloud-Trace-Context, only when it is 32 hex digits: the header is
// untrusted input and nothing else of it reaches the log.
func traceID(h http.Header) string {
	if tp := h.Get("Traceparent"); tp != "" {
		// version-traceid-spanid-flags
		if parts := strings.Split(tp, "-"); len(parts) == 4 && isHex32(parts[1]) {
			return parts[1]
		}
	}
	if xc := h.Get("X-Cloud-Trace-Context"); xc != "" {
		id, _, _ := strings.Cut(xc, "/")
		if isHex32(id) {
			return id
		}
	}
	return ""
}

func isHex32(s string) bool {
	if len(s) != 32 || s == strings.Repeat("0", 32) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
