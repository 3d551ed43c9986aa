package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/indexer"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// proposeConfig builds propose_config through the API, signs it as proposer and posts it; it
// returns the proposal once its workflow collects approvals.
func (ce *chainEnv) proposeConfig(proposer *chain.Keypair, actions []map[string]any, description string) (solana.PublicKey, api.UnsignedTxResponse) {
	ce.t.Helper()
	tx, out := ce.build("/tx/propose-config", map[string]any{
		"multisig": ce.multisig.String(), "proposer": proposer.PublicKey().String(), "actions": actions, "description": description,
	}, proposer)
	r := ce.do("POST", "/proposals", map[string]any{"transaction": tx, "description": description})
	require.Equal(ce.t, http.StatusCreated, r.Code, "body: %s", r.Body)
	p := solana.MustPublicKeyFromBase58(out.Summary.Proposal)
	ce.waitFor(p, "collecting approvals", func(d api.ProposalDetailResponse) bool { return step(d) == workflows.StepApprovals })
	return p, out
}

func (ce *chainEnv) approveAll(p solana.PublicKey, members ...*chain.Keypair) api.ApproveResponse {
	ce.t.Helper()
	var res api.ApproveResponse
	for _, m := range members {
		tx, _ := ce.build("/tx/approve", map[string]any{"proposal": p.String(), "member": m.PublicKey().String()}, m)
		r := ce.do("POST", "/proposals/"+p.String()+"/approve", map[string]any{"transaction": tx})
		require.Equal(ce.t, http.StatusOK, r.Code, "body: %s", r.Body)
		r.decode(ce.t, &res)
	}
	return res
}

