package api_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// TestAPI runs every route against the real gin engine, a real PostgreSQL database, a real
// Temporal dev server and a worker running the real workflows; only the chain is a model
// (fakes_test.go). One dev server serves all subtests; each has its own database and queue.
func TestAPI(t *testing.T) {
	ts := temporaltest.Start(t)
	for name, fn := range map[string]func(*testing.T, *env){
		"Health":                       testHealth,
		"ReadyzNamesWhatIsDown":        testReadyzNamesWhatIsDown,
		"MetricsCountRequestsByRoute":  testMetrics,
		"RequestIDs":                   testRequestIDs,
		"UnknownRouteAndMethod":        testUnknownRouteAndMethod,
		"ProposeStartsOneWorkflow":     testProposeStartsOneWorkflow,
		"ProposeRejectsBadRequests":    testProposeRejectsBadRequests,
		"ProposeWithMigration":         testProposeWithMigration,
		"GetProposal":                  testGetProposal,
		"ApproveRunsTheUpdate":         testApproveRunsTheUpdate,
		"ApproveRejectsBadRequests":    testApproveRejectsBadRequests,
		"CancelWithMemberTransaction":  testCancelWithMemberTransaction,
		"EmergencyStopNeedsGuardian":   testEmergencyStopNeedsGuardian,
		"ExecuteSignalsTheWorkflow":    testExecuteSignalsTheWorkflow,
		"MigrationStartAndProgress":    testMigrationStartAndProgress,
		"PauseAndResume":               testPauseAndResume,
		"PauseResumeRejectBadRequests": testPauseResumeRejectBadRequests,
		"PauseLapsesKeyCoolsDown":      testAPauseLapsesAndItsKeyCoolsDown,
		"ListProposals":                testListProposals,
		"ListAudit":                    testListAudit,
		"TransactionBuilders":          testTransactionBuilders,
		"UnservedMultisigIsRefused":    testUnservedMultisigIsRefused,
		"ServedListNeedsAnOperator":    testServedListNeedsAnOperator,
		"ReadyzReportsWorkerBalances":  testReadyzReportsWorkerBalances,
		"BadProposalDoesNotBlock":      testBadProposalDoesNotBlockTheMultisig,
		"ExecuteRefusesWhatIsOver":     testExecuteRefusesAProposalThatIsOver,
		"DetailDerivesExpiry":          testDetailDerivesExpiryAndAllowedActions,
		"ClockIsTheChains":             testClockIsTheChains,
		"Webhooks":                     testWebhooks,
		"Feeds":                        testFeeds,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, ts))
		})
	}
}

func testHealth(t *testing.T, e *env) {
	r := e.do("GET", "/healthz", nil)
	require.Equal(t, http.StatusOK, r.Code)
	assert.Equal(t, "ok", r.json(t)["status"])

	r = e.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	assert.Equal(t, map[string]any{"postgres": "ok", "temporal": "ok", "rpc": "ok", "fee_payer": "none registered"}, r.json(t)["checks"])
}

func testReadyzNamesWhatIsDown(t *testing.T, e *env) {
	e.chain.healthErr = fmt.Errorf("node is behind by 500 slots")
	r := e.do("GET", "/readyz", nil)
	requireError(t, r, http.StatusServiceUnavailable, api.CodeNotReady, "")
	body := r.json(t)
	assert.Equal(t, "not ready: rpc down", body["message"])
	assert.Equal(t, map[string]any{"postgres": "ok", "temporal": "ok", "rpc": "down"}, body["checks"])

	e.store.Close() // the database goes away too
	r = e.do("GET", "/readyz", nil)
	require.Equal(t, http.StatusServiceUnavailable, r.Code)
	assert.Equal(t, "not ready: postgres, rpc down", r.json(t)["message"])
}

func testMetrics(t *testing.T, e *env) {
	e.do("GET", "/healthz", nil)
	e.do("GET", "/proposals/not-a-key", nil)
	r := e.do("GET", "/metrics", nil)
	require.Equal(t, http.StatusOK, r.Code)
	text := string(r.Body)
	assert.Contains(t, text, `upgrade_governor_api_requests_total{method="GET",route="/healthz",status="200"} 1`)
	// The route template, not the path, labels a request: label sets stay few.
	assert.Contains(t, text, `upgrade_governor_api_requests_total{method="GET",route="/proposals/:id",status="400"} 1`)
	assert.Contains(t, text, `upgrade_governor_api_request_duration_seconds_bucket{method="GET",route="/healthz",status="200",le="0.005"}`)
	assert.NotContains(t, text, "not-a-key")
}

func testRequestIDs(t *testing.T, e *env) {
	r := e.do("GET", "/healthz", nil)
	assert.Regexp(t, `^[0-9a-f]{24}$`, r.Header.Get(api.HeaderRequestID))
	r = e.do("GET", "/healthz", nil, api.HeaderRequestID, "cli-42.retry-1")
	assert.Equal(t, "cli-42.retry-1", r.Header.Get(api.HeaderRequestID))
	r = e.do("GET", "/healthz", nil, api.HeaderRequestID, "bad id\" with quotes")
	assert.Regexp(t, `^[0-9a-f]{24}$`, r.Header.Get(api.HeaderRequestID), "an unsafe ID is replaced")
}

func testUnknownRouteAndMethod(t *testing.T, e *env) {
	requireError(t, e.do("GET", "/nope", nil), http.StatusNotFound, api.CodeRouteNotFound, "")
	requireError(t, e.do("DELETE", "/proposals", nil), http.StatusMethodNotAllowed, api.CodeMethodNotAllowed, "")
}

func testProposeStartsOneWorkflow(t *testing.T, e *env) {
	ix := e.proposeIx(e.members[0], nil)
	txB64 := signTx(t, []solana.Instruction{ix}, e.members[0])
	r := e.do("POST", "/proposals", map[string]any{"transaction": txB64, "description": "v2: faster counter"})
	require.Equal(t, http.StatusCreated, r.Code, "body: %s", r.Body)
	var res api.CreateProposalResponse
	r.decode(t, &res)
	wid := workflows.ProposalWorkflowID(ix.Proposal.String())
	assert.Equal(t, ix.Proposal.String(), res.Proposal)
	assert.Equal(t, wid, res.WorkflowID)
	assert.True(t, res.Created)

	st := e.waitStep(ix.Proposal, workflows.StepApprovals)
	assert.Equal(t, "active", st.Status)
	assert.Equal(t, 2, st.Threshold)
	d, err := e.temporal.DescribeWorkflowExecution(ctxT(t), wid, "")
	require.NoError(t, err)
	assert.Equal(t, e.queue, d.GetExecutionConfig().GetTaskQueue().GetName())

	page, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Proposal: ix.Proposal.String()})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	row := page.Entries[0]
	assert.Equal(t, api.ActionProposalSubmitted, row.Action)
	assert.Equal(t, store.SourceAPI, row.Source)
	assert.Equal(t, e.members[0].PublicKey().String(), row.Actor)
	assert.Equal(t, res.Signature, row.Signature)

	// A retried POST (same transaction, or one signed again) starts nothing new and writes no
	// second row: the workflow ID is the proposal's.
	before := e.snap(ix.Proposal)
	r = e.do("POST", "/proposals", map[string]any{"transaction": txB64})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var again api.CreateProposalResponse
	r.decode(t, &again)
	assert.False(t, again.Created)
	assert.Equal(t, res.RunID, again.RunID)
	resigned := signTx(t, []solana.Instruction{ix}, e.members[0])
	r = e.do("POST", "/proposals", map[string]any{"transaction": resigned})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	e.requireUnchanged(before, "a retried propose")
}

