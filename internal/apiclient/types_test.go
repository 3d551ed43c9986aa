package apiclient_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// roundTrip encodes what the server sends, decodes it strictly into the client's type and
// encodes that again: a field the client lacks fails the strict decode, a field the client
// has and the server does not (or spells differently) fails the comparison.
func roundTrip[T any](t *testing.T, server any) {
	t.Helper()
	sent, err := json.Marshal(server)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(sent))
	dec.DisallowUnknownFields()
	var got T
	require.NoError(t, dec.Decode(&got), "the client's %T lacks a field the server sends", got)
	again, err := json.Marshal(got)
	require.NoError(t, err)
	var a, b any
	require.NoError(t, json.Unmarshal(sent, &a))
	require.NoError(t, json.Unmarshal(again, &b))
	require.Equal(t, a, b, "the client's %T and the server's %T differ", got, server)
}

func TestClientTypesMatchTheServers(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	v, paused := 2, true
	view := api.ProposalView{
		Address: "P", Multisig: "M", Index: 1, TargetProgram: "T", Buffer: "B", BufferHash: "ab",
		Proposer: "X", Description: "d", Status: "approved", Approvals: []string{"A"}, ApprovalCount: 1,
		Threshold: 3, MigrationTargetVersion: &v, CreatedAt: &now, ApprovedAt: &now, Eta: &now,
		ExpiresAt: &now, ExecutedAt: &now, ClosedAt: &now, WorkflowID: "proposal-P",
		ProposeSignature: "s1", ExecuteSignature: "s2", Kind: "config",
		Actions: []governor.ConfigActionJSON{governor.SetThreshold(2).JSON()}, Stale: true, StaleReason: "r",
	}
	wf := &api.WorkflowView{ID: "proposal-P", RunID: "r", Status: "running", QueryError: "q",
		State: &api.ProposalStateView{Step: "timelock", Status: "approved", Approvals: []string{"A"}, Threshold: 3,
			Eta: &now, ExpiresAt: &now, Paused: true, ProposeSignature: "s1", ExecuteSignature: "s2",
			CancelSignature: "s3", MigrationWorkflowID: "migration-P", LastError: "e", Stale: true}}
	next := 50

	roundTrip[apiclient.ProposalDetail](t, api.ProposalDetailResponse{
		Proposal: view, Source: "chain", Paused: &paused, Indexed: &view,
		ApprovalHistory: []api.ApprovalView{{Member: "A", Signature: "s", Slot: 9, ApprovedAt: now}},
		Workflow:        wf,
	})
	roundTrip[apiclient.ProposalList](t, api.ProposalListResponse{
		Proposals: []api.ProposalView{view}, Total: 51, Limit: 50, Offset: 0, NextOffset: &next,
	})
	roundTrip[apiclient.CreateProposalResponse](t, api.CreateProposalResponse{
		Proposal: "P", Multisig: "M", Signature: "s", WorkflowID: "w", RunID: "r", Created: true,
	})
	roundTrip[apiclient.ApproveResponse](t, api.ApproveResponse{
		Proposal: "P", Member: "A", Signature: "s", Approvals: 3, Threshold: 3, Status: "approved", Eta: &now,
	})
	roundTrip[apiclient.CancelResponse](t, api.CancelResponse{
		Proposal: "P", Mode: "transaction", Signature: "s", WorkflowID: "w", Status: "cancel_voted", Votes: 1, Threshold: 3,
	})
	roundTrip[apiclient.ExecuteResponse](t, api.ExecuteResponse{Proposal: "P", Signalled: true, Workflow: wf})
	roundTrip[apiclient.SystemResponse](t, api.SystemResponse{
		Multisig: "M", Signature: "s", Paused: true, PauseExpiresAt: &now, Votes: 1, Threshold: 2, Signalled: []string{"proposal-P"},
	})
	roundTrip[apiclient.Migration](t, api.MigrationResponse{
		ID: "migration-P", WorkflowStatus: "running", RunID: "r", QueryError: "q",
		State: &api.MigrationStateView{Status: "running", Total: 10, Migrated: 5, Failed: 1, Remaining: 4,
			Transactions: 2, ComputeUnits: 900, Cursor: "c", RatePerSec: 1.5, StartedAt: now, Runs: 1, LastError: "e", PausedSeconds: 3},
		Job: &api.JobProgressView{Status: "running", StoppedAt: "x", Total: 10, Pending: 4, Migrated: 5, Failed: 1, Skipped: 0},
	})
	roundTrip[apiclient.Error](t, api.Error{Status: 409, Code: "invalid_state", Message: "m", Field: "transaction"})
	roundTrip[apiclient.MigrationPlan](t, api.MigrationPlanBody{TargetVersion: &v, FromVersion: &v,
		DataSize: new(int64), VersionOffset: new(int64)})
}
