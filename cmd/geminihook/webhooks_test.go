package main

// The `geminihook webhooks` tests cannot reach the real Gemini API or Secret
// Manager. They run the command end to end against an in-test HTTP server
// that follows the WebhookService's documented REST shapes (methods, paths,
// the x-goog-api-key header, snake_case bodies, update_mask, Google's error
// object), and an in-test gRPC server implementing the Secret Manager calls
// the command makes (AddSecretVersion, AccessSecretVersion,
// GetSecretVersion, TestIamPermissions).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/geminihook/geminihook/verify"
)

const (
	whTestKey    = "AIzaSy-test-key-never-printed"
	whTestSecret = "projects/p/secrets/signing"
)

// fakeGemini is the WebhookService as its REST reference describes it.
type fakeGemini struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	hooks    []*fakeHook
	next     int
	pageSize int      // the most the server returns per page
	calls    []string // "METHOD /path?query"
	masks    []string
	issued   []string // every signing secret handed out
	rotated  []string // revocation_behavior of each rotation
	failWith int      // answer every request with this status, when set
	camel    bool     // answer in lowerCamelCase
}

type fakeHook struct {
	id, uri string
	events  []string
	state   string
}

func newFakeGemini(t *testing.T) *fakeGemini {
	g := &fakeGemini{t: t, pageSize: 50}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1beta/webhooks", g.create)
	mux.HandleFunc("GET /v1beta/webhooks", g.list)
	mux.HandleFunc("GET /v1beta/webhooks/{id}", g.withHook(func(w http.ResponseWriter, _ *http.Request, h *fakeHook) { g.answer(w, g.wire(h, "")) }))
	mux.HandleFunc("PATCH /v1beta/webhooks/{id}", g.withHook(g.update))
	mux.HandleFunc("DELETE /v1beta/webhooks/{id}", g.withHook(func(w http.ResponseWriter, _ *http.Request, h *fakeHook) {
		g.hooks = slices.DeleteFunc(g.hooks, func(x *fakeHook) bool { return x == h })
		g.answer(w, map[string]any{})
	}))
	mux.HandleFunc("POST /v1beta/webhooks/{call}", g.custom)
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.calls = append(g.calls, r.Method+" "+r.URL.RequestURI())
		switch {
		case r.Header.Get("x-goog-api-key") != whTestKey:
			g.fail(w, 400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")
		case g.failWith == 403:
			g.fail(w, 403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
		case g.failWith != 0:
			g.fail(w, g.failWith, "INTERNAL", "Internal error encountered.")
		default:
			mux.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *fakeGemini) add(id, uri, state string, events ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.hooks = append(g.hooks, &fakeHook{id: id, uri: uri, events: events, state: state})
}

func (g *fakeGemini) hook(id string) *fakeHook {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range g.hooks {
		if h.id == id {
			c := *h
			return &c
		}
	}
	return nil
}

func (g *fakeGemini) callsSeen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.calls)
}

// issuedSecrets returns the signing secrets handed out so far.
func (g *fakeGemini) issuedSecrets() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.issued)
}

func (g *fakeGemini) rotations() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.rotated)
}

func (g *fakeGemini) masksSeen() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.masks)
}

func (g *fakeGemini) fail(w http.ResponseWriter, code int, st, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": st}})
}

func (g *fakeGemini) answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// decode reads a request body strictly: a field the API does not document,
// or a camelCase spelling of one, is a 400 as in a strict server.
func (g *fakeGemini) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if r.Header.Get("Content-Type") != "application/json" {
		g.fail(w, 400, "INVALID_ARGUMENT", "want a JSON body")
		return false
	}
	if err := dec.Decode(v); err != nil {
		g.t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
		g.fail(w, 400, "INVALID_ARGUMENT", "Invalid JSON payload received.")
		return false
	}
	return true
}

var fakeSubscribable = []string{"batch.succeeded", "batch.expired", "batch.failed", "interaction.requires_action",
	"interaction.completed", "interaction.failed", "video.generated", "batch.cancelled", "interaction.cancelled"}

func (g *fakeGemini) checkEvents(w http.ResponseWriter, events []string) bool {
	if len(events) == 0 {
		g.fail(w, 400, "INVALID_ARGUMENT", "subscribed_events is required.")
		return false
	}
	for _, e := range events {
		if !slices.Contains(fakeSubscribable, e) {
			g.fail(w, 400, "INVALID_ARGUMENT", fmt.Sprintf("Invalid value at 'webhook.subscribed_events[0]', %q", e))
			return false
		}
	}
	return true
}

func (g *fakeGemini) wire(h *fakeHook, newSecret string) map[string]any {
	created := "2026-01-22T12:00:00Z"
	m := map[string]any{"name": "webhooks/" + h.id, "uri": h.uri, "state": h.state}
	if g.camel {
		m["subscribedEvents"], m["createTime"], m["updateTime"] = h.events, created, created
		if newSecret != "" {
			m["newSigningSecret"] = newSecret
		}
	} else {
		m["subscribed_events"], m["create_time"], m["update_time"] = h.events, created, created
		if newSecret != "" {
			m["new_signing_secret"] = newSecret
		}
	}
	return m
}

