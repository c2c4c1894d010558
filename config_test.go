package geminihook

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := kv[k]
		return v, ok
	}
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Embedded() {
		t.Error("no project and no emulator: want embedded mode")
	}
	if c.Port != 8080 || c.Topic != "gemini-webhooks" || c.Database != "(default)" ||
		c.Collection != "gemini-webhook-deliveries" || c.Retention != 72*time.Hour ||
		c.Tolerance != 5*time.Minute || c.MaxBodyBytes != 1048576 || c.LogLevel != slog.LevelInfo ||
		c.JWKSURL.String() != "https://generativelanguage.googleapis.com/.well-known/jwks.json" ||
		c.Lease != DefaultLease || c.RequestTimeout != DefaultRequestTimeout || c.OrderByResource {
		t.Errorf("defaults: %+v", c)
	}
}

func TestConfigValues(t *testing.T) {
	t.Parallel()
	c, err := LoadConfig(env(map[string]string{
		"PORT":                          "9090",
		"GOOGLE_CLOUD_PROJECT":          "my-project",
		"PUBSUB_TOPIC":                  "events",
		"FIRESTORE_DATABASE":            "hooks",
		"DEDUPE_COLLECTION":             "claims",
		"DEDUPE_RETENTION":              "48h",
		"GEMINI_WEBHOOK_SECRETS":        testSecretText + ", whsec_" + strings.Repeat("B", 32),
		"GEMINI_JWKS_URL":               "http://127.0.0.1:9999/jwks.json",
		"WEBHOOK_TOLERANCE":             "2m",
		"MAX_BODY_BYTES":                "65536",
		"LOG_LEVEL":                     "DEBUG",
		"PUBSUB_ORDERING":               "resource",
		"GEMINI_JWT_AUDIENCE":           "https://hooks.example.com/",
		"GEMINI_JWT_ISSUER":             "https://generativelanguage.googleapis.com",
		"GEMINI_JWT_ALLOW_UNBOUND_BODY": "true",
		"K_SERVICE":                     "geminihook",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Embedded() || !c.CloudRun || c.Port != 9090 || c.Project != "my-project" || c.Topic != "events" ||
		c.Database != "hooks" || c.Collection != "claims" || c.Retention != 48*time.Hour ||
		len(c.Secrets) != 2 || c.JWKSURL.Host != "127.0.0.1:9999" || c.Tolerance != 2*time.Minute ||
		c.MaxBodyBytes != 65536 || c.LogLevel != slog.LevelDebug || !c.OrderByResource ||
		c.JWTAudience != "https://hooks.example.com/" || c.JWTIssuer != "https://generativelanguage.googleapis.com" || !c.JWTAllowUnboundBody {
		t.Errorf("parsed: %+v", c)
	}
}

// Every bad value stops start-up with an error naming its variable.
func TestConfigErrorsNameTheVariable(t *testing.T) {
	t.Parallel()
	base := map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "GEMINI_WEBHOOK_SECRETS": testSecretText}
	cases := []struct {
		variable, value string
	}{
		{"PORT", "http"},
		{"PORT", "70000"},
		{"PUBSUB_TOPIC", "goog-events"},
		{"PUBSUB_TOPIC", "a b c"},
		{"PUBSUB_TOPIC", "9events"},
		{"DEDUPE_COLLECTION", "a/b"},
		{"DEDUPE_COLLECTION", "__reserved__"},
		{"DEDUPE_RETENTION", "3 days"},
		{"DEDUPE_RETENTION", "1h"},
		{"DEDUPE_RETENTION", "-72h"},
		{"DEDUPE_LEASE", "5s"},
		{"REQUEST_TIMEOUT", "forever"},
		{"GEMINI_WEBHOOK_SECRETS", "not-a-secret"},
		{"GEMINI_WEBHOOK_SECRETS", "whsec_%%%%"},
		{"GEMINI_WEBHOOK_SECRETS", testSecretText + " whsec_c2hvcnQ="},
		{"GEMINI_JWKS_URL", "http://keys.example.com/jwks.json"},
		{"GEMINI_JWKS_URL", "ftp://127.0.0.1/jwks.json"},
		{"GEMINI_JWKS_URL", "jwks.json"},
		{"WEBHOOK_TOLERANCE", "0s"},
		{"WEBHOOK_TOLERANCE", "5"},
		{"MAX_BODY_BYTES", "0"},
		{"MAX_BODY_BYTES", "1e6"},
		{"MAX_BODY_BYTES", "999999999"},
		{"LOG_LEVEL", "verbose"},
		{"PUBSUB_ORDERING", "key"},
		{"GEMINI_JWT_ALLOW_UNBOUND_BODY", "sometimes"},
	}
	for _, c := range cases {
		kv := map[string]string{c.variable: c.value}
		for k, v := range base {
			if _, ok := kv[k]; !ok {
				kv[k] = v
			}
		}
		_, err := LoadConfig(env(kv))
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Variable != c.variable {
			t.Errorf("%s=%q: error %v, want one naming %s", c.variable, c.value, err, c.variable)
			continue
		}
		if c.variable == "GEMINI_WEBHOOK_SECRETS" && strings.Contains(err.Error(), c.value) {
			t.Errorf("the error quotes the secret: %v", err)
		}
	}
}

func TestConfigModes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		env      map[string]string
		variable string // empty: valid
	}{
		{"emulator without project", map[string]string{"PUBSUB_EMULATOR_HOST": "127.0.0.1:8085", "GEMINI_WEBHOOK_SECRETS": testSecretText}, "GOOGLE_CLOUD_PROJECT"},
		{"Cloud Run without project", map[string]string{"K_SERVICE": "geminihook"}, "GOOGLE_CLOUD_PROJECT"},
		// Dynamic deliveries need no static secret.
		{"project without secrets", map[string]string{"GOOGLE_CLOUD_PROJECT": "p"}, ""},
		{"embedded without secrets", map[string]string{}, ""},
		{"emulators", map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "FIRESTORE_EMULATOR_HOST": "127.0.0.1:8081", "PUBSUB_EMULATOR_HOST": "127.0.0.1:8085", "GEMINI_WEBHOOK_SECRETS": testSecretText}, ""},
	}
	for _, c := range cases {
		_, err := LoadConfig(env(c.env))
		var ce *ConfigError
		switch {
		case c.variable == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.variable != "" && (!errors.As(err, &ce) || ce.Variable != c.variable):
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.variable)
		}
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := LoadConfig(env(map[string]string{"PORT": "x", "LOG_LEVEL": "loud", "MAX_BODY_BYTES": "-1"}))
	for _, v := range []string{"PORT", "LOG_LEVEL", "MAX_BODY_BYTES"} {
		if err == nil || !strings.Contains(err.Error(), v+":") {
			t.Errorf("error %v does not name %s", err, v)
		}
	}
}
