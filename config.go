package geminihook

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// Defaults of the configuration contract.
const (
	DefaultPort           = 8080
	DefaultTopic          = "gemini-webhooks"
	DefaultDatabase       = "(default)"
	DefaultCollection     = "gemini-webhook-deliveries"
	DefaultRetention      = 72 * time.Hour
	DefaultLease          = 30 * time.Second
	DefaultRequestTimeout = 10 * time.Second
	DefaultJWKSURL        = "https://generativelanguage.googleapis.com/.well-known/jwks.json"
	DefaultTolerance      = 5 * time.Minute
	DefaultMaxBodyBytes   = 1 << 20

	// MaxMaxBodyBytes keeps a body, with its attributes, inside Pub/Sub's
	// 10 MB message limit.
	MaxMaxBodyBytes = 8 << 20
	// MinRetention is Gemini's retry horizon: a claim forgotten sooner
	// lets a late retry publish twice.
	MinRetention = 24 * time.Hour
)

// Config is the receiver's configuration, read once at start-up from the
// environment (see LoadConfig). Nothing reads the environment afterwards.
type Config struct {
	Port       int
	Project    string // GOOGLE_CLOUD_PROJECT; empty selects embedded mode
	Topic      string
	Database   string
	Collection string
	Retention  time.Duration
	// Lease is how long a pending claim holds off other attempts of the same
	// id; it must outlast RequestTimeout so two live attempts never both
	// publish.
	Lease time.Duration
	// RequestTimeout bounds the work of one delivery (claim, publish, mark).
	RequestTimeout time.Duration
	// Secrets are the static signing secrets of GEMINI_WEBHOOK_SECRETS.
	Secrets []verify.Secret
	// SecretsFile (GEMINI_WEBHOOK_SECRETS_FILE) holds more secrets in the
	// same format, re-read while the receiver runs so that a rotated
	// secret is picked up without a restart; FileSecrets is what it held
	// at start-up.
	SecretsFile string
	FileSecrets []verify.Secret
	JWKSURL     *url.URL
	JWTAudience string
	JWTIssuer   string
	// JWTAllowUnboundBody accepts a JWT whose claims neither hash nor
	// describe the body (GEMINI_JWT_ALLOW_UNBOUND_BODY). A captured token
	// could then be replayed with another body within its lifetime.
	JWTAllowUnboundBody bool
	Tolerance           time.Duration
	MaxBodyBytes        int64
	LogLevel            slog.Level
	// OrderByResource publishes with ordering key resource_id
	// (PUBSUB_ORDERING=resource).
	OrderByResource bool

	FirestoreEmulator string // FIRESTORE_EMULATOR_HOST
	PubSubEmulator    string // PUBSUB_EMULATOR_HOST
	// CloudRun is set when K_SERVICE says we run on Cloud Run, where
	// embedded mode would silently lose events and is refused.
	CloudRun bool
}

// Embedded reports whether no Google Cloud project and no emulator is
// configured: the receiver then keeps claims in memory and publishes to an
// in-process Pub/Sub server.
func (c Config) Embedded() bool {
	return c.Project == "" && c.FirestoreEmulator == "" && c.PubSubEmulator == ""
}

// ConfigError names the environment variable whose value is unusable.
type ConfigError struct {
	Variable string
	Err      error
}

