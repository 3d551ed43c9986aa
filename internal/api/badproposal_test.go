package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// A member-signed propose built by hand (not through /tx/propose or ugov, which refuse it)
// whose buffer the program would refuse is refused before anything is written or started, so it
// cannot hold the multisig's next index; and a run that closed without landing its proposal does
// not hold it either.
func testBadProposalDoesNotBlockTheMultisig(t *testing.T, e *env) {
	m0 := e.members[0]
	authority, _ := governor.FindAuthorityAddress(e.multisig)
	someoneElse := newKey(t).PublicKey()
	notOwned, notELF := newKey(t).PublicKey(), newKey(t).PublicKey()
	e.chain.buffers[notOwned] = &loader.Buffer{Authority: &someoneElse, ELF: []byte("\x7fELF v2")}
	e.chain.buffers[notELF] = &loader.Buffer{Authority: &authority, ELF: []byte("#!/bin/sh")}
	next := func(buffer solana.PublicKey, hash [32]byte) *governor.ProposeUpgrade {
		m := e.chain.multisigs[e.multisig]
		return governor.NewProposeUpgradeInstruction(e.multisig, m.ProposalIndex+1, m0.PublicKey(), m0.PublicKey(),
			e.program, buffer, governor.ProposeUpgradeArgs{BufferHash: hash, Description: "v2"})
	}
	for _, tc := range []struct {
		name   string
		ix     *governor.ProposeUpgrade
		status int
		code   string
	}{
		{"buffer not owned by the PDA", next(notOwned, loader.ELFHash([]byte("\x7fELF v2"))), 422, api.CodeBufferMismatch},
		{"hash not the buffer's", next(e.buffer, loader.ELFHash([]byte("something else"))), 422, api.CodeBufferMismatch},
		{"not an ELF", next(notELF, loader.ELFHash([]byte("#!/bin/sh"))), 422, api.CodeBufferMismatch},
		{"no such buffer", next(newKey(t).PublicKey(), e.elfHash), 404, api.CodeAccountNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snap(tc.ix.Proposal)
			r := e.do("POST", "/proposals", map[string]any{"transaction": signTx(t, []solana.Instruction{tc.ix}, m0)})
			requireError(t, r, tc.status, tc.code, "transaction")
			assert.Contains(t, r.json(t)["message"], tc.ix.Buffer.String())
			e.requireUnchanged(before, tc.name)
			assert.False(t, e.workflowExists(workflows.ProposalWorkflowID(tc.ix.Proposal.String())), "no workflow started")
		})
	}

	// A run for the next proposal that closed before its transaction landed (here: stopped).
	good := next(e.buffer, e.elfHash)
	wid := workflows.ProposalWorkflowID(good.Proposal.String())
	ctx := ctxT(t)
	run, err := e.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wid, TaskQueue: "nobody-polls-this-queue"},
		workflows.UpgradeProposalWorkflow, workflows.ProposalInput{Proposal: good.Proposal.String(), Multisig: e.multisig.String()})
	require.NoError(t, err)
	require.NoError(t, e.temporal.TerminateWorkflow(ctx, wid, run.GetRunID(), "its transaction expired"))

	r := e.do("POST", "/proposals", map[string]any{"transaction": signTx(t, []solana.Instruction{good}, m0)})
	require.Equal(t, http.StatusCreated, r.Code, "the closed run does not hold the index; body: %s", r.Body)
	var res api.CreateProposalResponse
	r.decode(t, &res)
	assert.True(t, res.Created)
	assert.NotEqual(t, run.GetRunID(), res.RunID)
	st := e.waitStep(good.Proposal, workflows.StepApprovals)
	assert.Equal(t, "active", st.Status)
	d, err := e.temporal.DescribeWorkflowExecution(ctx, wid, "")
	require.NoError(t, err)
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, d.GetWorkflowExecutionInfo().GetStatus())
	assert.Equal(t, e.queue, d.GetExecutionConfig().GetTaskQueue().GetName())
}

// Asking to execute a proposal that is over is refused with 409 naming its state, and writes,
// signals and sends nothing.
func testExecuteRefusesAProposalThatIsOver(t *testing.T, e *env) {
	cancelled := e.propose()
	path := "/proposals/" + cancelled.String() + "/execute"
	e.chain.setStatus(cancelled, governor.ProposalCancelled)
	before := e.snap(cancelled)
	r := e.do("POST", path, nil, bearer(e.operator)...)
	requireError(t, r, http.StatusConflict, api.CodeInvalidState, "id")
	assert.Contains(t, r.json(t)["message"], "cancelled")
	member := governor.NewExecuteUpgradeInstruction(e.multisig, cancelled, e.members[1].PublicKey(), e.program, e.buffer, e.members[0].PublicKey())
	r = e.do("POST", path, map[string]any{"transaction": signTx(t, []solana.Instruction{member}, e.members[1])})
	requireError(t, r, http.StatusConflict, api.CodeInvalidState, "id")
	e.requireUnchanged(before, "execute of a cancelled proposal")

	// Its workflow closed (it saw the cancel): an approved proposal whose workflow is gone is
	// refused as workflow_closed.
	e.chain.mu.Lock()
	e.chain.proposals[cancelled].Status = governor.ProposalApproved
	e.chain.mu.Unlock()
	require.NoError(t, e.temporal.TerminateWorkflow(ctxT(t), workflows.ProposalWorkflowID(cancelled.String()), "", "test"))
	requireError(t, e.do("POST", path, nil, bearer(e.operator)...), http.StatusConflict, api.CodeWorkflowClosed, "id")
}

// An Active proposal past its lifetime is shown expired, and offers no approval (the program
// refuses it); a live one lists what may be done and by whom. It showed "active" with an
// Approve button before.
func testDetailDerivesExpiryAndAllowedActions(t *testing.T, e *env) {
	p := e.propose()
	var d api.ProposalDetailResponse
	e.do("GET", "/proposals/"+p.String(), nil).decode(t, &d)
	require.Equal(t, "active", d.Proposal.Status)
	var open []string
	for _, a := range d.Proposal.AllowedActions {
		open = append(open, string(a.Action))
	}
	assert.Equal(t, []string{"approve", "cancel", "emergency_stop"}, open)

	// The chain's clock passes the proposal's lifetime end (the program keeps it Active).
	e.chain.mu.Lock()
	expires := e.chain.proposals[p].ExpiresAt
	e.chain.now = func() time.Time { return time.Unix(expires, 0) }
	e.chain.mu.Unlock()
	// A live proposal's detail is cached for at most a second.
	require.Eventually(t, func() bool {
		d = api.ProposalDetailResponse{}
		e.do("GET", "/proposals/"+p.String(), nil).decode(t, &d)
		return d.Proposal.Status == "expired"
	}, 10*time.Second, 100*time.Millisecond, "status %s", d.Proposal.Status)
	assert.Equal(t, "chain", d.Source, "the chain still holds it Active; the status is derived")
	for _, a := range d.Proposal.AllowedActions {
		assert.NotEqual(t, "approve", string(a.Action), "an expired proposal offers no approval")
	}
}
