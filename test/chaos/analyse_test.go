package chaos

import (
	"strings"
	"testing"
	"time"
)

// The accounting itself, on a made-up run: it must find what it is meant to
// find, or the chaos test could pass by not looking.
func TestAnalyse(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1767225600, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	events := []event{
		{"msg_a", []byte("a")}, // once: fine
		{"msg_b", []byte("b")}, // twice, its delivery cut by a kill
		{"msg_c", []byte("c")}, // twice, with no fault anywhere near
		{"msg_d", []byte("d")}, // never published although answered 200
		{"msg_e", []byte("e")}, // twice, a Pub/Sub fault during its delivery
	}
	attempts := []*attempt{
		{event: 0, kind: kindEvent, start: at(1), end: at(1.1), status: 200},
		{event: 1, kind: kindEvent, start: at(2), end: at(2.5)}, // cut by the kill at 2.4
		{event: 1, kind: kindEvent, start: at(11), end: at(11.1), status: 200},
		{event: 2, kind: kindEvent, start: at(20), end: at(20.1), status: 200},
		{event: 3, kind: kindEvent, start: at(21), end: at(21.1), status: 200},
		{event: 4, kind: kindEvent, start: at(30), end: at(32), status: 503},
		{event: 4, kind: kindEvent, start: at(33), end: at(33.1), status: 200},
		{event: 4, kind: kindForged, forged: "tampered body", start: at(34), end: at(34.1), status: 200},
		{event: -1, kind: kindForged, forged: "another secret", start: at(35), end: at(35.1), status: 401},
		// In flight at SIGTERM and dropped: a broken drain.
		{event: 0, kind: kindDuplicate, start: at(39), end: at(40.5)},
	}
	faults := []fault{
		{kind: faultKill, start: at(2.4), end: at(2.4), up: at(2.5)},
		{kind: faultPSHole, start: at(31), end: at(31.5)},
		{kind: faultSIGTERM, start: at(40), end: at(41), up: at(41.1)},
	}
	msgs := map[string][]message{
		"msg_a":        {{"1", []byte("a")}},
		"msg_b":        {{"2", []byte("b")}, {"3", []byte("b")}},
		"msg_c":        {{"4", []byte("c")}, {"5", []byte("c")}},
		"msg_e":        {{"6", []byte("e")}, {"7", []byte("evil")}},
		"msg_forged_1": {{"8", []byte("x")}},
	}
	r := analyse(events, attempts, faults, msgs, map[string]bool{"msg_forged_1": true})

	if r.Lost != 1 || r.Answered2xxMissing != 1 || r.lost[0] != "msg_d" {
		t.Errorf("lost %d (%v), answered but missing %d; want msg_d", r.Lost, r.lost, r.Answered2xxMissing)
	}
	if r.Duplicates != 3 || r.Unexplained != 1 || r.unexplained[0] != "msg_c" {
		t.Errorf("duplicates %d, unexplained %d (%v); want 3 and msg_c", r.Duplicates, r.Unexplained, r.unexplained)
	}
	if r.DuplicatesBy["kill between publish and mark"] != 1 || r.DuplicatesBy["pubsub fault (ack lost)"] != 1 {
		t.Errorf("duplicates by cause %v", r.DuplicatesBy)
	}
	if r.Struck["kill"] != 1 || r.Struck["pubsub"] != 1 || r.Struck["firestore"] != 0 {
		t.Errorf("attempts struck %v, want kill=1 pubsub=1", r.Struck)
	}
	if r.KillsInFlight != 1 || r.KilledAttempts != 1 {
		t.Errorf("kills in flight %d cutting %d, want 1 and 1", r.KillsInFlight, r.KilledAttempts)
	}
	if r.DroppedAtTERM != 1 || r.ForgedPublished != 1 {
		t.Errorf("dropped at SIGTERM %d, forged published %d; want 1 and 1", r.DroppedAtTERM, r.ForgedPublished)
	}
	for _, want := range []string{"carries another body", "no event of the run", "forged delivery (tampered body) answered 200", "was dropped"} {
		found := false
		for _, p := range r.problems {
			found = found || strings.Contains(p, want)
		}
		if !found {
			t.Errorf("no problem reported for %q in %q", want, r.problems)
		}
	}
	if r.faultedIDs["msg_c"] || !r.faultedIDs["msg_b"] || !r.faultedIDs["msg_e"] {
		t.Errorf("faulted ids %v", r.faultedIDs)
	}
}
