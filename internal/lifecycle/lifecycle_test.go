package lifecycle_test

import (
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
)

func TestAnActiveProposalPastItsLifetimeIsExpired(t *testing.T) {
	assert.Equal(t, lifecycle.Active, lifecycle.FromChain(governor.ProposalActive, 100, 0, 99))
	assert.Equal(t, lifecycle.Expired, lifecycle.FromChain(governor.ProposalActive, 100, 0, 100), "the program refuses approvals from expires_at on")
	assert.Equal(t, lifecycle.Approved, lifecycle.FromChain(governor.ProposalApproved, 100, 2000, 2000), "executable until execute_by inclusive")
	assert.Equal(t, lifecycle.Expired, lifecycle.FromChain(governor.ProposalApproved, 100, 2000, 2001), "not executed within its grace")
	assert.Equal(t, lifecycle.Approved, lifecycle.FromChain(governor.ProposalApproved, 100, 0, 5000), "no deadline recorded: never expires")
	assert.Equal(t, lifecycle.Cancelled, lifecycle.FromChain(governor.ProposalCancelled, 100, 0, 1000))
}

func actions(as []lifecycle.Allowed) []lifecycle.Action {
	var out []lifecycle.Action
	for _, a := range as {
		out = append(out, a.Action)
	}
	return out
}

func TestActionsOpenInEachStatus(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	for _, tc := range []struct {
		name  string
		state lifecycle.State
		want  []lifecycle.Action
	}{
		{"active", lifecycle.State{Status: lifecycle.Active, WorkflowRunning: true},
			[]lifecycle.Action{lifecycle.Approve, lifecycle.Cancel, lifecycle.EmergencyStop}},
		{"expired offers nothing", lifecycle.State{Status: lifecycle.Expired, WorkflowRunning: true}, nil},
		{"approved", lifecycle.State{Status: lifecycle.Approved, Eta: now, Now: now, WorkflowRunning: true},
			[]lifecycle.Action{lifecycle.Execute, lifecycle.Cancel, lifecycle.EmergencyStop}},
		{"approved without a workflow", lifecycle.State{Status: lifecycle.Approved}, []lifecycle.Action{lifecycle.Cancel}},
		{"executed with a migration", lifecycle.State{Status: lifecycle.Executed, HasMigration: true}, []lifecycle.Action{lifecycle.Migrate}},
		{"executed, migration superseded", lifecycle.State{Status: lifecycle.Executed, HasMigration: true, Superseded: true}, nil},
		{"executed", lifecycle.State{Status: lifecycle.Executed}, nil},
		{"cancelled", lifecycle.State{Status: lifecycle.Cancelled, WorkflowRunning: true}, nil},
		{"pending", lifecycle.State{Status: lifecycle.Pending, WorkflowRunning: true}, []lifecycle.Action{lifecycle.EmergencyStop}},
		{"stale active: only closing it", lifecycle.State{Status: lifecycle.Active, Stale: true, WorkflowRunning: true},
			[]lifecycle.Action{lifecycle.Cancel, lifecycle.EmergencyStop}},
		{"stale approved: no execution", lifecycle.State{Status: lifecycle.Approved, Eta: now, Now: now, Stale: true, WorkflowRunning: true},
			[]lifecycle.Action{lifecycle.Cancel, lifecycle.EmergencyStop}},
		{"guardian replacement: no emergency stop", lifecycle.State{Status: lifecycle.Active, ReplacesGuardian: true, WorkflowRunning: true},
			[]lifecycle.Action{lifecycle.Approve, lifecycle.Cancel}},
	} {
		assert.Equal(t, tc.want, actions(lifecycle.Actions(tc.state)), tc.name)
	}
	early := lifecycle.Actions(lifecycle.State{Status: lifecycle.Approved, Eta: now.Add(time.Hour), Now: now, WorkflowRunning: true})
	assert.Contains(t, early[0].Note, "timelock")
	paused := lifecycle.Actions(lifecycle.State{Status: lifecycle.Approved, Eta: now, Now: now, Paused: true, WorkflowRunning: true})
	assert.Contains(t, paused[0].Note, "paused")
	// The guardian cannot cancel a proposal that replaces it: only members are offered cancel.
	g := lifecycle.Actions(lifecycle.State{Status: lifecycle.Active, ReplacesGuardian: true})
	assert.Equal(t, []string{lifecycle.ByMember}, g[1].By)
}

