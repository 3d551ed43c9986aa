// Package devstack starts the whole system on one machine from the real parts: a private
// PostgreSQL cluster, the Temporal dev server with its Web UI, `localnet`, the worker and the
// API server, each a process of its own. `make demo` and the end-to-end tests use it; any part
// can point at an existing instance instead.
package devstack

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/pgcluster"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

// Options says what to start. An empty address starts that part here; a set one uses it.
type Options struct {
	// Dir holds data and logs; it must exist.
	Dir string
	// DatabaseURL of an existing PostgreSQL database.
	DatabaseURL string
	// TemporalAddress of an existing Temporal frontend.
	TemporalAddress string
	// RPCURL of an existing Solana JSON-RPC node (time travel then is not available).
	RPCURL string
	// Ports for the parts started here; 0 picks a free one.
	TemporalPort, TemporalUIPort, RPCPort, HTTPPort int
	// BinDir holds the worker and apiserver binaries (`make build`: ./bin).
	BinDir string
	// LocalnetBin and TemporalBin, when empty, come from $LOCALNET_BIN / $TEMPORAL_BIN or the
	// build cache.
	LocalnetBin, TemporalBin string
	// Log receives one line per started part; nil is quiet.
	Log io.Writer
}

// Stack is a running system.
type Stack struct {
	DatabaseURL     string
	TemporalAddress string
	TemporalUI      string
	RPCURL          string
	APIURL          string
	GuardianPath    string
	Guardian        *chain.Keypair
	// FeePayer pays what the worker sends (execute, ExtendProgram rent, migrations); the
	// guardian pays only its own cancels.
	FeePayerPath string
	FeePayer     *chain.Keypair
	Chain        *chain.Client

	opts  Options
	mu    sync.Mutex
	procs map[string]*Proc
	stops []func() error
	// workerRPCURL, when set, is the worker's JSON-RPC URL instead of RPCURL (RouteWorkerRPC).
	workerRPCURL string
}

// Proc is a child process of the stack.
type Proc struct {
	Name string
	Cmd  *exec.Cmd
	Log  string
	done chan struct{}
	err  error
}

// Start brings up every part and waits until the API server is ready.
func Start(ctx context.Context, o Options) (s *Stack, err error) {
	s = &Stack{opts: o, procs: map[string]*Proc{}}
	if os.Geteuid() == 0 {
		// PostgreSQL runs as the postgres user then: it must be able to reach its data dir.
		if err := os.Chmod(o.Dir, 0o755); err != nil {
			return s, fmt.Errorf("devstack: %w", err)
		}
	}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	if s.DatabaseURL = o.DatabaseURL; s.DatabaseURL == "" {
		pgDir := filepath.Join(o.Dir, "postgres")
		if err := os.MkdirAll(pgDir, 0o755); err != nil {
			return s, fmt.Errorf("devstack: %w", err)
		}
		url, stop, err := pgcluster.Start(ctx, pgDir)
		if err != nil {
			return s, fmt.Errorf("devstack: postgres: %w", err)
		}
		s.DatabaseURL = url
		s.stops = append(s.stops, stop)
		s.logf("postgres   %s", redact(url))
	}
	if s.TemporalAddress = o.TemporalAddress; s.TemporalAddress == "" {
		if err := s.startTemporal(ctx); err != nil {
			return s, err
		}
	}
	if s.RPCURL = o.RPCURL; s.RPCURL == "" {
		if err := s.startLocalnet(ctx); err != nil {
			return s, err
		}
	}
	s.Chain = chain.New(s.RPCURL)

	guardian, err := chain.NewKeypair()
	if err != nil {
		return s, fmt.Errorf("devstack: guardian key: %w", err)
	}
	s.Guardian = guardian
	s.GuardianPath = filepath.Join(o.Dir, "guardian.json")
	if err := guardian.WriteFile(s.GuardianPath); err != nil {
		return s, fmt.Errorf("devstack: %w", err)
	}
	if _, err := s.Chain.Airdrop(ctx, guardian.PublicKey(), 10*solana.LAMPORTS_PER_SOL); err != nil {
		return s, fmt.Errorf("devstack: fund guardian: %w", err)
	}
	if s.FeePayer, err = chain.NewKeypair(); err != nil {
		return s, fmt.Errorf("devstack: fee payer key: %w", err)
	}
	s.FeePayerPath = filepath.Join(o.Dir, "fee-payer.json")
	if err := s.FeePayer.WriteFile(s.FeePayerPath); err != nil {
		return s, fmt.Errorf("devstack: %w", err)
	}
	if _, err := s.Chain.Airdrop(ctx, s.FeePayer.PublicKey(), 1_000*solana.LAMPORTS_PER_SOL); err != nil {
		return s, fmt.Errorf("devstack: fund fee payer: %w", err)
	}

	httpPort := o.HTTPPort
	if httpPort == 0 {
		if httpPort, err = freePort(); err != nil {
			return s, err
		}
	}
	s.APIURL = fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	if err := s.StartWorker(ctx); err != nil {
		return s, err
	}
	if _, err := s.start(ctx, "apiserver", s.bin("apiserver"), nil, s.env(fmt.Sprintf("127.0.0.1:%d", httpPort))); err != nil {
		return s, err
	}
	if err := waitHTTP(ctx, s.APIURL+"/readyz", 60*time.Second, s.procs["apiserver"]); err != nil {
		return s, fmt.Errorf("devstack: apiserver not ready: %w\n%s", err, tail(s.procs["apiserver"].Log, 20))
	}
	s.logf("apiserver  %s", s.APIURL)
	return s, nil
}

