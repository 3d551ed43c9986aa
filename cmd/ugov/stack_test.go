package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

const elfDir = "../../program/examples/governed-counter/elf"

// cliRunner runs the built ugov binary as a member would, in its own HOME and without the
// UG_* variables of the test's environment.
type cliRunner struct {
	t      *testing.T
	bin    string
	home   string
	rpcURL string
	apiURL string
}

func (c *cliRunner) run(args ...string) outcome {
	c.t.Helper()
	cmd := exec.Command(c.bin, args...)
	env := []string{"HOME=" + c.home}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "UG_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else {
		require.NoError(c.t, err)
	}
	c.t.Logf("$ ugov %s\n%s%s", strings.Join(args, " "), stdout.String(), stderr.String())
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// viaRPC runs a command with --rpc-url only; viaAPI adds --api-url. Both want JSON output,
// success, and decode it into out.
func (c *cliRunner) viaRPC(out any, args ...string) {
	c.t.Helper()
	c.decode(c.run(append(args, "--rpc-url", c.rpcURL, "--output", "json")...), out)
}

func (c *cliRunner) viaAPI(out any, args ...string) {
	c.t.Helper()
	c.decode(c.run(append(args, "--rpc-url", c.rpcURL, "--api-url", c.apiURL, "--output", "json")...), out)
}

func (c *cliRunner) decode(o outcome, out any) {
	c.t.Helper()
	require.Equal(c.t, 0, o.code, "stdout: %s\nstderr: %s", o.stdout, o.stderr)
	require.NoError(c.t, json.Unmarshal([]byte(o.stdout), out), o.stdout)
}

// jsonError is the body ugov prints for a failure with --output json.
type jsonError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
		Status  int    `json:"status"`
		Name    string `json:"name"`
	} `json:"error"`
}

func (c *cliRunner) fails(args ...string) jsonError {
	c.t.Helper()
	o := c.run(append(args, "--output", "json")...)
	require.Equal(c.t, 1, o.code, "stdout: %s\nstderr: %s", o.stdout, o.stderr)
	var e jsonError
	require.NoError(c.t, json.Unmarshal([]byte(o.stdout), &e), o.stdout)
	return e
}

func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", dir+"/", ".", "../../worker", "../../apiserver").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return dir
}

func fund(ctx context.Context, t *testing.T, c *chain.Client, dir, name string) (*chain.Keypair, string) {
	t.Helper()
	kp, err := chain.NewKeypair()
	require.NoError(t, err)
	_, err = c.Airdrop(ctx, kp.PublicKey(), 100*solana.LAMPORTS_PER_SOL)
	require.NoError(t, err)
	path := filepath.Join(dir, name+".json")
	require.NoError(t, kp.WriteFile(path))
	return kp, path
}

// writeBuffer writes elf to a new buffer and hands it to authority, the way a member does
// with `solana program write-buffer` and `set-buffer-authority`.
func writeBuffer(ctx context.Context, t *testing.T, c *chain.Client, payer *chain.Keypair, elf []byte, authority solana.PublicKey) solana.PublicKey {
	t.Helper()
	kp, err := chain.NewKeypair()
	require.NoError(t, err)
	require.NoError(t, c.WriteBuffer(ctx, payer, payer, kp, elf))
	_, err = c.Send(ctx, []solana.Instruction{loader.NewSetBufferAuthorityInstruction(kp.PublicKey(), payer.PublicKey(), authority)}, payer)
	require.NoError(t, err)
	return kp.PublicKey()
}

func hexHash(elf []byte) string {
	h := loader.ELFHash(elf)
	return hex.EncodeToString(h[:])
}