func (e *ConfigError) Error() string { return e.Variable + ": " + e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// LoadConfig parses the configuration from lookup (os.LookupEnv in
// production). Every unusable value is reported, each naming its variable,
// joined into one error.
func LoadConfig(lookup func(string) (string, bool)) (Config, error) {
	p := parser{lookup: lookup}
	c := Config{
		Port:              p.integer("PORT", DefaultPort, 1, 65535),
		Project:           p.str("GOOGLE_CLOUD_PROJECT", ""),
		Topic:             p.str("PUBSUB_TOPIC", DefaultTopic),
		Database:          p.str("FIRESTORE_DATABASE", DefaultDatabase),
		Collection:        p.str("DEDUPE_COLLECTION", DefaultCollection),
		Retention:         p.duration("DEDUPE_RETENTION", DefaultRetention),
		Lease:             p.duration("DEDUPE_LEASE", DefaultLease),
		RequestTimeout:    p.duration("REQUEST_TIMEOUT", DefaultRequestTimeout),
		JWTAudience:       p.str("GEMINI_JWT_AUDIENCE", ""),
		JWTIssuer:         p.str("GEMINI_JWT_ISSUER", ""),
		Tolerance:         p.duration("WEBHOOK_TOLERANCE", DefaultTolerance),
		MaxBodyBytes:      int64(p.integer("MAX_BODY_BYTES", DefaultMaxBodyBytes, 1, MaxMaxBodyBytes)),
		FirestoreEmulator: p.str("FIRESTORE_EMULATOR_HOST", ""),
		PubSubEmulator:    p.str("PUBSUB_EMULATOR_HOST", ""),
		CloudRun:          p.str("K_SERVICE", "") != "",
	}
	if s, ok := p.get("GEMINI_WEBHOOK_SECRETS"); ok {
		secrets, err := verify.ParseSecrets(s)
		p.check("GEMINI_WEBHOOK_SECRETS", err)
		c.Secrets = secrets
	}
	if path, ok := p.get("GEMINI_WEBHOOK_SECRETS_FILE"); ok {
		c.SecretsFile = path
		secrets, err := readSecretsFile(path)
		p.check("GEMINI_WEBHOOK_SECRETS_FILE", err)
		c.FileSecrets = secrets
	}
	c.JWKSURL = p.jwksURL("GEMINI_JWKS_URL", DefaultJWKSURL)
	c.JWTAllowUnboundBody = p.boolean("GEMINI_JWT_ALLOW_UNBOUND_BODY")
	c.LogLevel = p.level("LOG_LEVEL")
	switch o := p.str("PUBSUB_ORDERING", "none"); o {
	case "none":
	case "resource":
		c.OrderByResource = true
	default:
		p.fail("PUBSUB_ORDERING", fmt.Errorf("%q is not one of none, resource", o))
	}

	p.check("PUBSUB_TOPIC", validTopic(c.Topic))
	p.check("DEDUPE_COLLECTION", validCollection(c.Collection))
	if c.Retention < MinRetention {
		p.fail("DEDUPE_RETENTION", fmt.Errorf("%v is shorter than Gemini's 24h retry horizon", c.Retention))
	}
	if c.Lease <= c.RequestTimeout {
		p.fail("DEDUPE_LEASE", fmt.Errorf("%v must be longer than REQUEST_TIMEOUT (%v)", c.Lease, c.RequestTimeout))
	}
	if c.Project == "" && !c.Embedded() {
		p.fail("GOOGLE_CLOUD_PROJECT", errors.New("required when an emulator host is set"))
	}
	if c.Project == "" && c.CloudRun {
		p.fail("GOOGLE_CLOUD_PROJECT", errors.New("required on Cloud Run (embedded mode keeps nothing)"))
	}
	return c, errors.Join(p.errs...)
}

type parser struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (p *parser) get(name string) (string, bool) {
	v, ok := p.lookup(name)
	v = strings.TrimSpace(v)
	return v, ok && v != ""
}

func (p *parser) fail(name string, err error) {
	p.errs = append(p.errs, &ConfigError{Variable: name, Err: err})
}

func (p *parser) check(name string, err error) {
	if err != nil {
		p.fail(name, err)
	}
}

func (p *parser) str(name, def string) string {
	if v, ok := p.get(name); ok {
		return v
	}
	return def
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v, ok := p.get(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		p.fail(name, fmt.Errorf("%q is not a Go duration such as 30s or 72h", v))
		return def
	}
	if d <= 0 {
		p.fail(name, fmt.Errorf("%q must be positive", v))
		return def
	}
	return d
}

func (p *parser) integer(name string, def, lo, hi int) int {
	v, ok := p.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, fmt.Errorf("%q is not an integer from %d to %d", v, lo, hi))
		return def
	}
	return n
}

func (p *parser) boolean(name string) bool {
	v, ok := p.get(name)
	if !ok {
		return false
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, fmt.Errorf("%q is not true or false", v))
	}
	return b
}

func (p *parser) level(name string) slog.Level {
	switch v, _ := p.get(name); strings.ToLower(v) {
	case "", "info":
		return slog.LevelInfo
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		p.fail(name, fmt.Errorf("%q is not one of debug, info, warn, error", v))
		return slog.LevelInfo
	}
}

// jwksURL refuses a key location that could be spoofed in transit: it must
// be https unless it points at this machine.
func (p *parser) jwksURL(name, def string) *url.URL {
	v := p.str(name, def)
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		p.fail(name, fmt.Errorf("%q is not an absolute URL", v))
		return nil
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		p.fail(name, fmt.Errorf("%q must use https (plain http only on a loopback host)", v))
		return nil
	}
	return u
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validTopic applies Pub/Sub's rules for topic ids.
func validTopic(id string) error {
	if len(id) < 3 || len(id) > 255 {
		return fmt.Errorf("%q must be 3 to 255 characters", id)
	}
	if c := id[0]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
		return fmt.Errorf("%q must start with a letter", id)
	}
	if strings.HasPrefix(strings.ToLower(id), "goog") {
		return fmt.Errorf("%q must not start with goog", id)
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_.~+%", c)) {
			return fmt.Errorf("%q has a character other than letters, digits and -_.~+%%", id)
		}
	}
	return nil
}

// validCollection applies Firestore's rules for a top-level collection id.
func validCollection(id string) error {
	switch {
	case id == "." || id == "..":
		return fmt.Errorf("%q is not a collection id", id)
	case strings.Contains(id, "/"):
		return fmt.Errorf("%q must not contain /", id)
	case strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__"):
		return fmt.Errorf("%q is reserved by Firestore", id)
	case len(id) > 1500:
		return fmt.Errorf("collection id is longer than 1500 bytes")
	}
	return nil
}
