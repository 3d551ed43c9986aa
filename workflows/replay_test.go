package workflows

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// Histories recorded from real runs (internal/e2e with UPDATE_REPLAY_HISTORY=1) must replay
// with the current workflow code: a change that is not behind workflow.GetVersion and alters
// the commands a running 48-hour workflow would issue fails here, before it reaches a worker.
func TestRecordedHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files, "no recorded histories in testdata/")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflow(UpgradeProposalWorkflow)
			r.RegisterWorkflow(MigrationWorkflow)
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, f))
		})
	}
}
