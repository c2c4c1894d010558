// Command bench is the harness behind `make bench`: it measures the
// receiver side by side with a reference or a floor, in one run, and
// writes BENCHMARKS.md. Every figure is a ratio taken within a round and
// reported as the median of the rounds, so that it holds on a noisy shared
// machine. Run it from the module root under scripts/with-emulators (the
// end-to-end, cold-start and publisher sections need the Firestore and
// Pub/Sub emulators); scripts/bench does both.
//
//	scripts/with-emulators go run ./bench/cmd/bench -out BENCHMARKS.md
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/geminihook/geminihook/bench"
	"github.com/geminihook/geminihook/verify"
)

type options struct {
	out        string
	sections   map[string]bool
	quick      bool
	microRound int
	httpRound  int
	e2eRound   int
	command    string
}

func main() {
	var o options
	var sections string
	flag.StringVar(&o.out, "out", "BENCHMARKS.md", "report to write")
	flag.StringVar(&sections, "sections", "micro,http,e2e,cold,publish,fixes", "sections to run")
	flag.BoolVar(&o.quick, "quick", false, "small counts, to check the harness itself")
	flag.IntVar(&o.microRound, "micro-rounds", 11, "rounds of the verification benchmarks")
	flag.IntVar(&o.httpRound, "http-rounds", 9, "rounds of the HTTP benchmarks (item 4)")
	flag.IntVar(&o.e2eRound, "e2e-rounds", 8, "rounds of the end-to-end benchmarks (item 5)")
	flag.StringVar(&o.command, "command", "make bench", "the command that regenerates the report, as printed in it")
	flag.Parse()
	o.sections = map[string]bool{}
	for _, s := range strings.Split(sections, ",") {
		o.sections[strings.TrimSpace(s)] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		log.Fatal(err)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// binaries are the programs every section runs.
type binaries struct {
	dir                                         string
	geminihook, bare, discard, bareFS, function string
	sizes                                       []binarySize
}

type binarySize struct {
	name, pkg     string
	plain, strip  int64
	shippedAsWhat string
}

func buildAll(dir string) (*binaries, error) {
	b := &binaries{dir: dir}
	var err error
	type target struct {
		dst  *string
		pkg  string
		name string
		what string
	}
	targets := []target{
		{&b.geminihook, "./cmd/geminihook", "geminihook", "`geminihook serve` (the CLI, with embedded mode and every subcommand)"},
		{&b.function, "./bench/cmd/function", "function", "the receiver as Cloud Run's Go buildpack builds it (functions framework main + package geminihook)"},
		{&b.bareFS, "./bench/cmd/bare-firestore-pubsub", "bare-firestore-pubsub", "minimal program: the same Firestore and Pub/Sub clients, no verification"},
		{&b.discard, "./bench/cmd/receiver-discard", "receiver-discard", ""},
		{&b.bare, "./bench/cmd/bare", "bare", ""},
	}
	for _, t := range targets {
		if *t.dst, err = build(dir, t.pkg, t.name); err != nil {
			return nil, err
		}
		if t.what == "" {
			continue
		}
		stripped, err := build(dir, t.pkg, t.name+"-stripped", "-ldflags=-s -w")
		if err != nil {
			return nil, err
		}
		b.sizes = append(b.sizes, binarySize{name: t.name, pkg: t.pkg, plain: fileSize(*t.dst), strip: fileSize(stripped), shippedAsWhat: t.what})
	}
	return b, nil
}

func run(ctx context.Context, o options) error {
	if _, err := os.Stat("go.mod"); err != nil {
		return fmt.Errorf("run from the module root: %w", err)
	}
	rep := &report{started: time.Now(), command: o.command, machine: machineInfo(), loadBefore: loadAvg()}
	logf("load average at start: %s", rep.loadBefore)
	dir, err := os.MkdirTemp("", "geminihook-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf("building")
	bins, err := buildAll(dir)
	if err != nil {
		return err
	}
	rep.sizes = bins.sizes

	secretText := verify.GenerateSecret()
	secret, _ := verify.ParseSecret(secretText)
	body := bench.Body(2 << 10)
	bodyFile := filepath.Join(dir, "body-2KiB.json")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return err
	}
	gen := generator{bin: bins.geminihook, secret: secretText, body: bodyFile}
	rep.bodyBytes = len(body)

	fsHost, psHost := os.Getenv("FIRESTORE_EMULATOR_HOST"), os.Getenv("PUBSUB_EMULATOR_HOST")
	haveEmulators := fsHost != "" && psHost != ""
	if !haveEmulators && (o.sections["e2e"] || o.sections["cold"] || o.sections["publish"]) {
		return fmt.Errorf("the e2e, cold and publish sections need FIRESTORE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST: run under scripts/with-emulators")
	}
	const project = "geminihook-bench"
	emuEnv := map[string]string{
		"GOOGLE_CLOUD_PROJECT": project, "FIRESTORE_EMULATOR_HOST": fsHost, "PUBSUB_EMULATOR_HOST": psHost,
		"GEMINI_WEBHOOK_SECRETS": secretText,
	}

	rep.load = map[string]string{}
	if o.sections["micro"] {
		if !o.quick {
			logf("waiting for the machine to be quiet (at most a minute)")
			logf("quiet after %v", waitQuiet(time.Minute).Round(time.Second))
		}
		rep.load["micro"] = loadAvg()
		logf("items 1-3: verification, %d rounds", o.microRound)
		bt := 200 * time.Millisecond
		if o.quick {
			bt = 20 * time.Millisecond
		}
		rep.micro = runMicro(o.microRound, bt, logf)
	}
	if o.sections["http"] {
		rep.load["http"] = loadAvg()
		if err := runHTTP(ctx, o, bins, gen, secretText, rep); err != nil {
			return err
		}
	}
	if o.sections["e2e"] {
		rep.load["e2e"] = loadAvg()
		if err := runE2E(ctx, o, bins, gen, emuEnv, rep); err != nil {
			return err
		}
	}
	if o.sections["cold"] {
		rep.load["cold"] = loadAvg()
		if err := runCold(o, bins, emuEnv, fsHost, psHost, secret, body, rep); err != nil {
			return err
		}
	}
	if o.sections["publish"] {
		rep.load["publish"] = loadAvg()
		counts := map[int]int{1: 200, 80: 4000}
		if o.quick {
			counts = map[int]int{1: 20, 80: 400}
		}
		logf("item 7: publisher settings")
		pcs, err := comparePublishSettings(ctx, project, body, []int{1, 80}, counts, 3, logf)
		if err != nil {
			return err
		}
		rep.publish = pcs
	}
	if o.sections["fixes"] {
		rep.load["fixes"] = loadAvg()
		logf("fixes: each rewritten path against the one it replaced")
		n := 5
		if o.quick {
			n = 1
		}
		if rep.fixes, err = runFixes(n); err != nil {
			return err
		}
	}
	rep.loadAfter = loadAvg()
	rep.finished = time.Now()
	logf("load average at end: %s", rep.loadAfter)
	f, err := os.Create(o.out)
	if err != nil {
		return err
	}
	defer f.Close()
	rep.write(f, body)
	logf("wrote %s", o.out)
	return nil
}

// runHTTP is item 4: the handler over HTTP against a bare handler, on the
// in-memory claim store with a discarding publisher, and embedded mode as
// shipped.
func runHTTP(ctx context.Context, o options, bins *binaries, gen generator, secretText string, rep *report) error {
	count, warm := 10000, 5000
	if o.quick {
		count, warm = 2000, 500
	}
	logf("item 4: HTTP, %d deliveries a run at concurrency 80, %d rounds", count, o.httpRound)
	bare, err := startServer("bare", bins.bare, nil, nil)
	if err != nil {
		return err
	}
	defer bare.stop()
	discard, err := startServer("receiver-discard", bins.discard, nil, map[string]string{"GEMINI_WEBHOOK_SECRETS": secretText})
	if err != nil {
		return err
	}
	defer discard.stop()
	emb, err := startServer("embedded", bins.geminihook, []string{"serve"}, map[string]string{"GEMINI_WEBHOOK_SECRETS": secretText})
	if err != nil {
		return err
	}
	defer emb.stop()
	a, err := alternate(ctx, gen, []*server{bare, discard, emb}, "bare", warm, count, 80, o.httpRound, logf)
	if err != nil {
		return err
	}
	rep.http = a
	rep.httpCount = count
	rep.httpRSS = map[string]int64{"bare": bare.peakRSS(), "receiver-discard": discard.peakRSS(), "embedded": emb.peakRSS()}
	return nil
}

// runE2E is item 5 and the peak RSS of item 4: the receiver on the
// emulators against the bare Firestore + Pub/Sub handler.
func runE2E(ctx context.Context, o options, bins *binaries, gen generator, emuEnv map[string]string, rep *report) error {
	count, warm, lowCount := 2000, 3000, 300
	if o.quick {
		count, warm, lowCount = 300, 300, 30
	}
	logf("item 5: end to end on the emulators, %d deliveries a run at concurrency 80, %d rounds", count, o.e2eRound)
	rcv, err := startServer("receiver", bins.geminihook, []string{"serve"}, emuEnv)
	if err != nil {
		return err
	}
	defer rcv.stop()
	bareEnv := map[string]string{}
	for k, v := range emuEnv {
		bareEnv[k] = v
	}
	bareEnv["DEDUPE_COLLECTION"] = "bare-deliveries"
	bare, err := startServer("bare-firestore-pubsub", bins.bareFS, nil, bareEnv)
	if err != nil {
		return err
	}
	defer bare.stop()
	servers := []*server{rcv, bare}
	a, err := alternate(ctx, gen, servers, "bare-firestore-pubsub", warm, count, 80, o.e2eRound, logf)
	if err != nil {
		return err
	}
	rep.e2e = a
	rep.e2eCount = count
	rep.e2eRSS = map[string]int64{"receiver": rcv.peakRSS(), "bare-firestore-pubsub": bare.peakRSS()}
	logf("one delivery at a time, %d deliveries a run", lowCount)
	low, err := alternate(ctx, gen, servers, "bare-firestore-pubsub", 0, lowCount, 1, 4, logf)
	if err != nil {
		return err
	}
	rep.e2eLow = low
	rep.e2eLowCount = lowCount
	return nil
}

// runCold is item 6.
func runCold(o options, bins *binaries, emuEnv map[string]string, fsHost, psHost string, secret verify.Secret, body []byte, rep *report) error {
	trials := 7
	if o.quick {
		trials = 2
	}
	logf("item 6: cold start, %d trials each", trials)
	bareEnv := map[string]string{}
	for k, v := range emuEnv {
		bareEnv[k] = v
	}
	bareEnv["DEDUPE_COLLECTION"] = "bare-deliveries"
	fnEnv := map[string]string{"FUNCTION_TARGET": "GeminiWebhook", "K_SERVICE": "gemini-webhook"}
	for k, v := range emuEnv {
		fnEnv[k] = v
	}
	progs := []struct {
		name, bin string
		args      []string
		env       map[string]string
	}{
		{"geminihook serve", bins.geminihook, []string{"serve"}, emuEnv},
		{"function (buildpack main)", bins.function, nil, fnEnv},
		{"bare-firestore-pubsub", bins.bareFS, nil, bareEnv},
	}
	rep.cold = map[string][]coldStart{}
	for t := range trials {
		for i := range progs {
			p := progs[(i+t)%len(progs)]
			cs, err := measureColdStart(p.name, p.bin, p.args, p.env, secret, body)
			if err != nil {
				return err
			}
			rep.cold[p.name] = append(rep.cold[p.name], cs)
		}
	}
	for _, p := range progs {
		rep.coldOrder = append(rep.coldOrder, p.name)
		sc, err := traceStartup(p.name, p.bin, p.args, p.env, fsHost, psHost, secret, body)
		if err != nil {
			return err
		}
		if rep.calls == nil {
			rep.calls = map[string]startupCalls{}
		}
		rep.calls[p.name] = sc
		logf("  %s: before the first request: firestore %v, pubsub %v, jwks %d", p.name, sc.firestoreBefore, sc.pubsubBefore, sc.jwksBefore)
	}
	return nil
}