func (g *fakeGemini) create(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name             string   `json:"name"`
		URI              string   `json:"uri"`
		SubscribedEvents []string `json:"subscribed_events"`
	}
	if !g.decode(w, r, &in) || !g.checkEvents(w, in.SubscribedEvents) {
		return
	}
	g.next++
	h := &fakeHook{id: "wh" + strconv.Itoa(g.next), uri: in.URI, events: in.SubscribedEvents, state: "enabled"}
	g.hooks = append(g.hooks, h)
	secret := verify.GenerateSecret()
	g.issued = append(g.issued, secret)
	g.answer(w, g.wire(h, secret))
}

func (g *fakeGemini) list(w http.ResponseWriter, r *http.Request) {
	size := g.pageSize
	if s := r.URL.Query().Get("page_size"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			g.fail(w, 400, "INVALID_ARGUMENT", "bad page_size")
			return
		}
		size = min(size, n)
	}
	start := 0
	if tok := r.URL.Query().Get("page_token"); tok != "" {
		start, _ = strconv.Atoi(strings.TrimPrefix(tok, "page-"))
	}
	end := min(start+size, len(g.hooks))
	var page []map[string]any
	for _, h := range g.hooks[start:end] {
		page = append(page, g.wire(h, ""))
	}
	out := map[string]any{"webhooks": page}
	if end < len(g.hooks) {
		key := "next_page_token"
		if g.camel {
			key = "nextPageToken"
		}
		out[key] = "page-" + strconv.Itoa(end)
	}
	g.answer(w, out)
}

func (g *fakeGemini) withHook(f func(http.ResponseWriter, *http.Request, *fakeHook)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for _, h := range g.hooks {
			if h.id == r.PathValue("id") {
				f(w, r, h)
				return
			}
		}
		g.fail(w, 404, "NOT_FOUND", "Webhook not found.")
	}
}

func (g *fakeGemini) update(w http.ResponseWriter, r *http.Request, h *fakeHook) {
	mask := r.URL.Query().Get("update_mask")
	g.masks = append(g.masks, mask)
	var in struct {
		Name             string   `json:"name"`
		URI              string   `json:"uri"`
		SubscribedEvents []string `json:"subscribed_events"`
		State            string   `json:"state"`
	}
	if !g.decode(w, r, &in) {
		return
	}
	if in.URI == "" || len(in.SubscribedEvents) == 0 {
		g.fail(w, 400, "INVALID_ARGUMENT", "uri and subscribed_events are required.")
		return
	}
	for _, f := range strings.Split(mask, ",") {
		switch f {
		case "uri":
			h.uri = in.URI
		case "subscribed_events":
			if !g.checkEvents(w, in.SubscribedEvents) {
				return
			}
			h.events = in.SubscribedEvents
		case "state":
			if in.State != "enabled" {
				g.fail(w, 400, "INVALID_ARGUMENT", "state can only be set to enabled.")
				return
			}
			h.state = in.State
		default:
			g.fail(w, 400, "INVALID_ARGUMENT", "bad update_mask "+strconv.Quote(mask))
			return
		}
	}
	g.answer(w, g.wire(h, ""))
}

func (g *fakeGemini) custom(w http.ResponseWriter, r *http.Request) {
	id, verb, _ := strings.Cut(r.PathValue("call"), ":")
	r.SetPathValue("id", id)
	switch verb {
	case "ping":
		g.withHook(func(w http.ResponseWriter, r *http.Request, _ *fakeHook) {
			var in struct{}
			if g.decode(w, r, &in) {
				g.answer(w, map[string]any{})
			}
		})(w, r)
	case "rotateSigningSecret":
		g.withHook(func(w http.ResponseWriter, r *http.Request, _ *fakeHook) {
			var in struct {
				RevocationBehavior string `json:"revocation_behavior"`
			}
			if !g.decode(w, r, &in) {
				return
			}
			if in.RevocationBehavior != "revoke_previous_secrets_after_h24" && in.RevocationBehavior != "revoke_previous_secrets_immediately" {
				g.fail(w, 400, "INVALID_ARGUMENT", "bad revocation_behavior")
				return
			}
			g.rotated = append(g.rotated, in.RevocationBehavior)
			secret := verify.GenerateSecret()
			g.issued = append(g.issued, secret)
			g.answer(w, map[string]any{"secret": secret})
		})(w, r)
	default:
		g.fail(w, 404, "NOT_FOUND", "no such method")
	}
}

// fakeSecretManager implements the Secret Manager calls the command makes.
type fakeSecretManager struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer
	addr string

	mu       sync.Mutex
	versions map[string][]fakeVersion // by secret name
	denyAdd  bool                     // TestIamPermissions withholds versions.add
	addErr   error                    // AddSecretVersion fails with it
}

