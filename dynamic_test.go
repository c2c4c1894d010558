package geminihook

import (
	"crypto"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// keyServer serves a JWKS for dynamic deliveries, and can be taken down.
type keyServer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	doc     []byte
	down    bool
	fetches atomic.Int64
}

func newKeyServer(t *testing.T, doc []byte) *keyServer {
	ks := &keyServer{doc: doc}
	ks.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		if ks.down {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(ks.doc)
	}))
	t.Cleanup(ks.srv.Close)
	return ks
}

func (ks *keyServer) setDown(down bool) {
	ks.mu.Lock()
	ks.down = down
	ks.mu.Unlock()
}

func b64url(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// jwks publishes Ed25519 keys without kid, as Gemini's live JWKS does, and
// RSA keys by kid.
func jwks(ed []ed25519.PrivateKey, rsaKeys map[string]*rsa.PrivateKey) []byte {
	var keys []map[string]string
	for _, k := range ed {
		keys = append(keys, map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64url(k.Public().(ed25519.PublicKey))})
	}
	for kid, k := range rsaKeys {
		keys = append(keys, map[string]string{"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
			"n": b64url(k.N.Bytes()), "e": b64url(big.NewInt(int64(k.E)).Bytes())})
	}
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return b
}

func edKey(t *testing.T) ed25519.PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rs256 signs claims as a compact JWS with kid.
func rs256(t *testing.T, k *rsa.PrivateKey, kid string, claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": kid})
	c, _ := json.Marshal(claims)
	input := b64url(h) + "." + b64url(c)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + b64url(sig)
}

// Dynamic deliveries through the whole receiver: v1a and JWT verify
// against the pinned JWKS, their scheme and user metadata reach the
// attributes, and every failure gets its documented status with nothing
// published.
func TestDynamicDeliveries(t *testing.T) {
	gemini := edKey(t)
	foreign := edKey(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ks := newKeyServer(t, jwks([]ed25519.PrivateKey{edKey(t), gemini, edKey(t)}, map[string]*rsa.PrivateKey{"rsa-1": rsaKey}))
	r := newRig(t, func(o *rigOptions) { o.env["GEMINI_JWKS_URL"] = ks.srv.URL })

	body := []byte(`{"type":"video.generated","timestamp":"2026-01-22T12:00:00Z","data":{"id":"op_1","file_name":"v.mp4","user_metadata":{"team":"vision","run":42}}}`)
	v1a := func(id string, key ed25519.PrivateKey) *http.Request {
		req := r.request(id, time.Now(), body)
		req.Header.Set("webhook-signature", verify.SignV1a(key, id, req.Header.Get("webhook-timestamp"), body))
		return req
	}
	sum := sha256.Sum256(body)
	jwt := func(id string, claims map[string]any) *http.Request {
		req := r.request(id, time.Now(), body)
		now := time.Now().Unix()
		c := map[string]any{"iat": now, "exp": now + 300}
		for k, v := range claims {
			c[k] = v
		}
		req.Header.Set("webhook-signature", rs256(t, rsaKey, "rsa-1", c))
		return req
	}

	// forge builds a token with the given alg; key nil means no signature.
	forge := func(id, alg string, key []byte) *http.Request {
		req := r.request(id, time.Now(), body)
		h, _ := json.Marshal(map[string]string{"alg": alg, "typ": "JWT", "kid": "rsa-1"})
		c, _ := json.Marshal(map[string]any{"body_sha256": hex.EncodeToString(sum[:]), "iat": time.Now().Unix(), "exp": time.Now().Unix() + 300})
		input := b64url(h) + "." + b64url(c)
		var sig []byte
		if key != nil {
			m := hmac.New(sha256.New, key)
			m.Write([]byte(input))
			sig = m.Sum(nil)
		}
		req.Header.Set("webhook-signature", input+"."+b64url(sig))
		return req
	}

	// Rejections first, so that the subscription must stay empty.
	rejections := []struct {
		name   string
		req    *http.Request
		status int
	}{
		{"v1a by a foreign key", v1a("msg_dyn_foreign", foreign), 401},
		{"JWT describing another event", jwt("msg_dyn_other", map[string]any{"type": "video.generated", "data": map[string]any{"id": "op_2"}}), 401},
		{"JWT not bound to the body", jwt("msg_dyn_unbound", nil), 401},
		{"JWT expired", jwt("msg_dyn_expired", map[string]any{"body_sha256": hex.EncodeToString(sum[:]), "exp": time.Now().Add(-time.Hour).Unix()}), 401},
		{"JWT with alg none", forge("msg_dyn_none", "none", nil), 401},
		// The classic confusion: HMAC keyed with the RSA public key.
		{"JWT HS256 keyed with the RSA public key", forge("msg_dyn_hs256", "HS256", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), 401},
	}
	for _, c := range rejections {
		if resp, answer := r.do(c.req); resp.StatusCode != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, resp.StatusCode, answer, c.status)
		}
	}
	r.nothingReceived(time.Second)

	accepted := []struct {
		name, id, scheme string
		req              *http.Request
	}{
		{"v1a", "msg_dyn_v1a", "v1a", v1a("msg_dyn_v1a", gemini)},
		{"JWT with body hash", "msg_dyn_jwt", "jwt", jwt("msg_dyn_jwt", map[string]any{"body_sha256": hex.EncodeToString(sum[:])})},
		{"JWT holding the event", "msg_dyn_jwt_event", "jwt", jwt("msg_dyn_jwt_event", map[string]any{"type": "video.generated", "data": map[string]any{"file_name": "v.mp4", "id": "op_1", "user_metadata": map[string]any{"run": 42, "team": "vision"}}})},
	}
	for _, c := range accepted {
		if resp, answer := r.do(c.req); resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s, want 200", c.name, resp.StatusCode, answer)
		}
	}
	msgs := r.received(len(accepted), time.Second)
	if len(msgs) != len(accepted) {
		t.Fatalf("%d messages, want %d", len(msgs), len(accepted))
	}
	byID := map[string]map[string]string{}
	for _, m := range msgs {
		byID[m.Attributes["webhook_id"]] = m.Attributes
	}
	for _, c := range accepted {
		a := byID[c.id]
		if a["signature_scheme"] != c.scheme || a["meta_team"] != "vision" || a["meta_run"] != "42" || a["event_type"] != "video.generated" {
			t.Errorf("%s: attributes %v", c.name, a)
		}
	}
	if n := ks.fetches.Load(); n != 1 {
		t.Errorf("%d JWKS fetches for %d deliveries, want 1", n, len(rejections)+len(accepted))
	}
}