func (s *Stack) bin(name string) string {
	dir := s.opts.BinDir
	if dir == "" {
		dir = "bin"
	}
	return filepath.Join(dir, name)
}

func (s *Stack) env(httpAddr string) []string {
	env := append(os.Environ(),
		"UG_DATABASE_URL="+s.DatabaseURL,
		"UG_TEMPORAL_ADDRESS="+s.TemporalAddress,
		"UG_RPC_URL="+s.RPCURL,
		"UG_HTTP_ADDR="+httpAddr,
		"UG_LOG_LEVEL=info",
		// The stack runs on loopback: its webhooks (the demo's receiver) are local http URLs,
		// which a real deployment refuses unless its operator allows them.
		"UG_WEBHOOK_ALLOW_HTTP=true",
		"UG_WEBHOOK_ALLOW_PRIVATE=true",
	)
	if s.APIURL != "" {
		env = append(env, "UG_PUBLIC_URL="+s.APIURL) // links in notifications
	}
	return env
}

// StartWorker starts (or restarts, after KillWorker) the worker process.
func (s *Stack) StartWorker(ctx context.Context) error {
	env := append(s.env("127.0.0.1:0"), "UG_KEYPAIR_PATH="+s.GuardianPath, "UG_FEE_PAYER_KEYPAIR_PATH="+s.FeePayerPath)
	s.mu.Lock()
	if s.workerRPCURL != "" {
		env = append(env, "UG_RPC_URL="+s.workerRPCURL) // the last value of a name wins
	}
	s.mu.Unlock()
	if _, err := s.start(ctx, "worker", s.bin("worker"), nil, env); err != nil {
		return err
	}
	s.logf("worker     guardian %s, fee payer %s", s.Guardian.PublicKey(), s.FeePayer.PublicKey())
	return nil
}

// ServeMultisig adds a multisig to the deployment's served list the way an operator does, with
// `apiserver multisig serve`.
func (s *Stack) ServeMultisig(ctx context.Context, multisig solana.PublicKey, label string) error {
	cmd := exec.CommandContext(ctx, s.bin("apiserver"), "multisig", "serve", multisig.String(), "--label", label)
	cmd.Env = s.env("127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("devstack: apiserver multisig serve %s: %w\n%s", multisig, err, out)
	}
	return nil
}

// SubscribeWebhook subscribes url to multisig's notifications the way an operator does, with
// `apiserver webhook create`, and returns the signing secret it prints once.
func (s *Stack) SubscribeWebhook(ctx context.Context, name, url string, multisig solana.PublicKey) (string, error) {
	cmd := exec.CommandContext(ctx, s.bin("apiserver"), "webhook", "create", "--name", name, "--url", url, "--multisig", multisig.String())
	cmd.Env = s.env("127.0.0.1:0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("devstack: apiserver webhook create: %w\n%s", err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

// Kill sends SIGKILL to a part (a fault test's crash) and waits for it to die.
func (s *Stack) Kill(name string) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("devstack: no process %s", name)
	}
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
	return nil
}

func (s *Stack) startTemporal(ctx context.Context) error {
	bin := s.opts.TemporalBin
	if bin == "" {
		var err error
		if bin, err = temporaltest.Binary(); err != nil {
			return fmt.Errorf("devstack: %w", err)
		}
	}
	port, ui := s.opts.TemporalPort, s.opts.TemporalUIPort
	var err error
	if port == 0 {
		if port, err = freePort(); err != nil {
			return err
		}
	}
	args := []string{"server", "start-dev", "--ip", "127.0.0.1", "--port", strconv.Itoa(port),
		"--db-filename", filepath.Join(s.opts.Dir, "temporal.db"), "--log-level", "warn"}
	if ui == 0 {
		args = append(args, "--headless")
	} else {
		args = append(args, "--ui-port", strconv.Itoa(ui))
	}
	args = append(args, temporaltest.StartDevFlags()...)
	p, err := s.start(ctx, "temporal", bin, args, os.Environ())
	if err != nil {
		return err
	}
	s.TemporalAddress = fmt.Sprintf("127.0.0.1:%d", port)
	if err := waitTCP(ctx, s.TemporalAddress, 60*time.Second, p); err != nil {
		return fmt.Errorf("devstack: temporal: %w\n%s", err, tail(p.Log, 20))
	}
	if ui != 0 {
		s.TemporalUI = fmt.Sprintf("http://127.0.0.1:%d", ui)
	}
	s.logf("temporal   %s  web UI %s", s.TemporalAddress, s.TemporalUI)
	return nil
}

