//go:build race

package chaos

// raceEnabled: the receiver is built with -race too, so that `make test`
// reuses the packages it compiled for the race-enabled tests, and the race
// detector watches the receiver under faults.
const raceEnabled = true
