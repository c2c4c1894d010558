package chaos

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/geminihook/geminihook/internal/faultproxy"
)

// report holds the figures of a run.
type report struct {
	Seed        uint64  `json:"seed"`
	Seconds     float64 `json:"seconds"`
	LoadSeconds float64 `json:"load_seconds"`

	Events         int            `json:"events"`
	Attempts       int            `json:"attempts"`
	AttemptsByKind map[string]int `json:"attempts_by_kind"`
	Answers        map[string]int `json:"answers"` // by status, "conn-error", "timeout"
	MaxAttempts    int            `json:"max_attempts_of_one_event"`
	// SlowestEvent is the longest from an event's first attempt to its
	// acceptance; SlowEvents counts those that took over 30 s.
	SlowestEvent   float64        `json:"slowest_event_seconds"`
	SlowEvents     int            `json:"events_over_30s"`
	Faults         map[string]int `json:"faults"`
	ReceiverStarts int            `json:"receiver_starts"`
	// DownSeconds is how long the receiver was not listening: from each
	// kill or SIGTERM until its restart listened.
	DownSeconds     float64 `json:"receiver_down_seconds"`
	MaxRestart      float64 `json:"longest_restart_seconds"`
	KillsInFlight   int     `json:"kills_hitting_deliveries"`
	KilledAttempts  int     `json:"attempts_cut_by_kills"`
	InFlightAtTERM  int     `json:"attempts_in_flight_at_sigterm"`
	AnsweredAtTERM  int     `json:"of_which_answered"`
	TimedOutAtTERM  int     `json:"of_which_sender_timed_out"`
	RefusedAtTERM   int     `json:"of_which_refused_as_listener_closed"`
	DroppedAtTERM   int     `json:"of_which_dropped"`
	DrainMaxSeconds float64 `json:"longest_sigterm_to_exit_seconds"`

	Lost               int            `json:"lost"`
	Answered2xxMissing int            `json:"answered_2xx_missing"`
	Duplicates         int            `json:"duplicates"`
	DuplicatesBy       map[string]int `json:"duplicates_by_cause"`
	Unexplained        int            `json:"unexplained_duplicates"`
	// The windows in which the receiver cannot know, or cannot record,
	// that Pub/Sub has an event, each counted from the messages' publish
	// times, the attempts and the receiver's log:
	// KillsBetweenPublishAndMark counts attempts cut by a kill after a
	// message of their event reached Pub/Sub while they ran and before the
	// claim was marked with it; AcksLost,
	// attempts that answered 503, or 200 with another message id, although
	// a message of their event reached Pub/Sub while they ran; and
	// MarkFailures, deliveries published whose claim could not be marked.
	KillsBetweenPublishAndMark int `json:"kills_between_publish_and_mark"`
	AcksLost                   int `json:"publishes_whose_ack_was_lost"`
	// Struck counts, by class of fault (kill, pubsub, firestore), the
	// attempts a fault of that class struck: cut by a kill, or under way at
	// the receiver during a backend fault. The duplicates of each cause
	// can be at most the attempts its class struck.
	Struck             map[string]int `json:"attempts_struck_by_faults"`
	Forged             int            `json:"forged_deliveries"`
	ForgedAttempts     int            `json:"forged_attempts"`
	ForgedAnswers      map[string]int `json:"forged_answers"`
	ForgedPublished    int            `json:"forged_published"`
	PendingBeforeSweep int            `json:"claims_pending_before_sweep"`
	MarkFailures       int            `json:"mark_failures_logged"`
	Outcomes           map[string]int `json:"receiver_outcomes"`

	ProxyFirestore faultproxy.Stats `json:"proxy_firestore"`
	ProxyPubSub    faultproxy.Stats `json:"proxy_pubsub"`

	lost, unexplained []string
	problems          []string
	// faultedIDs are the events that had a kill or a backend fault during
	// one of their deliveries.
	faultedIDs map[string]bool
}

// serverEnd is the latest the receiver may still work on a: never if the
// connection was refused; until the answer, or until the connection broke
// (a kill: nothing of the receiver survives it); and when the sender gave up
// waiting, up to serverWindow after the request began.
func serverEnd(a *attempt) time.Time {
	switch {
	case a.refused:
		return a.start
	case a.timeout:
		return a.start.Add(serverWindow)
	}
	return a.end
}

