package api_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// These tests run the API against the real local chain (program/localnet: the governor in the
// Agave runtime), with the worker's real activities. They fail, never skip, when the localnet
// binary is missing: `make localnet` builds it.

func startLocalnet(t *testing.T) string {
	t.Helper()
	return localnettest.Start(t).RPC
}

// chainEnv is the API over the real chain with a real worker.
type chainEnv struct {
	*env
	c        *chain.Client
	payer    *chain.Keypair
	members  []*chain.Keypair
	guardian *chain.Keypair
	feePayer *chain.Keypair // the worker's; pays execute, ExtendProgram rent, migrations
	outsider *chain.Keypair
	dev      *chain.Keypair // wrote the buffers
	v1, v2   []byte
}

// chainEnvOptions change what newChainEnv sets up.
type chainEnvOptions struct {
	// programRoom is the ELF room of the governed program's ProgramData; 0 means room for v2,
	// so executing needs no extension.
	programRoom int
	// maxExtendRent is the worker's rent ceiling per proposal; 0 means 1 SOL.
	maxExtendRent uint64
}

// newBuffer writes v2 into a fresh buffer owned by the multisig's PDA: an executed upgrade
// consumes its buffer.
func (ce *chainEnv) newBuffer() {
	ce.t.Helper()
	bufKp := kp(ce.t)
	require.NoError(ce.t, ce.c.WriteBuffer(ctxT(ce.t), ce.payer, ce.dev, bufKp, ce.v2))
	authority, _ := governor.FindAuthorityAddress(ce.multisig)
	ce.send([]solana.Instruction{loader.NewSetBufferAuthorityInstruction(bufKp.PublicKey(), ce.dev.PublicKey(), authority)}, ce.payer, ce.dev)
	ce.buffer = bufKp.PublicKey()
}

func kp(t *testing.T) *chain.Keypair {
	t.Helper()
	k, err := chain.NewKeypair()
	require.NoError(t, err)
	return k
}

func (ce *chainEnv) send(ixs []solana.Instruction, signers ...*chain.Keypair) solana.Signature {
	ce.t.Helper()
	sig, err := ce.c.Send(ctxT(ce.t), ixs, signers...)
	require.NoError(ce.t, err)
	return sig
}

func newChainEnv(t *testing.T) *chainEnv {
	t.Helper()
	return newChainEnvWith(t, chainEnvOptions{})
}