func (s *Stack) startLocalnet(ctx context.Context) error {
	bin := s.opts.LocalnetBin
	if bin == "" {
		bin = LocalnetBinary()
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("devstack: localnet binary %s: %w (build it with `make localnet`)", bin, err)
	}
	port := s.opts.RPCPort
	var err error
	if port == 0 {
		// localnet serves WebSocket on the next port, as the solana CLI expects: both free.
		if port, err = freePortPair(); err != nil {
			return err
		}
	}
	p, err := s.start(ctx, "localnet", bin,
		[]string{"--rpc-port", strconv.Itoa(port), "--ws-port", strconv.Itoa(port + 1)}, os.Environ())
	if err != nil {
		return err
	}
	s.RPCURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitRPC(ctx, s.RPCURL, 60*time.Second, p); err != nil {
		return fmt.Errorf("devstack: localnet: %w\n%s", err, tail(p.Log, 20))
	}
	s.logf("localnet   %s", s.RPCURL)
	return nil
}

// LocalnetBinary is where `make localnet` puts the chain.
func LocalnetBinary() string {
	if b := os.Getenv("LOCALNET_BIN"); b != "" {
		return b
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "upgrade-governor", "localnet-target", "release", "localnet")
}

func (s *Stack) start(ctx context.Context, name, bin string, args, env []string) (*Proc, error) {
	logPath := filepath.Join(s.opts.Dir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("devstack: %s log: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group, so a stop reaches the children; killed with us if we die.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("devstack: start %s (%s): %w", name, bin, err)
	}
	p := &Proc{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
	return p, nil
}

// Stop ends every part started here, newest first: SIGTERM, then SIGKILL after 10 s.
func (s *Stack) Stop() {
	s.mu.Lock()
	procs := make([]*Proc, 0, len(s.procs))
	for _, name := range []string{"apiserver", "worker", "localnet", "temporal"} {
		if p := s.procs[name]; p != nil {
			procs = append(procs, p)
		}
	}
	s.mu.Unlock()
	for _, p := range procs {
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	for i := len(s.stops) - 1; i >= 0; i-- {
		_ = s.stops[i]()
	}
	s.stops = nil
}

// Logs returns the path of a part's log file.
func (s *Stack) Logs(name string) string { return filepath.Join(s.opts.Dir, name+".log") }

func (s *Stack) logf(format string, args ...any) {
	if s.opts.Log != nil {
		fmt.Fprintf(s.opts.Log, "  started  "+format+"\n", args...)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devstack: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// freePortPair returns a free port whose next port is free too.
func freePortPair() (int, error) {
	for i := 0; i < 20; i++ {
		p, err := freePort()
		if err != nil {
			return 0, err
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p+1))
		if err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, errors.New("devstack: no pair of free ports")
}

func exited(p *Proc) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return fmt.Errorf("%s exited: %v", p.Name, p.err)
	default:
		return nil
	}
}

func waitTCP(ctx context.Context, addr string, limit time.Duration, p *Proc) error {
	return poll(ctx, limit, p, func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	})
}

func waitHTTP(ctx context.Context, url string, limit time.Duration, p *Proc) error {
	return poll(ctx, limit, p, func() error {
		resp, err := http.Get(url)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", url, resp.Status)
		}
		return nil
	})
}

func waitRPC(ctx context.Context, url string, limit time.Duration, p *Proc) error {
	c := chain.New(url)
	return poll(ctx, limit, p, func() error {
		_, err := c.RPC().GetHealth(ctx)
		return err
	})
}

func poll(ctx context.Context, limit time.Duration, p *Proc, probe func() error) error {
	deadline := time.Now().Add(limit)
	for {
		err := probe()
		if err == nil {
			return nil
		}
		if perr := exited(p); perr != nil {
			return perr
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

func redact(url string) string {
	if i := strings.Index(url, "://"); i >= 0 {
		if j := strings.Index(url[i+3:], "@"); j >= 0 {
			creds := url[i+3 : i+3+j]
			if k := strings.Index(creds, ":"); k >= 0 {
				return url[:i+3] + creds[:k] + ":***" + url[i+3+j:]
			}
		}
	}
	return url
}