// killedInFlight is the strict definition: the attempt reached the
// receiver before the kill and ended with its connection broken at or after
// it.
func killedInFlight(a *attempt, f fault) bool {
	return f.kind == faultKill && a.connError() && !a.refused && a.start.Before(f.start) && !a.end.Before(f.start)
}

// mayHaveHit reports whether fault f could have changed what the receiver
// did for a: a kill while the receiver may still have worked on it (it got
// no answer), or a backend fault overlapping that work. SIGTERM is no
// excuse: a drain must neither lose nor duplicate.
func mayHaveHit(a *attempt, f fault) bool {
	switch {
	case f.kind == faultSIGTERM:
		return false
	case a.refused:
		return false
	case f.kind == faultKill:
		return a.status == 0 && a.start.Before(f.start) && !serverEnd(a).Before(f.start)
	}
	return !f.start.After(serverEnd(a)) && !f.end.Before(a.start)
}

func analyse(events []event, attempts []*attempt, faults []fault, msgs map[string][]message, claims map[string]claim, forgedIDs map[string]bool, markFailed map[string]int) *report {
	r := &report{
		Events: len(events), Attempts: len(attempts),
		AttemptsByKind: map[string]int{}, Answers: map[string]int{}, Faults: map[string]int{},
		DuplicatesBy: map[string]int{}, ForgedAnswers: map[string]int{}, faultedIDs: map[string]bool{},
		Struck: map[string]int{},
	}
	byEvent := make([][]*attempt, len(events))
	for _, a := range attempts {
		r.AttemptsByKind[a.kind]++
		r.Answers[answerKey(a)]++
		if a.kind == kindForged {
			continue
		}
		byEvent[a.event] = append(byEvent[a.event], a)
	}
	for i := range byEvent {
		r.MaxAttempts = max(r.MaxAttempts, len(byEvent[i]))
		var first, accepted time.Time
		for _, a := range byEvent[i] {
			if a.kind != kindEvent {
				continue
			}
			if first.IsZero() || a.start.Before(first) {
				first = a.start
			}
			if a.ok() && (accepted.IsZero() || a.end.Before(accepted)) {
				accepted = a.end
			}
		}
		if !accepted.IsZero() {
			took := accepted.Sub(first).Seconds()
			r.SlowestEvent = max(r.SlowestEvent, took)
			if took > 30 {
				r.SlowEvents++
			}
		}
	}
	for _, f := range faults {
		r.Faults[f.kind]++
		if !f.up.IsZero() {
			r.DownSeconds += f.up.Sub(f.start).Seconds()
			r.MaxRestart = max(r.MaxRestart, f.up.Sub(f.end).Seconds())
		}
		if f.kind == faultSIGTERM {
			r.DrainMaxSeconds = max(r.DrainMaxSeconds, f.end.Sub(f.start).Seconds())
		}
	}

	// Kills that cut deliveries, and what SIGTERM did to those in flight.
	for _, f := range faults {
		switch f.kind {
		case faultKill:
			hit := 0
			for _, a := range attempts {
				if killedInFlight(a, f) {
					hit++
				}
			}
			r.KilledAttempts += hit
			if hit > 0 {
				r.KillsInFlight++
			}
		case faultSIGTERM:
			for _, a := range attempts {
				if !a.start.Before(f.start) || a.end.Before(f.start) {
					continue
				}
				r.InFlightAtTERM++
				switch {
				case a.status != 0:
					r.AnsweredAtTERM++
				case a.timeout:
					// The sender gave up first; the receiver went on.
					r.TimedOutAtTERM++
				case f.start.Sub(a.start) > 100*time.Millisecond:
					// It had long reached the receiver, which must finish
					// it rather than drop the connection.
					r.DroppedAtTERM++
					r.problems = append(r.problems, fmt.Sprintf(
						"%s attempt of %s in flight at SIGTERM (begun %v before) was dropped: %s",
						a.kind, idOf(events, a), f.start.Sub(a.start).Round(time.Millisecond), a.err))
				default:
					// Sent as the listener closed: refused, and retried.
					r.RefusedAtTERM++
				}
			}
		}
	}

	for _, a := range attempts {
		if a.kind == kindForged {
			continue
		}
		hit := map[string]bool{}
		for _, f := range faults {
			switch {
			case f.kind == faultKill && killedInFlight(a, f):
				hit["kill"] = true
			case f.kind != faultKill && mayHaveHit(a, f):
				hit[faultClass(f.kind)] = true
			}
		}
		for class := range hit {
			r.Struck[class]++
		}
	}

	// Lost and duplicated events, each duplicate matched to the faults
	// that could explain it.
	for i, ev := range events {
		got := msgs[ev.id]
		for _, m := range got {
			if !bytes.Equal(m.data, ev.body) {
				r.problems = append(r.problems, fmt.Sprintf("message %s of %s carries another body: %q", m.id, ev.id, m.data))
			}
		}
		var causes []fault
		for _, f := range faults {
			for _, a := range byEvent[i] {
				if mayHaveHit(a, f) {
					causes = append(causes, f)
					break
				}
			}
		}
		if len(causes) > 0 {
			r.faultedIDs[ev.id] = true
		}

		answered := slices.ContainsFunc(byEvent[i], (*attempt).ok)
		if len(got) == 0 {
			r.Lost++
			r.lost = append(r.lost, ev.id)
			if answered {
				r.Answered2xxMissing++
			}
			continue
		}
		kills, acks := publishWindows(byEvent[i], faults, got, claims[ev.id])
		marks := markFailed[ev.id]
		r.KillsBetweenPublishAndMark += kills
		r.AcksLost += acks
		r.MarkFailures += marks
		extra := len(got) - 1
		if extra == 0 {
			continue
		}
		r.Duplicates += extra
		for _, w := range []struct {
			cause string
			n     int
		}{{causeKill, kills}, {causePubSub, acks}, {causeMark, marks}} {
			n := min(extra, w.n)
			if n > 0 {
				r.DuplicatesBy[w.cause] += n
			}
			extra -= n
		}
		if extra > 0 {
			r.Unexplained += extra
			r.unexplained = append(r.unexplained, ev.id)
		}
	}

	// Nothing else reached Pub/Sub.
	known := map[string]bool{}
	for _, ev := range events {
		known[ev.id] = true
	}
	for id, got := range msgs {
		if !known[id] {
			if forgedIDs[id] {
				r.ForgedPublished += len(got)
			}
			r.problems = append(r.problems, fmt.Sprintf("%d messages for %q, which is no event of the run", len(got), id))
		}
	}
	for _, a := range attempts {
		if a.kind != kindForged {
			continue
		}
		r.ForgedAttempts++
		r.ForgedAnswers[answerKey(a)]++
		want := wantFor(a.forged)
		switch {
		case a.status == want, a.status == 503, a.status == 0:
			// Refused as it should be, or the receiver was draining or down.
		default:
			r.problems = append(r.problems, fmt.Sprintf("forged delivery (%s) answered %d %s, want %d", a.forged, a.status, a.answer, want))
		}
	}
	return r
}

