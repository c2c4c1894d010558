// Package geminihook receives the webhooks that the Gemini API sends when
// long work finishes, verifies each signed delivery, records its webhook-id
// in Firestore so that retries are not processed twice, and publishes the
// event to Pub/Sub.
//
// The package registers the HTTP function GeminiWebhook with the functions
// framework; Cloud Run functions serve it with entry point GeminiWebhook.
package geminihook

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/functions"
)

// FunctionName is the name the HTTP function is registered under: the entry
// point of the deployed function.
const FunctionName = "GeminiWebhook"

// shutdownGrace is what Cloud Run allows between SIGTERM and SIGKILL, less a
// margin for closing the clients.
const shutdownGrace = 8 * time.Second

func init() {
	functions.HTTP(FunctionName, GeminiWebhook)
	if os.Getenv("K_SERVICE") != "" {
		// On Cloud Run the generated main only starts the framework: build
		// the receiver now, so that bad configuration stops the instance
		// before it takes traffic, and drain on SIGTERM ourselves.
		r, err := fromEnv()
		if err != nil {
			os.Exit(1)
		}
		go shutdownOnSIGTERM(r)
	}
}

var (
	installed atomic.Pointer[Receiver]
	lazy      struct {
		once sync.Once
		r    *Receiver
		err  error
	}
)

// Install makes r the receiver that the registered function serves.
// `geminihook serve` installs the receiver it built (embedded or not).
func Install(r *Receiver) { installed.Store(r) }

// GeminiWebhook is the registered HTTP function. It serves the installed
// receiver, building one from the environment on first use when none was
// installed.
func GeminiWebhook(w http.ResponseWriter, r *http.Request) {
	rc, err := fromEnv()
	if err != nil {
		w.Header().Set("Retry-After", retryAfterUnavailable)
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the receiver is not configured")
		return
	}
	rc.ServeHTTP(w, r)
}

func fromEnv() (*Receiver, error) {
	if r := installed.Load(); r != nil {
		return r, nil
	}
	lazy.once.Do(func() {
		cfg, err := LoadConfig(os.LookupEnv)
		if err != nil {
			lazy.err = fmt.Errorf("configuration: %w", err)
			return
		}
		lazy.r, lazy.err = New(context.Background(), cfg)
		if lazy.err == nil {
			Install(lazy.r)
		}
	})
	if lazy.err != nil {
		fmt.Fprintf(os.Stderr, `{"severity":"CRITICAL","message":%q}`+"\n", "geminihook: "+lazy.err.Error())
	}
	return lazy.r, lazy.err
}

func shutdownOnSIGTERM(r *Receiver) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	<-c
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := r.Shutdown(ctx); err != nil {
		fmt.Fprintf(os.Stderr, `{"severity":"ERROR","message":%q}`+"\n", "geminihook: shutdown: "+err.Error())
		os.Exit(1)
	}
	os.Exit(0)
}