func testProposeRejectsBadRequests(t *testing.T, e *env) {
	m0 := e.members[0]
	good := e.proposeIx(m0, nil)
	goodTx := signTx(t, []solana.Instruction{good}, m0)

	forged := buildTx(t, []solana.Instruction{good}, m0.PublicKey())
	sig, err := e.outsider.Sign(mustMessage(t, forged))
	require.NoError(t, err)
	forged.Signatures = []solana.Signature{sig}

	unsigned := buildTx(t, []solana.Instruction{good}, m0.PublicKey())
	unsigned.Signatures = make([]solana.Signature, 1)

	// The message changed after signing: the signature no longer covers it.
	tampered := buildTx(t, []solana.Instruction{good}, m0.PublicKey())
	_, err = tampered.Sign(func(solana.PublicKey) *solana.PrivateKey { return &m0 })
	require.NoError(t, err)
	tampered.Message.RecentBlockhash[0] ^= 0xff

	outsiderIx := e.proposeIx(e.outsider, nil)
	transfer := system.NewTransferInstruction(1, m0.PublicKey(), e.outsider.PublicKey()).Build()
	stale := governor.NewProposeUpgradeInstruction(e.multisig, 7, m0.PublicKey(), m0.PublicKey(), e.program, e.buffer,
		governor.ProposeUpgradeArgs{BufferHash: e.elfHash})
	otherMultisig, _ := governor.FindMultisigAddress(newKey(t).PublicKey())
	unknownMultisig := governor.NewProposeUpgradeInstruction(otherMultisig, 1, m0.PublicKey(), m0.PublicKey(), e.program, e.buffer,
		governor.ProposeUpgradeArgs{BufferHash: e.elfHash})
	withMigration := e.proposeIx(m0, &governor.MigrationPlan{TargetVersion: 2, FromVersion: 1, DataSize: 64, VersionOffset: 8})
	inconsistent := e.proposeIx(m0, &governor.MigrationPlan{TargetVersion: 2, FromVersion: 1, DataSize: 8, VersionOffset: 8})
	approve := governor.NewApproveUpgradeInstruction(e.multisig, good.Proposal, m0.PublicKey())
	raw, _ := base64.StdEncoding.DecodeString(goodTx)

	for _, tc := range []struct {
		name        string
		body        any
		contentType string
		status      int
		code, field string
	}{
		{"malformed JSON", `{"transaction": `, "", 400, api.CodeMalformedJSON, ""},
		{"empty body", ``, "", 400, api.CodeMalformedJSON, ""},
		{"not an object", `["a"]`, "", 400, api.CodeMalformedJSON, ""},
		{"two values", `{"transaction":"x"} {}`, "", 400, api.CodeMalformedJSON, ""},
		{"wrong type", `{"transaction": 5}`, "", 400, api.CodeInvalidField, "transaction"},
		{"unknown field", map[string]any{"transaction": goodTx, "priority": "high"}, "", 400, api.CodeUnknownField, "priority"},
		{"missing transaction", map[string]any{"description": "x"}, "", 400, api.CodeMissingField, "transaction"},
		{"not base64", map[string]any{"transaction": "%%%"}, "", 400, api.CodeMalformedTx, "transaction"},
		{"garbage bytes", map[string]any{"transaction": base64.StdEncoding.EncodeToString([]byte{1, 2, 3})}, "", 400, api.CodeMalformedTx, "transaction"},
		{"trailing bytes", map[string]any{"transaction": base64.StdEncoding.EncodeToString(append(raw, 0))}, "", 400, api.CodeMalformedTx, "transaction"},
		{"missing signature", map[string]any{"transaction": b64(t, unsigned)}, "", 401, api.CodeMissingSignature, "transaction"},
		{"forged signature", map[string]any{"transaction": b64(t, forged)}, "", 401, api.CodeInvalidSignature, "transaction"},
		{"tampered message", map[string]any{"transaction": b64(t, tampered)}, "", 401, api.CodeInvalidSignature, "transaction"},
		{"non-member", map[string]any{"transaction": signTx(t, []solana.Instruction{outsiderIx}, e.outsider)}, "", 403, api.CodeNotAMember, "transaction"},
		{"wrong instruction", map[string]any{"transaction": signTx(t, []solana.Instruction{approve}, m0)}, "", 400, api.CodeWrongInstruction, "transaction"},
		{"wrong program", map[string]any{"transaction": signTx(t, []solana.Instruction{transfer}, m0)}, "", 400, api.CodeWrongProgram, "transaction"},
		{"extra instruction", map[string]any{"transaction": signTx(t, []solana.Instruction{good, transfer}, m0)}, "", 400, api.CodeWrongProgram, "transaction"},
		{"two governor instructions", map[string]any{"transaction": signTx(t, []solana.Instruction{good, approve}, m0)}, "", 400, api.CodeWrongInstruction, "transaction"},
		{"stale index", map[string]any{"transaction": signTx(t, []solana.Instruction{stale}, m0)}, "", 409, api.CodeStaleProposalIndex, "transaction"},
		{"unknown multisig", map[string]any{"transaction": signTx(t, []solana.Instruction{unknownMultisig}, m0)}, "", 403, api.CodeMultisigNotServed, "transaction"},
		{"description differs", map[string]any{"transaction": goodTx, "description": "something else"}, "", 400, api.CodeInvalidField, "description"},
		{"signed plan inconsistent", map[string]any{"transaction": signTx(t, []solana.Instruction{inconsistent}, m0)}, "", 400, api.CodeMigrationMismatch, "transaction"},
		{"signed plan other accounts", map[string]any{"transaction": signTx(t, []solana.Instruction{withMigration}, m0),
			"migration": map[string]any{"target_version": 2, "from_version": 0, "data_size": 64, "version_offset": 8}}, "", 400, api.CodeMigrationMismatch, "migration.from_version"},
		{"signed plan other offset", map[string]any{"transaction": signTx(t, []solana.Instruction{withMigration}, m0),
			"migration": map[string]any{"target_version": 2, "from_version": 1, "data_size": 64, "version_offset": 0}}, "", 400, api.CodeMigrationMismatch, "migration.version_offset"},
		{"migration not declared", map[string]any{"transaction": goodTx, "migration": map[string]any{"target_version": 2, "from_version": 1}}, "", 400, api.CodeMigrationMismatch, "migration"},
		{"migration version differs", map[string]any{"transaction": signTx(t, []solana.Instruction{withMigration}, m0),
			"migration": map[string]any{"target_version": 3, "from_version": 1}}, "", 400, api.CodeMigrationMismatch, "migration.target_version"},
		{"migration bad type", map[string]any{"transaction": goodTx, "migration": map[string]any{"target_version": "two"}}, "", 400, api.CodeInvalidField, "migration.target_version"},
		{"migration offset outside", map[string]any{"transaction": signTx(t, []solana.Instruction{withMigration}, m0),
			"migration": map[string]any{"target_version": 2, "from_version": 1, "data_size": 8, "version_offset": 8}}, "", 400, api.CodeInvalidField, "migration.version_offset"},
		{"oversized body", `{"transaction":"` + strings.Repeat("A", 70<<10) + `"}`, "", 413, api.CodeBodyTooLarge, ""},
		{"not JSON content type", goodTx, "text/plain", 415, api.CodeUnsupportedMedia, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snap(good.Proposal)
			var headers []string
			if tc.contentType != "" {
				headers = []string{"Content-Type", tc.contentType}
			}
			r := e.do("POST", "/proposals", tc.body, headers...)
			requireError(t, r, tc.status, tc.code, tc.field)
			e.requireUnchanged(before, tc.name)
			assert.False(t, e.workflowExists(workflows.ProposalWorkflowID(good.Proposal.String())), "no workflow started")
		})
	}
}