// With the JWKS unreachable and no key cached, dynamic deliveries are
// answered 503 (Gemini retries) and static ones are not affected.
func TestJWKSOutage(t *testing.T) {
	ks := newKeyServer(t, nil)
	ks.setDown(true)
	r := newRig(t, func(o *rigOptions) { o.env["GEMINI_JWKS_URL"] = ks.srv.URL })
	body := []byte(batchBody)

	dyn := r.request("msg_outage_dyn", time.Now(), body)
	dyn.Header.Set("webhook-signature", verify.SignV1a(edKey(t), "msg_outage_dyn", dyn.Header.Get("webhook-timestamp"), body))
	resp, answer := r.do(dyn)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("dynamic delivery with the JWKS down: %d Retry-After=%q %s, want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), answer)
	}
	if resp, answer := r.do(r.request("msg_outage_static", time.Now(), body)); resp.StatusCode != 200 {
		t.Fatalf("static delivery with the JWKS down: %d %s, want 200", resp.StatusCode, answer)
	}
	msgs := r.received(1, time.Second)
	if len(msgs) != 1 || msgs[0].Attributes["webhook_id"] != "msg_outage_static" {
		t.Fatalf("messages %d, want only the static delivery", len(msgs))
	}
	// A forged static delivery never makes the receiver fetch keys.
	before := ks.fetches.Load()
	forged := r.request("msg_forged", time.Now(), body)
	forged.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if resp, _ := r.do(forged); resp.StatusCode != 401 {
		t.Errorf("forged static delivery: %d, want 401", resp.StatusCode)
	}
	if ks.fetches.Load() != before {
		t.Error("a forged static delivery caused a JWKS fetch")
	}
}
