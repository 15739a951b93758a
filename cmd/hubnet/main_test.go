package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hubnet-eu/hubnet/internal/contract"
)

// binDir is the temporary directory TestMain makes for the hubnet binary.
var binDir string

// hubnetBin builds the hubnet binary the first time a test runs it: the fuzz targets
// of this package, which run the code in-process, do not wait for a build.
var hubnetBin = sync.OnceValues(func() (string, error) {
	if bin := os.Getenv(envTestBin); bin != "" {
		return bin, nil // built by the test binary that started this one
	}
	bin := filepath.Join(binDir, "hubnet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	os.Setenv(envTestBin, bin)
	return bin, nil
})

// mustBin returns the hubnet binary, failing the test if it does not build.
func mustBin(t *testing.T) string {
	t.Helper()
	bin, err := hubnetBin()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestMain builds the binary once, and checks every request the tests send to the API
// of a node they start in-process, and its answer, against the API's OpenAPI document
// (see package contract).
func TestMain(m *testing.M) {
	child := os.Getenv(envTestBin) != ""
	code := testMain(m)
	if !child {
		contract.Report("cmd/hubnet")
	}
	os.Exit(code)
}

// envTestBin names the binary TestMain built, for the test binary run again as a
// child process by internal/faultfs, which then need not build it again.
const envTestBin = "HUBNET_CLI_TEST_BIN"

func testMain(m *testing.M) int {
	if os.Getenv(envTestBin) != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "hubnet-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	return m.Run()
}

// result is what one run of the binary printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// cleanEnv is the test process's environment without HUBNET_ variables, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HUBNET_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// hubnet runs the binary with args and returns what it printed; env adds variables.
func hubnet(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return hubnetStdin(t, env, "", args...)
}

// hubnetStdin runs the binary with args and stdin as its standard input.
func hubnetStdin(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	bin := mustBin(t) // built once, the first time: not within the command's 30 s
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = cleanEnv(env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	default:
		t.Fatalf("hubnet %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// mustHubnet runs the binary and fails the test unless it exits 0.
func mustHubnet(t *testing.T, args ...string) result {
	t.Helper()
	r := hubnet(t, nil, args...)
	if r.code != 0 {
		t.Fatalf("hubnet %s: %v", strings.Join(args, " "), r)
	}
	return r
}

// syncBuffer is a bytes.Buffer safe for a process writing and a test reading.
type syncBuffer struct {
	mu  sync.Mutex // guards buf
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is a hubnet process running in the background.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // of Wait, valid after done
}

// startHubnet starts the binary in the background and kills it, by its PID, when the
// test ends if it is still running.
func startHubnet(t *testing.T, args ...string) *proc {
	t.Helper()
	return startHubnetEnv(t, nil, args...)
}

// startHubnetEnv starts the binary in the background as startHubnet does; env adds
// variables.
func startHubnetEnv(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(mustBin(t), args...), stderr: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = cleanEnv(env...)
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start hubnet %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
			if t.Failed() {
				t.Logf("hubnet %s (killed):\n%s", strings.Join(args, " "), p.stderr.String())
			}
		}
	})
	return p
}

// stop sends SIGTERM and waits for the process to exit, failing the test unless it
// exits 0 within timeout.
func (p *proc) stop(t *testing.T, timeout time.Duration) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM pid %d: %v", p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("pid %d still running %v after SIGTERM; its log:\n%s", p.cmd.Process.Pid, timeout, p.stderr.String())
	}
	if p.err != nil {
		t.Fatalf("after SIGTERM: %v, want exit 0; its log:\n%s", p.err, p.stderr.String())
	}
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
