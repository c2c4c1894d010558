package chaos

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/geminihook/geminihook/dedupe"
	"github.com/geminihook/geminihook/internal/emulator"
	"github.com/geminihook/geminihook/internal/faultproxy"
	"github.com/geminihook/geminihook/publish"
	"github.com/geminihook/geminihook/verify"
)

const (
	project    = "geminihook-chaos"
	secretText = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	// The receiver's deadlines for the run. The lease outlasts the longest a
	// delivery can hold its claim (REQUEST_TIMEOUT, then up to 5 s to mark
	// it), so that only a kill or a failed mark can let a second attempt
	// publish an event that is already on Pub/Sub.
	requestTimeout = 2 * time.Second
	lease          = 8 * time.Second
	settleTimeout  = 5 * time.Second // the handler's bound on mark and release
	maxBody        = 64 << 10
	// serverWindow over-approximates how long the receiver may work on an
	// attempt that got no answer: the request deadline, the mark, a margin.
	serverWindow = requestTimeout + settleTimeout + time.Second
	// drainBudget is what Cloud Run allows between SIGTERM and SIGKILL.
	drainBudget = 10 * time.Second
)

// chaosConfig holds the knobs of a run, from the environment:
//
//	CHAOS_EVENTS       distinct events (default 200, the short form)
//	CHAOS_SECONDS      how long events keep arriving (default 12, or events/40 when larger)
//	CHAOS_CONCURRENCY  requests in flight at once (default 64)
//	CHAOS_SEED         random seed (default: time-based, printed)
//	CHAOS_REPORT       file to write the figures to, as JSON
//	CHAOS_TRACE        directory to write every attempt, fault and receiver log line to
type chaosConfig struct {
	events      int
	load        time.Duration
	concurrency int
	seed        uint64
	report      string
	logDir      string
}

func loadConfig(t *testing.T) chaosConfig {
	t.Helper()
	num := func(name string, def int) int {
		v := os.Getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive integer", name, v)
		}
		return n
	}
	c := chaosConfig{
		events:      num("CHAOS_EVENTS", 200),
		concurrency: num("CHAOS_CONCURRENCY", 64),
		seed:        uint64(num("CHAOS_SEED", int(time.Now().UnixNano()%1e9)+1)),
		report:      os.Getenv("CHAOS_REPORT"),
		logDir:      os.Getenv("CHAOS_TRACE"),
	}
	c.load = time.Duration(num("CHAOS_SECONDS", max(12, c.events/40))) * time.Second
	return c
}

// Fault kinds. Backend faults act on the proxy between the receiver and an
// emulator; kill and sigterm act on the receiver process.
const (
	faultKill      = "kill"
	faultSIGTERM   = "sigterm"
	faultPSRefuse  = "pubsub-refuse"
	faultPSHole    = "pubsub-blackhole"
	faultPSCut     = "pubsub-cut"
	faultFSRefuse  = "firestore-refuse"
	faultFSHole    = "firestore-blackhole"
	faultFSCut     = "firestore-cut"
	minFaultsShort = 2
)

var faultKinds = []string{faultKill, faultSIGTERM, faultPSRefuse, faultPSHole, faultPSCut, faultFSRefuse, faultFSHole, faultFSCut}

// fault is one injected fault: a kill or a cut at an instant, a refusing
// or black-holed backend over [start, end], a SIGTERM from the signal to the
// exit.
type fault struct {
	kind       string
	start, end time.Time
	exitCode   int // sigterm only
	// up is when the restarted receiver listened again (kill and sigterm).
	up time.Time
}