func mustMessage(t *testing.T, tx *solana.Transaction) []byte {
	t.Helper()
	msg, err := tx.Message.MarshalBinary()
	require.NoError(t, err)
	return msg
}

func testProposeWithMigration(t *testing.T, e *env) {
	ix := e.proposeIx(e.members[1], &governor.MigrationPlan{TargetVersion: 2, InstructionData: []byte{1}, FromVersion: 1, DataSize: 64})
	r := e.do("POST", "/proposals", map[string]any{
		"transaction": signTx(t, []solana.Instruction{ix}, e.members[1]),
		"migration":   map[string]any{"target_version": 2, "from_version": 1, "data_size": 64, "version_offset": 0},
	})
	require.Equal(t, http.StatusCreated, r.Code, "body: %s", r.Body)
	e.waitStep(ix.Proposal, workflows.StepApprovals)
	d, err := e.temporal.DescribeWorkflowExecution(ctxT(t), workflows.ProposalWorkflowID(ix.Proposal.String()), "")
	require.NoError(t, err)
	assert.Equal(t, "UpgradeProposalWorkflow", d.GetWorkflowExecutionInfo().GetType().GetName())

	// The detail shows the whole plan the members signed.
	r = e.do("GET", "/proposals/"+ix.Proposal.String(), nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var got api.ProposalDetailResponse
	r.decode(t, &got)
	require.Equal(t, "chain", got.Source)
	require.NotNil(t, got.Proposal.Migration)
	assert.Equal(t, api.MigrationView{TargetVersion: 2, FromVersion: 1, DataSize: 64, VersionOffset: 0, InstructionData: "AQ=="}, *got.Proposal.Migration)
}

func testGetProposal(t *testing.T, e *env) {
	requireError(t, e.do("GET", "/proposals/xyz", nil), 400, api.CodeInvalidField, "id")
	requireError(t, e.do("GET", "/proposals/"+newKey(t).PublicKey().String(), nil), 404, api.CodeProposalNotFound, "id")

	p := e.propose()
	r := e.do("GET", "/proposals/"+p.String(), nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var got api.ProposalDetailResponse
	r.decode(t, &got)
	assert.Equal(t, "chain", got.Source)
	assert.Equal(t, p.String(), got.Proposal.Address)
	assert.Equal(t, "active", got.Proposal.Status)
	assert.Equal(t, 2, got.Proposal.Threshold)
	assert.Equal(t, e.program.String(), got.Proposal.TargetProgram)
	require.NotNil(t, got.Paused)
	assert.False(t, *got.Paused)
	require.NotNil(t, got.Workflow)
	assert.Equal(t, "running", got.Workflow.Status)
	require.NotNil(t, got.Workflow.State, "query error: %s", got.Workflow.QueryError)
	assert.Equal(t, workflows.StepApprovals, got.Workflow.State.Step)
	assert.NotNil(t, got.Proposal.ExpiresAt)
	assert.Empty(t, got.ApprovalHistory)

	// Right after POST /proposals only the workflow knows a proposal; with no worker to
	// answer the query the read still answers, from the workflow's input.
	pending := newKey(t).PublicKey()
	_, err := e.temporal.ExecuteWorkflow(ctxT(t), client.StartWorkflowOptions{
		ID: workflows.ProposalWorkflowID(pending.String()), TaskQueue: e.queue + "-nobody-listens",
	}, workflows.UpgradeProposalWorkflow, workflows.ProposalInput{
		Proposal: pending.String(), Multisig: e.multisig.String(), TargetProgram: e.program.String(),
		Buffer: e.buffer.String(), BufferHash: fmt.Sprintf("%x", e.elfHash), Proposer: e.members[0].PublicKey().String(),
		Description: "queued",
	})
	require.NoError(t, err)
	r = e.do("GET", "/proposals/"+pending.String(), nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	got = api.ProposalDetailResponse{}
	r.decode(t, &got)
	assert.Equal(t, "workflow", got.Source)
	assert.Equal(t, api.StatusPending, got.Proposal.Status)
	assert.Equal(t, "queued", got.Proposal.Description)
	require.NotNil(t, got.Workflow)
	assert.Nil(t, got.Workflow.State)
	assert.Contains(t, got.Workflow.QueryError, "did not answer")
}

func approveTx(t *testing.T, e *env, proposal solana.PublicKey, member solana.PrivateKey) string {
	ix := governor.NewApproveUpgradeInstruction(e.multisig, proposal, member.PublicKey())
	return signTx(t, []solana.Instruction{ix}, member)
}

func testApproveRunsTheUpdate(t *testing.T, e *env) {
	p := e.propose()
	path := "/proposals/" + p.String() + "/approve"
	first := approveTx(t, e, p, e.members[1])
	r := e.do("POST", path, map[string]any{"transaction": first})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var res api.ApproveResponse
	r.decode(t, &res)
	assert.Equal(t, 1, res.Approvals)
	assert.Equal(t, 2, res.Threshold)
	assert.Equal(t, "active", res.Status)
	assert.Nil(t, res.Eta)

	rows, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: store.ActionApprovalRecorded})
	require.NoError(t, err)
	require.Len(t, rows.Entries, 1)
	assert.Equal(t, res.Signature, rows.Entries[0].Signature)
	assert.Equal(t, e.members[1].PublicKey().String(), rows.Entries[0].Actor)

	// The same transaction again is a replay: nothing reaches the workflow or the chain.
	before := e.snap(p)
	requireError(t, e.do("POST", path, map[string]any{"transaction": first}), 409, api.CodeReplayed, "transaction")
	e.requireUnchanged(before, "a replayed approval")

	// The same member with a fresh transaction: the workflow's validator refuses it.
	requireError(t, e.do("POST", path, map[string]any{"transaction": approveTx(t, e, p, e.members[1])}), 409, api.CodeUpdateRejected, "")
	e.requireUnchanged(before, "a second approval by one member")

	// The threshold starts the timelock.
	r = e.do("POST", path, map[string]any{"transaction": approveTx(t, e, p, e.members[2])})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.Equal(t, 2, res.Approvals)
	assert.Equal(t, "approved", res.Status)
	require.NotNil(t, res.Eta)
	assert.WithinDuration(t, time.Now().Add(48*time.Hour), *res.Eta, time.Minute)
	e.waitStep(p, workflows.StepTimelock)
	_, updates := e.messages(workflows.ProposalWorkflowID(p.String()))
	assert.Equal(t, 2, updates)
}

func testApproveRejectsBadRequests(t *testing.T, e *env) {
	p := e.propose()
	path := "/proposals/" + p.String() + "/approve"
	other := newKey(t).PublicKey()
	cancel := governor.NewCancelUpgradeInstruction(e.multisig, p, e.members[1].PublicKey())
	otherMultisig, _ := governor.FindMultisigAddress(newKey(t).PublicKey())
	wrongMultisig := governor.NewApproveUpgradeInstruction(otherMultisig, p, e.members[1].PublicKey())
	forged := buildTx(t, []solana.Instruction{governor.NewApproveUpgradeInstruction(e.multisig, p, e.members[1].PublicKey())}, e.members[1].PublicKey())
	sig, err := e.members[2].Sign(mustMessage(t, forged))
	require.NoError(t, err)
	forged.Signatures = []solana.Signature{sig}

	for _, tc := range []struct {
		name        string
		path        string
		body        any
		status      int
		code, field string
	}{
		{"path not an address", "/proposals/123/approve", map[string]any{"transaction": approveTx(t, e, p, e.members[1])}, 400, api.CodeInvalidField, "id"},
		{"wrong proposal", "/proposals/" + other.String() + "/approve", map[string]any{"transaction": approveTx(t, e, p, e.members[1])}, 400, api.CodeWrongProposal, "transaction"},
		{"unknown proposal", "/proposals/" + other.String() + "/approve", map[string]any{"transaction": approveTx(t, e, other, e.members[1])}, 404, api.CodeProposalNotFound, "id"},
		{"non-member", path, map[string]any{"transaction": approveTx(t, e, p, e.outsider)}, 403, api.CodeNotAMember, "transaction"},
		{"guardian cannot approve", path, map[string]any{"transaction": approveTx(t, e, p, e.guardian)}, 403, api.CodeNotAMember, "transaction"},
		{"wrong instruction", path, map[string]any{"transaction": signTx(t, []solana.Instruction{cancel}, e.members[1])}, 400, api.CodeWrongInstruction, "transaction"},
		{"wrong multisig", path, map[string]any{"transaction": signTx(t, []solana.Instruction{wrongMultisig}, e.members[1])}, 400, api.CodeWrongMultisig, "transaction"},
		{"forged signature", path, map[string]any{"transaction": b64(t, forged)}, 401, api.CodeInvalidSignature, "transaction"},
		{"malformed JSON", path, `{"transaction"`, 400, api.CodeMalformedJSON, ""},
		{"wrong type", path, `{"transaction": ["x"]}`, 400, api.CodeInvalidField, "transaction"},
		{"missing transaction", path, `{}`, 400, api.CodeMissingField, "transaction"},
		{"oversized body", path, `{"transaction":"` + strings.Repeat("A", 65<<10) + `"}`, 413, api.CodeBodyTooLarge, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snap(p)
			requireError(t, e.do("POST", tc.path, tc.body), tc.status, tc.code, tc.field)
			e.requireUnchanged(before, tc.name)
		})
	}
}

