package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/config"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// landedThenWaiting is the fake activities with an approval that lands on the chain at once
// and then waits, as the real activity waits for confirmation: an emergency stop coming then
// cancels the update while its transaction is already on chain.
type landedThenWaiting struct {
	*fakeActivities
	once    sync.Once
	landed  chan struct{}
	release chan struct{}
}

func (a *landedThenWaiting) SubmitApproval(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
	res, err := a.fakeActivities.SubmitApproval(ctx, in)
	if err != nil {
		return res, err
	}
	a.once.Do(func() { close(a.landed) })
	select {
	case <-a.release:
	case <-ctx.Done():
	}
	return res, nil
}

// TestApprovalLandedBeforeEmergencyStop: the guardian's emergency stop cancels the workflow
// while its approve update waits for a transaction that has already landed. The approval
// counted on chain, so the member must be told so (200, and the audit row), not that it
// was refused.
func TestApprovalLandedBeforeEmergencyStop(t *testing.T) {
	ts := temporaltest.Start(t)
	e := newEnv(t, ts)
	acts := &landedThenWaiting{fakeActivities: &fakeActivities{chain: e.chain}, landed: make(chan struct{}), release: make(chan struct{})}
	queue := e.queue + "-landed"
	w := worker.New(e.temporal, queue, worker.Options{})
	w.RegisterWorkflow(workflows.UpgradeProposalWorkflow)
	w.RegisterWorkflow(workflows.MigrationWorkflow)
	w.RegisterActivity(acts)
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	t.Cleanup(func() { close(acts.release) }) // runs before w.Stop
	cfg := config.Default()
	cfg.TaskQueue = queue
	srv, err := api.New(api.Deps{
		Config: cfg, Store: e.store, Temporal: e.temporal, Chain: e.chain,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	e.srv, e.queue = srv, queue

	p := e.propose()
	tx := approveTx(t, e, p, e.members[1])
	answered := make(chan response, 1)
	go func() {
		answered <- e.do("POST", "/proposals/"+p.String()+"/approve", map[string]any{"transaction": tx})
	}()
	select {
	case <-acts.landed:
	case <-time.After(30 * time.Second):
		t.Fatal("the approval did not reach the activity")
	}
	r := e.do("POST", "/proposals/"+p.String()+"/cancel", map[string]any{"reason": "stop"}, bearer(e.guardianT)...)
	require.Equal(t, http.StatusAccepted, r.Code, "body: %s", r.Body)

	var got response
	select {
	case got = <-answered:
	case <-time.After(90 * time.Second):
		t.Fatal("the approve got no answer")
	}
	require.Equal(t, http.StatusOK, got.Code, "body: %s", got.Body)
	var res api.ApproveResponse
	got.decode(t, &res)
	assert.Equal(t, e.members[1].PublicKey().String(), res.Member)
	assert.Equal(t, 1, res.Approvals)
	assert.Contains(t, []string{"active", "cancelled"}, res.Status, "the chain's state when the approval was found")

	sig := res.Signature
	actions, err := e.store.SignatureActions(ctxT(t), sig)
	require.NoError(t, err)
	assert.Contains(t, actions, store.ActionApprovalRecorded, "the approval that counted is audited")
}