// The promise, measured: every event reaches Pub/Sub (lost = 0), nothing
// else does (no forged delivery, no altered body), duplicates only where
// the receiver could not know that Pub/Sub had the event, and every claim
// ends published.
func TestChaos(t *testing.T) {
	t.Parallel()
	cfg := loadConfig(t)
	fsHost, psHost := emulator.FirestoreHost(t), emulator.PubSubHost(t)
	began := time.Now()
	ctx := context.Background()
	t.Logf("chaos: %d events over %v, %d requests in flight at most, seed %d", cfg.events, cfg.load, cfg.concurrency, cfg.seed)

	// Backends, reached directly by the test.
	topic, collection := emulator.UniqueName("chaos-"), emulator.UniqueName("chaos-claims-")
	ps, err := pubsub.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	fs, err := firestore.NewClient(ctx, project)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fs.Close() })
	if _, err := ps.TopicAdminClient.CreateTopic(ctx, &pubsubpb.Topic{Name: publish.TopicName(project, topic)}); err != nil {
		t.Fatal(err)
	}
	sub := "projects/" + project + "/subscriptions/" + topic
	if _, err := ps.SubscriptionAdminClient.CreateSubscription(ctx, &pubsubpb.Subscription{
		Name: sub, Topic: publish.TopicName(project, topic), AckDeadlineSeconds: 60,
	}); err != nil {
		t.Fatal(err)
	}

	// The receiver, through a fault proxy to each emulator.
	fsProxy := faultproxy.Start(t, fsHost)
	psProxy := faultproxy.Start(t, psHost)
	rcv := newReceiver(t, map[string]string{
		"GOOGLE_CLOUD_PROJECT":    project,
		"FIRESTORE_EMULATOR_HOST": fsProxy.Addr(),
		"PUBSUB_EMULATOR_HOST":    psProxy.Addr(),
		"PUBSUB_TOPIC":            topic,
		"DEDUPE_COLLECTION":       collection,
		"GEMINI_WEBHOOK_SECRETS":  secretText,
		"REQUEST_TIMEOUT":         requestTimeout.String(),
		"DEDUPE_LEASE":            lease.String(),
		"MAX_BODY_BYTES":          strconv.Itoa(maxBody),
		// Loopback and never listening: no delivery of the run is dynamic,
		// and nothing may leave the machine.
		"GEMINI_JWKS_URL": "http://127.0.0.1:9/jwks.json",
	})
	if err := rcv.start(); err != nil {
		t.Fatal(err)
	}

	secret, err := verify.ParseSecret(secretText)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(cfg.seed, 2))
	run := emulator.UniqueName("")
	events := make([]event, cfg.events)
	types := []string{"batch.succeeded", "batch.failed", "batch.expired", "interaction.completed", "video.generated", "batch.completed"}
	for i := range events {
		id := "msg_chaos_" + run + "_" + strconv.Itoa(i)
		events[i] = event{id: id, body: []byte(fmt.Sprintf(
			`{"type":%q,"version":"v1","timestamp":%q,"data":{"id":"batches/chaos_%s_%d","output_file_uri":"gs://chaos/%d.jsonl"}}`,
			types[i%len(types)], time.Now().UTC().Format(time.RFC3339), run, i, i))}
	}
	snd := newSender(rcv.url, secret, cfg.concurrency, cfg.seed)

	// Arrivals: spread over the load period, with a fifth of the events in
	// bursts, as when many batches finish at once. Some events are delivered
	// twice on their own (at once, or a little later), as Gemini may.
	arrivals := make([]time.Duration, cfg.events)
	bursts := []time.Duration{cfg.load / 5, cfg.load / 2, 4 * cfg.load / 5}
	for i := range arrivals {
		if rnd.IntN(5) == 0 {
			arrivals[i] = bursts[rnd.IntN(len(bursts))]
		} else {
			arrivals[i] = time.Duration(rnd.Int64N(int64(cfg.load)))
		}
	}
	concurrentDup := make([]bool, cfg.events)
	lateDup := make([]bool, cfg.events)
	for i := range events {
		concurrentDup[i] = rnd.IntN(100) < 3
		lateDup[i] = rnd.IntN(100) < 10
	}

	// Everything stops by itself: the load, then at most this much more for
	// the retries to get through.
	runCtx, stopRun := context.WithTimeout(ctx, cfg.load+2*time.Minute)
	defer stopRun()
	accepted := make([]bool, cfg.events)
	var wg sync.WaitGroup
	start := time.Now()
	for i, ev := range events {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(arrivals[i]):
			case <-runCtx.Done():
				return
			}
			var dup sync.WaitGroup
			if concurrentDup[i] {
				dup.Add(1)
				go func() { defer dup.Done(); snd.deliver(runCtx, i, ev, kindDuplicate) }()
			}
			accepted[i] = snd.deliver(runCtx, i, ev, kindEvent)
			if lateDup[i] {
				time.Sleep(time.Duration(rnd2(cfg.seed, i).Int64N(int64(time.Second))))
				snd.deliver(runCtx, i, ev, kindDuplicate)
			}
			dup.Wait()
		}()
	}

	// Forged and rejected deliveries, interleaved with the load: each made
	// until the receiver answers it, none may ever reach Pub/Sub.
	forgedIDs := map[string]bool{}
	forgeries := forge(events, secret, max(20, cfg.events/20), rnd)
	for _, f := range forgeries {
		if f.event < 0 {
			forgedIDs[f.id] = true
		}
	}
	forgedAt := make([]time.Duration, len(forgeries))
	for i := range forgedAt {
		forgedAt[i] = time.Duration(rnd.Int64N(int64(cfg.load)))
	}
	for i, f := range forgeries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case <-time.After(forgedAt[i]):
			case <-runCtx.Done():
				return
			}
			// An attacker tries until the receiver answers.
			for range 20 {
				if a := snd.post(runCtx, f.event, kindForged, f.name, f.id, f.timestamp, f.body, f.signature); a.status != 0 || runCtx.Err() != nil {
					return
				}
				time.Sleep(snd.jitter(500 * time.Millisecond))
			}
		}()
	}

	// Faults, one at a time, while events arrive: every kind in each round,
	// in a random order.
	faults, faultErr := injectFaults(start.Add(cfg.load), rcv, fsProxy, psProxy, rnd)
	loadDone := make(chan struct{})
	go func() { wg.Wait(); close(loadDone) }()
	select {
	case <-loadDone:
	case <-runCtx.Done():
		<-loadDone
	}
	loadTime := time.Since(start)
	if faultErr != nil {
		t.Fatalf("injecting faults: %v", faultErr)
	}

	// A claim left pending means a publish whose mark failed: Gemini would
	// not deliver that event again unless it duplicates it. Deliver each
	// once more, as such a duplicate would, so that every claim ends
	// published; the republish that may cause is counted as a duplicate.
	ids := make([]string, len(events))
	for i, ev := range events {
		ids[i] = ev.id
	}
	pendingBefore := map[string]bool{}
	for id, c := range claimStates(t, fs, collection, ids) {
		if c.state != "published" {
			pendingBefore[id] = true
		}
	}
	sweepCtx, stopSweep := context.WithTimeout(ctx, time.Minute)
	for i, ev := range events {
		if pendingBefore[ev.id] {
			wg.Add(1)
			go func() { defer wg.Done(); snd.deliver(sweepCtx, i, ev, kindSweep) }()
		}
	}
	wg.Wait()
	stopSweep()
	states := claimStates(t, fs, collection, ids)
	forgedClaims := claimStates(t, fs, collection, slices.Sorted(maps.Keys(forgedIDs)))

	// Every message on the topic.
	msgs := pullAll(t, ps, sub, ids, 3*time.Second, 2*time.Minute)
	elapsed := time.Since(began)

	attempts := snd.all()
	outcomes, markFailed := logOutcomes(rcv.stdout.String())
	rep := analyse(events, attempts, faults, msgs, states, forgedIDs, markFailed)
	rep.Seconds = elapsed.Seconds()
	rep.LoadSeconds = loadTime.Seconds()
	rep.Seed = cfg.seed
	rep.ReceiverStarts = rcv.starts
	rep.PendingBeforeSweep = len(pendingBefore)
	rep.Forged = len(forgeries)
	rep.ProxyFirestore, rep.ProxyPubSub = fsProxy.Stats(), psProxy.Stats()
	rep.Outcomes = outcomes
	for _, line := range rep.lines() {
		t.Log(line)
	}
	if cfg.logDir != "" {
		writeTrace(t, cfg.logDir, start, events, attempts, faults, msgs, rcv.stdout.String())
	}
	if cfg.report != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		if err := os.WriteFile(cfg.report, append(b, '\n'), 0o644); err != nil {
			t.Error(err)
		}
	}

	// The assertions.
	for i, ok := range accepted {
		if !ok {
			t.Errorf("%s never answered 2xx within the run", events[i].id)
		}
	}
	if rep.Lost != 0 {
		t.Errorf("lost %d events: %v", rep.Lost, firstN(rep.lost, 10))
	}
	if rep.Answered2xxMissing != 0 {
		t.Errorf("%d events answered 2xx are not on Pub/Sub", rep.Answered2xxMissing)
	}
	for _, p := range rep.problems {
		t.Error(p)
	}
	if n := rep.DuplicatesBy[causeKill]; n > rep.KillsBetweenPublishAndMark {
		t.Errorf("%d duplicates after kills, more than the %d kills that fell between publish and mark", n, rep.KillsBetweenPublishAndMark)
	}
	if limit := rep.KillsBetweenPublishAndMark + rep.AcksLost + rep.MarkFailures; rep.Duplicates > limit {
		t.Errorf("%d duplicates, more than the %d windows in which the receiver could not know or record that Pub/Sub had the event", rep.Duplicates, limit)
	}
	if rep.Unexplained != 0 {
		t.Errorf("%d duplicates beyond the windows of their event (kill between publish and mark, lost ack, failed mark): %v", rep.Unexplained, firstN(rep.unexplained, 10))
	}
	for _, id := range ids {
		if states[id].state != "published" {
			t.Errorf("claim of %s ends %q, want published", id, states[id].state)
		}
	}
	for id := range pendingBefore {
		if !rep.faultedIDs[id] {
			t.Errorf("claim of %s was left pending with no kill or Firestore fault during its deliveries", id)
		}
	}
	for id, c := range forgedClaims {
		if c.state != "" {
			t.Errorf("forged delivery %s left a claim (%s)", id, c.state)
		}
	}
	for _, kind := range faultKinds {
		if n := rep.Faults[kind]; n < minFaultsShort {
			t.Errorf("%d faults of kind %s, want at least %d (lengthen CHAOS_SECONDS)", n, kind, minFaultsShort)
		}
	}
	for _, f := range faults {
		if f.kind == faultSIGTERM && (f.exitCode != 0 || f.end.Sub(f.start) > drainBudget) {
			t.Errorf("SIGTERM at %v: exit code %d after %v, want 0 within %v", f.start.Sub(start), f.exitCode, f.end.Sub(f.start), drainBudget)
		}
	}
}

