// Package e2e tests the browser UI end to end: the real stack (PostgreSQL, Temporal, localnet,
// worker, apiserver serving the embedded UI) with a multisig, a governed program and two buffers
// set up here, then a real Chromium driven by playwright-core (ui.mjs), where members act through
// a Wallet Standard test wallet that signs with their real keys.
package e2e

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

const (
	members  = 5
	accounts = 600
	// The governed counter's state accounts: 64 bytes, version byte first.
	counterLen = 64
	elfDir     = "../../program/examples/governed-counter/elf"
)

// Chromium is Debian's (no browser download): UG_CHROMIUM overrides the path.
func chromiumPath() string {
	if p := os.Getenv("UG_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireTools fails, never skips, when what the browser test needs is missing.
func requireTools(t *testing.T) (node, temporalBin string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is missing: install Node.js 20.19 or newer (the browser test runs web/e2e/ui.mjs with it)")
	}
	for _, m := range []string{"playwright-core", "tweetnacl"} {
		if _, err := os.Stat(filepath.Join("..", "node_modules", m, "package.json")); err != nil {
			t.Fatalf("web/node_modules/%s is missing: run `make web-deps` (npm ci in web/)", m)
		}
	}
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Fatalf("chromium is missing at %s: `apt-get install -y chromium` (or set UG_CHROMIUM)", chromiumPath())
	}
	if _, err := os.Stat(devstack.LocalnetBinary()); err != nil {
		t.Fatalf("localnet binary %s is missing: run `make localnet`", devstack.LocalnetBinary())
	}
	temporalBin, err = temporaltest.Binary()
	require.NoError(t, err, temporaltest.InstallHint)
	return node, temporalBin
}

