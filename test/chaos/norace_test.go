//go:build !race

package chaos

// raceEnabled: without -race (make chaos), the receiver is built without it
// too, for throughput.
const raceEnabled = false