// rnd2 is a per-goroutine source, so that goroutines do not share one.
func rnd2(seed uint64, i int) *rand.Rand { return rand.New(rand.NewPCG(seed, uint64(i)+3)) }

// forgery is one delivery that must be refused.
type forgery struct {
	name      string
	event     int // the real event whose id it borrows, or -1
	id        string
	timestamp string
	body      []byte
	signature string
	want      int
}

// forge makes n deliveries an attacker (or a broken sender) could make.
func forge(events []event, secret verify.Secret, n int, rnd *rand.Rand) []forgery {
	other, _ := verify.ParseSecret("whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	now := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	body := []byte(`{"type":"batch.succeeded","version":"v1","data":{"id":"batches/forged"}}`)
	var out []forgery
	for i := range n {
		id := "msg_forged_" + strconv.Itoa(i) + "_" + strconv.Itoa(rnd.IntN(1e6))
		victim := rnd.IntN(len(events))
		ev := events[victim]
		ts := now(0)
		var f forgery
		switch i % 7 {
		case 0:
			f = forgery{name: "another secret", event: -1, id: id, timestamp: ts, body: body, signature: verify.SignV1(other, id, ts, body), want: 401}
		case 1:
			// A real event's id and signature with another body.
			f = forgery{name: "tampered body", event: victim, id: ev.id, timestamp: ts, body: bytes.Replace(ev.body, []byte("gs://chaos/"), []byte("gs://evil/"), 1), signature: verify.SignV1(secret, ev.id, ts, ev.body), want: 401}
		case 2:
			// A captured delivery replayed after the tolerance.
			old := now(-10 * time.Minute)
			f = forgery{name: "stale replay", event: -1, id: id, timestamp: old, body: body, signature: verify.SignV1(secret, id, old, body), want: 401}
		case 3:
			// A real event's signature under a new id.
			f = forgery{name: "id swapped", event: -1, id: id, timestamp: ts, body: ev.body, signature: verify.SignV1(secret, ev.id, ts, ev.body), want: 401}
		case 4:
			f = forgery{name: "no usable signature", event: -1, id: id, timestamp: ts, body: body, signature: "v1," + base64.StdEncoding.EncodeToString(make([]byte, 32)), want: 401}
		case 5:
			f = forgery{name: "malformed timestamp", event: -1, id: id, timestamp: ts + ".5", body: body, signature: verify.SignV1(secret, id, ts+".5", body), want: 400}
		case 6:
			big := bytes.Repeat([]byte("x"), maxBody+1)
			f = forgery{name: "body over the limit", event: -1, id: id, timestamp: ts, body: big, signature: verify.SignV1(secret, id, ts, big), want: 413}
		}
		out = append(out, f)
	}
	return out
}

// injectFaults applies faults one at a time, in rounds that apply every
// kind once in a random order, until a round ends after until. A kill or a
// SIGTERM is followed by a restart.
func injectFaults(until time.Time, rcv *receiver, fsProxy, psProxy *faultproxy.Proxy, rnd *rand.Rand) ([]fault, error) {
	var faults []fault
	pause := func(lo, hi time.Duration) { time.Sleep(lo + time.Duration(rnd.Int64N(int64(hi-lo)))) }
	for time.Now().Before(until) {
		round := slices.Clone(faultKinds)
		rnd.Shuffle(len(round), func(i, j int) { round[i], round[j] = round[j], round[i] })
		for _, kind := range round {
			pause(100*time.Millisecond, 400*time.Millisecond)
			f := fault{kind: kind, start: time.Now()}
			switch kind {
			case faultKill:
				if err := rcv.kill(); err != nil {
					return faults, err
				}
				f.end = f.start
				if err := rcv.start(); err != nil {
					return faults, err
				}
				f.up = time.Now()
				faults = append(faults, f)
				continue
			case faultSIGTERM:
				code, stderr, err := rcv.terminate(drainBudget + 5*time.Second)
				if err != nil {
					return faults, err
				}
				if code == 0 && !strings.Contains(stderr, "stopped") {
					code = -2 // exited 0 without saying it stopped cleanly
				}
				f.end, f.exitCode = time.Now(), code
				if err := rcv.start(); err != nil {
					return faults, err
				}
				f.up = time.Now()
				faults = append(faults, f)
				continue
			case faultPSCut:
				psProxy.Cut()
			case faultFSCut:
				fsProxy.Cut()
			case faultPSRefuse, faultPSHole, faultFSRefuse, faultFSHole:
				p, mode := psProxy, faultproxy.Refuse
				if strings.HasPrefix(kind, "firestore") {
					p = fsProxy
				}
				if strings.HasSuffix(kind, "blackhole") {
					mode = faultproxy.BlackHole
				}
				p.SetMode(mode)
				pause(200*time.Millisecond, time.Second)
				p.SetMode(faultproxy.Forward)
			}
			f.end = time.Now()
			faults = append(faults, f)
		}
	}
	return faults, nil
}

// message is one Pub/Sub message as the test received it.
type message struct {
	id   string
	data []byte
	// published is when Pub/Sub took the message (its publish_time).
	published time.Time
}

// pullAll receives from sub until every id of want has arrived and no new
// message came for quiet, or until timeout. Redeliveries of one message
// (same message id) are counted once.
func pullAll(t *testing.T, c *pubsub.Client, sub string, want []string, quiet, timeout time.Duration) map[string][]message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	missing := map[string]bool{}
	for _, id := range want {
		missing[id] = true
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	got := map[string][]message{}
	last := time.Now()
	go func() {
		for ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
			mu.Lock()
			done := len(missing) == 0 && time.Since(last) > quiet
			mu.Unlock()
			if done {
				cancel()
			}
		}
	}()
	s := c.Subscriber(sub)
	s.ReceiveSettings.MaxOutstandingMessages = 2000
	err := s.Receive(ctx, func(_ context.Context, m *pubsub.Message) {
		m.Ack()
		mu.Lock()
		defer mu.Unlock()
		last = time.Now()
		if seen[m.ID] {
			return
		}
		seen[m.ID] = true
		id := m.Attributes["webhook_id"]
		delete(missing, id)
		got[id] = append(got[id], message{id: m.ID, data: m.Data, published: m.PublishTime})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// claim is a claim document as the test reads it.
type claim struct {
	state     string // "" when there is no claim
	messageID string
	// marked is when the claim was marked published (its published_at).
	marked time.Time
}

// claimStates reads the claim of each id straight from the emulator.
func claimStates(t *testing.T, fs *firestore.Client, collection string, ids []string) map[string]claim {
	t.Helper()
	claims := make(map[string]claim, len(ids))
	for lo := 0; lo < len(ids); lo += 300 {
		batch := ids[lo:min(lo+300, len(ids))]
		refs := make([]*firestore.DocumentRef, len(batch))
		for i, id := range batch {
			refs[i] = fs.Collection(collection).Doc(dedupe.DocID(id))
		}
		snaps, err := fs.GetAll(context.Background(), refs)
		if err != nil {
			t.Fatal(err)
		}
		for i, snap := range snaps {
			var c claim
			if snap.Exists() {
				var doc struct {
					State       string    `firestore:"state"`
					MessageID   string    `firestore:"message_id"`
					PublishedAt time.Time `firestore:"published_at"`
				}
				if err := snap.DataTo(&doc); err != nil {
					t.Fatal(err)
				}
				c = claim{doc.State, doc.MessageID, doc.PublishedAt}
			}
			claims[batch[i]] = c
		}
	}
	return claims
}

// logOutcomes counts the outcomes of the receiver's delivery log lines, and,
// by webhook id, the deliveries published whose claim could not be marked.
func logOutcomes(stdout string) (map[string]int, map[string]int) {
	outcomes, markFailed := map[string]int{}, map[string]int{}
	for line := range strings.Lines(stdout) {
		var l struct {
			Outcome   string `json:"outcome"`
			Error     string `json:"error"`
			WebhookID string `json:"webhook_id"`
		}
		if json.Unmarshal([]byte(line), &l) != nil || l.Outcome == "" {
			continue
		}
		outcomes[l.Outcome]++
		if l.Outcome == "published" && l.Error != "" {
			markFailed[l.WebhookID]++
		}
	}
	return outcomes, markFailed
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

// writeTrace writes the run's attempts and faults (as seconds since the
// start of the load) and the receiver's log to dir, to study a run.
func writeTrace(t *testing.T, dir string, start time.Time, events []event, attempts []*attempt, faults []fault, msgs map[string][]message, log string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Error(err)
		return
	}
	at := func(x time.Time) string { return strconv.FormatFloat(x.Sub(start).Seconds(), 'f', 3, 64) }
	var b strings.Builder
	b.WriteString("start\tend\tkind\tid\tanswer\tstatus\tmessage_id\terror\n")
	for _, a := range attempts {
		fmt.Fprintf(&b, "%s\t%s\t%s%s\t%s\t%s\t%s\t%s\t%s\n", at(a.start), at(a.end), a.kind, a.forged, idOf(events, a), answerKey(a), a.answer, a.messageID, a.err)
	}
	var m strings.Builder
	m.WriteString("published\tid\tmessage_id\n")
	for _, id := range slices.Sorted(maps.Keys(msgs)) {
		for _, x := range msgs[id] {
			fmt.Fprintf(&m, "%s\t%s\t%s\n", at(x.published), id, x.id)
		}
	}
	var f strings.Builder
	f.WriteString("start\tend\tkind\texit\tup\n")
	for _, x := range faults {
		up := ""
		if !x.up.IsZero() {
			up = at(x.up)
		}
		fmt.Fprintf(&f, "%s\t%s\t%s\t%d\t%s\n", at(x.start), at(x.end), x.kind, x.exitCode, up)
	}
	for name, text := range map[string]string{"attempts.tsv": b.String(), "faults.tsv": f.String(), "messages.tsv": m.String(), "receiver.log": log} {
		if err := os.WriteFile(dir+"/"+name, []byte(text), 0o644); err != nil {
			t.Error(err)
		}
	}
}
