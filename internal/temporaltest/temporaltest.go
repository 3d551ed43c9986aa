// Package temporaltest runs a real Temporal dev server (`temporal server start-dev`) on a free
// port for integration tests, with the project's search attributes registered.
package temporaltest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
)

// BinaryEnv names the temporal CLI to run, overriding the search.
const BinaryEnv = "TEMPORAL_BIN"

// InstallHint says how to get the CLI this package needs (the version that builds through the
// module proxy).
const InstallHint = "GOBIN=$HOME/.cache/upgrade-governor/bin go install github.com/temporalio/cli/cmd/temporal@v1.5.1"

// Namespace is the namespace the dev server always creates.
const Namespace = "default"

// SearchAttribute is a custom search attribute and its Temporal type.
type SearchAttribute struct {
	Name string
	Type enums.IndexedValueType
}

// SearchAttributes are the attributes upgrade workflows upsert so operators find an upgrade in
// the Web UI; the dev server registers them at start, and so must every deployment.
var SearchAttributes = []SearchAttribute{
	{"UpgradeProgram", enums.INDEXED_VALUE_TYPE_KEYWORD},
	{"UpgradeMultisig", enums.INDEXED_VALUE_TYPE_KEYWORD},
	{"ProposalStatus", enums.INDEXED_VALUE_TYPE_KEYWORD},
	{"UpgradeEta", enums.INDEXED_VALUE_TYPE_DATETIME},
}

// StartDevFlags are the `--search-attribute NAME=Type` flags that register SearchAttributes.
func StartDevFlags() []string {
	var out []string
	for _, sa := range SearchAttributes {
		out = append(out, "--search-attribute", sa.Name+"="+cliType(sa.Type))
	}
	return out
}

// cliType spells a type the way the CLI's --search-attribute flag wants it.
func cliType(t enums.IndexedValueType) string {
	switch t {
	case enums.INDEXED_VALUE_TYPE_KEYWORD:
		return "Keyword"
	case enums.INDEXED_VALUE_TYPE_DATETIME:
		return "Datetime"
	case enums.INDEXED_VALUE_TYPE_TEXT:
		return "Text"
	case enums.INDEXED_VALUE_TYPE_INT:
		return "Int"
	case enums.INDEXED_VALUE_TYPE_DOUBLE:
		return "Double"
	case enums.INDEXED_VALUE_TYPE_BOOL:
		return "Bool"
	case enums.INDEXED_VALUE_TYPE_KEYWORD_LIST:
		return "KeywordList"
	}
	return t.String()
}

// Binary finds the temporal CLI: $TEMPORAL_BIN, else $HOME/.cache/upgrade-governor/bin/temporal,
// else temporal on PATH.
func Binary() (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", BinaryEnv, p, err)
		}
		return p, nil
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "upgrade-governor", "bin", "temporal")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no temporal CLI found (set %s or put it on PATH); install it with: %s", BinaryEnv, InstallHint)
}

// Server is a running dev server.
type Server struct {
	// HostPort is the frontend's gRPC address.
	HostPort string
	// LogPath is the server's log file, kept in the test's temp dir.
	LogPath string
}

// Start runs a dev server for the test and stops it when the test ends. A missing CLI fails the
// test, never skips it: an integration test that silently does not run proves nothing.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatalf("temporaltest: %v", err)
	}
	dir := t.TempDir()
	var lastErr error
	// A free port can be taken between our probe and the server's bind: try a few.
	for attempt := 0; attempt < 3; attempt++ {
		s, stop, err := start(bin, dir, attempt)
		if err == nil {
			t.Cleanup(func() {
				if err := stop(); err != nil {
					t.Errorf("temporaltest: %v", err)
				}
			})
			return s
		}
		lastErr = err
	}
	t.Fatalf("temporaltest: %v", lastErr)
	return nil
}

func start(bin, dir string, attempt int) (*Server, func() error, error) {
	port, err := freePort()
	if err != nil {
		return nil, nil, err
	}
	s := &Server{
		HostPort: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		LogPath:  filepath.Join(dir, fmt.Sprintf("temporal-%d.log", attempt)),
	}
	logFile, err := os.Create(s.LogPath)
	if err != nil {
		return nil, nil, err
	}
	defer logFile.Close()
	args := append([]string{"server", "start-dev",
		"--ip", "127.0.0.1", "--port", strconv.Itoa(port), "--headless",
		"--db-filename", filepath.Join(dir, fmt.Sprintf("temporal-%d.db", attempt)),
	}, StartDevFlags()...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If the test binary dies, the kernel takes the server down with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() error {
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
			return nil
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			return errors.New("temporal dev server did not stop within 30s; killed")
		}
	}
	if err := waitReady(s.HostPort, exited); err != nil {
		_ = stop()
		return nil, nil, fmt.Errorf("dev server on %s: %w\n%s", s.HostPort, err, tail(s.LogPath, 3000))
	}
	return s, stop, nil
}

// waitReady waits until the default namespace answers and every search attribute is registered.
func waitReady(hostPort string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var lastErr error
	for {
		lastErr = probe(ctx, hostPort)
		if lastErr == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("server exited during start-up (last probe: %v)", lastErr)
		case <-ctx.Done():
			return fmt.Errorf("not ready: %w (last probe: %v)", ctx.Err(), lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func probe(ctx context.Context, hostPort string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: hostPort, Namespace: Namespace, Logger: quietLogger()})
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(ctx,
		&workflowservice.DescribeNamespaceRequest{Namespace: Namespace}); err != nil {
		return err
	}
	resp, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: Namespace})
	if err != nil {
		return err
	}
	for _, sa := range SearchAttributes {
		if got, ok := resp.GetCustomAttributes()[sa.Name]; !ok || got != sa.Type {
			return fmt.Errorf("search attribute %s not registered as %s", sa.Name, sa.Type)
		}
	}
	return nil
}

// Client dials the server for the test and closes the client when the test ends.
func (s *Server) Client(t testing.TB) client.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: s.HostPort, Namespace: Namespace, Logger: quietLogger()})
	if err != nil {
		t.Fatalf("temporaltest: dial %s: %v", s.HostPort, err)
	}
	t.Cleanup(c.Close)
	return c
}

// quietLogger keeps the SDK's per-poll chatter out of test output; warnings still show.
func quietLogger() log.Logger {
	return log.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return strings.TrimSpace(string(bytes.ToValidUTF8(b, nil)))
}