func testCancelWithMemberTransaction(t *testing.T, e *env) {
	p := e.propose()
	path := "/proposals/" + p.String() + "/cancel"
	outsider := signTx(t, []solana.Instruction{governor.NewCancelUpgradeInstruction(e.multisig, p, e.outsider.PublicKey())}, e.outsider)
	before := e.snap(p)
	requireError(t, e.do("POST", path, map[string]any{"transaction": outsider}), 403, api.CodeNotAMember, "transaction")
	requireError(t, e.do("POST", path, map[string]any{"transaction": outsider, "reason": strings.Repeat("x", 600)}), 400, api.CodeInvalidField, "reason")
	e.requireUnchanged(before, "a refused cancel")

	// The guardian may cancel with its own signature too.
	tx := signTx(t, []solana.Instruction{governor.NewCancelUpgradeInstruction(e.multisig, p, e.guardian.PublicKey())}, e.guardian)
	r := e.do("POST", path, map[string]any{"transaction": tx, "reason": "wrong buffer"})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var res api.CancelResponse
	r.decode(t, &res)
	assert.Equal(t, "transaction", res.Mode)
	assert.Equal(t, 1, e.chain.sentCount()-before.sent)
	e.waitStep(p, workflows.StepCancelled)

	rows, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: api.ActionCancelSubmitted})
	require.NoError(t, err)
	require.Len(t, rows.Entries, 1)
	assert.Equal(t, e.guardian.PublicKey().String(), rows.Entries[0].Actor)
	assert.Equal(t, "wrong buffer", rows.Entries[0].Details["reason"])

	before = e.snap(p)
	requireError(t, e.do("POST", path, map[string]any{"transaction": tx}), 409, api.CodeReplayed, "transaction")
	again := signTx(t, []solana.Instruction{governor.NewCancelUpgradeInstruction(e.multisig, p, e.members[2].PublicKey())}, e.members[2])
	requireError(t, e.do("POST", path, map[string]any{"transaction": again}), 409, api.CodeInvalidState, "")
	e.requireUnchanged(before, "a cancel of a cancelled proposal")

	// A member's cancel is a vote: one member cannot cancel every proposal alone; the
	// threshold (2) of votes cancels.
	p2 := e.propose()
	path2 := "/proposals/" + p2.String() + "/cancel"
	vote := func(m solana.PrivateKey) response {
		return e.do("POST", path2, map[string]any{"transaction": signTx(t, []solana.Instruction{
			governor.NewCancelUpgradeInstruction(e.multisig, p2, m.PublicKey())}, m)})
	}
	r = vote(e.members[0])
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.Equal(t, "cancel_voted", res.Status)
	assert.Equal(t, 1, res.Votes)
	assert.Equal(t, 2, res.Threshold)
	got, _ := e.chain.GetProposal(ctxT(t), p2)
	assert.Equal(t, governor.ProposalActive, got.Status, "one vote cancels nothing")
	requireError(t, vote(e.members[0]), 409, api.CodeInvalidState, "transaction")
	r = vote(e.members[1])
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.Equal(t, "cancelled", res.Status)
	e.waitStep(p2, workflows.StepCancelled)
}

