package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/geminihook/geminihook"
	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/publish/embedded"
	"github.com/geminihook/geminihook/verify"
)

func newServeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the webhook receiver on $PORT (default 8080)",
		Long: `Serve the registered GeminiWebhook function on $PORT (default 8080).

Configuration is read from the environment (see the README). With no
GOOGLE_CLOUD_PROJECT and no emulator configured it runs in embedded mode:
claims in memory, an in-process Pub/Sub server whose messages are printed,
and a generated signing secret when none is configured. SIGTERM or Ctrl-C
finishes the deliveries in flight, closes the clients and exits.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return serve(cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

// Server timeouts: the receiver reads small bodies and answers within
// REQUEST_TIMEOUT, so a client that takes longer is slow or hostile.
const (
	readHeaderTimeout = 5 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
	// shutdownGrace is what Cloud Run allows after SIGTERM, less a margin.
	shutdownGrace = 8 * time.Second
)

func serve(stdout, stderr io.Writer) error {
	cfg, err := geminihook.LoadConfig(os.LookupEnv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()

	var opts []geminihook.Option
	if cfg.Embedded() {
		if opts, err = embeddedMode(ctx, &cfg, stdout); err != nil {
			return err
		}
	}
	rcv, err := geminihook.New(ctx, cfg, opts...)
	if err != nil {
		return err
	}
	geminihook.Install(rcv)

	srv := &http.Server{
		// The very function registered with the functions framework.
		Handler:           http.HandlerFunc(geminihook.GeminiWebhook),
		ReadHeaderTimeout: readHeaderTimeout,
		// A body of MAX_BODY_BYTES at a modest 64 KiB/s, and the work.
		ReadTimeout:    readHeaderTimeout + time.Duration(cfg.MaxBodyBytes/(64<<10))*time.Second,
		WriteTimeout:   readHeaderTimeout + time.Duration(cfg.MaxBodyBytes/(64<<10))*time.Second + cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:    idleTimeout,
		MaxHeaderBytes: maxHeaderBytes,
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		rcv.Shutdown(context.Background())
		return err
	}
	fmt.Fprintf(stderr, "geminihook: serving %s on http://localhost:%d/\n", geminihook.FunctionName, cfg.Port)

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		rcv.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stderr, "geminihook: shutting down: finishing deliveries in flight")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	// The server stops accepting and waits for its handlers; the receiver
	// then closes its clients.
	err = errors.Join(srv.Shutdown(sctx), rcv.Shutdown(sctx))
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("deliveries still in flight after %v: %w", shutdownGrace, err)
	}
	fmt.Fprintln(stderr, "geminihook: stopped")
	return err
}

func embeddedMode(ctx context.Context, cfg *geminihook.Config, stdout io.Writer) ([]geminihook.Option, error) {
	fmt.Fprint(stdout, `
  ==================================================================
   EMBEDDED MODE: claims are kept in memory and events go to an
   in-process Pub/Sub server. NOTHING IS DURABLE: everything is lost
   when this process stops. Set GOOGLE_CLOUD_PROJECT (or the emulator
   hosts) to use Firestore and Pub/Sub.
  ==================================================================
`)
	if len(cfg.Secrets) == 0 {
		text := verify.GenerateSecret()
		s, err := verify.ParseSecret(text)
		if err != nil {
			return nil, err
		}
		cfg.Secrets = []verify.Secret{s}
		fmt.Fprintf(stdout, "\n  No GEMINI_WEBHOOK_SECRETS set; generated a secret for this run:\n\n    %s\n\n", text)
	}
	srv, err := embedded.Start(ctx, cfg.Topic, stdout)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "  Published messages are printed below (topic %s).\n\n", cfg.Topic)
	return []geminihook.Option{
		geminihook.WithClaimStore(dedupe.NewMemory(dedupe.Options{Lease: cfg.Lease, Retention: cfg.Retention})),
		geminihook.WithPublisher(srv, srv.Stop),
	}, nil
}
