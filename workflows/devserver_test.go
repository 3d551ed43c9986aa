package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

// TestEmergencyStopDuringMigrationOnTheDevServer runs the real workflows on the Temporal dev
// server (the time-skipping suite does not apply parent close policies) with activities that
// stand in for the chain: a proposal already executed, a migration whose chunk runs until it
// is cancelled. Cancelling the proposal workflow, as `temporal workflow cancel` does, must
// cancel the migration child (not terminate it) and let it record where it stopped before the
// parent closes.
func TestEmergencyStopDuringMigrationOnTheDevServer(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const queue = "devserver-child-close"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflow(UpgradeProposalWorkflow)
	w.RegisterWorkflow(MigrationWorkflow)
	var (
		mu       sync.Mutex
		finished []activities.FinishJobInput
	)
	migrating := make(chan struct{}, 1)
	executed := func() activities.ChainProposal {
		return activities.ChainProposal{Exists: true, Address: "P1", Multisig: "M1", Status: "executed", Threshold: 1,
			HasMigration: true, Kind: "upgrade", ChainTime: time.Now().UTC()}
	}
	for name, fn := range map[string]any{
		"VerifyBuffer": func(context.Context, activities.VerifyBufferInput) (activities.VerifyBufferResult, error) {
			return activities.VerifyBufferResult{ElfLen: 1}, nil
		},
		"SubmitProposal": func(context.Context, activities.SubmitInput) (activities.SubmitResult, error) {
			return activities.SubmitResult{Signature: "sig-propose", Proposal: executed()}, nil
		},
		"GetProposalState": func(context.Context, activities.ProposalRef) (activities.ChainProposal, error) {
			return executed(), nil
		},
		"ListAffectedAccounts": func(context.Context, activities.ListAccountsInput) (int, error) { return 100, nil },
		"ChunkBounds": func(context.Context, activities.ChunkBoundsInput) ([]string, error) {
			return []string{"zzzz"}, nil
		},
		// A chunk that migrates until it is cancelled (it heartbeats, so the cancel reaches it).
		"MigrateChunk": func(ctx context.Context, _ activities.MigrateChunkInput) (activities.ChunkResult, error) {
			select {
			case migrating <- struct{}{}:
			default:
			}
			for {
				activity.RecordHeartbeat(ctx)
				select {
				case <-ctx.Done():
					return activities.ChunkResult{}, ctx.Err()
				case <-time.After(100 * time.Millisecond):
				}
			}
		},
		"CountJob": func(context.Context, string) (activities.JobCounts, error) { return activities.JobCounts{}, nil },
		// Recording takes a moment (a database write under load): long enough for a parent that
		// does not wait to close first.
		"FinishJob": func(_ context.Context, in activities.FinishJobInput) error {
			time.Sleep(2 * time.Second)
			mu.Lock()
			defer mu.Unlock()
			finished = append(finished, in)
			return nil
		},
		"CancelOnChain": func(context.Context, activities.CancelInput) (activities.CancelResult, error) {
			return activities.CancelResult{AlreadyFinished: "executed"}, nil
		},
	} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	require.NoError(t, w.Start())
	defer w.Stop()

	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: ProposalWorkflowID("P1"), TaskQueue: queue},
		UpgradeProposalWorkflow, ProposalInput{
			Proposal: "P1", Multisig: "M1", TargetProgram: "T1", Buffer: "B1", BufferHash: "00", Proposer: "m0",
			Migration: &activities.MigrationPlan{TargetVersion: 2, FromVersion: 1, DataSize: 64},
		})
	require.NoError(t, err)
	select {
	case <-migrating:
	case <-ctx.Done():
		t.Fatal("the migration never started its chunk")
	}
	require.NoError(t, c.CancelWorkflow(ctx, ProposalWorkflowID("P1"), ""))
	require.Error(t, run.Get(ctx, nil), "the stopped proposal workflow ends cancelled")

	// By the time the parent closed, the child had recorded where it stopped and closed as
	// cancelled: not terminated by the parent's close.
	parent, err := c.DescribeWorkflowExecution(ctx, ProposalWorkflowID("P1"), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, parent.WorkflowExecutionInfo.Status)
	child, err := c.DescribeWorkflowExecution(ctx, MigrationWorkflowID("P1"), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, child.WorkflowExecutionInfo.Status)
	require.False(t, child.WorkflowExecutionInfo.CloseTime.AsTime().After(parent.WorkflowExecutionInfo.CloseTime.AsTime()),
		"the parent waited for the child")
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, finished, 1)
	require.Equal(t, "cancelled", finished[0].Status)
}