// publishSlack allows for the clocks: publish times are the emulator's, in
// milliseconds, and attempt times the sender's.
const publishSlack = 5 * time.Millisecond

// onTheWire bounds how long after the receiver died, or gave up waiting, a
// Publish request it had already sent may still be stored by Pub/Sub: the
// emulator takes requests in turn, and under load one written just before a
// kill is stored a few milliseconds after it (24 ms at most in the long
// run).
const onTheWire = time.Second

// publishWindows counts, for one event, the messages that reached Pub/Sub
// while the receiver could not learn or record it. kills: an attempt cut
// by a kill after its message was sent (stored before the kill, or on the
// wire and stored just after). acks: every other message stored during an
// attempt that did not answer it: the attempt answered 503, or 200 with
// another message id, or the Publish call was retried after a lost
// acknowledgement before a kill cut it. A message answered to some attempt
// as its own is none of these, nor one the claim records as marked before
// the attempt ended; each message is counted once.
func publishWindows(attempts []*attempt, faults []fault, msgs []message, c claim) (kills, acks int) {
	answered := map[string]bool{}
	for _, a := range attempts {
		if a.ok() && a.messageID != "" {
			answered[a.messageID] = true
		}
	}
	used := map[string]bool{}
	// take counts and claims the messages stored from from to to, except
	// the one answered.
	take := func(from, to, closed time.Time, except string) int {
		n := 0
		for _, m := range msgs {
			if answered[m.id] || used[m.id] || m.id == except {
				continue
			}
			if m.id == c.messageID && !c.marked.IsZero() && !c.marked.After(closed) {
				continue // marked before the attempt was cut or answered
			}
			if !m.published.Before(from.Add(-publishSlack)) && !m.published.After(to.Add(publishSlack)) {
				used[m.id] = true
				n++
			}
		}
		return n
	}
	for _, a := range attempts {
		switch {
		case a.status == 0:
			for _, f := range faults {
				if f.kind != faultKill || !mayHaveHit(a, f) {
					continue
				}
				if n := take(a.start, f.start.Add(onTheWire), f.start, ""); n > 0 {
					kills++
					acks += n - 1
					break
				}
			}
		case a.status == 503:
			acks += take(a.start, a.end.Add(onTheWire), a.end, "")
		case a.ok() && a.messageID != "":
			acks += take(a.start, a.end, a.end, a.messageID)
		}
	}
	return kills, acks
}

