package geminihook

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

// Receiver is a Handler wired to its backends. Build it once per instance.
type Receiver struct {
	*Handler
	closers []func() error
}

// Option replaces a backend that New would otherwise build from the
// configuration. Embedded mode uses them to supply in-memory backends.
type Option func(*options)

type options struct {
	claims    ClaimStore
	publisher Publisher
	closers   []func() error
	logOut    io.Writer
	// secretsReload is how often GEMINI_WEBHOOK_SECRETS_FILE is re-read.
	secretsReload time.Duration
}

// WithClaimStore makes the receiver use s instead of Firestore.
func WithClaimStore(s ClaimStore) Option {
	return func(o *options) { o.claims = s }
}

// WithPublisher makes the receiver use p instead of a Pub/Sub publisher;
// stop, when not nil, is called by Shutdown after the deliveries in flight
// are answered.
func WithPublisher(p Publisher, stop func() error) Option {
	return func(o *options) {
		o.publisher = p
		if stop != nil {
			o.closers = append(o.closers, stop)
		}
	}
}

// WithLogOutput sends the delivery log lines to w instead of stdout.
func WithLogOutput(w io.Writer) Option {
	return func(o *options) { o.logOut = w }
}

// New builds the receiver the configuration describes: Firestore claims and a
// Pub/Sub publisher in the configured project (the emulators when their
// hosts are set). It makes no network call except, on the emulator only,
// creating the topic. In embedded mode both backends must be supplied.
func New(ctx context.Context, cfg Config, opts ...Option) (*Receiver, error) {
	o := options{logOut: os.Stdout, secretsReload: secretsReload}
	for _, opt := range opts {
		opt(&o)
	}
	r := &Receiver{closers: o.closers}
	if (o.claims == nil || o.publisher == nil) && cfg.Embedded() {
		return nil, errors.New("embedded mode (no GOOGLE_CLOUD_PROJECT) runs only under `geminihook serve`")
	}
	if o.claims == nil {
		client, err := firestore.NewClientWithDatabase(ctx, cfg.Project, cfg.Database)
		if err != nil {
			return nil, fmt.Errorf("firestore: %w", err)
		}
		r.closers = append(r.closers, client.Close)
		o.claims = dedupe.NewFirestore(client, cfg.Collection, dedupe.Options{Lease: cfg.Lease, Retention: cfg.Retention})
	}
	if o.publisher == nil {
		p, err := publish.New(ctx, publish.Options{
			Project:     cfg.Project,
			Topic:       cfg.Topic,
			Timeout:     cfg.RequestTimeout,
			Ordering:    cfg.OrderByResource,
			CreateTopic: cfg.PubSubEmulator != "",
		})
		if err != nil {
			r.close()
			return nil, err
		}
		// The publisher closes first: it holds nothing unsent (a message
		// is sent within its delivery), so closing is all there is.
		r.closers = append([]func() error{p.Stop}, r.closers...)
		o.publisher = p
	}
	logger := NewLogger(o.logOut, cfg.LogLevel)
	static := verify.NewHMAC(append(append([]verify.Secret{}, cfg.Secrets...), cfg.FileSecrets...)...)
	if cfg.SecretsFile != "" {
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			watchSecrets(ctx, cfg.SecretsFile, cfg.Secrets, o.secretsReload, static.SetSecrets, logger)
		}()
		r.closers = append(r.closers, func() error { stop(); <-done; return nil })
	}
	// Dynamic deliveries are verified with the keys of the pinned JWKS,
	// fetched on the first dynamic delivery, never at start-up.
	keys := verify.NewJWKS(cfg.JWKSURL.String(), verify.JWKSOptions{})
	r.closers = append(r.closers, func() error { keys.Close(); return nil })
	v := verify.New(verify.Options{Tolerance: cfg.Tolerance},
		static,
		verify.NewV1a(keys),
		verify.NewJWT(keys, verify.JWTOptions{
			Audience:         cfg.JWTAudience,
			Issuer:           cfg.JWTIssuer,
			AllowUnboundBody: cfg.JWTAllowUnboundBody,
			Tolerance:        cfg.Tolerance,
		}),
	)
	switch {
	case len(cfg.Secrets)+len(cfg.FileSecrets) > 0:
	case cfg.SecretsFile != "":
		logger.Warn("GEMINI_WEBHOOK_SECRETS_FILE holds no secret yet: static deliveries are refused (and retried by Gemini) until one is stored")
	default:
		logger.Warn("no static signing secret configured (GEMINI_WEBHOOK_SECRETS, GEMINI_WEBHOOK_SECRETS_FILE): only dynamic deliveries can be verified")
	}
	r.Handler = NewHandler(v, o.claims, o.publisher, HandlerOptions{
		Logger:          logger,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		RequestTimeout:  cfg.RequestTimeout,
		OrderByResource: cfg.OrderByResource,
		Project:         cfg.Project,
	})
	return r, nil
}

// Shutdown stops taking deliveries, waits for those in flight (until ctx
// ends, each with its publish acknowledged or failed), then closes the
// clients.
func (r *Receiver) Shutdown(ctx context.Context) error {
	return errors.Join(r.Drain(ctx), r.close())
}

func (r *Receiver) close() error {
	var errs []error
	for _, c := range r.closers {
		errs = append(errs, c())
	}
	r.closers = nil
	return errors.Join(errs...)
}
