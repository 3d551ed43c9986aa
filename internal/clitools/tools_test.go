package clitools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

const (
	repoRoot    = "../.."
	elfDir      = repoRoot + "/program/examples/governed-counter/elf"
	onboardPath = repoRoot + "/scripts/onboard.sh"
	timelock    = 48 * time.Hour
	lifetime    = 7 * 24 * time.Hour
)

// tool is a pinned external binary: where to find it and how to get it.
type tool struct {
	name, crate, version, env string
}

var (
	solanaTool       = tool{name: "solana", crate: "solana-cli", version: "3.1.12", env: "SOLANA_BIN"}
	solanaVerifyTool = tool{name: "solana-verify", crate: "solana-verify", version: "0.5.2", env: "SOLANA_VERIFY_BIN"}
)

// path finds the tool in $<env> or where `make tools` installs it, and fails the test with
// the way to get it otherwise: these tests never skip.
func (tl tool) path(t *testing.T) string {
	t.Helper()
	p := os.Getenv(tl.env)
	if p == "" {
		home, err := os.UserHomeDir()
		require.NoError(t, err)
		p = filepath.Join(home, ".cache", "upgrade-governor", "tools", "bin", tl.name)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("%s %s is missing at %s: run `make tools` (cargo install %s --version %s --locked "+
			"--root $HOME/.cache/upgrade-governor/tools), or point $%s at the binary",
			tl.name, tl.version, p, tl.crate, tl.version, tl.env)
	}
	return p
}

// The stack is shared by the package's tests and stopped by TestMain.
var shared struct {
	once  sync.Once
	stack *devstack.Stack
	dir   string
	err   error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.stack != nil {
		shared.stack.Stop()
	}
	if shared.dir != "" && code == 0 {
		os.RemoveAll(shared.dir)
	} else if shared.dir != "" {
		fmt.Fprintf(os.Stderr, "clitools: the stack's logs are in %s\n", shared.dir)
	}
	os.Exit(code)
}

// env is what a test works with: the stack and the real CLIs.
type env struct {
	t      *testing.T
	ctx    context.Context
	stack  *devstack.Stack
	solana string
	verify string
	dir    string
}

// newEnv checks the tools first (a missing one fails the test before anything starts), then
// starts the stack once for the package.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, solana: solanaTool.path(t), verify: solanaVerifyTool.path(t), dir: t.TempDir()}
	if _, err := os.Stat(devstack.LocalnetBinary()); err != nil {
		t.Fatalf("localnet binary %s is missing: run `make localnet`", devstack.LocalnetBinary())
	}
	temporalBin, err := temporaltest.Binary()
	require.NoError(t, err, temporaltest.InstallHint)
	shared.once.Do(func() {
		shared.stack, shared.dir, shared.err = startStack(temporalBin)
	})
	require.NoError(t, shared.err)
	e.stack = shared.stack
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	t.Cleanup(cancel)
	e.ctx = ctx
	return e
}