// faultClass is kill, sigterm, pubsub or firestore.
func faultClass(kind string) string { return strings.SplitN(kind, "-", 2)[0] }

// Causes of duplicates.
const (
	causeKill   = "kill between publish and mark"
	causePubSub = "pubsub fault (ack lost)"
	causeMark   = "mark failed"
)

func wantFor(name string) int {
	switch name {
	case "malformed timestamp":
		return 400
	case "body over the limit":
		return 413
	}
	return 401
}

func answerKey(a *attempt) string {
	switch {
	case a.status != 0:
		return strconv.Itoa(a.status)
	case a.timeout:
		return "timeout"
	}
	return "conn-error"
}

func idOf(events []event, a *attempt) string {
	if a.event < 0 {
		return "a forged id"
	}
	return events[a.event].id
}

// lines renders the figures for the test log.
func (r *report) lines() []string {
	kv := func(m map[string]int) string {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(m)) {
			parts = append(parts, k+"="+strconv.Itoa(m[k]))
		}
		return strings.Join(parts, " ")
	}
	faults := 0
	for _, n := range r.Faults {
		faults += n
	}
	return []string{
		fmt.Sprintf("seed %d: %.1fs in all, load %.1fs", r.Seed, r.Seconds, r.LoadSeconds),
		fmt.Sprintf("events %d, attempts %d (%s), at most %d attempts for one event", r.Events, r.Attempts, kv(r.AttemptsByKind), r.MaxAttempts),
		fmt.Sprintf("slowest event accepted %.1fs after its first attempt; %d took over 30s", r.SlowestEvent, r.SlowEvents),
		fmt.Sprintf("answers: %s", kv(r.Answers)),
		fmt.Sprintf("faults %d: %s; receiver started %d times, down %.1fs in all, longest restart %.2fs", faults, kv(r.Faults), r.ReceiverStarts, r.DownSeconds, r.MaxRestart),
		fmt.Sprintf("kills that cut deliveries %d of %d, cutting %d attempts", r.KillsInFlight, r.Faults[faultKill], r.KilledAttempts),
		fmt.Sprintf("SIGTERM: %d attempts in flight: %d answered, %d timed out at the sender, %d refused as the listener closed, %d dropped; longest drain %.2fs",
			r.InFlightAtTERM, r.AnsweredAtTERM, r.TimedOutAtTERM, r.RefusedAtTERM, r.DroppedAtTERM, r.DrainMaxSeconds),
		fmt.Sprintf("lost %d, answered 2xx but missing %d", r.Lost, r.Answered2xxMissing),
		fmt.Sprintf("duplicates %d (%s), unexplained %d", r.Duplicates, kv(r.DuplicatesBy), r.Unexplained),
		fmt.Sprintf("windows: kills between publish and mark %d, publishes whose ack was lost %d, marks failed %d; attempts struck by faults: %s",
			r.KillsBetweenPublishAndMark, r.AcksLost, r.MarkFailures, kv(r.Struck)),
		fmt.Sprintf("forged %d, in %d attempts (%s), published %d", r.Forged, r.ForgedAttempts, kv(r.ForgedAnswers), r.ForgedPublished),
		fmt.Sprintf("claims pending before the sweep %d; marks failed (logged) %d", r.PendingBeforeSweep, r.MarkFailures),
		fmt.Sprintf("receiver outcomes: %s", kv(r.Outcomes)),
		fmt.Sprintf("proxy firestore %+v, pubsub %+v", r.ProxyFirestore, r.ProxyPubSub),
	}
}
