package event_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/geminihook/geminihook/event"
)

// view is what a test compares of an Event: its fields and typed data.
type view struct {
	WebhookID       string
	Type            event.Type
	OriginalType    string
	Version         string
	Timestamp       time.Time
	RawTimestamp    string
	ResourceID      string
	Metadata        map[string]string
	SignatureScheme string
	Batch           *event.Batch
	Interaction     *event.Interaction
	Video           *event.Video
}

func viewOf(ev *event.Event) view {
	v := view{
		WebhookID: ev.WebhookID, Type: ev.Type, OriginalType: ev.OriginalType, Version: ev.Version,
		Timestamp: ev.Timestamp, RawTimestamp: ev.RawTimestamp, ResourceID: ev.ResourceID,
		Metadata: ev.Metadata, SignatureScheme: ev.SignatureScheme,
	}
	if !v.Timestamp.IsZero() {
		// Compare instants; Parse keeps the offset sent.
		v.Timestamp = v.Timestamp.UTC()
	}
	if b, ok := ev.Batch(); ok {
		v.Batch = &b
	}
	if i, ok := ev.Interaction(); ok {
		v.Interaction = &i
	}
	if vd, ok := ev.Video(); ok {
		v.Video = &vd
	}
	return v
}

var ts = time.Date(2026, 1, 22, 12, 0, 0, 0, time.UTC)

// env returns the view of an event with version v1 and the usual timestamp.
func env(t event.Type, id string) view {
	return view{Type: t, Version: "v1", Timestamp: ts, RawTimestamp: "2026-01-22T12:00:00Z", ResourceID: id}
}

func body(typ, data string) string {
	return `{"type":"` + typ + `","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":` + data + `}`
}