type fakeVersion struct {
	data    []byte
	created time.Time
}

func newFakeSecretManager(t *testing.T) *fakeSecretManager {
	sm := &fakeSecretManager{versions: map[string][]fakeVersion{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	secretmanagerpb.RegisterSecretManagerServiceServer(srv, sm)
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	sm.addr = ln.Addr().String()
	return sm
}

// put adds a version to secret (creating the secret), made at created.
func (sm *fakeSecretManager) put(secret, data string, created time.Time) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	sm.versions[secret] = append(sm.versions[secret], fakeVersion{[]byte(data), created})
}

func (sm *fakeSecretManager) all(secret string) []string {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	var out []string
	for _, v := range sm.versions[secret] {
		out = append(out, string(v.data))
	}
	return out
}

var fakeCRC = crc32.MakeTable(crc32.Castagnoli)

func (sm *fakeSecretManager) AddSecretVersion(_ context.Context, r *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if _, ok := sm.versions[r.GetParent()]; !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", r.GetParent())
	}
	if sm.addErr != nil {
		return nil, sm.addErr
	}
	data := r.GetPayload().GetData()
	if sum := r.GetPayload().DataCrc32C; sum == nil || *sum != int64(crc32.Checksum(data, fakeCRC)) {
		return nil, status.Error(codes.InvalidArgument, "Checksum mismatch.")
	}
	sm.versions[r.GetParent()] = append(sm.versions[r.GetParent()], fakeVersion{slices.Clone(data), time.Now()})
	n := len(sm.versions[r.GetParent()])
	return &secretmanagerpb.SecretVersion{Name: fmt.Sprintf("%s/versions/%d", r.GetParent(), n), CreateTime: timestamppb.Now(),
		State: secretmanagerpb.SecretVersion_ENABLED}, nil
}

// version resolves "projects/p/secrets/s/versions/(latest|N)".
func (sm *fakeSecretManager) version(name string) (string, fakeVersion, error) {
	secret, v, ok := strings.Cut(name, "/versions/")
	vs, exists := sm.versions[secret]
	if !ok || !exists || len(vs) == 0 {
		return "", fakeVersion{}, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
	}
	n := len(vs)
	if v != "latest" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > len(vs) {
			return "", fakeVersion{}, status.Errorf(codes.NotFound, "Secret Version [%s] not found.", name)
		}
	}
	return fmt.Sprintf("%s/versions/%d", secret, n), vs[n-1], nil
}

func (sm *fakeSecretManager) AccessSecretVersion(_ context.Context, r *secretmanagerpb.AccessSecretVersionRequest) (*secretmanagerpb.AccessSecretVersionResponse, error) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	name, v, err := sm.version(r.GetName())
	if err != nil {
		return nil, err
	}
	sum := int64(crc32.Checksum(v.data, fakeCRC))
	return &secretmanagerpb.AccessSecretVersionResponse{Name: name, Payload: &secretmanagerpb.SecretPayload{Data: v.data, DataCrc32C: &sum}}, nil
}

func (sm *fakeSecretManager) GetSecretVersion(_ context.Context, r *secretmanagerpb.GetSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	name, v, err := sm.version(r.GetName())
	if err != nil {
		return nil, err
	}
	return &secretmanagerpb.SecretVersion{Name: name, CreateTime: timestamppb.New(v.created), State: secretmanagerpb.SecretVersion_ENABLED}, nil
}

func (sm *fakeSecretManager) TestIamPermissions(_ context.Context, r *iampb.TestIamPermissionsRequest) (*iampb.TestIamPermissionsResponse, error) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if _, ok := sm.versions[r.GetResource()]; !ok {
		return nil, status.Errorf(codes.NotFound, "Secret [%s] not found.", r.GetResource())
	}
	var granted []string
	for _, p := range r.GetPermissions() {
		if p != "secretmanager.versions.add" || !sm.denyAdd {
			granted = append(granted, p)
		}
	}
	return &iampb.TestIamPermissionsResponse{Permissions: granted}, nil
}

// whFixture is one command run's world: Gemini, Secret Manager, a key file.
type whFixture struct {
	gem     *fakeGemini
	sm      *fakeSecretManager
	keyFile string
}

func newWebhooksFixture(t *testing.T) *whFixture {
	t.Helper()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(whTestKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return &whFixture{gem: newFakeGemini(t), sm: newFakeSecretManager(t), keyFile: keyFile}
}

// run runs `geminihook webhooks args...` against the fixture and checks
// that the API key never shows.
func (f *whFixture) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	full := append([]string{"webhooks"}, args...)
	full = append(full, "--endpoint", f.gem.URL+"/v1beta", "--api-key-file", f.keyFile, "--secretmanager-endpoint", f.sm.addr)
	return runWebhooksCLI(t, full...)
}

func runWebhooksCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(args, strings.NewReader(""), &stdout, &stderr)
	if strings.Contains(stdout.String()+stderr.String(), whTestKey) {
		t.Errorf("%v: the API key was printed", args)
	}
	return code, stdout.String(), stderr.String()
}

// absent fails when any issued secret appears in out.
func absent(t *testing.T, out string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		key := strings.TrimPrefix(s, "whsec_")
		if strings.Contains(out, s) || len(key) >= 16 && strings.Contains(out, key) {
			t.Errorf("a secret was printed:\n%s", out)
		}
	}
}

func TestWebhooksCreatePrintsIDAndSecret(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	code, out, errOut := f.run(t, "create", "--uri", "https://example.com/hook", "--events", "batch.succeeded,video.generated", "--name", "prod")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	secret := f.gem.issuedSecrets()[0]
	for _, want := range []string{"Created webhook wh1.", "https://example.com/hook", "batch.succeeded, video.generated", "enabled",
		"shows it only this once", secret, "export WEBHOOK_ID=wh1"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	absent(t, errOut, secret)
	if h := f.gem.hook("wh1"); h == nil || !slices.Equal(h.events, []string{"batch.succeeded", "video.generated"}) {
		t.Errorf("registered %+v", h)
	}
	if calls := f.gem.callsSeen(); !slices.Equal(calls, []string{"POST /v1beta/webhooks"}) {
		t.Errorf("calls %q", calls)
	}
}

func TestWebhooksCreateJSON(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	f.gem.camel = true // answers in lowerCamelCase decode too
	code, out, errOut := f.run(t, "create", "--uri", "https://example.com/hook", "--events", "batch.failed", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		Webhook struct {
			ID     string   `json:"id"`
			Events []string `json:"subscribed_events"`
		} `json:"webhook"`
		Secret string `json:"new_signing_secret"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Webhook.ID != "wh1" || !slices.Equal(got.Webhook.Events, []string{"batch.failed"}) || got.Secret != f.gem.issuedSecrets()[0] {
		t.Errorf("got %+v", got)
	}
}

func TestWebhooksCreateSecretTo(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	f.sm.put(whTestSecret, "", time.Now()) // Terraform's empty placeholder
	code, out, errOut := f.run(t, "create", "--uri", "https://example.com/hook", "--events", "batch.succeeded", "--secret-to", whTestSecret)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	secret := f.gem.issuedSecrets()[0]
	absent(t, out+errOut, secret)
	if got := f.sm.all(whTestSecret); !slices.Equal(got, []string{"", secret + "\n"}) {
		t.Errorf("versions %q, want the placeholder and the secret", got)
	}
	if !strings.Contains(out, whTestSecret+"/versions/2") || !strings.Contains(out, "not printed") {
		t.Errorf("stdout:\n%s", out)
	}

	// With --json, the secret is named by where it went, not shown.
	code, out, errOut = f.run(t, "create", "--uri", "https://example.com/hook", "--events", "batch.succeeded", "--secret-to", whTestSecret, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	absent(t, out+errOut, f.gem.issuedSecrets()...)
	if !strings.Contains(out, `"secret_stored_in": "`+whTestSecret+`/versions/3"`) {
		t.Errorf("stdout:\n%s", out)
	}
}

func TestWebhooksCreateSecretOut(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	file := filepath.Join(t.TempDir(), "secret")
	code, out, errOut := f.run(t, "create", "--uri", "https://example.com/hook", "--events", "batch.succeeded", "--secret-out", file)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	absent(t, out+errOut, f.gem.issuedSecrets()[0])
	b, err := os.ReadFile(file)
	if err != nil || string(b) != f.gem.issuedSecrets()[0]+"\n" {
		t.Errorf("file holds %q, %v", b, err)
	}
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v, %v; want 0600", st.Mode().Perm(), err)
	}

	// An existing file is refused before anything is registered.
	code, _, errOut = f.run(t, "create", "--uri", "https://example.com/other", "--events", "batch.succeeded", "--secret-out", file)
	if code != 2 || !strings.Contains(errOut, "--secret-out") {
		t.Errorf("existing file: exit %d, %s", code, errOut)
	}
	if n := len(f.gem.callsSeen()); n != 1 {
		t.Errorf("%d calls to Gemini, want the first create only", n)
	}
}

// The destination is checked before Gemini issues a secret, so a secret is
// never issued that cannot be kept.
func TestWebhooksSecretToCheckedFirst(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup func(*fakeSecretManager)
		args  []string
		want  string
	}{
		{"create, may not add", func(sm *fakeSecretManager) { sm.put(whTestSecret, "", time.Now()); sm.denyAdd = true },
			[]string{"create", "--uri", "https://example.com/hook", "--events", "batch.succeeded"}, "secretmanager.versions.add"},
		{"create, no such secret", func(*fakeSecretManager) {},
			[]string{"create", "--uri", "https://example.com/hook", "--events", "batch.succeeded"}, "NotFound"},
		{"rotate, may not add", func(sm *fakeSecretManager) { sm.put(whTestSecret, "old\n", time.Now()); sm.denyAdd = true },
			[]string{"rotate", "wh1"}, "secretmanager.versions.add"},
		{"rotate, no such secret", func(*fakeSecretManager) {}, []string{"rotate", "wh1"}, "NotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newWebhooksFixture(t)
			f.gem.add("wh1", "https://example.com/hook", "enabled", "batch.succeeded")
			c.setup(f.sm)
			code, _, errOut := f.run(t, append(c.args, "--secret-to", whTestSecret)...)
			if code != 1 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "--secret-to") {
				t.Errorf("exit %d, stderr %q; want 1 naming --secret-to and %q", code, errOut, c.want)
			}
			if calls := f.gem.callsSeen(); len(calls) != 0 {
				t.Errorf("Gemini was called: %q", calls)
			}
		})
	}
}

// When storing fails after Gemini issued the secret, the secret is still
// not printed, and the error says how to recover.
func TestWebhooksStoreFailsAfterIssue(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"create", "--uri", "https://example.com/hook", "--events", "batch.succeeded"}, "geminihook webhooks rotate wh2 --immediately --secret-to " + whTestSecret},
		{[]string{"rotate", "wh1"}, "geminihook webhooks rotate wh1 --secret-to " + whTestSecret + "' again"},
		{[]string{"rotate", "wh1", "--immediately"}, "fail verification now"},
	}
	for _, c := range cases {
		t.Run(c.args[0]+strconv.Itoa(len(c.args)), func(t *testing.T) {
			t.Parallel()
			f := newWebhooksFixture(t)
			f.gem.add("wh1", "https://example.com/hook", "enabled", "batch.succeeded")
			f.gem.next = 1
			f.sm.put(whTestSecret, "whsec_old\n", time.Now())
			f.sm.addErr = status.Error(codes.FailedPrecondition, "Secret is being deleted.")
			code, out, errOut := f.run(t, append(c.args, "--secret-to", whTestSecret)...)
			if code != 1 || !strings.Contains(errOut, "not printed") || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "Secret is being deleted") {
				t.Errorf("exit %d, stderr:\n%s\nwant 1 and %q", code, errOut, c.want)
			}
			if len(f.gem.issuedSecrets()) != 1 {
				t.Fatalf("%d secrets issued", len(f.gem.issuedSecrets()))
			}
			absent(t, out+errOut, f.gem.issuedSecrets()...)
		})
	}
}

func TestWebhooksRotateSecretTo(t *testing.T) {
	t.Parallel()
	old := verify.GenerateSecret()
	cases := []struct {
		name      string
		latest    string
		flags     []string
		behavior  string
		want      func(newSecret string) string
		wantPrint string
	}{
		{"after 24h keeps the old one", old + "\n", nil, "revoke_previous_secrets_after_h24",
			func(n string) string { return n + "\n" + old + "\n" }, "rotate --finish --secret-to " + whTestSecret},
		{"after 24h, unfinished rotation, commas", "whsec_b, " + old + "\n", nil, "revoke_previous_secrets_after_h24",
			func(n string) string { return n + "\nwhsec_b\n" + old + "\n" }, "2 previous secrets"},
		{"after 24h from the empty placeholder", "", nil, "revoke_previous_secrets_after_h24",
			func(n string) string { return n + "\n" }, "0 previous secrets"},
		{"immediately", old + "\n", []string{"--immediately"}, "revoke_previous_secrets_immediately",
			func(n string) string { return n + "\n" }, "revoked now"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newWebhooksFixture(t)
			f.gem.add("wh1", "https://example.com/hook", "enabled", "batch.succeeded")
			f.sm.put(whTestSecret, c.latest, time.Now().Add(-48*time.Hour))
			code, out, errOut := f.run(t, append([]string{"rotate", "webhooks/wh1", "--secret-to", whTestSecret}, c.flags...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			newSecret := f.gem.issuedSecrets()[0]
			absent(t, out+errOut, newSecret, old)
			versions := f.sm.all(whTestSecret)
			if got := versions[len(versions)-1]; len(versions) != 2 || got != c.want(newSecret) {
				t.Errorf("new version %q, want %q", got, c.want(newSecret))
			}
			if !slices.Equal(f.gem.rotations(), []string{c.behavior}) {
				t.Errorf("revocation_behavior %q, want %q", f.gem.rotations(), c.behavior)
			}
			if calls := f.gem.callsSeen(); !slices.Equal(calls, []string{"POST /v1beta/webhooks/wh1:rotateSigningSecret"}) {
				t.Errorf("calls %q", calls)
			}
			if !strings.Contains(out, c.wantPrint) {
				t.Errorf("stdout lacks %q:\n%s", c.wantPrint, out)
			}
		})
	}
}

func TestWebhooksRotatePrintsSecret(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	f.gem.add("wh1", "https://example.com/hook", "enabled", "batch.succeeded")
	code, out, errOut := f.run(t, "rotate", "wh1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "New signing secret (Gemini shows it only this once") || !strings.Contains(out, f.gem.issuedSecrets()[0]) {
		t.Errorf("stdout:\n%s", out)
	}
	code, out, _ = f.run(t, "rotate", "wh1", "--immediately", "--json")
	var got map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || got["secret"] != f.gem.issuedSecrets()[1] ||
		got["revocation_behavior"] != "revoke_previous_secrets_immediately" || got["webhook"] != "webhooks/wh1" {
		t.Errorf("exit %d, %s", code, out)
	}
}

func TestWebhooksRotateFinish(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		latest   string
		age      time.Duration
		flags    []string
		wantCode int
		wantNew  string // the version added, "" for none
		wantOut  string
	}{
		{"after 24h", "whsec_new\nwhsec_old\n", 25 * time.Hour, nil, 0, "whsec_new\n", "dropped 1 older secret"},
		{"too early", "whsec_new\nwhsec_old\n", time.Hour, nil, 1, "", "--force"},
		{"too early, forced", "whsec_new\nwhsec_old\n", time.Hour, []string{"--force"}, 0, "whsec_new\n", "Kept only the newest secret"},
		{"nothing to finish", "whsec_new\n", time.Hour, nil, 0, "", "nothing to finish"},
		{"empty", "", 25 * time.Hour, nil, 1, "", "holds no secret"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newWebhooksFixture(t)
			f.sm.put(whTestSecret, c.latest, time.Now().Add(-c.age))
			code, out, errOut := f.run(t, append([]string{"rotate", "--finish", "--secret-to", whTestSecret}, c.flags...)...)
			if code != c.wantCode || !strings.Contains(out+errOut, c.wantOut) {
				t.Errorf("exit %d, output %s%s; want %d and %q", code, out, errOut, c.wantCode, c.wantOut)
			}
			absent(t, out+errOut, "whsec_new", "whsec_old")
			versions := f.sm.all(whTestSecret)
			if c.wantNew == "" && len(versions) != 1 || c.wantNew != "" && (len(versions) != 2 || versions[1] != c.wantNew) {
				t.Errorf("versions %q, want a new %q", versions, c.wantNew)
			}
			if calls := f.gem.callsSeen(); len(calls) != 0 {
				t.Errorf("--finish called Gemini: %q", calls)
			}
		})
	}
}

func TestWebhooksListTwoPages(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	f.gem.pageSize = 1
	f.gem.add("wh1", "https://example.com/a", "enabled", "batch.succeeded", "video.generated")
	f.gem.add("wh2", "https://example.com/b", "disabled_due_to_failed_deliveries", "batch.failed")
	code, out, errOut := f.run(t, "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		strings.Join(strings.Fields(lines[1]), " ") != "wh1 enabled https://example.com/a batch.succeeded,video.generated" ||
		strings.Join(strings.Fields(lines[2]), " ") != "wh2 disabled_due_to_failed_deliveries https://example.com/b batch.failed" {
		t.Errorf("table:\n%s", out)
	}
	if calls := f.gem.callsSeen(); !slices.Equal(calls, []string{"GET /v1beta/webhooks", "GET /v1beta/webhooks?page_token=page-1"}) {
		t.Errorf("calls %q", calls)
	}

	// One page, in camelCase, as JSON with the next token.
	f.gem.camel = true
	code, out, _ = f.run(t, "list", "--page-token", "", "--page-size", "1", "--json")
	var got struct {
		Webhooks []struct {
			ID     string   `json:"id"`
			Events []string `json:"subscribed_events"`
		} `json:"webhooks"`
		Next string `json:"next_page_token"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Webhooks) != 1 || got.Webhooks[0].ID != "wh1" ||
		len(got.Webhooks[0].Events) != 2 || got.Next != "page-1" {
		t.Errorf("exit %d, %s", code, out)
	}
}

func TestWebhooksGet(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	f.gem.add("wh1", "https://example.com/a", "disabled_due_to_failed_deliveries", "batch.succeeded")
	code, out, errOut := f.run(t, "get", "webhooks/wh1")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"wh1", "https://example.com/a", "disabled_due_to_failed_deliveries", "2026-01-22T12:00:00Z", "geminihook webhooks update wh1 --enable"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	code, _, errOut = f.run(t, "get", "nope")
	if code != 1 || !strings.Contains(errOut, "NOT_FOUND") || !strings.Contains(errOut, "Webhook not found.") {
		t.Errorf("missing webhook: exit %d, %s", code, errOut)
	}
}

func TestWebhooksUpdateMask(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		flags      []string
		wantMask   string
		wantURI    string
		wantEvents []string
		wantState  string
	}{
		{"uri", []string{"--uri", "https://example.com/new"}, "uri", "https://example.com/new", []string{"batch.succeeded"}, "disabled_due_to_failed_deliveries"},
		{"events", []string{"--events", "batch.failed", "--events", "video.generated"}, "subscribed_events", "https://example.com/a", []string{"batch.failed", "video.generated"}, "disabled_due_to_failed_deliveries"},
		{"enable", []string{"--enable"}, "state", "https://example.com/a", []string{"batch.succeeded"}, "enabled"},
		{"all", []string{"--enable", "--events", "batch.expired", "--uri", "https://example.com/new"}, "uri,subscribed_events,state", "https://example.com/new", []string{"batch.expired"}, "enabled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			f := newWebhooksFixture(t)
			f.gem.add("wh1", "https://example.com/a", "disabled_due_to_failed_deliveries", "batch.succeeded")
			code, out, errOut := f.run(t, append([]string{"update", "wh1"}, c.flags...)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			if !slices.Equal(f.gem.masksSeen(), []string{c.wantMask}) {
				t.Errorf("update_mask %q, want %q", f.gem.masksSeen(), c.wantMask)
			}
			h := f.gem.hook("wh1")
			if h.uri != c.wantURI || !slices.Equal(h.events, c.wantEvents) || h.state != c.wantState {
				t.Errorf("webhook now %+v", h)
			}
			if !strings.Contains(out, c.wantState) {
				t.Errorf("stdout:\n%s", out)
			}
			if calls := f.gem.callsSeen(); len(calls) != 2 || calls[0] != "GET /v1beta/webhooks/wh1" || !strings.HasPrefix(calls[1], "PATCH /v1beta/webhooks/wh1?update_mask=") {
				t.Errorf("calls %q", calls)
			}
		})
	}
}

