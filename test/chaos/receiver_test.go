package chaos

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/geminihook/geminihook/internal/emulator"
)

// receiver runs `geminihook serve` on a fixed loopback port and restarts
// it there after it was killed or stopped, so that the sender keeps one URL
// as Gemini does.
type receiver struct {
	bin  string
	env  []string
	port int
	url  string
	// stdout collects the log lines of every incarnation; only one runs at a
	// time, and each line is one write. stderr collects what they reported.
	stdout *emulator.Buffer
	stderr *emulator.Buffer

	mu     sync.Mutex
	cur    *incarnation
	starts int
}

// incarnation is one process of the receiver.
type incarnation struct {
	cmd    *exec.Cmd
	stderr *emulator.Buffer
	exited chan struct{}
	err    error
}

func newReceiver(t *testing.T, vars map[string]string) *receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	vars["PORT"] = strconv.Itoa(port)
	r := &receiver{
		bin:    receiverBinary(t),
		env:    receiverEnv(vars),
		port:   port,
		url:    "http://127.0.0.1:" + strconv.Itoa(port) + "/",
		stdout: &emulator.Buffer{},
		stderr: &emulator.Buffer{},
	}
	t.Cleanup(func() {
		r.mu.Lock()
		cur := r.cur
		r.mu.Unlock()
		if cur != nil {
			cur.cmd.Process.Kill()
			<-cur.exited
			if t.Failed() {
				t.Logf("last receiver's stderr:\n%s", cur.stderr)
			}
		}
		// With -race, a race in any incarnation, even one killed later.
		if all := r.stderr.String(); strings.Contains(all, "WARNING: DATA RACE") {
			i := strings.Index(all, "WARNING: DATA RACE")
			t.Errorf("the receiver raced:\n%s", all[i:min(len(all), i+8000)])
		}
	})
	return r
}

// start runs a new incarnation and waits until it accepts connections.
func (r *receiver) start() error {
	in := &incarnation{stderr: &emulator.Buffer{}, exited: make(chan struct{})}
	in.cmd = exec.Command(r.bin, "serve")
	in.cmd.Env = r.env
	in.cmd.Stdout, in.cmd.Stderr = r.stdout, io.MultiWriter(in.stderr, r.stderr)
	if err := in.cmd.Start(); err != nil {
		return err
	}
	go func() { in.err = in.cmd.Wait(); close(in.exited) }()
	r.mu.Lock()
	r.cur = in
	r.starts++
	r.mu.Unlock()
	addr := "127.0.0.1:" + strconv.Itoa(r.port)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		select {
		case <-in.exited:
			return fmt.Errorf("receiver exited at start-up: %v\n%s", in.err, in.stderr)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("receiver did not listen on %s within 30s\n%s", addr, in.stderr)
}

func (r *receiver) current() *incarnation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// kill sends SIGKILL and waits for the process to be gone.
func (r *receiver) kill() error {
	in := r.current()
	if err := in.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case <-in.exited:
		return nil
	case <-time.After(10 * time.Second):
		return errors.New("receiver still running 10s after SIGKILL")
	}
}

// terminate sends SIGTERM and waits up to wait for the process to exit. It
// returns the exit code and what the process wrote to stderr.
func (r *receiver) terminate(wait time.Duration) (code int, stderr string, err error) {
	in := r.current()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, "", err
	}
	select {
	case <-in.exited:
	case <-time.After(wait):
		in.cmd.Process.Kill()
		<-in.exited
		return -1, in.stderr.String(), fmt.Errorf("receiver still running %v after SIGTERM", wait)
	}
	var ee *exec.ExitError
	if errors.As(in.err, &ee) {
		return ee.ExitCode(), in.stderr.String(), nil
	}
	return 0, in.stderr.String(), in.err
}
