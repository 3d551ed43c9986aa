// Package localnettest starts the real local chain (program/localnet: surfpool-core with the
// governor compiled natively) for a test, on free ports, and stops it when the test ends. It
// fails, never skips, when the binary is missing: `make localnet` builds it.
package localnettest

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Localnet is one running localnet process.
type Localnet struct {
	RPC, WS string
	cmd     *exec.Cmd
	output  *lockedBuffer
}

type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lockedBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > 400 {
		b.lines = b.lines[len(b.lines)-400:]
	}
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}

// Binary is $LOCALNET_BIN, else the release build in localnet's cargo target dir.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("LOCALNET_BIN"); p != "" {
		return p
	}
	home, err := os.UserHomeDir()
	if err != nil {
		t.Fatalf("find the localnet binary: no home directory (%v); set LOCALNET_BIN", err)
	}
	return filepath.Join(home, ".cache", "upgrade-governor", "localnet-target", "release", "localnet")
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var readyLine = regexp.MustCompile(`^localnet ready rpc=(\S+) ws=(\S+)`)

// Start starts a fresh localnet on free ports and stops it when the test ends.
func Start(t testing.TB, extraArgs ...string) *Localnet {
	t.Helper()
	bin := Binary(t)
	if st, err := os.Stat(bin); err != nil || st.IsDir() {
		t.Fatalf("localnet binary not found at %s (%v): run `make localnet` to build it, or set LOCALNET_BIN", bin, err)
	}
	rpcPort, wsPort := freePort(t), freePort(t)
	for wsPort == rpcPort {
		wsPort = freePort(t)
	}
	args := append([]string{"--rpc-port", fmt.Sprint(rpcPort), "--ws-port", fmt.Sprint(wsPort)}, extraArgs...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	ln := &Localnet{cmd: cmd, output: &lockedBuffer{}}
	ready := make(chan [2]string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			ln.output.add(line)
			if m := readyLine.FindStringSubmatch(line); m != nil {
				select {
				case ready <- [2]string{m[1], m[2]}:
				default:
				}
			}
		}
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			ln.output.add("stderr: " + sc.Text())
		}
	}()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("localnet output (last lines):\n%s", ln.output)
		}
	})
	select {
	case urls := <-ready:
		ln.RPC, ln.WS = urls[0], urls[1]
	case err := <-exited:
		exited <- err
		t.Fatalf("localnet exited before it was ready: %v\n%s", err, ln.output)
	case <-time.After(60 * time.Second):
		t.Fatalf("localnet not ready after 60 s\n%s", ln.output)
	}
	return ln
}