func TestParse(t *testing.T) {
	t.Parallel()
	with := func(v view, f func(*view)) view { f(&v); return v }
	tests := []struct {
		name string
		body string
		want view
		// malformed lists the fields the error must name; nil means no error.
		malformed []string
	}{
		{
			name: "batch.succeeded",
			body: body("batch.succeeded", `{"id":"batch_123456","output_file_uri":"gs://my-bucket/results.jsonl"}`),
			want: with(env(event.BatchSucceeded, "batch_123456"), func(v *view) {
				v.Batch = &event.Batch{ID: "batch_123456", OutputFileURI: "gs://my-bucket/results.jsonl"}
			}),
		},
		{
			name: "batch.completed is an alias of batch.succeeded",
			body: body("batch.completed", `{"id":"batches/abc","output_file_uri":"gs://b/r.jsonl"}`),
			want: with(env(event.BatchSucceeded, "batches/abc"), func(v *view) {
				v.OriginalType = "batch.completed"
				v.Batch = &event.Batch{ID: "batches/abc", OutputFileURI: "gs://b/r.jsonl"}
			}),
		},
		{
			name: "batch.failed with a string error_code",
			body: body("batch.failed", `{"id":"batch_1","error_code":"RESOURCE_EXHAUSTED","error_message":"quota"}`),
			want: with(env(event.BatchFailed, "batch_1"), func(v *view) {
				v.Batch = &event.Batch{ID: "batch_1", ErrorCode: "RESOURCE_EXHAUSTED", ErrorMessage: "quota"}
			}),
		},
		{
			name: "batch.failed with a number error_code",
			body: body("batch.failed", `{"id":"batch_1","error_code":8,"error_message":"quota"}`),
			want: with(env(event.BatchFailed, "batch_1"), func(v *view) {
				v.Batch = &event.Batch{ID: "batch_1", ErrorCode: "8", ErrorMessage: "quota"}
			}),
		},
		{
			name: "batch.expired",
			body: body("batch.expired", `{"id":"batch_2"}`),
			want: with(env(event.BatchExpired, "batch_2"), func(v *view) { v.Batch = &event.Batch{ID: "batch_2"} }),
		},
		{
			name: "batch.cancelled",
			body: body("batch.cancelled", `{"id":"batch_3"}`),
			want: with(env(event.BatchCancelled, "batch_3"), func(v *view) { v.Batch = &event.Batch{ID: "batch_3"} }),
		},
		{
			name: "a batch type this package does not know still has batch data",
			body: body("batch.running", `{"id":"batch_4"}`),
			want: with(env("batch.running", "batch_4"), func(v *view) { v.Batch = &event.Batch{ID: "batch_4"} }),
		},
		{
			name: "interaction.requires_action",
			body: body("interaction.requires_action", `{"id":"int_1"}`),
			want: with(env(event.InteractionRequiresAction, "int_1"), func(v *view) {
				v.Interaction = &event.Interaction{ID: "int_1"}
			}),
		},
		{
			name: "interaction.completed",
			body: body("interaction.completed", `{"id":"int_2"}`),
			want: with(env(event.InteractionCompleted, "int_2"), func(v *view) {
				v.Interaction = &event.Interaction{ID: "int_2"}
			}),
		},
		{
			name: "interaction.failed",
			body: body("interaction.failed", `{"id":"int_3","error_code":-1.5e3,"error_message":"boom"}`),
			want: with(env(event.InteractionFailed, "int_3"), func(v *view) {
				v.Interaction = &event.Interaction{ID: "int_3", ErrorCode: "-1.5e3", ErrorMessage: "boom"}
			}),
		},
		{
			name: "interaction.cancelled",
			body: body("interaction.cancelled", `{"id":"int_4"}`),
			want: with(env(event.InteractionCancelled, "int_4"), func(v *view) {
				v.Interaction = &event.Interaction{ID: "int_4"}
			}),
		},
		{
			name: "video.generated",
			body: body("video.generated", `{"id":"op_1","output_file_uri":"gs://v/a.mp4","file_name":"files/a"}`),
			want: with(env(event.VideoGenerated, "op_1"), func(v *view) {
				v.Video = &event.Video{ID: "op_1", OutputFileURI: "gs://v/a.mp4", FileName: "files/a"}
			}),
		},
		{
			name: "video.generated with video_uri",
			body: body("video.generated", `{"id":"op_2","video_uri":"gs://v/b.mp4"}`),
			want: with(env(event.VideoGenerated, "op_2"), func(v *view) {
				v.Video = &event.Video{ID: "op_2", OutputFileURI: "gs://v/b.mp4"}
			}),
		},
		{
			name: "output_file_uri wins over video_uri",
			body: body("video.generated", `{"id":"op_3","video_uri":"gs://v/old.mp4","output_file_uri":"gs://v/new.mp4"}`),
			want: with(env(event.VideoGenerated, "op_3"), func(v *view) {
				v.Video = &event.Video{ID: "op_3", OutputFileURI: "gs://v/new.mp4"}
			}),
		},
		{
			name: "numeric id is kept as its literal",
			body: body("batch.expired", `{"id":12345678901234567890}`),
			want: with(env(event.BatchExpired, "12345678901234567890"), func(v *view) {
				v.Batch = &event.Batch{ID: "12345678901234567890"}
			}),
		},
		{
			name: "user_metadata at the top level",
			body: `{"type":"batch.expired","version":"v1","timestamp":"2026-01-22T12:00:00Z","data":{"id":"b"},` +
				`"user_metadata":{"job":"nightly","run":42,"nested":{"a":1},"flag":true,"gone":null}}`,
			want: with(env(event.BatchExpired, "b"), func(v *view) {
				v.Metadata = map[string]string{"job": "nightly", "run": "42"}
				v.Batch = &event.Batch{ID: "b"}
			}),
		},
		{
			name: "user_metadata inside data; top level wins on a clash",
			body: `{"type":"interaction.completed","version":"v1","timestamp":"2026-01-22T12:00:00Z",` +
				`"data":{"id":"i","user_metadata":{"job":"inner","team":"ml","x":"only-inner"}},"user_metadata":{"job":"outer","x":[1]}}`,
			want: with(env(event.InteractionCompleted, "i"), func(v *view) {
				v.Metadata = map[string]string{"job": "outer", "team": "ml"}
				v.Interaction = &event.Interaction{ID: "i"}
			}),
		},
		{
			name: "unknown type is kept as sent, without error",
			body: body("webhook.ping", `{"id":"wh_1","anything":[1,2]}`),
			want: env("webhook.ping", "wh_1"),
		},
		{
			name: "no type is Unknown",
			body: `{"version":"v1","data":{"id":"x"}}`,
			want: view{Type: event.Unknown, Version: "v1", ResourceID: "x"},
		},
		{
			name: "empty type is Unknown",
			body: `{"type":""}`,
			want: view{Type: event.Unknown},
		},
		{
			name: "timestamp that is not RFC 3339 is kept raw",
			body: `{"type":"batch.expired","timestamp":"1769083200","data":{"id":"b"}}`,
			want: view{Type: event.BatchExpired, RawTimestamp: "1769083200", ResourceID: "b", Batch: &event.Batch{ID: "b"}},
		},
		{
			name: "fractional timestamp with offset",
			body: `{"type":"batch.expired","timestamp":"2026-01-22T13:00:00.123+01:00"}`,
			want: view{Type: event.BatchExpired, RawTimestamp: "2026-01-22T13:00:00.123+01:00",
				Timestamp: time.Date(2026, 1, 22, 12, 0, 0, 123e6, time.UTC), Batch: &event.Batch{}},
		},
		{
			name: "known type without data",
			body: `{"type":"batch.succeeded"}`,
			want: view{Type: event.BatchSucceeded, Batch: &event.Batch{}},
		},
		{
			name: "null fields are absent",
			body: `{"type":"video.generated","version":null,"data":{"id":null,"output_file_uri":null,"video_uri":"gs://v"},"user_metadata":null}`,
			want: view{Type: event.VideoGenerated, Video: &event.Video{OutputFileURI: "gs://v"}},
		},
		{
			name:      "not JSON",
			body:      `batch.succeeded batch_1`,
			want:      view{Type: event.Unknown},
			malformed: []string{"not a JSON object"},
		},
		{
			name:      "empty body",
			body:      ``,
			want:      view{Type: event.Unknown},
			malformed: []string{"empty"},
		},
		{
			name:      "JSON but not an object",
			body:      `["batch.succeeded"]`,
			want:      view{Type: event.Unknown},
			malformed: []string{"not a JSON object"},
		},
		{
			name:      "truncated object",
			body:      `{"type":"batch.succeeded","data":{"id":"b"`,
			want:      view{Type: event.Unknown},
			malformed: []string{"not JSON"},
		},
		{
			name:      "type that is not a string",
			body:      `{"type":7,"version":"v1"}`,
			want:      view{Type: event.Unknown, Version: "v1"},
			malformed: []string{"type is not a string"},
		},
		{
			name:      "data that is not an object",
			body:      `{"type":"batch.succeeded","data":"batch_1"}`,
			want:      view{Type: event.BatchSucceeded, Batch: &event.Batch{}},
			malformed: []string{"data is not an object"},
		},
		{
			name: "fields of the wrong type spoil only themselves",
			body: body("batch.succeeded", `{"id":{"name":"b"},"output_file_uri":7,"error_code":true}`) +
				``,
			want: with(env(event.BatchSucceeded, ""), func(v *view) { v.Batch = &event.Batch{} }),
			malformed: []string{
				"data.id is not a string or a number", "data.output_file_uri is not a string",
				"data.error_code is not a string or a number",
			},
		},
		{
			name:      "video fields of the wrong type",
			body:      body("video.generated", `{"id":"op","video_uri":1,"file_name":["a"]}`),
			want:      with(env(event.VideoGenerated, "op"), func(v *view) { v.Video = &event.Video{ID: "op"} }),
			malformed: []string{"data.video_uri is not a string", "data.file_name is not a string"},
		},
		{
			name:      "user_metadata that is not an object",
			body:      `{"type":"interaction.completed","user_metadata":"x","data":{"user_metadata":[1]}}`,
			want:      view{Type: event.InteractionCompleted, Interaction: &event.Interaction{}},
			malformed: []string{"user_metadata is not an object", "data.user_metadata is not an object"},
		},
		{
			name: "an unknown type's fields are not checked beyond the envelope",
			body: body("webhook.ping", `{"output_file_uri":1}`),
			want: env("webhook.ping", ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			raw := []byte(tt.body)
			ev, err := event.Parse(raw)
			if ev == nil {
				t.Fatalf("Parse returned no Event (error %v)", err)
			}
			if !bytes.Equal(ev.Raw, raw) {
				t.Errorf("Raw = %q, want the body", ev.Raw)
			}
			if got := viewOf(ev); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
			switch {
			case tt.malformed == nil && err != nil:
				t.Errorf("error %v, want none", err)
			case tt.malformed != nil && !errors.Is(err, event.ErrMalformed):
				t.Errorf("error %v, want ErrMalformed", err)
			}
			for _, want := range tt.malformed {
				if err != nil && !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func TestParseKeepsRawMetadataAndData(t *testing.T) {
	t.Parallel()
	ev, err := event.Parse([]byte(`{"type":"batch.expired","data":{"id":"b","extra":{"k":[1]},` +
		`"user_metadata":{"inner":{"deep":true},"job":"a"}},"user_metadata":{"job":"b","n":1.50}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"inner": `{"deep":true}`, "job": `"b"`, "n": `1.50`}
	got := map[string]string{}
	for k, v := range ev.RawMetadata {
		got[k] = string(v)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("RawMetadata = %v, want %v", got, want)
	}
	if ev.Metadata["n"] != "1.50" {
		t.Errorf(`Metadata["n"] = %q, want the literal 1.50`, ev.Metadata["n"])
	}
	var data struct {
		Extra struct{ K []int } `json:"extra"`
	}
	if err := json.Unmarshal(ev.Data, &data); err != nil || len(data.Extra.K) != 1 {
		t.Errorf("Data = %s (%v), want the data object", ev.Data, err)
	}
}

func TestTypeKnown(t *testing.T) {
	t.Parallel()
	known := []event.Type{
		event.BatchSucceeded, event.BatchFailed, event.BatchExpired, event.BatchCancelled,
		event.InteractionRequiresAction, event.InteractionCompleted, event.InteractionFailed,
		event.InteractionCancelled, event.VideoGenerated,
	}
	for _, ty := range known {
		if !ty.Known() {
			t.Errorf("%s.Known() = false", ty)
		}
	}
	for _, ty := range []event.Type{event.Unknown, "batch.completed", "batch.running", "", "webhook.ping"} {
		if ty.Known() {
			t.Errorf("%q.Known() = true", ty)
		}
	}
}
