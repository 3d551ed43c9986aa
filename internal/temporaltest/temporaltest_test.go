package temporaltest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
)

func TestDevServerServesDefaultNamespaceWithSearchAttributes(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	ns, err := c.WorkflowService().DescribeNamespace(ctx,
		&workflowservice.DescribeNamespaceRequest{Namespace: temporaltest.Namespace})
	require.NoError(t, err)
	assert.Equal(t, temporaltest.Namespace, ns.GetNamespaceInfo().GetName())
	assert.Equal(t, enums.NAMESPACE_STATE_REGISTERED, ns.GetNamespaceInfo().GetState())

	sas, err := c.OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: temporaltest.Namespace})
	require.NoError(t, err)
	for _, sa := range temporaltest.SearchAttributes {
		assert.Equal(t, sa.Type, sas.GetCustomAttributes()[sa.Name], sa.Name)
	}
}

var (
	programKey = temporal.NewSearchAttributeKeyKeyword("UpgradeProgram")
	statusKey  = temporal.NewSearchAttributeKeyKeyword("ProposalStatus")
	etaKey     = temporal.NewSearchAttributeKeyTime("UpgradeEta")
)

// upsertAttributes is the smallest workflow that proves the attributes are usable as typed.
func upsertAttributes(ctx workflow.Context, program string) (string, error) {
	err := workflow.UpsertTypedSearchAttributes(ctx,
		programKey.ValueSet(program),
		statusKey.ValueSet("approved"),
		etaKey.ValueSet(time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)))
	return program, err
}

func TestWorkflowIsFoundBySearchAttribute(t *testing.T) {
	srv := temporaltest.Start(t)
	c := srv.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	w := worker.New(c, "temporaltest", worker.Options{})
	w.RegisterWorkflow(upsertAttributes)
	require.NoError(t, w.Start())
	defer w.Stop()

	const program = "EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5"
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: "temporaltest-upsert", TaskQueue: "temporaltest",
		StaticSummary: "Upgrade " + program,
	}, upsertAttributes, program)
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(ctx, &got))
	assert.Equal(t, program, got)

	// Visibility is eventually consistent: poll until the query finds the run.
	query := "UpgradeProgram = '" + program + "' AND ProposalStatus = 'approved' AND UpgradeEta > '2026-11-27T00:00:00Z'"
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		return err == nil && len(resp.GetExecutions()) == 1 &&
			resp.GetExecutions()[0].GetExecution().GetWorkflowId() == "temporaltest-upsert"
	}, 20*time.Second, 100*time.Millisecond, "workflow not found by %s", query)
}
