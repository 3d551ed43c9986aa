package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/indexer"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

func (ce *chainEnv) balance(k *chain.Keypair) uint64 {
	ce.t.Helper()
	b, err := ce.c.Balance(ctxT(ce.t), k.PublicKey())
	require.NoError(ce.t, err)
	return b
}

// approveAll has every member but the proposer approve through the API, then crosses the
// timelock on the test chain.
func (ce *chainEnv) approveAndCrossTimelock(p solana.PublicKey) {
	ce.t.Helper()
	for _, m := range ce.members[1:] {
		tx, _ := ce.build("/tx/approve", map[string]any{"proposal": p.String(), "member": m.PublicKey().String()}, m)
		r := ce.do("POST", "/proposals/"+p.String()+"/approve", map[string]any{"transaction": tx})
		require.Equal(ce.t, http.StatusOK, r.Code, "body: %s", r.Body)
	}
	onChain, err := ce.c.GetProposal(ctxT(ce.t), p)
	require.NoError(ce.t, err)
	require.Equal(ce.t, governor.ProposalApproved, onChain.Status)
	require.NoError(ce.t, ce.c.TimeTravel(ctxT(ce.t), onChain.Eta+60))
}

// TestWorkerSpendIsBoundedOnLocalnet: the worker pays ExtendProgram rent only up to its
// ceiling (above it the members extend the program themselves, which the loader allows anyone),
// pays execute with its fee payer and never with the guardian key, and a drained fee payer does
// not disable the guardian's emergency stop.
func TestWorkerSpendIsBoundedOnLocalnet(t *testing.T) {
	// ProgramData holds v1 exactly: v2 needs an extension whose rent is above a 1-lamport ceiling.
	ce := newChainEnvWith(t, chainEnvOptions{programRoom: 1, maxExtendRent: 1})
	ctx := ctxT(t)
	require.NoError(t, ce.store.RegisterWorkerKey(ctx, ce.feePayer.PublicKey().String(), store.KeyFeePayer,
		store.Origin{Actor: "worker", Source: store.SourceWorker}))
	guardianBefore, payerBefore := ce.balance(ce.guardian), ce.balance(ce.feePayer)

	p := ce.proposeThroughAPI("v2, larger than ProgramData")
	ce.approveAndCrossTimelock(p)
	r := ce.do("POST", "/proposals/"+p.String()+"/execute", nil, bearer(ce.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	d := ce.waitFor(p, "the worker to refuse the extension", func(d api.ProposalDetailResponse) bool {
		return step(d) == workflows.StepExtendNeeded
	})
	assert.Contains(t, d.Workflow.State.LastError, "solana program extend "+ce.program.String())
	assert.Equal(t, "approved", d.Proposal.Status)
	assert.Equal(t, payerBefore, ce.balance(ce.feePayer), "the fee payer paid no rent above its ceiling")
	page, err := ce.store.ListAudit(ctx, store.AuditFilter{Proposal: p.String(), Action: activities.ActionExtendRefused})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1, "the refusal is audited once")
	assert.EqualValues(t, 1, page.Entries[0].Details["ceiling_lamports"])

	// A member extends ProgramData (permissionless) and asks again: the worker executes.
	buf, err := ce.c.GetBuffer(ctx, ce.buffer)
	require.NoError(t, err)
	added, err := ce.c.ExtendProgramIfNeeded(ctx, ce.members[0], ce.program, len(buf.ELF))
	require.NoError(t, err)
	require.NotZero(t, added)
	r = ce.do("POST", "/proposals/"+p.String()+"/execute", nil, bearer(ce.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	ce.waitFor(p, "execution", func(d api.ProposalDetailResponse) bool { return d.Proposal.Status == "executed" })
	pd, err := ce.c.GetProgramData(ctx, ce.program)
	require.NoError(t, err)
	assert.Equal(t, ce.elfHash, pd.Hash())
	assert.Less(t, ce.balance(ce.feePayer), payerBefore, "the fee payer paid for execute")
	assert.Equal(t, guardianBefore, ce.balance(ce.guardian), "the guardian key paid nothing for anyone's upgrade")

	// The fee payer is drained: /readyz says so, and the guardian still stops a proposal.
	rest := ce.balance(ce.feePayer) - 5000
	drain := system.NewTransferInstruction(rest, ce.feePayer.PublicKey(), ce.outsider.PublicKey()).Build()
	_, err = ce.c.Send(ctx, []solana.Instruction{drain}, ce.feePayer)
	require.NoError(t, err)
	var ready api.ReadyResponse
	ce.do("GET", "/readyz", nil).decode(t, &ready)
	assert.Equal(t, "degraded", ready.Status)
	assert.Equal(t, api.CodeFeePayerLow, ready.Code)

	ce.newBuffer()
	p2 := ce.proposeThroughAPI("stopped while the fee payer is empty")
	r = ce.do("POST", "/proposals/"+p2.String()+"/cancel", map[string]any{"reason": "incident"}, bearer(ce.guardianT)...)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	ce.waitFor(p2, "emergency stop", func(d api.ProposalDetailResponse) bool { return d.Proposal.Status == "cancelled" })
	assert.Less(t, ce.balance(ce.guardian), guardianBefore, "the guardian paid its own cancel")
}

// TestOutsidersMultisigIsNotServedOnLocalnet: an outsider's own 1-of-1 multisig with a one-hour
// timelock, on the real chain: the API refuses its proposal before anything starts, and the
// indexer does not put its events in the audit trail.
func TestOutsidersMultisigIsNotServedOnLocalnet(t *testing.T) {
	ce := newChainEnv(t)
	ctx := ctxT(t)
	attacker := ce.outsider
	createKey := kp(t)
	initIx := governor.NewInitializeMultisigInstruction(createKey.PublicKey(), attacker.PublicKey(), governor.InitializeMultisigArgs{
		Members: []solana.PublicKey{attacker.PublicKey()}, Threshold: 1, TimelockSeconds: 3600,
		ProposalLifetimeSeconds: 3600, Guardian: attacker.PublicKey(),
		GraceSeconds: governor.DefaultGraceSeconds, MaxPauseSeconds: governor.DefaultMaxPauseSeconds, PauseCooldownSeconds: governor.DefaultPauseCooldownSeconds,
	})
	ce.send([]solana.Instruction{initIx}, attacker, createKey)
	// Its own program and buffer, handed to its own PDA.
	progKp, bufKp := kp(t), kp(t)
	require.NoError(t, ce.c.DeployProgram(ctx, attacker, attacker, progKp, ce.v1, len(ce.v1)))
	ce.send([]solana.Instruction{loader.NewSetProgramAuthorityInstruction(progKp.PublicKey(), attacker.PublicKey(), initIx.Authority)}, attacker)
	require.NoError(t, ce.c.WriteBuffer(ctx, attacker, attacker, bufKp, ce.v2))
	ce.send([]solana.Instruction{loader.NewSetBufferAuthorityInstruction(bufKp.PublicKey(), attacker.PublicKey(), initIx.Authority)}, attacker)

	// The indexer catches up with what came before (the served multisig's own events).
	ix := &indexer.Indexer{Chain: ce.c, Store: ce.store, Program: governor.ProgramID, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	_, err := ix.Poll(ctx)
	require.NoError(t, err)
	propose := governor.NewProposeUpgradeInstruction(initIx.Multisig, 1, attacker.PublicKey(), attacker.PublicKey(),
		progKp.PublicKey(), bufKp.PublicKey(), governor.ProposeUpgradeArgs{BufferHash: ce.elfHash})
	bh, err := api.RPCChain{Client: ce.c}.LatestBlockhash(ctx)
	require.NoError(t, err)
	tx, err := solana.NewTransaction([]solana.Instruction{propose}, bh, solana.TransactionPayer(attacker.PublicKey()))
	require.NoError(t, err)
	require.NoError(t, chain.SignTransaction(tx, attacker))
	audit := ce.auditCount()
	requireError(t, ce.do("POST", "/proposals", map[string]any{"transaction": b64(t, tx)}), 403, api.CodeMultisigNotServed, "transaction")
	assert.False(t, ce.workflowExists(workflows.ProposalWorkflowID(propose.Proposal.String())))
	_, err = ce.c.GetProposal(ctx, propose.Proposal)
	require.ErrorIs(t, err, chain.ErrAccountNotFound, "nothing was sent")

	// The attacker sends it straight to RPC: it lands, and the indexer leaves it out.
	_, err = ce.c.SendSigned(ctx, tx)
	require.NoError(t, err)
	n, err := ix.Poll(ctx)
	require.NoError(t, err)
	assert.Positive(t, n)
	page, err := ce.store.ListAudit(ctx, store.AuditFilter{Proposal: propose.Proposal.String()})
	require.NoError(t, err)
	assert.Empty(t, page.Entries, "an unserved multisig's events are not indexed")
	_, err = ce.store.GetProposal(ctx, propose.Proposal.String())
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, audit, ce.auditCount())
}