// TestConfigProposalRotatesAMemberOnLocalnet: a member's lost key is replaced through the
// multisig's own governance (the API, the real workflow, the real program); the proposal made
// before it goes stale and is refused, the removed member can no longer act, the new one can.
func TestConfigProposalRotatesAMemberOnLocalnet(t *testing.T) {
	ce := newChainEnv(t)
	ctx := ctxT(t)
	m0, m1, lost := ce.members[0], ce.members[1], ce.members[2]
	fresh := kp(t)
	_, err := ce.c.Airdrop(ctx, fresh.PublicKey(), 10*solana.LAMPORTS_PER_SOL)
	require.NoError(t, err)

	// An upgrade proposal, open before the rotation, with one approval.
	up := ce.proposeThroughAPI("made before the rotation")
	ce.approveAll(up, m0)

	rotation, built := ce.proposeConfig(m0, []map[string]any{
		{"kind": "remove_member", "member": lost.PublicKey().String()},
		{"kind": "add_member", "member": fresh.PublicKey().String()},
	}, "rotate a lost key")
	require.Len(t, built.Summary.Actions, 2)
	assert.Contains(t, built.Summary.Actions[0].Summary, "remove member "+lost.PublicKey().String())
	d := ce.proposal(rotation)
	assert.Equal(t, "config", d.Proposal.Kind)
	assert.Empty(t, d.Proposal.TargetProgram, "a config proposal has no program")
	require.Len(t, d.Proposal.Actions, 2)
	assert.Equal(t, "add_member", d.Proposal.Actions[1].Kind)
	require.NotNil(t, d.Indexed)
	assert.Equal(t, "config", d.Indexed.Kind, "the worker indexed its kind and actions")
	require.Len(t, d.Indexed.Actions, 2)

	approved := ce.approveAll(rotation, m0, m1)
	require.Equal(t, "approved", approved.Status)
	require.NotNil(t, approved.Eta)
	require.NoError(t, ce.c.TimeTravel(ctx, approved.Eta.Unix()+60))
	execTx, _ := ce.build("/tx/execute", map[string]any{"proposal": rotation.String(), "member": m1.PublicKey().String()}, m1)
	r := ce.do("POST", "/proposals/"+rotation.String()+"/execute", map[string]any{"transaction": execTx})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	ce.waitFor(rotation, "executed", func(d api.ProposalDetailResponse) bool {
		return d.Proposal.Status == "executed" && step(d) == workflows.StepDone
	})

	ms, err := ce.c.GetMultisig(ctx, ce.multisig)
	require.NoError(t, err)
	assert.True(t, ms.IsMember(fresh.PublicKey()))
	assert.False(t, ms.IsMember(lost.PublicKey()))
	var view api.MultisigView
	r = ce.do("GET", "/multisig/"+ce.multisig.String(), nil)
	require.Equal(t, http.StatusOK, r.Code)
	r.decode(t, &view)
	d = ce.proposal(rotation)
	assert.Equal(t, d.Proposal.Index, view.StaleProposalIndex)

	// The upgrade made before the rotation is stale: shown so, refused, and its workflow ends.
	d = ce.proposal(up)
	assert.True(t, d.Proposal.Stale)
	assert.Equal(t, lifecycle.StaleReason, d.Proposal.StaleReason)
	for _, a := range d.Proposal.AllowedActions {
		assert.NotEqual(t, lifecycle.Approve, a.Action, "a stale proposal takes no approval")
	}
	requireError(t, ce.do("POST", "/tx/approve", map[string]any{"proposal": up.String(), "member": m1.PublicKey().String()}),
		409, api.CodeStaleProposal, "id")
	audit := ce.auditCount()
	bh, err := api.RPCChain{Client: ce.c}.LatestBlockhash(ctx)
	require.NoError(t, err)
	staleTx, err := solana.NewTransaction([]solana.Instruction{governor.NewApproveUpgradeInstruction(ce.multisig, up, m1.PublicKey())},
		bh, solana.TransactionPayer(m1.PublicKey()))
	require.NoError(t, err)
	require.NoError(t, chain.SignTransaction(staleTx, m1))
	requireError(t, ce.do("POST", "/proposals/"+up.String()+"/approve", map[string]any{"transaction": b64(t, staleTx)}),
		409, api.CodeStaleProposal, "id")
	assert.Equal(t, audit, ce.auditCount(), "a refused approval writes nothing")
	// The program refuses it too, sent straight to RPC.
	_, err = ce.c.SendSigned(ctx, staleTx)
	require.ErrorIs(t, err, governor.ErrProposalStale)
	// The indexer (the worker's, with its notifier) records the new configuration and tells
	// the stale proposal's workflow, which ends at step stale.
	var notified []string
	ix := &indexer.Indexer{Chain: ce.c, Store: ce.store, Program: governor.ProgramID, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notify: func(ctx context.Context, proposal string) error {
			notified = append(notified, proposal)
			return ce.temporal.SignalWorkflow(ctx, workflows.ProposalWorkflowID(proposal), "", workflows.SignalApprovalObserved, nil)
		}}
	_, err = ix.Poll(ctx)
	require.NoError(t, err)
	assert.Contains(t, notified, up.String())
	ce.waitFor(up, "stale", func(d api.ProposalDetailResponse) bool { return step(d) == workflows.StepStale })
	r = ce.do("GET", "/multisig/"+ce.multisig.String(), nil)
	require.Equal(t, http.StatusOK, r.Code)
	r.decode(t, &view)
	require.Len(t, view.History, 2, "the creation, then the rotation")
	assert.Equal(t, rotation.String(), view.History[0].Proposal)
	assert.Contains(t, view.History[0].Members, fresh.PublicKey().String())
	assert.NotContains(t, view.History[0].Members, lost.PublicKey().String())
	assert.Contains(t, view.History[1].Members, lost.PublicKey().String(), "who was a member before")
	assert.Empty(t, view.History[1].Proposal)
	list := ce.do("GET", "/proposals?multisig="+ce.multisig.String(), nil)
	var page api.ProposalListResponse
	list.decode(t, &page)
	for _, p := range page.Proposals {
		assert.Equal(t, p.Address == up.String(), p.Stale, "listed %s (index %d) stale", p.Address, p.Index)
	}

	// The lost key can no longer act; the new one can propose and approve.
	requireError(t, ce.do("POST", "/tx/propose-config", map[string]any{
		"multisig": ce.multisig.String(), "proposer": lost.PublicKey().String(),
		"actions": []map[string]any{{"kind": "set_threshold", "threshold": 3}},
	}), 403, api.CodeNotAMember, "proposer")
	next, _ := ce.proposeConfig(fresh, []map[string]any{{"kind": "set_threshold", "threshold": 3}}, "all three")
	res := ce.approveAll(next, fresh, m0)
	assert.Equal(t, "approved", res.Status, "the new member's approval counts")
}

