package chaos

import (
	"maps"
	"slices"
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
		{"msg_b", []byte("b")}, // twice, cut by a kill with its publish on the wire, stored just after
		{"msg_c", []byte("c")}, // twice, with no fault anywhere near
		{"msg_d", []byte("d")}, // never published although answered 200
		{"msg_e", []byte("e")}, // twice, the ack of its first publish lost
		{"msg_f", []byte("f")}, // twice, its mark failed and a later delivery published it again
		{"msg_g", []byte("g")}, // twice, cut by a kill before any publish: no excuse
		{"msg_h", []byte("h")}, // once, cut by a kill after the mark: no window
		{"msg_i", []byte("i")}, // three times: a publish retried after a lost ack, then a kill before the mark
	}
	attempts := []*attempt{
		{event: 0, kind: kindEvent, start: at(1), end: at(1.1), status: 200, messageID: "1"},
		{event: 1, kind: kindEvent, start: at(2), end: at(2.5)}, // cut by the kill at 2.4
		{event: 1, kind: kindEvent, start: at(11), end: at(11.1), status: 200, messageID: "3"},
		{event: 2, kind: kindEvent, start: at(20), end: at(20.1), status: 200, messageID: "4"},
		{event: 3, kind: kindEvent, start: at(21), end: at(21.1), status: 200, messageID: "x"},
		{event: 4, kind: kindEvent, start: at(30), end: at(32), status: 503},
		{event: 4, kind: kindEvent, start: at(33), end: at(33.1), status: 200, messageID: "7"},
		{event: 4, kind: kindForged, forged: "tampered body", start: at(34), end: at(34.1), status: 200},
		{event: -1, kind: kindForged, forged: "another secret", start: at(35), end: at(35.1), status: 401},
		// In flight at SIGTERM and dropped: a broken drain.
		{event: 0, kind: kindDuplicate, start: at(39), end: at(40.5)},
		{event: 5, kind: kindEvent, start: at(50), end: at(50.1), status: 200, messageID: "9"},
		{event: 5, kind: kindSweep, start: at(59.9), end: at(60.1), status: 200, messageID: "10"},
		{event: 6, kind: kindEvent, start: at(70), end: at(70.5)}, // cut by the kill at 70.1
		{event: 6, kind: kindEvent, start: at(74.9), end: at(75.1), status: 200, messageID: "11"},
		{event: 6, kind: kindDuplicate, start: at(75.9), end: at(76.1), status: 200, messageID: "12"},
		{event: 7, kind: kindEvent, start: at(90), end: at(90.5)}, // cut by the kill at 90.3
		{event: 7, kind: kindEvent, start: at(91), end: at(91.1), status: 200, answer: "duplicate"},
		{event: 8, kind: kindEvent, start: at(100), end: at(100.5)}, // cut by the kill at 100.4
		{event: 8, kind: kindEvent, start: at(110), end: at(110.1), status: 200, messageID: "16"},
	}
	faults := []fault{
		{kind: faultKill, start: at(2.4), end: at(2.4), up: at(2.5)},
		{kind: faultPSHole, start: at(31), end: at(31.5)},
		{kind: faultSIGTERM, start: at(40), end: at(41), up: at(41.1)},
		{kind: faultKill, start: at(70.1), end: at(70.1), up: at(70.5)},
		{kind: faultKill, start: at(90.3), end: at(90.3), up: at(90.5)},
		{kind: faultKill, start: at(100.4), end: at(100.4), up: at(100.5)},
	}
	msgs := map[string][]message{
		"msg_a":        {{"1", []byte("a"), at(1.05)}},
		"msg_b":        {{"2", []byte("b"), at(2.42)}, {"3", []byte("b"), at(11.05)}},
		"msg_c":        {{"4", []byte("c"), at(20.05)}, {"5", []byte("c"), at(25)}},
		"msg_e":        {{"6", []byte("e"), at(31.2)}, {"7", []byte("evil"), at(33.05)}},
		"msg_f":        {{"9", []byte("f"), at(50.05)}, {"10", []byte("f"), at(60)}},
		"msg_g":        {{"11", []byte("g"), at(75)}, {"12", []byte("g"), at(76)}},
		"msg_h":        {{"13", []byte("h"), at(90.1)}},
		"msg_i":        {{"14", []byte("i"), at(100.1)}, {"15", []byte("i"), at(100.3)}, {"16", []byte("i"), at(110.05)}},
		"msg_forged_1": {{"8", []byte("x"), at(34.05)}},
	}
	claims := map[string]claim{"msg_h": {state: "published", messageID: "13", marked: at(90.2)}}
	r := analyse(events, attempts, faults, msgs, claims, map[string]bool{"msg_forged_1": true}, map[string]int{"msg_f": 1})

	if r.Lost != 1 || r.Answered2xxMissing != 1 || r.lost[0] != "msg_d" {
		t.Errorf("lost %d (%v), answered but missing %d; want msg_d", r.Lost, r.lost, r.Answered2xxMissing)
	}
	if r.Duplicates != 7 || r.Unexplained != 2 || !slices.Equal(r.unexplained, []string{"msg_c", "msg_g"}) {
		t.Errorf("duplicates %d, unexplained %d (%v); want 7, and msg_c and msg_g unexplained", r.Duplicates, r.Unexplained, r.unexplained)
	}
	if r.KillsBetweenPublishAndMark != 2 || r.AcksLost != 2 || r.MarkFailures != 1 {
		t.Errorf("windows: kills between publish and mark %d, acks lost %d, marks failed %d; want 2, 2, 1",
			r.KillsBetweenPublishAndMark, r.AcksLost, r.MarkFailures)
	}
	if want := map[string]int{causeKill: 2, causePubSub: 2, causeMark: 1}; !maps.Equal(r.DuplicatesBy, want) {
		t.Errorf("duplicates by cause %v, want %v", r.DuplicatesBy, want)
	}
	if r.Struck["kill"] != 4 || r.Struck["pubsub"] != 1 || r.Struck["firestore"] != 0 {
		t.Errorf("attempts struck %v, want kill=4 pubsub=1", r.Struck)
	}
	if r.KillsInFlight != 4 || r.KilledAttempts != 4 {
		t.Errorf("kills in flight %d cutting %d, want 4 and 4", r.KillsInFlight, r.KilledAttempts)
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