func TestWebhooksDeleteAndPing(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	f.gem.add("wh1", "https://example.com/a", "enabled", "batch.succeeded")
	if code, out, errOut := f.run(t, "ping", "wh1"); code != 0 || !strings.Contains(out, "test delivery to webhook wh1") {
		t.Errorf("ping: exit %d, %s%s", code, out, errOut)
	}
	if code, out, errOut := f.run(t, "delete", "webhooks/wh1", "--json"); code != 0 || strings.TrimSpace(out) != "{\n  \"deleted\": \"webhooks/wh1\"\n}" {
		t.Errorf("delete: exit %d, %s%s", code, out, errOut)
	}
	if f.gem.hook("wh1") != nil {
		t.Error("the webhook is still there")
	}
	want := []string{"POST /v1beta/webhooks/wh1:ping", "DELETE /v1beta/webhooks/wh1"}
	if calls := f.gem.callsSeen(); !slices.Equal(calls, want) {
		t.Errorf("calls %q, want %q", calls, want)
	}
}

func TestWebhooksAPIError(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	f.gem.failWith = 403
	code, out, errOut := f.run(t, "list")
	if code != 1 || out != "" || !strings.Contains(errOut, "HTTP 403 PERMISSION_DENIED: Method doesn't allow unregistered callers") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if strings.Contains(errOut, "--help") {
		t.Errorf("an API failure is not a usage error: %s", errOut)
	}

	// A --secret-out file made ready before the call is removed again.
	file := filepath.Join(t.TempDir(), "secret")
	code, _, errOut = f.run(t, "create", "--uri", "https://example.com/a", "--events", "batch.failed", "--secret-out", file)
	if _, err := os.Stat(file); code != 1 || !os.IsNotExist(err) {
		t.Errorf("create --secret-out after a 403: exit %d, file %v; want 1 and no file", code, err)
	}

	// A wrong key: Google's 400, and neither key printed.
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("AIzaSy-WRONG-key"), 0o600)
	f.gem.failWith = 0
	code, out, errOut = runWebhooksCLI(t, "webhooks", "list", "--endpoint", f.gem.URL+"/v1beta", "--api-key-file", wrong)
	if code != 1 || !strings.Contains(errOut, "API key not valid") || strings.Contains(out+errOut, "WRONG") {
		t.Errorf("wrong key: exit %d, %s%s", code, out, errOut)
	}
}