func TestBrowserUI(t *testing.T) {
	node, temporalBin := requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	// Under /tmp: devstack makes the directory reachable for PostgreSQL's own user.
	dir, err := os.MkdirTemp("", "web-e2e-")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	bins := t.TempDir()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bins+"/", "../../worker", "../../apiserver").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	// With its Web UI, so the page's workflow links are followed to a real workflow page.
	st, err := devstack.Start(ctx, devstack.Options{Dir: dir, BinDir: bins, TemporalBin: temporalBin,
		TemporalUIPort: freePort(t), Log: testWriter{t}})
	require.NoError(t, err)
	defer st.Stop()

	w := setUp(ctx, t, st)

	shots := os.Getenv("UG_WEB_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(os.TempDir(), "ug-web-screenshots")
	}
	require.NoError(t, os.MkdirAll(shots, 0o755))
	result := filepath.Join(dir, "ui-result.json")
	keys, err := json.Marshal(w.memberKeys)
	require.NoError(t, err)
	addrs, err := json.Marshal(w.memberAddrs)
	require.NoError(t, err)
	bufs, err := json.Marshal(w.buffers)
	require.NoError(t, err)

	cmd := exec.CommandContext(ctx, node, "e2e/ui.mjs")
	cmd.Dir = ".."
	cmd.Env = append(os.Environ(),
		"UG_E2E_API_URL="+st.APIURL,
		"UG_E2E_RPC_URL="+st.RPCURL,
		"UG_E2E_TEMPORAL_UI="+st.TemporalUI,
		"UG_E2E_MEMBER_KEYS="+string(keys),
		"UG_E2E_MEMBERS="+string(addrs),
		"UG_E2E_MULTISIG="+w.multisig.String(),
		"UG_E2E_PROGRAM="+w.program.String(),
		"UG_E2E_BUFFERS="+string(bufs),
		"UG_E2E_BUFFER_HASH="+w.hash,
		"UG_E2E_MISSING_ACCOUNT="+w.missing.String(),
		"UG_E2E_NEW_MEMBER="+w.newMember.String(),
		fmt.Sprintf("UG_E2E_ACCOUNTS=%d", accounts),
		"UG_E2E_SCREENSHOTS="+shots,
		"UG_E2E_RESULT="+result,
		"UG_CHROMIUM="+chromiumPath(),
	)
	t.Logf("screenshots: %s", shots)
	require.NoError(t, runLogged(t, cmd), "web/e2e/ui.mjs failed; server logs in %s", dir)
	t.Logf("screenshots: %s", shots)

	// What the browser did is what the chain, the index and the audit trail say.
	var res struct{ Executed, Cancelled, Config, Stale string }
	raw, err := os.ReadFile(result)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(raw, &res))
	executed, err := st.Chain.GetProposal(ctx, solana.MustPublicKeyFromBase58(res.Executed))
	require.NoError(t, err)
	require.Equal(t, governor.ProposalExecuted, executed.Status)
	require.Len(t, executed.Approvals, 3)
	cancelled, err := st.Chain.GetProposal(ctx, solana.MustPublicKeyFromBase58(res.Cancelled))
	require.NoError(t, err)
	require.Equal(t, governor.ProposalCancelled, cancelled.Status)
	pd, err := st.Chain.GetProgramData(ctx, w.program)
	require.NoError(t, err)
	deployed := pd.Hash()
	require.Equal(t, w.hash, hex.EncodeToString(deployed[:]), "the program runs the proposed ELF")

	s, err := store.New(ctx, st.DatabaseURL)
	require.NoError(t, err)
	defer s.Close()
	page, err := s.ListAudit(ctx, store.AuditFilter{Proposal: res.Executed, Action: store.ActionApprovalRecorded, Limit: 100})
	require.NoError(t, err)
	approvers := map[string]bool{}
	for _, e := range page.Entries {
		approvers[e.Actor] = true
	}
	require.Equal(t, map[string]bool{w.memberAddrs[0]: true, w.memberAddrs[1]: true, w.memberAddrs[2]: true}, approvers)

	// The change of the multisig made in the page: member 5 replaced by the new key, the
	// proposal made meanwhile stale (still active on chain, refused approval and execution),
	// and the index's history the creation, then the change.
	ms, err := st.Chain.GetMultisig(ctx, w.multisig)
	require.NoError(t, err)
	require.True(t, ms.IsMember(w.newMember), "the new key is a member")
	require.False(t, ms.IsMember(solana.MustPublicKeyFromBase58(w.memberAddrs[4])), "member 5 is no longer a member")
	require.EqualValues(t, 3, ms.Threshold)
	config, err := st.Chain.GetProposal(ctx, solana.MustPublicKeyFromBase58(res.Config))
	require.NoError(t, err)
	require.Equal(t, governor.ProposalExecuted, config.Status)
	require.True(t, config.IsConfig())
	stale, err := st.Chain.GetProposal(ctx, solana.MustPublicKeyFromBase58(res.Stale))
	require.NoError(t, err)
	require.Equal(t, governor.ProposalActive, stale.Status)
	require.True(t, ms.IsStale(stale.Index), "the proposal made before the change executed is stale")
	history, err := s.ListMultisigConfigs(ctx, w.multisig.String(), 0)
	require.NoError(t, err)
	require.Len(t, history, 2, "the creation, then the change")
	require.Equal(t, res.Config, history[0].Proposal)
	require.Contains(t, history[0].Members, w.newMember.String())
	require.Contains(t, history[1].Members, w.memberAddrs[4])
}

// world is what setUp made on chain for the browser.
type world struct {
	memberKeys  [][]int // 64-byte ed25519 secret keys, for the test wallet only
	memberAddrs []string
	multisig    solana.PublicKey
	program     solana.PublicKey
	buffers     []string
	hash        string
	missing     solana.PublicKey
	newMember   solana.PublicKey // replaces member 5 through the change page; no key needed
}