func testEmergencyStopNeedsGuardian(t *testing.T, e *env) {
	p := e.propose()
	path := "/proposals/" + p.String() + "/cancel"
	before := e.snap(p)
	for _, tc := range []struct {
		name        string
		headers     []string
		status      int
		code        string
		wantMessage string
	}{
		{"no token", nil, 401, api.CodeMissingToken, "guardian bearer token"},
		{"operator token", bearer(e.operator), 403, api.CodeForbidden, "needs guardian"},
		{"unknown token", bearer("ugt_not-a-real-token"), 401, api.CodeInvalidToken, "unknown"},
		{"revoked token", bearer(e.revoked), 401, api.CodeTokenRevoked, "revoked"},
		{"not a bearer header", []string{"Authorization", "Basic Zm9vOmJhcg=="}, 401, api.CodeInvalidToken, "Bearer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", path, map[string]any{"reason": "halt"}, tc.headers...)
			requireError(t, r, tc.status, tc.code, "Authorization")
			assert.Contains(t, r.json(t)["message"], tc.wantMessage)
			if tc.status == 401 {
				assert.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
			}
			assert.NotContains(t, string(r.Body), "ugt_not-a-real-token", "a token never comes back")
		})
	}
	e.requireUnchanged(before, "a refused emergency stop")
	d, err := e.temporal.DescribeWorkflowExecution(ctxT(t), workflows.ProposalWorkflowID(p.String()), "")
	require.NoError(t, err)
	assert.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_RUNNING, d.GetWorkflowExecutionInfo().GetStatus())

	requireError(t, e.do("POST", "/proposals/"+newKey(t).PublicKey().String()+"/cancel", map[string]any{}, bearer(e.guardianT)...),
		404, api.CodeWorkflowNotFound, "id")

	r := e.do("POST", path, map[string]any{"reason": "bad release"}, bearer(e.guardianT)...)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	var res api.CancelResponse
	r.decode(t, &res)
	assert.Equal(t, "emergency_stop", res.Mode)
	e.waitStep(p, workflows.StepRolledBack)
	cp, err := e.chain.GetProposal(ctxT(t), p)
	require.NoError(t, err)
	assert.Equal(t, governor.ProposalCancelled, cp.Status, "the compensation cancelled on chain")

	rows, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: api.ActionStopRequested})
	require.NoError(t, err)
	require.Len(t, rows.Entries, 1)
	assert.Equal(t, "guardian-1", rows.Entries[0].Actor)
	assert.Equal(t, "bad release", rows.Entries[0].Details["reason"])

	require.Eventually(t, func() bool {
		d, err := e.temporal.DescribeWorkflowExecution(ctxT(t), workflows.ProposalWorkflowID(p.String()), "")
		return err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enums.WORKFLOW_EXECUTION_STATUS_RUNNING
	}, 20*time.Second, 50*time.Millisecond)
	requireError(t, e.do("POST", path, nil, bearer(e.guardianT)...), 409, api.CodeWorkflowClosed, "id")
}

func testExecuteSignalsTheWorkflow(t *testing.T, e *env) {
	p := e.propose()
	path := "/proposals/" + p.String() + "/execute"
	wid := workflows.ProposalWorkflowID(p.String())
	before := e.snap(p)
	requireError(t, e.do("POST", path, nil), 401, api.CodeMissingToken, "Authorization")
	requireError(t, e.do("POST", path, nil, bearer(e.revoked)...), 401, api.CodeTokenRevoked, "Authorization")
	outsider := governor.NewExecuteUpgradeInstruction(e.multisig, p, e.outsider.PublicKey(), e.program, e.buffer, e.members[0].PublicKey())
	requireError(t, e.do("POST", path, map[string]any{"transaction": signTx(t, []solana.Instruction{outsider}, e.outsider)}), 403, api.CodeNotAMember, "transaction")
	e.requireUnchanged(before, "a refused execute")

	r := e.do("POST", path, nil, bearer(e.operator)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var res api.ExecuteResponse
	r.decode(t, &res)
	assert.True(t, res.Signalled)
	require.NotNil(t, res.Workflow)
	assert.Equal(t, "running", res.Workflow.Status)
	signals, _ := e.messages(wid)
	assert.Equal(t, 1, signals)

	// Asking again is harmless: one more signal, same answer.
	r = e.do("POST", path, nil, bearer(e.guardianT)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)

	// A member's signed execute transaction also asks; replayed, it is refused.
	member := governor.NewExecuteUpgradeInstruction(e.multisig, p, e.members[2].PublicKey(), e.program, e.buffer, e.members[0].PublicKey())
	tx := signTx(t, []solana.Instruction{member}, e.members[2])
	r = e.do("POST", path, map[string]any{"transaction": tx})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	requireError(t, e.do("POST", path, map[string]any{"transaction": tx}), 409, api.CodeReplayed, "transaction")
	signals, _ = e.messages(wid)
	assert.Equal(t, 3, signals)

	rows, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: api.ActionExecuteRequested})
	require.NoError(t, err)
	assert.Len(t, rows.Entries, 3)
	requireError(t, e.do("POST", "/proposals/"+newKey(t).PublicKey().String()+"/execute", nil, bearer(e.operator)...), 404, api.CodeWorkflowNotFound, "id")
}

func testMigrationStartAndProgress(t *testing.T, e *env) {
	ix := e.proposeIx(e.members[0], &governor.MigrationPlan{TargetVersion: 2, FromVersion: 1, DataSize: 64, VersionOffset: 8})
	// No plan in the body: the API takes the one signed in the transaction.
	r := e.do("POST", "/proposals", map[string]any{"transaction": signTx(t, []solana.Instruction{ix}, e.members[0])})
	require.Equal(t, http.StatusCreated, r.Code, "body: %s", r.Body)
	p := ix.Proposal
	e.waitStep(p, workflows.StepApprovals)
	plan := map[string]any{"target_version": 2, "from_version": 1, "data_size": 64, "version_offset": 8}
	body := map[string]any{"proposal": p.String(), "plan": plan}

	before := e.snap(p)
	requireError(t, e.do("POST", "/migration/start", body), 401, api.CodeMissingToken, "Authorization")
	requireError(t, e.do("POST", "/migration/start", body, bearer("ugt_wrong")...), 401, api.CodeInvalidToken, "Authorization")
	requireError(t, e.do("POST", "/migration/start", body, bearer(e.operator)...), 409, api.CodeInvalidState, "proposal")
	requireError(t, e.do("POST", "/migration/start", map[string]any{"proposal": "nope", "plan": plan}, bearer(e.operator)...), 400, api.CodeInvalidField, "proposal")
	requireError(t, e.do("POST", "/migration/start", map[string]any{"proposal": newKey(t).PublicKey().String(), "plan": plan}, bearer(e.operator)...), 404, api.CodeProposalNotFound, "proposal")
	e.requireUnchanged(before, "a refused migration start")

	e.chain.setStatus(p, governor.ProposalExecuted)
	bad := map[string]any{"proposal": p.String(), "plan": map[string]any{"target_version": 3, "from_version": 1}}
	requireError(t, e.do("POST", "/migration/start", bad, bearer(e.operator)...), 400, api.CodeMigrationMismatch, "plan.target_version")
	// An operator cannot point the migration at other accounts than the members signed.
	bad = map[string]any{"proposal": p.String(), "plan": map[string]any{"target_version": 2, "from_version": 0, "data_size": 64, "version_offset": 8}}
	requireError(t, e.do("POST", "/migration/start", bad, bearer(e.operator)...), 400, api.CodeMigrationMismatch, "plan.from_version")
	bad = map[string]any{"proposal": p.String(), "plan": map[string]any{"target_version": 2, "from_version": 1, "data_size": 0, "version_offset": 8}}
	requireError(t, e.do("POST", "/migration/start", bad, bearer(e.operator)...), 400, api.CodeMigrationMismatch, "plan.data_size")
	id := workflows.MigrationWorkflowID(p.String())
	assert.False(t, e.workflowExists(id))

	// Without a plan in the body the signed one runs.
	r = e.do("POST", "/migration/start", map[string]any{"proposal": p.String()}, bearer(e.operator)...)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)
	var res api.StartMigrationResponse
	r.decode(t, &res)
	assert.Equal(t, id, res.ID)
	assert.True(t, res.Created)

	require.Eventually(t, func() bool {
		r := e.do("GET", "/migration/"+id, nil)
		var m api.MigrationResponse
		r.decode(t, &m)
		return r.Code == http.StatusOK && m.WorkflowStatus == "completed" && m.State != nil && m.State.Status == "completed"
	}, 30*time.Second, 100*time.Millisecond)

	// Started again: the completed migration is not repeated.
	r = e.do("POST", "/migration/start", body, bearer(e.guardianT)...)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.False(t, res.Created)
	rows, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: api.ActionMigrationRequested})
	require.NoError(t, err)
	require.Len(t, rows.Entries, 1)
	assert.Equal(t, "deploy-bot", rows.Entries[0].Actor)

	// A later executed upgrade of the same program supersedes the plan: the program would
	// refuse it, so no migration starts.
	p2 := e.propose()
	e.chain.setStatus(p2, governor.ProposalExecuted)
	before = e.snap(p)
	requireError(t, e.do("POST", "/migration/start", map[string]any{"proposal": p.String()}, bearer(e.operator)...), 409, api.CodeInvalidState, "proposal")
	e.requireUnchanged(before, "a superseded migration start")
	// The detail says so, and no longer offers the migration.
	r = e.do("GET", "/proposals/"+p.String(), nil)
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var d api.ProposalDetailResponse
	r.decode(t, &d)
	assert.Equal(t, p2.String(), d.Proposal.MigrationSupersededBy)
	for _, a := range d.Proposal.AllowedActions {
		assert.NotEqual(t, lifecycle.Migrate, a.Action, "a superseded plan is not offered")
	}

	requireError(t, e.do("GET", "/migration/no-such-job", nil), 404, api.CodeNotFound, "id")
	requireError(t, e.do("GET", "/migration/bad%20id", nil), 400, api.CodeInvalidField, "id")
}

