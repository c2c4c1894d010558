// Package chaos measures the receiver's promise, "every event Gemini sends
// reaches Pub/Sub, and nothing else does", under faults: the built receiver
// runs against the Firestore and Pub/Sub emulators through loopback fault
// proxies, a Gemini-like sender retries every event until it is accepted,
// and the receiver is killed and restarted while it works. Afterwards every
// event is looked up on Pub/Sub and in Firestore.
//
// `go test ./test/chaos` runs the short form (about 200 events, a few faults
// of each kind, under a minute); `make chaos` runs the long form
// (CHAOS_EVENTS=5000). See chaosConfig for the knobs.
package chaos

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var build struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// receiverBinary builds `geminihook` once per test binary, with -race only
// when the tests themselves run with it (see raceEnabled).
func receiverBinary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "geminihook-chaos")
		if build.err != nil {
			return
		}
		build.bin = filepath.Join(build.dir, "geminihook")
		args := []string{"build", "-o", build.bin}
		if raceEnabled {
			args = append(args, "-race")
		}
		out, err := exec.Command("go", append(args, "../../cmd/geminihook")...).CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("building the receiver: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// receiverEnv is the environment of a receiver process: the test's own
// environment without anything that configures the receiver, then vars.
func receiverEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GEMINI_"), strings.HasPrefix(name, "PUBSUB_"),
			strings.HasPrefix(name, "FIRESTORE_"), strings.HasPrefix(name, "DEDUPE_"),
			strings.HasPrefix(name, "GOOGLE_"), strings.HasPrefix(name, "K_"):
			continue
		}
		switch name {
		case "PORT", "REQUEST_TIMEOUT", "MAX_BODY_BYTES", "LOG_LEVEL", "WEBHOOK_TOLERANCE":
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}