func newChainEnvWith(t *testing.T, o chainEnvOptions) *chainEnv {
	t.Helper()
	rpcURL := startLocalnet(t)
	ts := temporaltest.Start(t)
	ctx := ctxT(t)
	c := chain.New(rpcURL, chain.WithPollInterval(50*time.Millisecond), chain.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	t.Cleanup(func() { _ = c.Close() })
	ce := &chainEnv{env: &env{t: t}, c: c, payer: kp(t), guardian: kp(t), feePayer: kp(t), outsider: kp(t)}
	for range 3 {
		ce.members = append(ce.members, kp(t))
	}
	for _, k := range append([]*chain.Keypair{ce.payer, ce.guardian, ce.feePayer, ce.outsider}, ce.members...) {
		_, err := c.Airdrop(ctx, k.PublicKey(), 50*solana.LAMPORTS_PER_SOL)
		require.NoError(t, err)
	}

	// A 2-of-3 multisig with a 48-hour timelock.
	createKey := kp(t)
	initIx := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), ce.payer.PublicKey(), governor.InitializeMultisigArgs{
		Members:   []solana.PublicKey{ce.members[0].PublicKey(), ce.members[1].PublicKey(), ce.members[2].PublicKey()},
		Threshold: 2, TimelockSeconds: 48 * 3600, ProposalLifetimeSeconds: 7 * 24 * 3600, Guardian: ce.guardian.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	ce.send([]solana.Instruction{initIx}, ce.payer, createKey)

	// The governed counter v1, handed to the multisig's PDA; v2 in a buffer owned by the PDA.
	dir := filepath.Join("..", "..", "program", "examples", "governed-counter", "elf")
	v1, err := os.ReadFile(filepath.Join(dir, "governed_counter_v1.so"))
	require.NoError(t, err)
	v2, err := os.ReadFile(filepath.Join(dir, "governed_counter_v2.so"))
	require.NoError(t, err)
	dev, progKp, bufKp := kp(t), kp(t), kp(t)
	ce.dev, ce.v1, ce.v2 = dev, v1, v2
	room := o.programRoom
	if room == 0 {
		room = len(v2)
	}
	require.NoError(t, c.DeployProgram(ctx, ce.payer, dev, progKp, v1, room))
	ce.send([]solana.Instruction{loader.NewSetProgramAuthorityInstruction(progKp.PublicKey(), dev.PublicKey(), initIx.Authority)}, ce.payer, dev)
	require.NoError(t, c.WriteBuffer(ctx, ce.payer, dev, bufKp, v2))
	ce.send([]solana.Instruction{loader.NewSetBufferAuthorityInstruction(bufKp.PublicKey(), dev.PublicKey(), initIx.Authority)}, ce.payer, dev)

	e := ce.env
	e.store, e.temporal, e.multisig, e.queue = pgtest.NewStore(t), ts.Client(t), initIx.Multisig, "api-localnet"
	e.program, e.buffer, e.elfHash = progKp.PublicKey(), bufKp.PublicKey(), loader.ELFHash(v2)
	w := worker.New(e.temporal, e.queue, worker.Options{})
	w.RegisterWorkflow(workflows.UpgradeProposalWorkflow)
	w.RegisterWorkflow(workflows.MigrationWorkflow)
	maxRent := o.maxExtendRent
	if maxRent == 0 {
		maxRent = solana.LAMPORTS_PER_SOL
	}
	w.RegisterActivity(&activities.Activities{Chain: c, Store: e.store, Guardian: ce.guardian, FeePayer: ce.feePayer,
		MaxExtendRent: maxRent, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)

	cfg := config.Default()
	cfg.TaskQueue, cfg.RPCURL = e.queue, rpcURL
	e.srv, err = api.New(api.Deps{Config: cfg, Store: e.store, Temporal: e.temporal, Chain: api.RPCChain{Client: c},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	admin := store.Origin{Actor: "test-admin", Source: store.SourceCLI}
	e.operator, _, err = e.store.CreateToken(ctx, "deploy-bot", store.RoleOperator, admin)
	require.NoError(t, err)
	e.guardianT, _, err = e.store.CreateToken(ctx, "guardian-1", store.RoleGuardian, admin)
	require.NoError(t, err)
	_, _, err = e.store.ServeMultisig(ctx, store.ServedMultisig{Address: e.multisig.String(), Label: "team"}, admin)
	require.NoError(t, err)
	return ce
}

// build asks a /tx route for the unsigned transaction and signs its message like a wallet.
func (ce *chainEnv) build(path string, body map[string]any, signers ...*chain.Keypair) (string, api.UnsignedTxResponse) {
	ce.t.Helper()
	r := ce.do("POST", path, body)
	require.Equal(ce.t, http.StatusOK, r.Code, "%s body: %s", path, r.Body)
	var out api.UnsignedTxResponse
	r.decode(ce.t, &out)
	tx, err := solana.TransactionFromBase64(out.Transaction)
	require.NoError(ce.t, err)
	require.NoError(ce.t, chain.SignTransaction(tx, signers...))
	return b64(ce.t, tx), out
}

func (ce *chainEnv) proposal(p solana.PublicKey) api.ProposalDetailResponse {
	ce.t.Helper()
	r := ce.do("GET", "/proposals/"+p.String(), nil)
	require.Equal(ce.t, http.StatusOK, r.Code, "body: %s", r.Body)
	var d api.ProposalDetailResponse
	r.decode(ce.t, &d)
	return d
}

func (ce *chainEnv) waitFor(p solana.PublicKey, what string, ok func(api.ProposalDetailResponse) bool) api.ProposalDetailResponse {
	ce.t.Helper()
	var d api.ProposalDetailResponse
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if d = ce.proposal(p); ok(d) {
			return d
		}
		time.Sleep(100 * time.Millisecond)
	}
	ce.t.Fatalf("proposal %s: %s did not happen; last: %+v workflow %+v", p, what, d.Proposal, d.Workflow)
	return d
}

func step(d api.ProposalDetailResponse) string {
	if d.Workflow == nil || d.Workflow.State == nil {
		return ""
	}
	return d.Workflow.State.Step
}

func (ce *chainEnv) proposeThroughAPI(description string) solana.PublicKey {
	ce.t.Helper()
	m0 := ce.members[0]
	tx, out := ce.build("/tx/propose", map[string]any{
		"multisig": ce.multisig.String(), "proposer": m0.PublicKey().String(), "target_program": ce.program.String(),
		"buffer": ce.buffer.String(), "description": description,
		"migration": map[string]any{"target_version": 2, "instruction_data": base64.StdEncoding.EncodeToString([]byte{2}),
			"from_version": 1, "data_size": 64, "version_offset": 0},
	}, m0)
	assert.Equal(ce.t, fmt.Sprintf("%x", ce.elfHash), out.Summary.BufferHash, "the builder hashed the buffer's ELF")
	r := ce.do("POST", "/proposals", map[string]any{
		"transaction": tx, "description": description,
		"migration": map[string]any{"target_version": 2, "from_version": 1, "data_size": 64, "version_offset": 0},
	})
	require.Equal(ce.t, http.StatusCreated, r.Code, "body: %s", r.Body)
	p := solana.MustPublicKeyFromBase58(out.Summary.Proposal)
	ce.waitFor(p, "collecting approvals", func(d api.ProposalDetailResponse) bool { return step(d) == workflows.StepApprovals })
	return p
}

// TestGovernanceThroughTheAPIOnLocalnet: a proposal made, approved, paused, resumed and
// executed through the API, every transaction signed by members from the builders' messages,
// checked by the API against the real multisig and carried out by the real workflow and
// activities on the real program; a second proposal is cancelled with a member's transaction,
// a third by the guardian's emergency stop.
func TestGovernanceThroughTheAPIOnLocalnet(t *testing.T) {
	ce := newChainEnv(t)
	ctx := ctxT(t)
	m0, m1, m2 := ce.members[0], ce.members[1], ce.members[2]

	p := ce.proposeThroughAPI("governed-counter v2")
	d := ce.proposal(p)
	assert.Equal(t, "chain", d.Source)
	assert.Equal(t, "active", d.Proposal.Status)
	require.NotNil(t, d.Indexed, "the worker indexed the proposal")
	assert.Equal(t, "governed-counter v2", d.Indexed.Description)

	// The outsider's approval is refused by the API, before the chain or the workflow see it.
	approveBody := func(member *chain.Keypair) map[string]any {
		return map[string]any{"proposal": p.String(), "member": member.PublicKey().String()}
	}
	r := ce.do("POST", "/tx/approve", approveBody(ce.outsider))
	requireError(t, r, 403, api.CodeNotAMember, "member")
	ix := governor.NewApproveUpgradeInstruction(ce.multisig, p, ce.outsider.PublicKey())
	bh, err := api.RPCChain{Client: ce.c}.LatestBlockhash(ctx)
	require.NoError(t, err)
	outsiderTx, err := solana.NewTransaction([]solana.Instruction{ix}, bh, solana.TransactionPayer(ce.outsider.PublicKey()))
	require.NoError(t, err)
	require.NoError(t, chain.SignTransaction(outsiderTx, ce.outsider))
	path := "/proposals/" + p.String() + "/approve"
	requireError(t, ce.do("POST", path, map[string]any{"transaction": b64(t, outsiderTx)}), 403, api.CodeNotAMember, "transaction")

	first, _ := ce.build("/tx/approve", approveBody(m1), m1)
	r = ce.do("POST", path, map[string]any{"transaction": first})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	requireError(t, ce.do("POST", path, map[string]any{"transaction": first}), 409, api.CodeReplayed, "transaction")
	second, _ := ce.build("/tx/approve", approveBody(m2), m2)
	r = ce.do("POST", path, map[string]any{"transaction": second})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var approved api.ApproveResponse
	r.decode(t, &approved)
	assert.Equal(t, "approved", approved.Status)
	require.NotNil(t, approved.Eta)
	onChain, err := ce.c.GetProposal(ctx, p)
	require.NoError(t, err)
	assert.Equal(t, governor.ProposalApproved, onChain.Status)
	assert.Equal(t, onChain.Eta, approved.Eta.Unix())

	// One approval.recorded row per approval: the API's and the activity's share (signature,
	// action). The second approval's transaction also approved the proposal.
	for i, sig := range []string{first, second} {
		tx, err := solana.TransactionFromBase64(sig)
		require.NoError(t, err)
		actions, err := ce.store.SignatureActions(ctx, tx.Signatures[0].String())
		require.NoError(t, err)
		want := []string{store.ActionApprovalRecorded}
		if i == 1 {
			want = append(want, "proposal.approved")
		}
		assert.ElementsMatch(t, want, actions)
	}
	ce.waitFor(p, "timelock", func(d api.ProposalDetailResponse) bool { return step(d) == workflows.StepTimelock })

	// The guardian pauses; two members resume; the workflow is told.
	pause, _ := ce.build("/tx/pause", map[string]any{"multisig": ce.multisig.String(), "pauser": ce.guardian.PublicKey().String()}, ce.guardian)
	r = ce.do("POST", "/system/pause", map[string]any{"transaction": pause})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	ms, err := ce.c.GetMultisig(ctx, ce.multisig)
	require.NoError(t, err)
	assert.True(t, ms.Paused)
	// Resuming takes threshold (2) members' votes, each its own transaction, hours apart.
	require.Eventually(t, func() bool {
		resp, err := ce.temporal.ListWorkflow(ctx, listRequest(ce.multisig))
		return err == nil && len(resp.GetExecutions()) == 1
	}, 30*time.Second, 100*time.Millisecond)
	firstVote, _ := ce.build("/tx/resume", map[string]any{"multisig": ce.multisig.String(), "member": m0.PublicKey().String()}, m0)
	r = ce.do("POST", "/system/resume", map[string]any{"transaction": firstVote})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var vote api.SystemResponse
	r.decode(t, &vote)
	assert.True(t, vote.Paused, "one vote of two")
	now, err := ce.c.ChainTime(ctx)
	require.NoError(t, err)
	require.NoError(t, ce.c.TimeTravel(ctx, now+3*3600)) // another time zone, hours later
	resume, _ := ce.build("/tx/resume", map[string]any{"multisig": ce.multisig.String(), "member": m1.PublicKey().String()}, m1)
	r = ce.do("POST", "/system/resume", map[string]any{"transaction": resume})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var sys api.SystemResponse
	r.decode(t, &sys)
	assert.Equal(t, []string{workflows.ProposalWorkflowID(p.String())}, sys.Signalled)
	ms, err = ce.c.GetMultisig(ctx, ce.multisig)
	require.NoError(t, err)
	assert.False(t, ms.Paused)

	// 48 hours later (time travel on the test chain), an operator asks for execution.
	require.NoError(t, ce.c.TimeTravel(ctx, onChain.Eta+60))
	r = ce.do("POST", "/proposals/"+p.String()+"/execute", nil, bearer(ce.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	d = ce.waitFor(p, "execution", func(d api.ProposalDetailResponse) bool { return d.Proposal.Status == "executed" })
	pd, err := ce.c.GetProgramData(ctx, ce.program)
	require.NoError(t, err)
	assert.Equal(t, ce.elfHash, pd.Hash(), "the program runs the proposed ELF")
	assert.Len(t, d.ApprovalHistory, 2)

	// The declared migration ran as the workflow's child (no counters to migrate here).
	mid := workflows.MigrationWorkflowID(p.String())
	require.Eventually(t, func() bool {
		r := ce.do("GET", "/migration/"+mid, nil)
		var m api.MigrationResponse
		r.decode(t, &m)
		return r.Code == 200 && m.WorkflowStatus == "completed"
	}, 60*time.Second, 200*time.Millisecond)
	r = ce.do("POST", "/migration/start", map[string]any{"proposal": p.String(),
		"plan": map[string]any{"target_version": 2, "from_version": 1, "data_size": 64, "version_offset": 0}}, bearer(ce.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "a completed migration is not started again; body: %s", r.Body)

	// A second proposal, cancelled by the votes of two members, each with their own transaction.
	ce.newBuffer()
	p2 := ce.proposeThroughAPI("to be cancelled")
	for _, m := range []*chain.Keypair{m2, m0} {
		cancelTx, _ := ce.build("/tx/cancel", map[string]any{"proposal": p2.String(), "member": m.PublicKey().String()}, m)
		r = ce.do("POST", "/proposals/"+p2.String()+"/cancel", map[string]any{"transaction": cancelTx, "reason": "wrong build"})
		require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	}
	ce.waitFor(p2, "cancel seen by the workflow", func(d api.ProposalDetailResponse) bool {
		return d.Proposal.Status == "cancelled" && step(d) == workflows.StepCancelled
	})

	// A third, stopped by the guardian without a transaction: the worker cancels on chain.
	p3 := ce.proposeThroughAPI("emergency")
	r = ce.do("POST", "/proposals/"+p3.String()+"/cancel", map[string]any{"reason": "incident"}, bearer(ce.guardianT)...)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	ce.waitFor(p3, "emergency stop", func(d api.ProposalDetailResponse) bool { return d.Proposal.Status == "cancelled" })
	// The chain shows the cancel a moment before the activity records the rollback.
	var rb []store.RollbackEvent
	require.Eventually(t, func() bool {
		rb, err = ce.store.ListRollbacks(ctx, p3.String())
		return err == nil && len(rb) == 1
	}, 30*time.Second, 100*time.Millisecond)
	assert.Equal(t, ce.guardian.PublicKey().String(), rb[0].Actor)
	ce.waitFor(p3, "rolled back", func(d api.ProposalDetailResponse) bool { return step(d) == workflows.StepRolledBack })

	page, err := ce.store.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	require.NoError(t, err)
	count := map[string]int{}
	for _, e := range page.Entries {
		if e.Source == store.SourceAPI {
			count[e.Action]++
		}
	}
	t.Logf("audit rows written by the API: %v", count)
	assert.Equal(t, 3, count[api.ActionProposalSubmitted])
	assert.Equal(t, 1, count[api.ActionSystemPaused])
	assert.Equal(t, 1, count[api.ActionSystemResumed])
	assert.Equal(t, 1, count[api.ActionStopRequested])
	assert.Equal(t, 1, count[api.ActionExecuteRequested])
}

// TestRequestsRefusedOnLocalnet: what the real chain decides (membership, the next proposal
// index, a transaction's blockhash) is checked against it, and a refused request leaves the
// chain, the audit trail and Temporal as they were.
func TestRequestsRefusedOnLocalnet(t *testing.T) {
	ce := newChainEnv(t)
	ctx := ctxT(t)
	m0 := ce.members[0]

	r := ce.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)

	bh, err := api.RPCChain{Client: ce.c}.LatestBlockhash(ctx)
	require.NoError(t, err)
	signed := func(ixs []solana.Instruction, blockhash solana.Hash, signers ...*chain.Keypair) string {
		tx, err := solana.NewTransaction(ixs, blockhash, solana.TransactionPayer(signers[0].PublicKey()))
		require.NoError(t, err)
		require.NoError(t, chain.SignTransaction(tx, signers...))
		return b64(t, tx)
	}
	propose := func(index uint64, proposer *chain.Keypair) *governor.ProposeUpgrade {
		return governor.NewProposeUpgradeInstruction(ce.multisig, index, proposer.PublicKey(), proposer.PublicKey(), ce.program, ce.buffer,
			governor.ProposeUpgradeArgs{BufferHash: ce.elfHash})
	}
	audit := ce.auditCount()
	stranger := propose(1, ce.outsider)
	requireError(t, ce.do("POST", "/proposals", map[string]any{"transaction": signed([]solana.Instruction{stranger}, bh, ce.outsider)}),
		403, api.CodeNotAMember, "transaction")
	stale := propose(5, m0)
	requireError(t, ce.do("POST", "/proposals", map[string]any{"transaction": signed([]solana.Instruction{stale}, bh, m0)}),
		409, api.CodeStaleProposalIndex, "transaction")
	for _, p := range []solana.PublicKey{stranger.Proposal, stale.Proposal} {
		assert.False(t, ce.workflowExists(workflows.ProposalWorkflowID(p.String())))
	}

	// A pause on a blockhash the cluster never issued cannot land: the node says so, and the
	// member must sign a new one.
	var bogus solana.Hash
	bogus[0] = 7
	pause := signed([]solana.Instruction{governor.NewPauseSystemInstruction(ce.multisig, m0.PublicKey())}, bogus, m0)
	requireError(t, ce.do("POST", "/system/pause", map[string]any{"transaction": pause}), 422, api.CodeBlockhashExpired, "")
	ms, err := ce.c.GetMultisig(ctx, ce.multisig)
	require.NoError(t, err)
	assert.False(t, ms.Paused)
	assert.Equal(t, audit, ce.auditCount(), "refused requests write nothing")

	// A member's pause sent straight to RPC, then posted to the API: a replay.
	direct := signed([]solana.Instruction{governor.NewPauseSystemInstruction(ce.multisig, m0.PublicKey())}, bh, m0)
	tx, err := solana.TransactionFromBase64(direct)
	require.NoError(t, err)
	_, err = ce.c.SendSigned(ctx, tx)
	require.NoError(t, err)
	requireError(t, ce.do("POST", "/system/pause", map[string]any{"transaction": direct}), 409, api.CodeReplayed, "transaction")
	assert.Equal(t, audit, ce.auditCount())
}
