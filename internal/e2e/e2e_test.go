// Package e2e runs the whole system from its real parts — PostgreSQL, the Temporal dev server,
// localnet, the worker and API server binaries — and tells the demo's story through the API,
// then checks the chain, the audit trail and Temporal agree.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/indexer"
	"github.com/upgrade-governor/upgrade-governor/internal/scenario"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

func buildBinaries(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "../../worker", "../../apiserver")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return dir
}

func TestUpgradeStoryEndToEnd(t *testing.T) {
	if _, err := os.Stat(devstack.LocalnetBinary()); err != nil {
		t.Fatalf("localnet binary %s is missing: run `make localnet`", devstack.LocalnetBinary())
	}
	temporalBin, err := temporaltest.Binary()
	require.NoError(t, err, temporaltest.InstallHint)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Under /tmp: devstack makes the directory reachable for PostgreSQL's own user.
	dir, err := os.MkdirTemp("", "e2e-")
	require.NoError(t, err)
	defer os.RemoveAll(dir)
	bins := buildBinaries(t)
	st, err := devstack.Start(ctx, devstack.Options{Dir: dir, BinDir: bins, TemporalBin: temporalBin})
	require.NoError(t, err)
	defer st.Stop()

	const accounts = 60
	res, err := scenario.Run(ctx, st, scenario.Options{
		Accounts: accounts, TemporalBin: temporalBin, ELFDir: "../../program/examples/governed-counter/elf",
		Out: testWriter{t},
	})
	require.NoError(t, err, "logs in %s", dir)
	require.Equal(t, accounts, res.Migrated)
	// The demo's webhook receiver was told the story, every delivery signed, each event once.
	for _, want := range []string{"proposal.proposed", "proposal.threshold_reached", "config.changed",
		"proposal.executed", "migration.completed", "proposal.cancelled"} {
		require.Contains(t, res.Notified, want, "notifications received: %v", res.Notified)
	}

	// The chain: v2 is deployed, the PDA is still the upgrade authority.
	v2, err := os.ReadFile("../../program/examples/governed-counter/elf/governed_counter_v2.so")
	require.NoError(t, err)
	pd, err := st.Chain.GetProgramData(ctx, res.Program)
	require.NoError(t, err)
	require.Equal(t, loader.ELFHash(v2), pd.Hash())

	// The index and audit trail agree with the chain.
	s, err := store.New(ctx, st.DatabaseURL)
	require.NoError(t, err)
	defer s.Close()
	executed, err := s.GetProposal(ctx, res.Executed.String())
	require.NoError(t, err)
	require.Equal(t, store.ProposalExecuted, executed.Status)
	require.NotEmpty(t, executed.ExecuteSignature)
	// The rotation: the multisig changed itself through a config proposal; the index keeps
	// who was a member when, and the upgrade after it passed with the new member's approval.
	ms, err := st.Chain.GetMultisig(ctx, res.Multisig)
	require.NoError(t, err)
	require.True(t, ms.IsMember(res.Added), "the new key is a member")
	require.False(t, ms.IsMember(res.Removed), "the lost key is no longer a member")
	rotation, err := s.GetProposal(ctx, res.Rotation.String())
	require.NoError(t, err)
	require.Equal(t, store.KindConfig, rotation.Kind)
	require.Equal(t, store.ProposalExecuted, rotation.Status)
	require.Contains(t, string(rotation.ConfigActions), res.Added.String())
	require.Equal(t, rotation.Index, ms.StaleProposalIndex, "the rotation made every proposal up to it stale")
	onChain, err := st.Chain.GetProposal(ctx, res.Executed)
	require.NoError(t, err)
	require.Contains(t, onChain.Approvals, res.Added, "the new member approved the upgrade")
	require.Eventually(t, func() bool {
		h, err := s.ListMultisigConfigs(ctx, res.Multisig.String(), 0)
		return err == nil && len(h) == 2 && h[0].Proposal == res.Rotation.String() &&
			slices.Contains(h[0].Members, res.Added.String()) && slices.Contains(h[1].Members, res.Removed.String())
	}, 20*time.Second, 300*time.Millisecond, "the configuration history: the creation, then the rotation")

	rollbacks, err := s.ListRollbacks(ctx, res.Cancelled.String())
	require.NoError(t, err)
	require.Len(t, rollbacks, 1, "the emergency stop is recorded once")
	require.NotEmpty(t, rollbacks[0].CancelSignature)

	// The worker logs every governance transaction it sends, at info level, with its signature.
	workerLog, err := os.ReadFile(st.Logs("worker"))
	require.NoError(t, err)
	for _, want := range []string{
		`"msg":"sent execute"`, executed.ExecuteSignature,
		`"msg":"sent guardian cancel"`, rollbacks[0].CancelSignature,
	} {
		require.Contains(t, string(workerLog), want)
	}
	job, err := s.JobProgress(ctx, workflows.MigrationWorkflowID(res.Executed.String()))
	require.NoError(t, err)
	require.Equal(t, accounts, job.Migrated)
	require.Equal(t, accounts, job.Total)

	ix := &indexer.Indexer{Chain: st.Chain, Store: s}
	require.Eventually(t, func() bool {
		m, err := ix.Reconcile(ctx, res.Multisig)
		return err == nil && len(m) == 0
	}, 20*time.Second, 500*time.Millisecond, "audit trail and chain must agree")
	// The operator's command says the same.
	rec := exec.CommandContext(ctx, filepath.Join(bins, "worker"), "reconcile", res.Multisig.String())
	rec.Env = append(os.Environ(), "UG_DATABASE_URL="+st.DatabaseURL, "UG_RPC_URL="+st.RPCURL)
	out, err := rec.CombinedOutput()
	require.NoError(t, err, "worker reconcile: %s", out)
	require.Contains(t, string(out), "audit index agrees with the chain")

	// Temporal: the first workflow completed, the second was cancelled.
	tc, err := client.Dial(client.Options{HostPort: st.TemporalAddress})
	require.NoError(t, err)
	defer tc.Close()
	d1, err := tc.DescribeWorkflowExecution(ctx, workflows.ProposalWorkflowID(res.Executed.String()), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, d1.WorkflowExecutionInfo.Status)
	// The migration's compute units are each transaction's computeUnitsConsumed, summed.
	var mig workflows.MigrationState
	require.NoError(t, tc.GetWorkflow(ctx, workflows.MigrationWorkflowID(res.Executed.String()), "").Get(ctx, &mig))
	require.Positive(t, mig.Transactions)
	perTx := mig.ComputeUnits / uint64(mig.Transactions)
	t.Logf("migration: %d transactions, %d compute units (%d per transaction)", mig.Transactions, mig.ComputeUnits, perTx)
	require.Greater(t, perTx, uint64(1_000), "a migrate transaction CPIs the governed program per account")
	require.Less(t, perTx, uint64(1_400_000), "no transaction consumes more than the cluster allows")
	d2, err := tc.DescribeWorkflowExecution(ctx, workflows.ProposalWorkflowID(res.Cancelled.String()), "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED, d2.WorkflowExecutionInfo.Status)
	// The README's list query finds the migration by program too (visibility lags a little).
	query := fmt.Sprintf("UpgradeProgram = '%s' AND UpgradeMultisig = '%s' AND WorkflowType = 'MigrationWorkflow'", res.Program, res.Multisig)
	require.Eventually(t, func() bool {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.GetExecutions()) == 1 &&
			resp.GetExecutions()[0].GetExecution().GetWorkflowId() == workflows.MigrationWorkflowID(res.Executed.String())
	}, 20*time.Second, 200*time.Millisecond, "migration workflow by its search attributes: %s", query)

	// Recorded histories feed the replay test (workflows/replay_test.go): a change that
	// breaks determinism fails it. Refresh them with UPDATE_REPLAY_HISTORY=1.
	if os.Getenv("UPDATE_REPLAY_HISTORY") == "1" {
		for name, id := range map[string]string{
			"proposal_executed_with_migration": workflows.ProposalWorkflowID(res.Executed.String()),
			"proposal_cancelled":               workflows.ProposalWorkflowID(res.Cancelled.String()),
			"migration":                        workflows.MigrationWorkflowID(res.Executed.String()),
		} {
			saveHistory(t, tc, id, filepath.Join("..", "..", "workflows", "testdata", name+".json"))
		}
	}
}

func saveHistory(t *testing.T, tc client.Client, id, path string) {
	t.Helper()
	it := tc.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &history.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	data, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	var check map[string]any
	require.NoError(t, json.Unmarshal(data, &check))
	require.NoError(t, os.WriteFile(path, data, 0o644))
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}
