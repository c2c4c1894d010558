// Command receiver-discard is the receiver with its backends taken out: the
// configuration, verifier, handler and log lines of `geminihook serve`, with
// the in-memory claim store and a publisher that discards every message and
// answers at once. Its throughput is the receiver's own per-request cost,
// without Firestore or Pub/Sub.
//
//	PORT=18082 GEMINI_WEBHOOK_SECRETS=whsec_... receiver-discard >/dev/null
package main

import (
	"context"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/geminihook/geminihook"
	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/publish"
)

// discard acknowledges every message without sending it anywhere.
type discard struct{ n atomic.Int64 }

func (d *discard) Publish(context.Context, publish.Message) (string, error) {
	return strconv.FormatInt(d.n.Add(1), 10), nil
}

func main() {
	cfg, err := geminihook.LoadConfig(os.LookupEnv)
	if err != nil {
		log.Fatal(err)
	}
	rcv, err := geminihook.New(context.Background(), cfg,
		geminihook.WithClaimStore(dedupe.NewMemory(dedupe.Options{Lease: cfg.Lease, Retention: cfg.Retention})),
		geminihook.WithPublisher(new(discard), nil),
	)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("", strconv.Itoa(cfg.Port)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "receiver-discard: listening on %s\n", ln.Addr())
	if path := os.Getenv("CPUPROFILE"); path != "" {
		profileUntilSignal(path)
	}
	log.Fatal(http.Serve(ln, rcv))
}

// profileUntilSignal writes a CPU profile to path from now until SIGTERM or
// SIGINT, then exits.
func profileUntilSignal(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-c
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(0)
	}()
}