func pauseTx(t *testing.T, e *env, signer solana.PrivateKey) string {
	return signTx(t, []solana.Instruction{governor.NewPauseSystemInstruction(e.multisig, signer.PublicKey())}, signer)
}

// resumeTx is member's resume vote.
func resumeTx(t *testing.T, e *env, member solana.PrivateKey) string {
	return signTx(t, []solana.Instruction{governor.NewResumeSystemInstruction(e.multisig, member.PublicKey())}, member)
}

func testPauseAndResume(t *testing.T, e *env) {
	p := e.propose()
	wid := workflows.ProposalWorkflowID(p.String())
	// Resume signals workflows found through Temporal's visibility, which lags a little.
	require.Eventually(t, func() bool {
		resp, err := e.temporal.ListWorkflow(ctxT(t), listRequest(e.multisig))
		return err == nil && len(resp.GetExecutions()) == 1
	}, 20*time.Second, 100*time.Millisecond)

	tx := pauseTx(t, e, e.guardian)
	r := e.do("POST", "/system/pause", map[string]any{"transaction": tx})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var res api.SystemResponse
	r.decode(t, &res)
	assert.True(t, res.Paused)
	ms, _ := e.chain.GetMultisig(ctxT(t), e.multisig)
	assert.True(t, ms.Paused)

	require.NotNil(t, res.PauseExpiresAt, "a pause by one key lapses")
	assert.Equal(t, 0, res.Votes, "the guardian holds no vote")

	before := e.snap(p)
	requireError(t, e.do("POST", "/system/pause", map[string]any{"transaction": tx}), 409, api.CodeReplayed, "transaction")
	requireError(t, e.do("POST", "/system/pause", map[string]any{"transaction": pauseTx(t, e, e.guardian)}), 409, api.CodeInvalidState, "transaction")
	e.requireUnchanged(before, "a second pause by the guardian")

	// A member's pause while paused is a vote to hold it; the threshold (2) holds it for good.
	r = e.do("POST", "/system/pause", map[string]any{"transaction": pauseTx(t, e, e.members[1])})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.Equal(t, 1, res.Votes)
	assert.NotNil(t, res.PauseExpiresAt)
	r = e.do("POST", "/system/pause", map[string]any{"transaction": pauseTx(t, e, e.members[2])})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.Equal(t, 2, res.Votes)
	assert.Nil(t, res.PauseExpiresAt, "held by the threshold until resumed")

	// Resuming: one vote at a time; the threshold's vote resumes and signals the workflows.
	signalsBefore, _ := e.messages(wid)
	r = e.do("POST", "/system/resume", map[string]any{"transaction": resumeTx(t, e, e.members[0])})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.True(t, res.Paused)
	assert.Equal(t, 1, res.Votes)
	assert.Empty(t, res.Signalled)
	requireError(t, e.do("POST", "/system/resume", map[string]any{"transaction": resumeTx(t, e, e.members[0])}), 409, api.CodeInvalidState, "transaction")
	r = e.do("POST", "/system/resume", map[string]any{"transaction": resumeTx(t, e, e.members[2])})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	r.decode(t, &res)
	assert.False(t, res.Paused)
	assert.Equal(t, []string{wid}, res.Signalled)
	signals, _ := e.messages(wid)
	assert.Equal(t, signalsBefore+1, signals)

	for action, n := range map[string]int{api.ActionSystemPaused: 3, api.ActionResumeVoted: 1, api.ActionSystemResumed: 1} {
		rows, err := e.store.ListAudit(ctxT(t), store.AuditFilter{Action: action})
		require.NoError(t, err)
		require.Len(t, rows.Entries, n, action)
		assert.Equal(t, store.SourceAPI, rows.Entries[0].Source)
	}
}

// A pause by one key lapses after the multisig's max pause, and that key cannot pause again
// during its cool-down: no single key blocks governance for ever.
func testAPauseLapsesAndItsKeyCoolsDown(t *testing.T, e *env) {
	r := e.do("POST", "/system/pause", map[string]any{"transaction": pauseTx(t, e, e.members[0])})
	require.Equal(t, http.StatusOK, r.Code, "body: %s", r.Body)
	var res api.SystemResponse
	r.decode(t, &res)
	require.True(t, res.Paused)
	require.NotNil(t, res.PauseExpiresAt)

	e.chain.mu.Lock()
	lapse := *res.PauseExpiresAt
	e.chain.now = func() time.Time { return lapse.Add(time.Minute) }
	e.chain.mu.Unlock()
	var ms api.MultisigView
	e.do("GET", "/multisig/"+e.multisig.String(), nil).decode(t, &ms)
	assert.False(t, ms.Paused, "the pause lapsed")
	requireError(t, e.do("POST", "/system/resume", map[string]any{"transaction": resumeTx(t, e, e.members[1])}), 409, api.CodeInvalidState, "transaction")

	before := e.auditCount()
	r = e.do("POST", "/system/pause", map[string]any{"transaction": pauseTx(t, e, e.members[0])})
	requireError(t, r, 409, api.CodeInvalidState, "transaction")
	assert.Contains(t, r.json(t)["message"], "cannot pause again")
	assert.Equal(t, before, e.auditCount())
	r = e.do("POST", "/system/pause", map[string]any{"transaction": pauseTx(t, e, e.members[1])})
	require.Equal(t, http.StatusOK, r.Code, "another member may pause: body: %s", r.Body)
}