func startStack(temporalBin string) (*devstack.Stack, string, error) {
	// PostgreSQL runs as the postgres user when we are root: the stack directories below this
	// one must be reachable through it.
	dir, err := os.MkdirTemp("", "clitools-")
	if err != nil {
		return nil, "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, dir, err
	}
	bin := filepath.Join(dir, "bin")
	out, err := exec.Command("go", "build", "-o", bin+"/", repoRoot+"/worker", repoRoot+"/apiserver").CombinedOutput()
	if err != nil {
		return nil, dir, fmt.Errorf("go build: %w: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// devstack picks an RPC port whose next port (WebSocket) is free too; another process may
	// take one of them before localnet binds: then try again.
	for attempt := 1; ; attempt++ {
		stackDir := filepath.Join(dir, fmt.Sprintf("stack%d", attempt))
		if err := os.Mkdir(stackDir, 0o755); err != nil {
			return nil, dir, err
		}
		st, err := devstack.Start(ctx, devstack.Options{Dir: stackDir, BinDir: bin, TemporalBin: temporalBin})
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "already in use") {
			return st, dir, err
		}
	}
}

// wsURL is localnet's WebSocket: devstack serves it on the RPC port + 1. It is passed
// explicitly, as a user of another cluster would.
func (e *env) wsURL() string {
	u := strings.Replace(e.stack.RPCURL, "http://", "ws://", 1)
	i := strings.LastIndex(u, ":")
	var port int
	_, err := fmt.Sscanf(u[i+1:], "%d", &port)
	require.NoError(e.t, err)
	return fmt.Sprintf("%s:%d", u[:i], port+1)
}

// wallet is a funded keypair saved in the CLI's file format.
type wallet struct {
	*chain.Keypair
	Path string
}

func (e *env) wallet(name string) wallet {
	e.t.Helper()
	k, p := e.keyFile(name)
	_, err := e.stack.Chain.Airdrop(e.ctx, k.PublicKey(), 100*solana.LAMPORTS_PER_SOL)
	require.NoError(e.t, err)
	return wallet{Keypair: k, Path: p}
}

// keyFile is an unfunded keypair file (a program or buffer address).
func (e *env) keyFile(name string) (*chain.Keypair, string) {
	e.t.Helper()
	k, err := chain.NewKeypair()
	require.NoError(e.t, err)
	p := filepath.Join(e.dir, name+"-"+k.PublicKey().String()[:8]+".json")
	require.NoError(e.t, k.WriteFile(p))
	return k, p
}

// governance is a 2-of-3 multisig with a 48-hour timelock.
type governance struct {
	Multisig, Authority solana.PublicKey
	Members             []wallet
}

func (e *env) newGovernance() governance {
	e.t.Helper()
	g := governance{}
	keys := make([]solana.PublicKey, 3)
	for i := range keys {
		g.Members = append(g.Members, e.wallet(fmt.Sprintf("member%d", i+1)))
		keys[i] = g.Members[i].PublicKey()
	}
	createKey, err := chain.NewKeypair()
	require.NoError(e.t, err)
	ix := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), g.Members[0].PublicKey(), governor.InitializeMultisigArgs{
		Members: keys, Threshold: 2, TimelockSeconds: int64(timelock / time.Second),
		ProposalLifetimeSeconds: int64(lifetime / time.Second), Guardian: e.stack.Guardian.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	_, err = e.stack.Chain.Send(e.ctx, []solana.Instruction{ix}, g.Members[0].Keypair, createKey)
	require.NoError(e.t, err, "initialize multisig")
	g.Multisig, g.Authority = ix.Multisig, ix.Authority
	require.NoError(e.t, e.stack.ServeMultisig(e.ctx, g.Multisig, "clitools"))
	return g
}

// cliResult is one run of a CLI.
type cliResult struct {
	Stdout, Stderr string
	Err            error
}

func (r cliResult) String() string {
	return fmt.Sprintf("err=%v\nstdout:\n%s\nstderr:\n%s", r.Err, r.Stdout, r.Stderr)
}

func (e *env) exec(name string, args []string, extraEnv ...string) cliResult {
	e.t.Helper()
	cmd := exec.CommandContext(e.ctx, name, args...)
	// No CLI config file of the machine's user may leak in: every setting is a flag or env.
	cmd.Env = append(os.Environ(), "HOME="+e.dir, "NO_COLOR=1")
	cmd.Env = append(cmd.Env, extraEnv...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	e.t.Logf("$ %s %s\n%s%s", filepath.Base(name), strings.Join(args, " "), indent(out.String()), indent(errb.String()))
	return cliResult{Stdout: out.String(), Stderr: errb.String(), Err: err}
}

func indent(s string) string {
	if s = strings.TrimRight(s, "\n"); s == "" {
		return ""
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ") + "\n"
}

// solanaCLI runs `solana` against localnet as keypair, every connection setting explicit.
func (e *env) solanaCLI(keypair string, args ...string) cliResult {
	e.t.Helper()
	base := []string{"--url", e.stack.RPCURL, "--ws", e.wsURL(), "--keypair", keypair, "--commitment", "confirmed"}
	return e.exec(e.solana, append(base, args...))
}

// mustSolana runs `solana` and fails the test if it fails.
func (e *env) mustSolana(keypair string, args ...string) string {
	e.t.Helper()
	r := e.solanaCLI(keypair, args...)
	require.NoError(e.t, r.Err, "solana %s\n%s", strings.Join(args, " "), r)
	return r.Stdout
}

// verifyHash runs a solana-verify hash command and returns its last line, the hash.
func (e *env) verifyHash(args ...string) string {
	e.t.Helper()
	r := e.exec(e.verify, append([]string{"--url", e.stack.RPCURL}, args...))
	require.NoError(e.t, r.Err, "solana-verify %s\n%s", strings.Join(args, " "), r)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// onboard runs scripts/onboard.sh as keypair for multisig and returns its output: the
// results on stdout (the commands it ran go to stderr, into the test log).
func (e *env) onboard(keypair string, multisig solana.PublicKey, args ...string) string {
	e.t.Helper()
	r := e.exec("bash", append([]string{onboardPath}, args...),
		"RPC_URL="+e.stack.RPCURL, "WS_URL="+e.wsURL(), "KEYPAIR="+keypair, "MULTISIG="+multisig.String(),
		"GOVERNOR_PROGRAM_ID="+governor.ProgramID.String(), "SOLANA="+e.solana, "SOLANA_VERIFY="+e.verify)
	require.NoError(e.t, r.Err, "onboard.sh %s\n%s", strings.Join(args, " "), r)
	return r.Stdout
}

// onboardResults runs scripts/onboard.sh and reads its "name value" result lines.
func (e *env) onboardResults(keypair string, multisig solana.PublicKey, args ...string) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(e.onboard(keypair, multisig, args...), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			out[k] = v
		}
	}
	return out
}

// programShow is `solana program show --output json` of an upgradeable program.
type programShow struct {
	ProgramID          string `json:"programId"`
	Owner              string `json:"owner"`
	ProgramdataAddress string `json:"programdataAddress"`
	Authority          string `json:"authority"`
	LastDeploySlot     uint64 `json:"lastDeploySlot"`
	DataLen            int    `json:"dataLen"`
}

func (e *env) show(keypair string, program solana.PublicKey) programShow {
	e.t.Helper()
	var s programShow
	out := e.mustSolana(keypair, "program", "show", program.String(), "--output", "json")
	require.NoError(e.t, json.Unmarshal([]byte(out), &s), out)
	return s
}

// deploy is the team's existing `solana program deploy` of a new program.
func (e *env) deploy(payer wallet, elf string, maxLen int) solana.PublicKey {
	e.t.Helper()
	programKey, keyPath := e.keyFile("program")
	program := programKey.PublicKey()
	args := []string{"program", "deploy", elf, "--program-id", keyPath, "--use-rpc", "--output", "json"}
	if maxLen > 0 {
		args = append(args, "--max-len", fmt.Sprint(maxLen))
	}
	var res struct {
		ProgramID string `json:"programId"`
	}
	out := e.mustSolana(payer.Path, args...)
	require.NoError(e.t, json.Unmarshal([]byte(lastJSON(out)), &res), out)
	require.Equal(e.t, program.String(), res.ProgramID)
	return program
}

// lastJSON is the JSON object at the end of a CLI's output (progress lines may precede it).
func lastJSON(out string) string {
	if i := strings.LastIndex(out, "\n{"); i >= 0 {
		return out[i+1:]
	}
	return out
}

func elfPath(version int) string {
	return filepath.Join(elfDir, fmt.Sprintf("governed_counter_v%d.so", version))
}

func readELF(t *testing.T, version int) []byte {
	t.Helper()
	b, err := os.ReadFile(elfPath(version))
	require.NoError(t, err)
	return b
}