// The server is the judge of event names the tool does not know.
func TestWebhooksAllowUnknownEvents(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	code, _, errOut := f.run(t, "create", "--uri", "https://example.com/a", "--events", "batch.succeeded,model.tuned", "--allow-unknown-events")
	if code != 1 || !strings.Contains(errOut, `warning: --events: "model.tuned"`) || !strings.Contains(errOut, "INVALID_ARGUMENT") {
		t.Errorf("exit %d, %s", code, errOut)
	}
}

// Not parallel: it sets GEMINI_API_KEY.
func TestWebhooksAPIKeyFromEnvironment(t *testing.T) {
	f := newWebhooksFixture(t)
	f.gem.add("wh1", "https://example.com/a", "enabled", "batch.succeeded")

	t.Setenv("GEMINI_API_KEY", "")
	code, out, errOut := runWebhooksCLI(t, "webhooks", "list", "--endpoint", f.gem.URL+"/v1beta")
	if code != 2 || out != "" || !strings.Contains(errOut, "GEMINI_API_KEY is not set") {
		t.Errorf("no key: exit %d, stdout %q, stderr %q; want 2", code, out, errOut)
	}
	if calls := f.gem.callsSeen(); len(calls) != 0 {
		t.Errorf("called without a key: %q", calls)
	}

	t.Setenv("GEMINI_API_KEY", whTestKey+"\n")
	if code, out, errOut := runWebhooksCLI(t, "webhooks", "list", "--endpoint", f.gem.URL+"/v1beta"); code != 0 || !strings.Contains(out, "wh1") {
		t.Errorf("key from the environment: exit %d, %s%s", code, out, errOut)
	}
}