// TestMemberCLIAgainstTheStack runs ugov against the real system (PostgreSQL, Temporal,
// localnet, worker, API server): a multisig, hashes, a proposal through the API with three
// approvals, a cancel straight to RPC that the indexer brings into the index, pause and a
// resume signed on three "machines", and a second proposal executed by RPC after the
// timelock.
func TestMemberCLIAgainstTheStack(t *testing.T) {
	if _, err := os.Stat(devstack.LocalnetBinary()); err != nil {
		t.Fatalf("localnet binary %s is missing: build it with `make localnet`", devstack.LocalnetBinary())
	}
	temporalBin, err := temporaltest.Binary()
	require.NoError(t, err, "the temporal CLI is missing: "+temporaltest.InstallHint)
	v1, err := os.ReadFile(filepath.Join(elfDir, "governed_counter_v1.so"))
	require.NoError(t, err)
	v2, err := os.ReadFile(filepath.Join(elfDir, "governed_counter_v2.so"))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()

	// Under /tmp: devstack makes the directory reachable for PostgreSQL's own user.
	dir, err := os.MkdirTemp("", "ugov-stack-")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	bin := buildBinaries(t)
	st, err := devstack.Start(ctx, devstack.Options{Dir: dir, BinDir: bin, TemporalBin: temporalBin})
	require.NoError(t, err)
	defer st.Stop()
	c := st.Chain
	ug := &cliRunner{t: t, bin: filepath.Join(bin, "ugov"), home: t.TempDir(), rpcURL: st.RPCURL, apiURL: st.APIURL}

	keys := t.TempDir()
	payer, payerFile := fund(ctx, t, c, keys, "payer")
	var members []*chain.Keypair
	var memberFiles, memberKeys []string
	for _, name := range []string{"m1", "m2", "m3", "m4", "m5"} {
		kp, path := fund(ctx, t, c, keys, name)
		members, memberFiles, memberKeys = append(members, kp), append(memberFiles, path), append(memberKeys, kp.PublicKey().String())
	}

	// multisig create / show
	var created MultisigCreated
	ug.viaRPC(&created, "multisig", "create", "--keypair", payerFile, "--members", strings.Join(memberKeys, ","),
		"--threshold", "3", "--timelock", "48h", "--guardian", st.Guardian.PublicKey().String())
	multisig := solana.MustPublicKeyFromBase58(created.Multisig)
	require.NoError(t, st.ServeMultisig(ctx, multisig, "ugov-test"))
	authority, _ := governor.FindAuthorityAddress(multisig)
	require.Equal(t, authority.String(), created.Authority)
	ms, err := c.GetMultisig(ctx, multisig)
	require.NoError(t, err)
	require.EqualValues(t, 3, ms.Threshold)
	require.EqualValues(t, 48*3600, ms.TimelockSeconds)
	require.EqualValues(t, 7*24*3600, ms.ProposalLifetimeSeconds)
	require.True(t, ms.Guardian.Equals(st.Guardian.PublicKey()))
	var shownMS MultisigView
	ug.viaRPC(&shownMS, "multisig", "show", created.Multisig)
	require.Equal(t, memberKeys, shownMS.Members)
	require.Equal(t, created.Authority, shownMS.Authority)
	require.False(t, shownMS.Paused)

	// The governed counter v1, its upgrade authority handed to the PDA, and v2 in a buffer.
	programKP, err := chain.NewKeypair()
	require.NoError(t, err)
	program := programKP.PublicKey()
	require.NoError(t, c.DeployProgram(ctx, payer, payer, programKP, v1, len(v1)))
	_, err = c.Send(ctx, []solana.Instruction{loader.NewSetProgramAuthorityInstruction(program, payer.PublicKey(), authority)}, payer)
	require.NoError(t, err)
	buffer := writeBuffer(ctx, t, c, payer, v2, authority)

	// hash: the ELF, the buffer and the deployed program, as solana-verify hashes them.
	var h HashResult
	ug.viaRPC(&h, "hash", "--file", filepath.Join(elfDir, "governed_counter_v2.so"))
	require.Equal(t, hexHash(v2), h.Hash)
	ug.viaRPC(&h, "hash", "--buffer", buffer.String())
	require.Equal(t, hexHash(v2), h.Hash)
	ug.viaRPC(&h, "hash", "--program", program.String())
	require.Equal(t, hexHash(v1), h.Hash)

	// A --hash the buffer does not have is refused and nothing is sent.
	proposeArgs := []string{"propose", "--keypair", memberFiles[0], "--multisig", created.Multisig,
		"--program", program.String(), "--buffer", buffer.String()}
	e := ug.fails(append(proposeArgs, "--hash", hexHash(v1), "--rpc-url", st.RPCURL, "--api-url", st.APIURL)...)
	require.Equal(t, "hash_mismatch", e.Error.Code)
	require.Equal(t, "--hash", e.Error.Field)
	ms, err = c.GetMultisig(ctx, multisig)
	require.NoError(t, err)
	require.Zero(t, ms.ProposalIndex, "nothing was proposed")
	var listed ProposalList
	ug.viaAPI(&listed, "list", "--multisig", created.Multisig)
	require.Empty(t, listed.Proposals, "nothing reached the API")

	// propose through the API, with the hash given and a migration declared.
	var proposed Proposed
	ug.viaAPI(&proposed, append(proposeArgs, "--hash", hexHash(v2), "--description", "counter v2",
		"--migration-version", "2", "--migration-data", "02", "--migration-from", "1", "--migration-size", "64")...)
	require.Equal(t, "api", proposed.Via)
	require.True(t, proposed.OnChain, "the workflow proposed on chain within --wait")
	require.Equal(t, hexHash(v2), proposed.BufferHash)
	proposal := solana.MustPublicKeyFromBase58(proposed.Proposal)
	p, err := c.GetProposal(ctx, proposal)
	require.NoError(t, err)
	require.Equal(t, "counter v2", p.Description)
	require.NotNil(t, p.Migration)
	require.EqualValues(t, 2, p.Migration.TargetVersion)

	// approve x3 through the API, each member with their own keypair file.
	var acted Acted
	for i := 0; i < 3; i++ {
		ug.viaAPI(&acted, "approve", proposed.Proposal, "--keypair", memberFiles[i])
		require.Equal(t, "api", acted.Via)
		require.Equal(t, i+1, acted.Approvals)
	}
	require.Equal(t, "approved", acted.Status)
	require.NotNil(t, acted.Eta)

	// A second approval by the same member is the API's error, with its code.
	e = ug.fails("approve", proposed.Proposal, "--keypair", memberFiles[0], "--rpc-url", st.RPCURL, "--api-url", st.APIURL)
	require.NotEmpty(t, e.Error.Code)
	require.NotZero(t, e.Error.Status, "an API error keeps its HTTP status")

	// show --output json through the API: approved, the workflow waiting out the timelock.
	var shown ProposalShown
	require.Eventually(t, func() bool {
		ug.viaAPI(&shown, "show", proposed.Proposal)
		return shown.Workflow != nil && shown.Workflow.State != nil && shown.Workflow.State.Step == "timelock"
	}, 30*time.Second, time.Second, "the workflow reaches the timelock")
	require.Equal(t, "chain", shown.Source)
	require.Equal(t, "approved", shown.Proposal.Status)
	require.Equal(t, 3, shown.Proposal.ApprovalCount)
	require.Equal(t, 3, shown.Proposal.Threshold)
	require.ElementsMatch(t, memberKeys[:3], shown.Proposal.Approvals)
	require.NotNil(t, shown.Proposal.MigrationTargetVersion)
	require.Equal(t, &apiclient.SignedMigration{TargetVersion: 2, FromVersion: 1, DataSize: 64, VersionOffset: 0, InstructionData: "Ag=="},
		shown.Proposal.Migration, "the signed plan, as proposed with --migration-*")
	o := ug.run("show", proposed.Proposal, "--rpc-url", st.RPCURL)
	require.Equal(t, 0, o.code, o.stderr)
	require.Contains(t, o.stdout, "migration    accounts at layout version 1 (version byte at offset 0, 64 bytes) to version 2")
	require.Equal(t, 2, *shown.Proposal.MigrationTargetVersion)

	// list from the chain (no --api-url).
	ug.viaRPC(&listed, "list", "--multisig", created.Multisig, "--status", "approved")
	require.Equal(t, "chain", listed.Source)
	require.Len(t, listed.Proposals, 1)
	require.Equal(t, proposed.Proposal, listed.Proposals[0].Address)

	// cancel straight to RPC: a member's cancel is a vote, threshold (3) votes cancel; the
	// indexer brings it into the index.
	ug.viaRPC(&acted, "cancel", proposed.Proposal, "--keypair", memberFiles[3])
	require.Equal(t, "rpc", acted.Via)
	require.Equal(t, "approved", acted.Status, "one member's vote cancels nothing")
	require.Equal(t, 1, acted.CancelVotes)
	e = ug.fails("cancel", proposed.Proposal, "--keypair", memberFiles[3], "--rpc-url", st.RPCURL)
	require.NotEmpty(t, e.Error.Code, "the same member cannot vote twice")
	ug.viaRPC(&acted, "cancel", proposed.Proposal, "--keypair", memberFiles[4])
	require.Equal(t, 2, acted.CancelVotes)
	ug.viaRPC(&acted, "cancel", proposed.Proposal, "--keypair", memberFiles[0])
	require.Equal(t, "cancelled", acted.Status)
	require.Eventually(t, func() bool {
		ug.viaAPI(&shown, "show", proposed.Proposal)
		return shown.Indexed != nil && shown.Indexed.Status == "cancelled"
	}, 60*time.Second, time.Second, "the index catches up with a cancel sent by RPC")
	require.Equal(t, "cancelled", shown.Proposal.Status)
	// Asking to execute it is refused, and ugov exits 1 (it answered 200 signalled:false, exit 0).
	e = ug.fails("execute", proposed.Proposal, "--keypair", memberFiles[1], "--rpc-url", st.RPCURL, "--api-url", st.APIURL)
	require.Equal(t, "invalid_state", e.Error.Code)
	require.Contains(t, e.Error.Message, "cancelled")
	// The indexer, not the API (which never saw this cancel), recorded it.
	db, err := store.New(ctx, st.DatabaseURL)
	require.NoError(t, err)
	defer db.Close()
	audit, err := db.ListAudit(ctx, store.AuditFilter{Proposal: proposed.Proposal, Limit: 1000})
	require.NoError(t, err)
	require.True(t, slices.ContainsFunc(audit.Entries, func(a store.AuditEntry) bool {
		return a.Signature == acted.Signature && a.Source == store.SourceIndexer
	}), "the cancel sent by RPC is in the audit trail from the indexer")

	// pause through the API; resume takes three members' votes, each on its own "machine",
	// through the API and by RPC, at any time (no co-signing within a blockhash's minute).
	var changed SystemChanged
	ug.viaAPI(&changed, "pause", "--multisig", created.Multisig, "--keypair", memberFiles[0])
	require.True(t, changed.Paused)
	require.NotNil(t, changed.PauseExpiresAt, "one member's pause lapses")
	ms, err = c.GetMultisig(ctx, multisig)
	require.NoError(t, err)
	require.True(t, ms.Paused)
	ug.viaRPC(&changed, "resume", "--multisig", created.Multisig, "--keypair", memberFiles[1])
	require.True(t, changed.Paused)
	require.Equal(t, 1, changed.Votes)
	e = ug.fails("resume", "--multisig", created.Multisig, "--keypair", memberFiles[1], "--rpc-url", st.RPCURL)
	require.Equal(t, "invalid_state", e.Error.Code, "a member votes once")
	e = ug.fails("resume", "--multisig", created.Multisig, "--keypair", payerFile, "--rpc-url", st.RPCURL)
	require.Equal(t, "not_a_member", e.Error.Code)
	ug.viaAPI(&changed, "resume", "--multisig", created.Multisig, "--keypair", memberFiles[2])
	require.True(t, changed.Paused)
	ug.viaAPI(&changed, "resume", "--multisig", created.Multisig, "--keypair", memberFiles[3])
	require.Equal(t, "api", changed.Via)
	require.False(t, changed.Paused)
	ms, err = c.GetMultisig(ctx, multisig)
	require.NoError(t, err)
	require.False(t, ms.Paused)

	// The member whose pause was overruled cannot pause again at once (cool-down); another can.
	e = ug.fails("pause", "--multisig", created.Multisig, "--keypair", memberFiles[0], "--rpc-url", st.RPCURL)
	require.Equal(t, "invalid_state", e.Error.Code)
	ug.viaRPC(&changed, "pause", "--multisig", created.Multisig, "--keypair", memberFiles[4])
	require.True(t, changed.Paused)
	for _, f := range memberFiles[1:4] {
		ug.viaRPC(&changed, "resume", "--multisig", created.Multisig, "--keypair", f)
	}
	require.False(t, changed.Paused)
	ms, err = c.GetMultisig(ctx, multisig)
	require.NoError(t, err)
	require.False(t, ms.Paused)

	// A second proposal entirely by RPC: propose, approve x3, execute after the timelock.
	buffer2 := writeBuffer(ctx, t, c, payer, v2, authority)
	ug.viaRPC(&proposed, "propose", "--keypair", memberFiles[4], "--multisig", created.Multisig,
		"--program", program.String(), "--buffer", buffer2.String(), "--description", "counter v2, by RPC")
	require.Equal(t, "rpc", proposed.Via)
	require.EqualValues(t, 2, proposed.Index)
	for i := 2; i < 5; i++ {
		ug.viaRPC(&acted, "approve", proposed.Proposal, "--keypair", memberFiles[i])
	}
	require.Equal(t, "approved", acted.Status)
	require.NotNil(t, acted.Eta)
	e = ug.fails("execute", proposed.Proposal, "--keypair", memberFiles[0], "--rpc-url", st.RPCURL)
	require.Equal(t, "program_error", e.Error.Code, "the timelock has not passed")
	require.NoError(t, c.TimeTravel(ctx, acted.Eta.Unix()+1))
	// v2 is larger than v1's ProgramData: ugov extends it in the execute transaction.
	ug.viaRPC(&acted, "execute", proposed.Proposal, "--keypair", memberFiles[0])
	require.Equal(t, "executed", acted.Status)
	pd, err := c.GetProgramData(ctx, program)
	require.NoError(t, err)
	require.Equal(t, loader.ELFHash(v2), pd.Hash())
	ug.viaRPC(&h, "hash", "--program", program.String())
	require.Equal(t, hexHash(v2), h.Hash)

	// Text output is for people; it still names what matters.
	o = ug.run("show", proposed.Proposal, "--rpc-url", st.RPCURL)
	require.Equal(t, 0, o.code, o.stderr)
	require.Contains(t, o.stdout, "status       executed (3/3 approvals)")

	// The multisig changes itself. A change the program refuses is refused before anything is
	// sent, naming the flag: three removals leave two members under a threshold of three.
	e = ug.fails("multisig", "propose-change", "--keypair", memberFiles[0], "--multisig", created.Multisig,
		"--remove-member", memberKeys[1], "--remove-member", memberKeys[2], "--remove-member", memberKeys[3], "--rpc-url", st.RPCURL)
	require.Equal(t, "config_refused", e.Error.Code)
	require.Equal(t, "--threshold", e.Error.Field)
	require.Contains(t, e.Error.Message, "InvalidThreshold")
	ms, err = c.GetMultisig(ctx, multisig)
	require.NoError(t, err)
	require.EqualValues(t, 2, ms.ProposalIndex, "nothing was proposed")

	// Member 5's key is rotated through the API, approved, and executed by RPC after the timelock.
	freshKP, freshFile := fund(ctx, t, c, keys, "m6")
	var change ConfigProposed
	ug.viaAPI(&change, "multisig", "propose-change", "--keypair", memberFiles[0], "--multisig", created.Multisig,
		"--remove-member", memberKeys[4], "--add-member", freshKP.PublicKey().String(), "--description", "rotate m5")
	require.True(t, change.OnChain)
	require.True(t, change.Stales)
	require.Len(t, change.Actions, 2)
	for i := 0; i < 3; i++ {
		ug.viaAPI(&acted, "approve", change.Proposal, "--keypair", memberFiles[i])
	}
	require.Equal(t, "approved", acted.Status)
	require.NoError(t, c.TimeTravel(ctx, acted.Eta.Unix()+1))
	ug.viaRPC(&acted, "execute", change.Proposal, "--keypair", memberFiles[1])
	require.Equal(t, "executed", acted.Status)
	ms, err = c.GetMultisig(ctx, multisig)
	require.NoError(t, err)
	require.True(t, ms.IsMember(freshKP.PublicKey()))
	require.False(t, ms.IsMember(members[4].PublicKey()))
	o = ug.run("show", change.Proposal, "--rpc-url", st.RPCURL)
	require.Equal(t, 0, o.code, o.stderr)
	require.Contains(t, o.stdout, "kind         config")
	require.Contains(t, o.stdout, "change       remove member "+memberKeys[4])
	// The removed key can no longer propose.
	e = ug.fails("multisig", "propose-change", "--keypair", memberFiles[4], "--multisig", created.Multisig, "--threshold", "2", "--rpc-url", st.RPCURL)
	require.Equal(t, "not_a_member", e.Error.Code)

	// Leaving governance: the program's authority is handed to the payer's key, by the new set.
	ug.viaRPC(&change, "multisig", "propose-change", "--keypair", freshFile, "--multisig", created.Multisig,
		"--hand-off", program.String()+"="+payer.PublicKey().String())
	for _, f := range []string{freshFile, memberFiles[1], memberFiles[2]} {
		ug.viaRPC(&acted, "approve", change.Proposal, "--keypair", f)
	}
	require.NoError(t, c.TimeTravel(ctx, acted.Eta.Unix()+1))
	ug.viaRPC(&acted, "execute", change.Proposal, "--keypair", freshFile)
	require.Equal(t, "executed", acted.Status)
	pd, err = c.GetProgramData(ctx, program)
	require.NoError(t, err)
	require.NotNil(t, pd.UpgradeAuthority)
	require.True(t, pd.UpgradeAuthority.Equals(payer.PublicKey()), "the program left governance")
	// A proposal to upgrade it through the multisig is refused now.
	buffer3 := writeBuffer(ctx, t, c, payer, v2, authority)
	e = ug.fails("propose", "--keypair", memberFiles[0], "--multisig", created.Multisig, "--program", program.String(),
		"--buffer", buffer3.String(), "--rpc-url", st.RPCURL)
	require.Equal(t, "program_not_governed", e.Error.Code)
}