// TestConfigProposalRefusalsOnLocalnet: every change the program would refuse is answered
// before anything is signed, written or started, naming the rule or the field; the guardian
// cannot cancel, by transaction or emergency stop, a proposal that replaces the guardian.
func TestConfigProposalRefusalsOnLocalnet(t *testing.T) {
	ce := newChainEnv(t)
	m0, m1, m2 := ce.members[0], ce.members[1], ce.members[2]
	audit := ce.auditCount()
	build := func(proposer *chain.Keypair, actions ...map[string]any) response {
		return ce.do("POST", "/tx/propose-config", map[string]any{
			"multisig": ce.multisig.String(), "proposer": proposer.PublicKey().String(), "actions": actions,
		})
	}
	// The program's rules, learned by simulation (2-of-3 multisig).
	for name, actions := range map[string][]map[string]any{
		"threshold above the members after a removal": {{"kind": "remove_member", "member": m2.PublicKey().String()}, {"kind": "set_threshold", "threshold": 3}},
		"removing below the threshold":                {{"kind": "remove_member", "member": m2.PublicKey().String()}, {"kind": "remove_member", "member": m1.PublicKey().String()}},
		"a duplicate member":                          {{"kind": "add_member", "member": m1.PublicKey().String()}},
		"removing a non-member":                       {{"kind": "remove_member", "member": ce.outsider.PublicKey().String()}},
		"handing a program to the multisig's own PDA": {{"kind": "set_program_authority", "program": ce.program.String(), "new_authority": authorityOf(ce.multisig).String()}},
	} {
		r := build(m0, actions...)
		assert.Equal(t, http.StatusUnprocessableEntity, r.Code, "%s: %s", name, r.Body)
		var e api.Error
		r.decode(t, &e)
		assert.Equal(t, api.CodeConfigRefused, e.Code, name)
		assert.Equal(t, "actions", e.Field, name)
	}
	// Malformed actions name the field.
	requireError(t, build(m0, map[string]any{"kind": "promote"}), 400, api.CodeInvalidField, "actions[0].kind")
	requireError(t, build(m0, map[string]any{"kind": "add_member"}), 400, api.CodeInvalidField, "actions[0].member")
	requireError(t, build(m0, map[string]any{"kind": "set_grace", "seconds": 3600}, map[string]any{"kind": "set_timelock", "seconds": 60}),
		400, api.CodeInvalidField, "actions[1].seconds")
	requireError(t, build(m0), 400, api.CodeMissingField, "actions")
	requireError(t, build(ce.outsider, map[string]any{"kind": "set_threshold", "threshold": 1}), 403, api.CodeNotAMember, "proposer")
	assert.Equal(t, audit, ce.auditCount(), "refused requests write nothing")

	// A guardian replacement: the guardian can neither cancel it nor stop its workflow.
	newGuardian := kp(t)
	p, _ := ce.proposeConfig(m0, []map[string]any{{"kind": "set_guardian", "guardian": newGuardian.PublicKey().String()}}, "replace the guardian")
	d := ce.proposal(p)
	for _, a := range d.Proposal.AllowedActions {
		assert.NotEqual(t, lifecycle.EmergencyStop, a.Action)
		if a.Action == lifecycle.Cancel {
			assert.Equal(t, []string{lifecycle.ByMember}, a.By)
		}
	}
	requireError(t, ce.do("POST", "/tx/cancel", map[string]any{"proposal": p.String(), "member": ce.guardian.PublicKey().String()}),
		403, api.CodeForbidden, "transaction")
	requireError(t, ce.do("POST", "/proposals/"+p.String()+"/cancel", map[string]any{"reason": "mine"}, bearer(ce.guardianT)...),
		409, api.CodeInvalidState, "id")
	wd, err := ce.temporal.DescribeWorkflowExecution(ctxT(t), workflows.ProposalWorkflowID(p.String()), "")
	require.NoError(t, err)
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, wd.GetWorkflowExecutionInfo().GetStatus(), "the refused stop stopped nothing")
	// The operator stops the workflow anyway, as `temporal workflow cancel` would: the worker's
	// part ends, but the guardian's key does not cancel the proposal on chain.
	require.NoError(t, ce.temporal.CancelWorkflow(ctxT(t), workflows.ProposalWorkflowID(p.String()), ""))
	d = ce.waitFor(p, "stopped", func(d api.ProposalDetailResponse) bool { return step(d) == workflows.StepRolledBack })
	assert.Equal(t, "active", d.Proposal.Status, "still open on chain")
	require.NotNil(t, d.Workflow.State)
	assert.Contains(t, d.Workflow.State.LastError, "replaces the guardian")
	onChain, err := ce.c.GetProposal(ctxT(t), p)
	require.NoError(t, err)
	assert.Equal(t, governor.ProposalActive, onChain.Status)
	// Members cancel it with threshold votes.
	for _, m := range []*chain.Keypair{m1, m2} {
		tx, _ := ce.build("/tx/cancel", map[string]any{"proposal": p.String(), "member": m.PublicKey().String()}, m)
		r := ce.do("POST", "/proposals/"+p.String()+"/cancel", map[string]any{"transaction": tx})
		require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	}
	ce.waitFor(p, "cancelled", func(d api.ProposalDetailResponse) bool { return d.Proposal.Status == "cancelled" })
}

func authorityOf(multisig solana.PublicKey) solana.PublicKey {
	a, _ := governor.FindAuthorityAddress(multisig)
	return a
}