func testPauseResumeRejectBadRequests(t *testing.T, e *env) {
	p := e.propose()
	approve := governor.NewApproveUpgradeInstruction(e.multisig, p, e.members[0].PublicKey())
	for _, tc := range []struct {
		name, path  string
		body        any
		status      int
		code, field string
	}{
		{"pause by outsider", "/system/pause", map[string]any{"transaction": pauseTx(t, e, e.outsider)}, 403, api.CodeNotAMember, "transaction"},
		{"pause with approve", "/system/pause", map[string]any{"transaction": signTx(t, []solana.Instruction{approve}, e.members[0])}, 400, api.CodeWrongInstruction, "transaction"},
		{"pause wrong type", "/system/pause", `{"transaction": true}`, 400, api.CodeInvalidField, "transaction"},
		{"resume by the guardian", "/system/resume", map[string]any{"transaction": resumeTx(t, e, e.guardian)}, 403, api.CodeNotAMember, "transaction"},
		{"resume by an outsider", "/system/resume", map[string]any{"transaction": resumeTx(t, e, e.outsider)}, 403, api.CodeNotAMember, "transaction"},
		{"resume not paused", "/system/resume", map[string]any{"transaction": resumeTx(t, e, e.members[0])}, 409, api.CodeInvalidState, "transaction"},
		{"resume unknown field", "/system/resume", map[string]any{"transaction": "x", "force": true}, 400, api.CodeUnknownField, "force"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snap(p)
			requireError(t, e.do("POST", tc.path, tc.body), tc.status, tc.code, tc.field)
			e.requireUnchanged(before, tc.name)
			ms, _ := e.chain.GetMultisig(ctxT(t), e.multisig)
			assert.False(t, ms.Paused)
		})
	}
}

func testListProposals(t *testing.T, e *env) {
	ctx := ctxT(t)
	worker := store.Origin{Actor: "worker", Source: store.SourceWorker}
	programA, programB := newKey(t).PublicKey().String(), newKey(t).PublicKey().String()
	for i := range 5 {
		p := store.Proposal{
			Address: newKey(t).PublicKey().String(), Multisig: e.multisig.String(), Index: uint64(i + 1),
			TargetProgram: programA, Buffer: e.buffer.String(), BufferHash: fmt.Sprintf("%064x", i),
			Proposer: e.members[0].PublicKey().String(), Threshold: 2,
			CreatedAt: time.Date(2026, 11, 1, i, 0, 0, 0, time.UTC),
		}
		if i >= 3 {
			p.TargetProgram, p.Status = programB, store.ProposalCancelled
		}
		_, err := e.store.UpsertProposal(ctx, p, worker)
		require.NoError(t, err)
	}
	var page api.ProposalListResponse
	r := e.do("GET", "/proposals?limit=2", nil)
	require.Equal(t, 200, r.Code, "body: %s", r.Body)
	r.decode(t, &page)
	assert.Equal(t, 5, page.Total)
	require.Len(t, page.Proposals, 2)
	require.NotNil(t, page.NextOffset)
	assert.Equal(t, 2, *page.NextOffset)
	assert.Equal(t, uint64(5), page.Proposals[0].Index, "newest first")

	r = e.do("GET", fmt.Sprintf("/proposals?limit=2&offset=%d", 4), nil)
	r.decode(t, &page)
	assert.Len(t, page.Proposals, 1)
	assert.Nil(t, page.NextOffset)

	r = e.do("GET", "/proposals?status=cancelled&program="+programB, nil)
	r.decode(t, &page)
	assert.Equal(t, 2, page.Total)
	r = e.do("GET", "/proposals?status=active&program="+programB, nil)
	r.decode(t, &page)
	assert.Equal(t, 0, page.Total)
	assert.NotNil(t, page.Proposals, "an empty page is [], not null")

	requireError(t, e.do("GET", "/proposals?status=done", nil), 400, api.CodeInvalidField, "status")
	requireError(t, e.do("GET", "/proposals?program=xyz", nil), 400, api.CodeInvalidField, "program")
	requireError(t, e.do("GET", "/proposals?limit=0", nil), 400, api.CodeInvalidField, "limit")
	requireError(t, e.do("GET", "/proposals?offset=-1", nil), 400, api.CodeInvalidField, "offset")
}

func testListAudit(t *testing.T, e *env) {
	ctx := ctxT(t)
	prop := newKey(t).PublicKey().String()
	for i := range 7 {
		_, err := e.store.AppendAudit(ctx, store.AuditEntry{
			Actor: fmt.Sprintf("actor-%d", i%2), Action: "system.paused", Proposal: prop, Source: store.SourceIndexer,
		})
		require.NoError(t, err)
	}
	var page api.AuditResponse
	r := e.do("GET", "/audit?proposal="+prop+"&limit=3", nil)
	require.Equal(t, 200, r.Code, "body: %s", r.Body)
	r.decode(t, &page)
	require.Len(t, page.Entries, 3)
	require.NotNil(t, page.Next)
	seen := map[int64]bool{}
	for {
		for _, en := range page.Entries {
			assert.False(t, seen[en.ID])
			seen[en.ID] = true
		}
		if page.Next == nil {
			break
		}
		r = e.do("GET", fmt.Sprintf("/audit?proposal=%s&limit=3&before=%d", prop, *page.Next), nil)
		page = api.AuditResponse{}
		r.decode(t, &page)
	}
	assert.Len(t, seen, 7)

	r = e.do("GET", "/audit?actor=actor-1&action=system.paused&since=2020-01-01T00:00:00Z", nil)
	r.decode(t, &page)
	assert.Len(t, page.Entries, 3)
	r = e.do("GET", "/audit?since=2999-01-01T00:00:00Z", nil)
	r.decode(t, &page)
	assert.Empty(t, page.Entries)

	requireError(t, e.do("GET", "/audit?since=yesterday", nil), 400, api.CodeInvalidField, "since")
	requireError(t, e.do("GET", "/audit?limit=5000", nil), 400, api.CodeInvalidField, "limit")
	requireError(t, e.do("GET", "/audit?proposal=P-1", nil), 400, api.CodeInvalidField, "proposal")
	requireError(t, e.do("GET", "/audit?action=Paused!", nil), 400, api.CodeInvalidField, "action")
	requireError(t, e.do("GET", "/audit?before=x", nil), 400, api.CodeInvalidField, "before")
}

