package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// cpuTimes returns the machine's idle and total CPU time from /proc/stat,
// in clock ticks.
func cpuTimes() (idle, total uint64, ok bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range f[1:] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return idle, total, true
}

// waitQuiet waits until the machine has been at least 90 % idle for three
// seconds in a row, or for at most limit, and returns how long it waited.
// The emulators started by scripts/with-emulators keep a core busy for
// their first seconds, which the verification benchmarks, run first, would
// otherwise share.
func waitQuiet(limit time.Duration) time.Duration {
	start := time.Now()
	quiet := 0
	idle0, total0, ok := cpuTimes()
	for ok && quiet < 3 && time.Since(start) < limit {
		time.Sleep(time.Second)
		idle, total, ok2 := cpuTimes()
		if !ok2 || total == total0 {
			break
		}
		if float64(idle-idle0)/float64(total-total0) >= 0.9 {
			quiet++
		} else {
			quiet = 0
		}
		idle0, total0 = idle, total
	}
	return time.Since(start)
}
