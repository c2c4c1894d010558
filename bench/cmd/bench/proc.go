package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a process under test, listening on port.
type server struct {
	name  string
	cmd   *exec.Cmd
	port  int
	url   string
	start time.Time
	// listening is when the port first accepted a connection.
	listening time.Time
	exited    chan struct{}
	stderr    *bytes.Buffer
}

// freePort returns a loopback port that nothing listens on now.
func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs bin with args and the environment env (on top of a
// clean environment: PATH and HOME only), stdout discarded (the receiver's
// log lines and embedded mode's printed messages go there, as they would to
// a terminal or Cloud Logging), and waits until its port accepts.
func startServer(name, bin string, args []string, env map[string]string) (*server, error) {
	port := freePort()
	s := &server{name: name, port: port, url: fmt.Sprintf("http://127.0.0.1:%d/", port), exited: make(chan struct{}), stderr: new(bytes.Buffer)}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PORT=" + strconv.Itoa(port)}
	for k, v := range env {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	s.cmd.Stdout = devnull
	s.cmd.Stderr = s.stderr
	s.start = time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.cmd.Wait(); devnull.Close(); close(s.exited) }()
	if err := s.waitListening(60 * time.Second); err != nil {
		s.stop()
		return nil, fmt.Errorf("%s: %w; stderr: %s", name, err, s.stderr.String())
	}
	return s, nil
}

// waitListening polls the port every millisecond.
func (s *server) waitListening(limit time.Duration) error {
	addr := "127.0.0.1:" + strconv.Itoa(s.port)
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		select {
		case <-s.exited:
			return errors.New("exited before listening")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			s.listening = time.Now()
			c.Close()
			return nil
		}
		time.Sleep(time.Millisecond)
	}
	return errors.New("not listening after " + limit.String())
}

// stop sends SIGTERM and waits (SIGKILL after 15 s).
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

// cpu returns the user+system CPU time the process has used so far.
func (s *server) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTicks
}

// clockTicks is USER_HZ, 100 on every Linux architecture Go supports.
const clockTicks = 100

// peakRSS returns VmHWM, the peak resident set size, in bytes.
func (s *server) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// sendResult is the JSON summary of `geminihook send --json`.
type sendResult struct {
	Deliveries int            `json:"deliveries"`
	Accepted   int            `json:"accepted"`
	Statuses   map[string]int `json:"statuses"`
	Seconds    float64        `json:"seconds"`
	PerSecond  float64        `json:"deliveries_per_second"`
	P50Ms      float64        `json:"p50_ms"`
	P99Ms      float64        `json:"p99_ms"`
}

// generator runs `geminihook send`, the same for every side.
type generator struct {
	bin, secret, body string
}

func (g generator) send(ctx context.Context, url string, count, concurrency int) (sendResult, error) {
	cmd := exec.CommandContext(ctx, g.bin, "send", "--url", url, "--secret", g.secret, "--body", g.body,
		"--count", strconv.Itoa(count), "--concurrency", strconv.Itoa(concurrency), "--json")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var r sendResult
	if jerr := json.Unmarshal(out.Bytes(), &r); jerr != nil {
		return r, fmt.Errorf("send to %s: %v %v; %s", url, err, jerr, lastLine(errb.String()))
	}
	if r.Accepted != r.Deliveries {
		return r, fmt.Errorf("send to %s: %d of %d accepted, statuses %v", url, r.Accepted, r.Deliveries, r.Statuses)
	}
	return r, nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// build compiles the module's package pkg into dir and returns the binary.
func build(dir, pkg, name string, extra ...string) (string, error) {
	out := filepath.Join(dir, name)
	args := append([]string{"build", "-o", out}, extra...)
	cmd := exec.Command(goTool(), append(args, pkg)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s: %w", pkg, err)
	}
	return out, nil
}

// goTool is the go command: $GO (as scripts/bench and the Makefile pass
// it), else go.
func goTool() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}