func TestWebhooksUsageErrors(t *testing.T) {
	t.Parallel()
	f := newWebhooksFixture(t)
	create := []string{"create", "--uri", "https://example.com/a"}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, nil, 0o600)
	cases := []struct {
		args []string
		want string // in stderr
		raw  bool   // run without the fixture's flags
	}{
		{[]string{"create", "--events", "batch.succeeded"}, "--uri is required", false},
		{[]string{"create", "--uri", "http://example.com/a", "--events", "batch.succeeded"}, "--uri", false},
		{[]string{"create", "--uri", "example.com", "--events", "batch.succeeded"}, "--uri", false},
		{create, "--events is required", false},
		{append(create, "--events", "batch.succeded"), `--events: unknown event "batch.succeded"`, false},
		{append(create, "--events", "batch.completed"), "old name of batch.succeeded", false},
		{append(create, "--events", " , "), "--events: give at least one event", false},
		{append(create, "--events", "batch.failed", "--secret-to", whTestSecret, "--secret-out", "x"), "--secret-to and --secret-out are exclusive", false},
		{append(create, "--events", "batch.failed", "--secret-to", whTestSecret+"/versions/1"), "--secret-to", false},
		{append(create, "--events", "batch.failed", "--bogus"), "--bogus", false},
		{[]string{"get"}, "want one webhook ID", false},
		{[]string{"get", "a", "b"}, "want one webhook ID", false},
		{[]string{"get", "webhooks/a/b"}, "invalid webhook id", false},
		{[]string{"delete", "a:ping"}, "invalid webhook id", false},
		{[]string{"update", "wh1"}, "nothing to update", false},
		{[]string{"update", "wh1", "--uri", "ftp://x"}, "--uri", false},
		{[]string{"update", "wh1", "--events", "nope"}, "--events", false},
		{[]string{"list", "--page-size", "5000"}, "--page-size", false},
		{[]string{"list", "--page-size", "many"}, "--page-size", false},
		{[]string{"rotate"}, "want the webhook ID", false},
		{[]string{"rotate", "wh1", "--force"}, "--force applies to --finish only", false},
		{[]string{"rotate", "wh1", "--finish", "--secret-to", whTestSecret}, "--finish takes no webhook ID", false},
		{[]string{"rotate", "--finish"}, "--finish needs --secret-to", false},
		{[]string{"rotate", "--finish", "--immediately", "--secret-to", whTestSecret}, "--finish works on --secret-to alone", false},
		{[]string{"rotate", "--finish", "--secret-to", "my-secret"}, "--secret-to", false},
		{[]string{"list", "--timeout", "0s"}, "--timeout", false},
		{[]string{"webhooks"}, "a webhooks command is required", true},
		{[]string{"webhooks", "frobnicate"}, "unknown command", true},
		{[]string{"webhooks", "list", "--api-key-file", "/nonexistent/key"}, "--api-key-file", true},
		{[]string{"webhooks", "list", "--api-key-file", empty}, "--api-key-file", true},
		{[]string{"webhooks", "list", "--api-key-file", f.keyFile, "--endpoint", "http://example.com/v1beta"}, "--endpoint", true},
	}
	for _, c := range cases {
		var code int
		var errOut string
		if c.raw {
			code, _, errOut = runWebhooksCLI(t, c.args...)
		} else {
			code, _, errOut = f.run(t, c.args...)
		}
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if calls := f.gem.callsSeen(); len(calls) != 0 {
		t.Errorf("usage errors reached Gemini: %q", calls)
	}
}

func TestWebhooksHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runWebhooksCLI(t, "webhooks", "--help")
	for _, want := range []string{"create", "list", "get", "update", "delete", "ping", "rotate", "GEMINI_API_KEY", "--api-key-file", "--json", "Exit codes"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("webhooks --help: exit %d, lacks %q", code, want)
		}
	}
	if strings.Contains(out, "secretmanager-endpoint") {
		t.Error("the test-only flag shows in the help")
	}
	code, out, _ = runWebhooksCLI(t, "webhooks", "rotate", "--help")
	for _, want := range []string{"--finish", "--immediately", "--secret-to", "--secret-out", "--force", "NEW\\nOLD"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("webhooks rotate --help: exit %d, lacks %q", code, want)
		}
	}
}
