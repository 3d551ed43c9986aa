package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// An outsider creates a multisig of their own (one key, the shortest timelock), hands it a
// program and a big buffer, and asks this deployment to drive it, so that the worker's key
// pays the rent of extending ProgramData and every migration. Every route that would start a
// workflow, send a transaction or make the worker pay refuses it, and nothing is written.
func testUnservedMultisigIsRefused(t *testing.T, e *env) {
	attacker := newKey(t)
	own, _ := governor.FindMultisigAddress(newKey(t).PublicKey())
	e.chain.multisigs[own] = &governor.Multisig{
		Members: []solana.PublicKey{attacker.PublicKey()}, Threshold: 1,
		TimelockSeconds: 3600, ProposalLifetimeSeconds: 3600, Guardian: attacker.PublicKey(),
	}
	authority, _ := governor.FindAuthorityAddress(own)
	buffer := newKey(t).PublicKey()
	elf := append([]byte("\x7fELF"), make([]byte, 1<<20)...)
	elf[len(elf)-1] = 1
	e.chain.buffers[buffer] = &loader.Buffer{Authority: &authority, ELF: elf}
	propose := governor.NewProposeUpgradeInstruction(own, 1, attacker.PublicKey(), attacker.PublicKey(),
		e.program, buffer, governor.ProposeUpgradeArgs{BufferHash: loader.ELFHash(elf)})
	// A proposal of that multisig that landed through RPC, approved, due.
	landed, _ := governor.FindProposalAddress(own, 2)
	e.chain.proposals[landed] = &governor.Proposal{
		Multisig: own, Index: 2, Proposer: attacker.PublicKey(), TargetProgram: e.program, Buffer: buffer,
		BufferHash: loader.ELFHash(elf), Status: governor.ProposalExecuted,
		Migration: &governor.MigrationPlan{TargetVersion: 2, FromVersion: 1}, Approvals: []solana.PublicKey{attacker.PublicKey()},
	}
	approve := governor.NewApproveUpgradeInstruction(own, landed, attacker.PublicKey())
	execute := governor.NewExecuteUpgradeInstructionFor(e.chain.proposals[landed], attacker.PublicKey())
	pause := governor.NewPauseSystemInstruction(own, attacker.PublicKey())
	resume := governor.NewResumeSystemInstruction(own, attacker.PublicKey())
	plan := map[string]any{"target_version": 2, "from_version": 1}

	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            []string
		field              string
	}{
		{"propose", "POST", "/proposals", map[string]any{"transaction": signTx(t, []solana.Instruction{propose}, attacker)}, nil, "transaction"},
		{"approve", "POST", "/proposals/" + landed.String() + "/approve", map[string]any{"transaction": signTx(t, []solana.Instruction{approve}, attacker)}, nil, "transaction"},
		{"execute", "POST", "/proposals/" + landed.String() + "/execute", map[string]any{"transaction": signTx(t, []solana.Instruction{execute}, attacker)}, nil, "transaction"},
		{"pause", "POST", "/system/pause", map[string]any{"transaction": signTx(t, []solana.Instruction{pause}, attacker)}, nil, "transaction"},
		{"resume", "POST", "/system/resume", map[string]any{"transaction": signTx(t, []solana.Instruction{resume}, attacker)}, nil, "transaction"},
		{"migration start", "POST", "/migration/start", map[string]any{"proposal": landed.String(), "plan": plan}, bearer(e.operator), "proposal"},
		{"build propose", "POST", "/tx/propose", map[string]any{"multisig": own.String(), "proposer": attacker.PublicKey().String(),
			"target_program": e.program.String(), "buffer": buffer.String()}, nil, "multisig"},
		{"build approve", "POST", "/tx/approve", map[string]any{"proposal": landed.String(), "member": attacker.PublicKey().String()}, nil, "proposal"},
		{"build pause", "POST", "/tx/pause", map[string]any{"multisig": own.String(), "pauser": attacker.PublicKey().String()}, nil, "multisig"},
		{"read multisig", "GET", "/multisig/" + own.String(), nil, nil, "address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snap(landed)
			auditBefore := e.auditCount()
			r := e.do(tc.method, tc.path, tc.body, tc.headers...)
			requireError(t, r, http.StatusForbidden, api.CodeMultisigNotServed, tc.field)
			assert.Contains(t, r.json(t)["message"], own.String())
			e.requireUnchanged(before, tc.name)
			assert.Equal(t, auditBefore, e.auditCount(), "no audit row")
			assert.False(t, e.workflowExists(workflows.ProposalWorkflowID(propose.Proposal.String())), "no workflow started")
			assert.False(t, e.workflowExists(workflows.MigrationWorkflowID(landed.String())), "no migration started")
		})
	}

	// Once the operator serves it, the same propose is accepted: the refusal was the list.
	_, _, err := e.store.ServeMultisig(ctxT(t), store.ServedMultisig{Address: own.String()}, store.Origin{Actor: "test-admin", Source: store.SourceCLI})
	require.NoError(t, err)
	r := e.do("POST", "/proposals", map[string]any{"transaction": signTx(t, []solana.Instruction{propose}, attacker)})
	require.Equal(t, http.StatusCreated, r.Code, "body: %s", r.Body)
}