func TestOnlyTheProgramsMovesAreAllowed(t *testing.T) {
	assert.True(t, lifecycle.CanMove(lifecycle.Active, lifecycle.Expired))
	assert.True(t, lifecycle.CanMove(lifecycle.Active, lifecycle.Executed), "the index may learn of the approval late")
	assert.True(t, lifecycle.CanMove(lifecycle.Approved, lifecycle.Expired), "past its grace")
	assert.False(t, lifecycle.CanMove(lifecycle.Approved, lifecycle.Active))
	for _, s := range []lifecycle.Status{lifecycle.Executed, lifecycle.Cancelled, lifecycle.Expired} {
		assert.True(t, lifecycle.Settled(s))
		for _, to := range lifecycle.Indexed {
			assert.False(t, lifecycle.CanMove(s, to), "%s is final", s)
		}
	}
}

func TestVotesCountDistinctCurrentMembersOnly(t *testing.T) {
	k := func() solana.PublicKey { return solana.NewWallet().PublicKey() }
	m1, m2, m3, guardian := k(), k(), k(), k()
	members := []solana.PublicKey{m1, m2, m3}
	assert.Equal(t, 2, lifecycle.MemberVotes(members, []solana.PublicKey{m1, guardian, m2, m1}))
	assert.Equal(t, 0, lifecycle.MemberVotes(members, nil))
}

func TestPauseRules(t *testing.T) {
	k := func() solana.PublicKey { return solana.NewWallet().PublicKey() }
	m1, m2, guardian, outsider := k(), k(), k(), k()
	ms := &governor.Multisig{Members: []solana.PublicKey{m1, m2}, Threshold: 2, Guardian: guardian,
		MaxPauseSeconds: 100, PauseCooldownSeconds: 1000}
	assert.NoError(t, lifecycle.CanPause(ms, m1, 10))
	assert.NoError(t, lifecycle.CanPause(ms, guardian, 10))
	assert.Error(t, lifecycle.CanPause(ms, outsider, 10))

	// m1 paused at 10 until 110: m2 may vote to hold it, m1 not twice, the guardian not at all.
	ms.Paused, ms.PausedBy, ms.PauseExpiresAt, ms.PauseVotes = true, m1, 110, []solana.PublicKey{m1}
	assert.NoError(t, lifecycle.CanPause(ms, m2, 50))
	assert.Error(t, lifecycle.CanPause(ms, m1, 50))
	assert.Error(t, lifecycle.CanPause(ms, guardian, 50))
	assert.NoError(t, lifecycle.CanVoteResume(ms, m2, 50))
	assert.Error(t, lifecycle.CanVoteResume(ms, guardian, 50), "the guardian does not resume")

	// The pause lapsed at 110: m1 cools down until 1110, m2 may pause.
	assert.False(t, ms.IsPaused(110))
	err := lifecycle.CanPause(ms, m1, 200)
	assert.ErrorContains(t, err, "cannot pause again")
	assert.NoError(t, lifecycle.CanPause(ms, m2, 200))
	assert.NoError(t, lifecycle.CanPause(ms, m1, 1111))
	assert.Error(t, lifecycle.CanVoteResume(ms, m2, 200), "a lapsed pause needs no resume")

	ms.PauseCooldowns = []governor.PauseCooldown{{Key: m2, Until: 5000}}
	assert.Error(t, lifecycle.CanPause(ms, m2, 200), "a recorded cool-down")
}

func TestCancelVotes(t *testing.T) {
	m1 := solana.NewWallet().PublicKey()
	p := &governor.Proposal{Status: governor.ProposalActive}
	assert.NoError(t, lifecycle.CanVoteCancel(p, m1))
	p.CancelVotes = []solana.PublicKey{m1}
	assert.Error(t, lifecycle.CanVoteCancel(p, m1))
	p.Status = governor.ProposalExecuted
	assert.ErrorContains(t, lifecycle.CanVoteCancel(&governor.Proposal{Status: governor.ProposalExecuted}, m1), "executed")
}