// signUnsigned signs a builder's answer the way a wallet does: over the message bytes.
func signUnsigned(t *testing.T, out api.UnsignedTxResponse, signers ...solana.PrivateKey) string {
	t.Helper()
	tx, err := solana.TransactionFromBase64(out.Transaction)
	require.NoError(t, err)
	msg, err := base64.StdEncoding.DecodeString(out.Message)
	require.NoError(t, err)
	require.Equal(t, mustMessage(t, tx), msg, "the message is what the transaction carries")
	for _, s := range signers {
		for i, k := range tx.Message.AccountKeys[:tx.Message.Header.NumRequiredSignatures] {
			if k.Equals(s.PublicKey()) {
				tx.Signatures[i], err = s.Sign(msg)
				require.NoError(t, err)
			}
		}
	}
	return b64(t, tx)
}

func testTransactionBuilders(t *testing.T, e *env) {
	m0, m1 := e.members[0], e.members[1]
	r := e.do("POST", "/tx/propose", map[string]any{
		"multisig": e.multisig.String(), "proposer": m0.PublicKey().String(), "target_program": e.program.String(),
		"buffer": e.buffer.String(), "description": "v2",
	})
	require.Equal(t, 200, r.Code, "body: %s", r.Body)
	var out api.UnsignedTxResponse
	r.decode(t, &out)
	assert.Equal(t, "propose_upgrade", out.Summary.Instruction)
	assert.Equal(t, uint64(1), out.Summary.ProposalIndex)
	assert.Equal(t, fmt.Sprintf("%x", e.elfHash), out.Summary.BufferHash)
	assert.Equal(t, []string{m0.PublicKey().String()}, out.Summary.Signers)

	// The unsigned transaction itself is refused by the governance route.
	requireError(t, e.do("POST", "/proposals", map[string]any{"transaction": out.Transaction}), 401, api.CodeMissingSignature, "transaction")
	r = e.do("POST", "/proposals", map[string]any{"transaction": signUnsigned(t, out, m0)})
	require.Equal(t, http.StatusCreated, r.Code, "body: %s", r.Body)
	p := solana.MustPublicKeyFromBase58(out.Summary.Proposal)
	e.waitStep(p, workflows.StepApprovals)

	r = e.do("POST", "/tx/approve", map[string]any{"proposal": p.String(), "member": m1.PublicKey().String()})
	require.Equal(t, 200, r.Code, "body: %s", r.Body)
	r.decode(t, &out)
	assert.Equal(t, "approve_upgrade", out.Summary.Instruction)
	assert.Equal(t, "POST /proposals/"+p.String()+"/approve", out.Summary.Then)
	r = e.do("POST", "/proposals/"+p.String()+"/approve", map[string]any{"transaction": signUnsigned(t, out, m1)})
	require.Equal(t, 200, r.Code, "body: %s", r.Body)

	for _, path := range []string{"/tx/cancel", "/tx/execute"} {
		r = e.do("POST", path, map[string]any{"proposal": p.String(), "member": m1.PublicKey().String(), "fee_payer": m0.PublicKey().String()})
		require.Equal(t, 200, r.Code, "%s body: %s", path, r.Body)
		r.decode(t, &out)
		assert.Equal(t, m0.PublicKey().String(), out.Summary.FeePayer)
		assert.Len(t, out.Summary.Signers, 2)
	}
	r = e.do("POST", "/tx/cancel", map[string]any{"proposal": p.String(), "member": e.guardian.PublicKey().String()})
	require.Equal(t, 200, r.Code, "the guardian may cancel; body: %s", r.Body)

	r = e.do("POST", "/tx/pause", map[string]any{"multisig": e.multisig.String(), "pauser": e.guardian.PublicKey().String()})
	require.Equal(t, 200, r.Code, "body: %s", r.Body)
	r.decode(t, &out)
	r = e.do("POST", "/system/pause", map[string]any{"transaction": signUnsigned(t, out, e.guardian)})
	require.Equal(t, 200, r.Code, "body: %s", r.Body)

	for _, m := range []solana.PrivateKey{m0, m1} {
		r = e.do("POST", "/tx/resume", map[string]any{"multisig": e.multisig.String(), "member": m.PublicKey().String()})
		require.Equal(t, 200, r.Code, "body: %s", r.Body)
		r.decode(t, &out)
		r = e.do("POST", "/system/resume", map[string]any{"transaction": signUnsigned(t, out, m)})
		require.Equal(t, 200, r.Code, "body: %s", r.Body)
	}
	ms, _ := e.chain.GetMultisig(ctxT(t), e.multisig)
	assert.False(t, ms.Paused, "two votes resumed it")

	before := e.snap(p)
	for _, tc := range []struct {
		name, path  string
		body        any
		status      int
		code, field string
	}{
		{"propose by outsider", "/tx/propose", map[string]any{"multisig": e.multisig.String(), "proposer": e.outsider.PublicKey().String(),
			"target_program": e.program.String(), "buffer": e.buffer.String()}, 403, api.CodeNotAMember, "proposer"},
		{"propose unknown buffer", "/tx/propose", map[string]any{"multisig": e.multisig.String(), "proposer": m0.PublicKey().String(),
			"target_program": e.program.String(), "buffer": newKey(t).PublicKey().String()}, 404, api.CodeAccountNotFound, "buffer"},
		{"propose missing program", "/tx/propose", map[string]any{"multisig": e.multisig.String(), "proposer": m0.PublicKey().String(),
			"buffer": e.buffer.String()}, 400, api.CodeMissingField, "target_program"},
		{"propose long description", "/tx/propose", map[string]any{"multisig": e.multisig.String(), "proposer": m0.PublicKey().String(),
			"target_program": e.program.String(), "buffer": e.buffer.String(), "description": strings.Repeat("x", 300)}, 400, api.CodeInvalidField, "description"},
		{"approve unknown proposal", "/tx/approve", map[string]any{"proposal": newKey(t).PublicKey().String(), "member": m0.PublicKey().String()}, 404, api.CodeProposalNotFound, "proposal"},
		{"approve by guardian", "/tx/approve", map[string]any{"proposal": p.String(), "member": e.guardian.PublicKey().String()}, 403, api.CodeNotAMember, "member"},
		{"approve bad member", "/tx/approve", map[string]any{"proposal": p.String(), "member": "0x12"}, 400, api.CodeInvalidField, "member"},
		{"pause unserved multisig", "/tx/pause", map[string]any{"multisig": newKey(t).PublicKey().String(), "pauser": m0.PublicKey().String()}, 403, api.CodeMultisigNotServed, "multisig"},
		{"resume when not paused", "/tx/resume", map[string]any{"multisig": e.multisig.String(), "member": m0.PublicKey().String()}, 409, api.CodeInvalidState, "multisig"},
		{"resume by the guardian", "/tx/resume", map[string]any{"multisig": e.multisig.String(), "member": e.guardian.PublicKey().String()}, 403, api.CodeNotAMember, "member"},
		{"resume with co-signers", "/tx/resume", map[string]any{"multisig": e.multisig.String(), "signers": []string{m0.PublicKey().String()}}, 400, api.CodeUnknownField, "signers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requireError(t, e.do("POST", tc.path, tc.body), tc.status, tc.code, tc.field)
		})
	}
	e.requireUnchanged(before, "the transaction builders")
}
