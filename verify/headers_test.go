package verify_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/geminihook/geminihook/verify"
)

// headers returns canonical signature headers with the given values.
func headers(id, ts, sig string) http.Header {
	return http.Header{
		verify.HeaderID:        {id},
		verify.HeaderTimestamp: {ts},
		verify.HeaderSignature: {sig},
	}
}

// entries returns n space-separated signature entries.
func entries(n int) string {
	items := make([]string, n)
	for i := range items {
		items[i] = "v1,AAAA"
	}
	return strings.Join(items, " ")
}

func TestParseHeaders(t *testing.T) {
	t.Parallel()
	const (
		id  = "msg_2f1e0c3a-5b6d-4e7f-8a9b-0c1d2e3f4a5b"
		ts  = "1767225600"
		sig = "v1,c2lnbmF0dXJl"
	)
	valid := verify.Headers{
		ID: id, Timestamp: ts, Unix: 1767225600, Signature: sig,
		Entries: []verify.Entry{{Version: "v1", Signature: "c2lnbmF0dXJl"}},
	}
	with := func(f func(*verify.Headers)) verify.Headers {
		h := valid
		f(&h)
		return h
	}
	without := func(name string) http.Header {
		h := headers(id, ts, sig)
		delete(h, name)
		return h
	}

	tests := []struct {
		name    string
		header  http.Header
		want    verify.Headers
		wantErr error
		// errHeader is the header a HeaderError must name.
		errHeader string
	}{
		{name: "valid", header: headers(id, ts, sig), want: valid},
		{
			name: "lower-case keys",
			header: http.Header{
				"webhook-id": {id}, "webhook-timestamp": {ts}, "webhook-signature": {sig},
			},
			want: valid,
		},
		{
			name: "mixed-case keys",
			header: http.Header{
				"WEBHOOK-ID": {id}, "Webhook-timestamp": {ts}, "webhook-Signature": {sig},
			},
			want: valid,
		},
		{
			name: "other headers around",
			header: func() http.Header {
				h := headers(id, ts, sig)
				h.Set("Content-Type", "application/json")
				h.Set("Webhook", "x")
				return h
			}(),
			want: valid,
		},

		// Missing.
		{name: "missing id", header: without(verify.HeaderID), wantErr: verify.ErrMissingHeader, errHeader: verify.HeaderID},
		{name: "missing timestamp", header: without(verify.HeaderTimestamp), wantErr: verify.ErrMissingHeader, errHeader: verify.HeaderTimestamp},
		{name: "missing signature", header: without(verify.HeaderSignature), wantErr: verify.ErrMissingHeader, errHeader: verify.HeaderSignature},
		{name: "no headers", header: http.Header{}, wantErr: verify.ErrMissingHeader, errHeader: verify.HeaderID},
		{name: "nil header", header: nil, wantErr: verify.ErrMissingHeader, errHeader: verify.HeaderID},
		{
			name:    "key without values",
			header:  func() http.Header { h := headers(id, ts, sig); h[verify.HeaderTimestamp] = []string{}; return h }(),
			wantErr: verify.ErrMissingHeader, errHeader: verify.HeaderTimestamp,
		},

		// Repeated.
		{
			name:    "repeated id",
			header:  func() http.Header { h := headers(id, ts, sig); h.Add(verify.HeaderID, id); return h }(),
			wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID,
		},
		{
			name:    "repeated timestamp",
			header:  func() http.Header { h := headers(id, ts, sig); h.Add(verify.HeaderTimestamp, ts); return h }(),
			wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp,
		},
		{
			name:    "repeated signature",
			header:  func() http.Header { h := headers(id, ts, sig); h.Add(verify.HeaderSignature, sig); return h }(),
			wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderSignature,
		},
		{
			name:    "repeated under two spellings",
			header:  func() http.Header { h := headers(id, ts, sig); h["webhook-signature"] = []string{sig}; return h }(),
			wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderSignature,
		},

		// webhook-id.
		{name: "id with slash", header: headers("batches/abc-123", ts, sig), want: with(func(h *verify.Headers) { h.ID = "batches/abc-123" })},
		{name: "id of all printable", header: headers("!~\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}", ts, sig), want: with(func(h *verify.Headers) { h.ID = "!~\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}" })},
		{name: "id of 1 byte", header: headers("a", ts, sig), want: with(func(h *verify.Headers) { h.ID = "a" })},
		{name: "id of 256 bytes", header: headers(strings.Repeat("a", 256), ts, sig), want: with(func(h *verify.Headers) { h.ID = strings.Repeat("a", 256) })},
		{name: "id of 257 bytes", header: headers(strings.Repeat("a", 257), ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "empty id", header: headers("", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "id with space", header: headers("msg 1", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "id with tab", header: headers("msg\t1", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "id with NUL", header: headers("msg\x001", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "id with newline", header: headers("msg\n1", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "id with DEL", header: headers("msg\x7f", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "id with UTF-8", header: headers("msg_é", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},
		{name: "id not UTF-8", header: headers("msg_\xff", ts, sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderID},

		// webhook-timestamp.
		{name: "timestamp zero", header: headers(id, "0", sig), want: with(func(h *verify.Headers) { h.Timestamp, h.Unix = "0", 0 })},
		{name: "timestamp leading zeros", header: headers(id, "0017", sig), want: with(func(h *verify.Headers) { h.Timestamp, h.Unix = "0017", 17 })},
		{name: "timestamp negative", header: headers(id, "-1", sig), want: with(func(h *verify.Headers) { h.Timestamp, h.Unix = "-1", -1 })},
		{name: "timestamp max int64", header: headers(id, "9223372036854775807", sig), want: with(func(h *verify.Headers) { h.Timestamp, h.Unix = "9223372036854775807", 1<<63-1 })},
		{name: "timestamp min int64", header: headers(id, "-9223372036854775808", sig), want: with(func(h *verify.Headers) { h.Timestamp, h.Unix = "-9223372036854775808", -1<<63 })},
		{name: "timestamp over int64", header: headers(id, "9223372036854775808", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp under int64", header: headers(id, "-9223372036854775809", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp empty", header: headers(id, "", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp plus sign", header: headers(id, "+1767225600", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp minus only", header: headers(id, "-", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp double minus", header: headers(id, "--1", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp leading space", header: headers(id, " 1767225600", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp trailing space", header: headers(id, "1767225600 ", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp fraction", header: headers(id, "1767225600.5", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp exponent", header: headers(id, "1e9", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp hex", header: headers(id, "0x10", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp underscore", header: headers(id, "1_767_225_600", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp date", header: headers(id, "2026-01-01T00:00:00Z", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},
		{name: "timestamp Arabic-Indic digits", header: headers(id, "١٢٣", sig), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderTimestamp},

		// webhook-signature.
		{name: "signature empty", header: headers(id, ts, ""), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderSignature},
		{name: "signature spaces", header: headers(id, ts, "   "), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderSignature},
		{name: "signature tab", header: headers(id, ts, "\t"), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderSignature},
		{name: "signature 33 entries", header: headers(id, ts, entries(33)), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderSignature},
		{name: "signature 33 items some without comma", header: headers(id, ts, entries(30)+" a b c"), wantErr: verify.ErrMalformedHeader, errHeader: verify.HeaderSignature},
		{
			name:   "signature 32 entries",
			header: headers(id, ts, entries(32)),
			want: with(func(h *verify.Headers) {
				h.Signature = entries(32)
				h.Entries = make([]verify.Entry, 32)
				for i := range h.Entries {
					h.Entries[i] = verify.Entry{Version: "v1", Signature: "AAAA"}
				}
			}),
		},
		{
			name:   "signature runs of spaces",
			header: headers(id, ts, "  v1,aaa   v1a,bbb  "),
			want: with(func(h *verify.Headers) {
				h.Signature = "  v1,aaa   v1a,bbb  "
				h.Entries = []verify.Entry{{Version: "v1", Signature: "aaa"}, {Version: "v1a", Signature: "bbb"}}
			}),
		},
		{
			name:   "signature items without comma skipped",
			header: headers(id, ts, "junk v1,aaa more"),
			want: with(func(h *verify.Headers) {
				h.Signature = "junk v1,aaa more"
				h.Entries = []verify.Entry{{Version: "v1", Signature: "aaa"}}
			}),
		},
		{
			name:   "signature without any comma",
			header: headers(id, ts, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"),
			want: with(func(h *verify.Headers) {
				h.Signature = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"
				h.Entries = nil
			}),
		},
		{
			name:   "signature split at first comma",
			header: headers(id, ts, "v1,a,b ,c v2,"),
			want: with(func(h *verify.Headers) {
				h.Signature = "v1,a,b ,c v2,"
				h.Entries = []verify.Entry{{Version: "v1", Signature: "a,b"}, {Version: "", Signature: "c"}, {Version: "v2", Signature: ""}}
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := verify.ParseHeaders(tt.header)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseHeaders() error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				var he *verify.HeaderError
				if !errors.As(err, &he) || he.Header != tt.errHeader {
					t.Fatalf("ParseHeaders() error = %#v, want a HeaderError naming %s", err, tt.errHeader)
				}
				if !reflect.DeepEqual(got, verify.Headers{}) {
					t.Errorf("ParseHeaders() = %+v with an error, want zero Headers", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseHeaders() =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

// TestParseHeadersErrorsOmitValues checks that no error repeats what the
// sender put in a header: errors end up in logs and responses.
func TestParseHeadersErrorsOmitValues(t *testing.T) {
	t.Parallel()
	const marker = "SENSITIVE"
	tests := []struct {
		name   string
		header http.Header
	}{
		{name: "bad id", header: headers(marker+" x", "1", "v1,x")},
		{name: "long id", header: headers(strings.Repeat(marker, 30), "1", "v1,x")},
		{name: "bad timestamp", header: headers("msg_1", marker, "v1,x")},
		{name: "long signature list", header: headers("msg_1", "1", strings.Repeat("v1,"+marker+" ", 33))},
		{name: "repeated signature", header: http.Header{
			verify.HeaderID: {"msg_1"}, verify.HeaderTimestamp: {"1"}, verify.HeaderSignature: {"v1," + marker, "v1," + marker},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := verify.ParseHeaders(tt.header)
			if !errors.Is(err, verify.ErrMalformedHeader) {
				t.Fatalf("ParseHeaders() error = %v, want %v", err, verify.ErrMalformedHeader)
			}
			if strings.Contains(err.Error(), marker) {
				t.Errorf("error %q contains the header value", err)
			}
		})
	}
}

func TestHeaderErrorMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		want   string
	}{
		{name: "missing", header: http.Header{}, want: "verify: missing header Webhook-Id"},
		{name: "malformed", header: headers("msg_1", "x", "v1,x"), want: "verify: malformed header Webhook-Timestamp: not an integer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := verify.ParseHeaders(tt.header)
			if err == nil || err.Error() != tt.want {
				t.Errorf("ParseHeaders() error = %v, want %q", err, tt.want)
			}
		})
	}
}