// setUp makes a 3-of-5 multisig with a one-hour timelock (the program's minimum) and the
// devstack's guardian, deploys the governed counter v1 under the multisig's authority PDA with
// counter accounts to migrate, and writes v2 into two buffers handed to the PDA.
func setUp(ctx context.Context, t *testing.T, st *devstack.Stack) world {
	t.Helper()
	c := st.Chain
	v1, err := os.ReadFile(filepath.Join(elfDir, "governed_counter_v1.so"))
	require.NoError(t, err)
	v2, err := os.ReadFile(filepath.Join(elfDir, "governed_counter_v2.so"))
	require.NoError(t, err)
	fund := func(k solana.PrivateKey) *chain.Keypair {
		kp, err := chain.KeypairFromPrivateKey(k)
		require.NoError(t, err)
		_, err = c.Airdrop(ctx, kp.PublicKey(), 100*solana.LAMPORTS_PER_SOL)
		require.NoError(t, err)
		return kp
	}
	newKey := func() solana.PrivateKey {
		k, err := solana.NewRandomPrivateKey()
		require.NoError(t, err)
		return k
	}
	payer := fund(newKey())

	var w world
	memberKeys := make([]solana.PublicKey, members)
	for i := range members {
		k := newKey()
		fund(k)
		ints := make([]int, len(k))
		for j, b := range k {
			ints[j] = int(b)
		}
		w.memberKeys = append(w.memberKeys, ints)
		w.memberAddrs = append(w.memberAddrs, k.PublicKey().String())
		memberKeys[i] = k.PublicKey()
	}
	createKey, err := chain.NewKeypair()
	require.NoError(t, err)
	ix := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), payer.PublicKey(), governor.InitializeMultisigArgs{
		Members: memberKeys, Threshold: 3, TimelockSeconds: 3600, ProposalLifetimeSeconds: 7 * 24 * 3600,
		Guardian:     st.Guardian.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	_, err = c.Send(ctx, []solana.Instruction{ix}, payer, createKey)
	require.NoError(t, err)
	w.multisig = ix.Multisig
	require.NoError(t, st.ServeMultisig(ctx, w.multisig, "web-e2e"))
	authority, _ := governor.FindAuthorityAddress(w.multisig)

	programKP, err := chain.NewKeypair()
	require.NoError(t, err)
	w.program = programKP.PublicKey()
	require.NoError(t, c.DeployProgram(ctx, payer, payer, programKP, v1, len(v1)))
	_, err = c.Send(ctx, []solana.Instruction{loader.NewSetProgramAuthorityInstruction(w.program, payer.PublicKey(), authority)}, payer)
	require.NoError(t, err)
	createCounters(ctx, t, c, payer, w.program, accounts)

	for range 2 {
		buf, err := chain.NewKeypair()
		require.NoError(t, err)
		require.NoError(t, c.WriteBuffer(ctx, payer, payer, buf, v2))
		_, err = c.Send(ctx, []solana.Instruction{loader.NewSetBufferAuthorityInstruction(buf.PublicKey(), payer.PublicKey(), authority)}, payer)
		require.NoError(t, err)
		w.buffers = append(w.buffers, buf.PublicKey().String())
	}
	h := loader.ELFHash(v2)
	w.hash = hex.EncodeToString(h[:])
	w.missing = newKey().PublicKey()
	w.newMember = newKey().PublicKey()
	t.Logf("multisig %s, program %s, buffers %v, v2 hash %s", w.multisig, w.program, w.buffers, w.hash)
	return w
}

// createCounters creates n state accounts of the governed counter under v1 (init writes
// version 1), several per transaction, a few transactions in flight.
func createCounters(ctx context.Context, t *testing.T, c *chain.Client, payer *chain.Keypair, program solana.PublicKey, n int) {
	t.Helper()
	rent, err := c.MinimumBalanceForRentExemption(ctx, counterLen)
	require.NoError(t, err)
	const perTx = 5
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for start := 0; start < n; start += perTx {
		var ixs []solana.Instruction
		for i := start; i < min(start+perTx, n); i++ {
			seed := fmt.Sprintf("counter-%d", i)
			addr, err := solana.CreateWithSeed(payer.PublicKey(), seed, program)
			require.NoError(t, err)
			ixs = append(ixs, system.NewCreateAccountWithSeedInstruction(payer.PublicKey(), seed, rent, counterLen,
				program, payer.PublicKey(), addr, payer.PublicKey()).Build())
			data := make([]byte, 9)
			data[1] = byte(100 + i%100) // instruction 0 (init), then the initial count
			ixs = append(ixs, solana.NewInstruction(program, solana.AccountMetaSlice{
				solana.Meta(addr).WRITE(), solana.Meta(payer.PublicKey()).SIGNER(),
			}, data))
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := c.Send(ctx, ixs, payer); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "create counters")
	}
}

// runLogged runs cmd with its output line by line in the test log, so a failure shows what
// the browser script did last.
func runLogged(t *testing.T, cmd *exec.Cmd) error {
	t.Helper()
	r, wr := io.Pipe()
	cmd.Stdout, cmd.Stderr = wr, wr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			t.Log(strings.TrimRight(sc.Text(), "\r"))
		}
	}()
	err := cmd.Wait()
	wr.Close()
	<-done
	return err
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