func testServedListNeedsAnOperator(t *testing.T, e *env) {
	other, _ := governor.FindMultisigAddress(newKey(t).PublicKey())
	e.chain.multisigs[other] = &governor.Multisig{Members: []solana.PublicKey{e.members[0].PublicKey()}, Threshold: 1,
		TimelockSeconds: 3600, ProposalLifetimeSeconds: 3600, Guardian: e.guardian.PublicKey()}
	body := map[string]any{"address": other.String(), "label": "second team"}
	before := e.auditCount()
	requireError(t, e.do("POST", "/multisigs", body), 401, api.CodeMissingToken, "Authorization")
	requireError(t, e.do("POST", "/multisigs", body, bearer(e.revoked)...), 401, api.CodeTokenRevoked, "Authorization")
	requireError(t, e.do("POST", "/multisigs", map[string]any{"address": "nope"}, bearer(e.operator)...), 400, api.CodeInvalidField, "address")
	requireError(t, e.do("POST", "/multisigs", map[string]any{"address": other.String(), "label": "<script>"}, bearer(e.operator)...), 400, api.CodeInvalidField, "label")
	requireError(t, e.do("POST", "/multisigs", map[string]any{"address": newKey(t).PublicKey().String()}, bearer(e.operator)...), 404, api.CodeAccountNotFound, "address")
	requireError(t, e.do("DELETE", "/multisigs/"+e.multisig.String(), nil), 401, api.CodeMissingToken, "Authorization")
	requireError(t, e.do("DELETE", "/multisigs/"+other.String(), nil, bearer(e.operator)...), 404, api.CodeNotFound, "address")
	assert.Equal(t, before, e.auditCount(), "refused requests write nothing")

	r := e.do("POST", "/multisigs", body, bearer(e.operator)...)
	require.Equal(t, http.StatusCreated, r.Code, "body: %s", r.Body)
	var res api.ServeMultisigResponse
	r.decode(t, &res)
	assert.True(t, res.Created)
	assert.Equal(t, "deploy-bot", res.Multisig.ServedBy)
	r = e.do("POST", "/multisigs", body, bearer(e.guardianT)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)

	var list api.ServedMultisigsResponse
	e.do("GET", "/multisigs", nil).decode(t, &list)
	require.Len(t, list.Multisigs, 2)

	r = e.do("DELETE", "/multisigs/"+other.String(), nil, bearer(e.operator)...)
	require.Equal(t, http.StatusNoContent, r.Code, "body: %s", r.Body)
	e.do("GET", "/multisigs", nil).decode(t, &list)
	require.Len(t, list.Multisigs, 1)
	assert.Equal(t, e.multisig.String(), list.Multisigs[0].Address)

	for action, n := range map[string]int{store.ActionMultisigServed: 1, store.ActionMultisigUnserved: 1} {
		page, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: action, Actor: "deploy-bot"})
		require.NoError(t, err)
		assert.Len(t, page.Entries, n, action)
	}
}

func testReadyzReportsWorkerBalances(t *testing.T, e *env) {
	ctx := ctxT(t)
	worker := store.Origin{Actor: "worker", Source: store.SourceWorker}
	payer, guardian := newKey(t).PublicKey(), newKey(t).PublicKey()
	require.NoError(t, e.store.RegisterWorkerKey(ctx, payer.String(), store.KeyFeePayer, worker))
	require.NoError(t, e.store.RegisterWorkerKey(ctx, guardian.String(), store.KeyGuardian, worker))
	e.chain.mu.Lock()
	e.chain.balances[payer] = 5_000_000_000
	e.chain.balances[guardian] = 1
	e.chain.mu.Unlock()

	var ready api.ReadyResponse
	r := e.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &ready)
	assert.Equal(t, "ready", ready.Status, "a poor guardian does not degrade: it pays only its own cancels")
	assert.Equal(t, "ok", ready.Checks["fee_payer"])
	require.Len(t, ready.WorkerKeys, 2)

	e.chain.mu.Lock()
	e.chain.balances[payer] = 1000
	e.chain.mu.Unlock()
	r = e.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, r.Code, "degraded still serves: body: %s", r.Body)
	r.decode(t, &ready)
	assert.Equal(t, "degraded", ready.Status)
	assert.Equal(t, api.CodeFeePayerLow, ready.Code)
	assert.Contains(t, ready.Message, payer.String())
	assert.Equal(t, "low", ready.Checks["fee_payer"])

	metrics := string(e.do("GET", "/metrics", nil).Body)
	assert.Contains(t, metrics, `upgrade_governor_worker_key_balance_lamports{address="`+payer.String()+`",role="fee_payer"} 1000`)
	assert.Contains(t, metrics, `upgrade_governor_worker_key_balance_lamports{address="`+guardian.String()+`",role="guardian"} 1`)
	assert.Contains(t, metrics, "upgrade_governor_fee_payer_min_lamports 1e+08")
}

func testClockIsTheChains(t *testing.T, e *env) {
	e.chain.mu.Lock()
	e.chain.now = func() time.Time { return time.Unix(2_000_000_000, 0) } // a time travel
	e.chain.mu.Unlock()
	var c api.ClockResponse
	r := e.do("GET", "/clock", nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &c)
	assert.Equal(t, int64(2_000_000_000), c.ChainTime.Unix())
	assert.WithinDuration(t, time.Now(), c.ServerTime, time.Minute)
}
