package workflows

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// These tests run the workflow code with Temporal's test environment (time skips: a 48-hour
// timelock passes in milliseconds) and its activities replaced by a model of the on-chain
// program's rules. The real activities against the real chain are tested in the integration
// tests; here the subject is the workflow's logic.

const (
	threshold = 3
	timelock  = 48 * time.Hour
	lifetime  = 7 * 24 * time.Hour
)

// chainModel holds a proposal's on-chain state the way the program moves it.
type chainModel struct {
	mu        sync.Mutex
	env       *testsuite.TestWorkflowEnvironment
	status    string
	approvals []string
	eta       time.Time
	expiresAt time.Time
	grace     time.Duration // 0: 14 days
	executeBy time.Time
	paused    bool
	stale     bool
	kind      string
	// pauseLapses: the pause lapses on its own then (zero: held until resumed).
	pauseLapses time.Time
	reads       int
	executedAt  time.Time
	verified    int
	executed    int
	cancelled   int
	expired     int
	rollbacks   []activities.CancelInput
}

func (c *chainModel) snapshot() activities.ChainProposal {
	paused := c.isPaused()
	cp := activities.ChainProposal{
		Exists: true, Address: "P1", Status: c.status, Approvals: append([]string(nil), c.approvals...),
		Threshold: threshold, Eta: c.eta, ExpiresAt: c.expiresAt, ExecuteBy: c.executeBy, Paused: paused,
		ChainTime: c.env.Now(), Stale: c.stale,
	}
	if paused {
		cp.PauseLapsesAt = c.pauseLapses
	}
	return cp
}

// isPaused is the program's effective pause: set and not lapsed.
func (c *chainModel) isPaused() bool {
	return c.paused && (c.pauseLapses.IsZero() || c.env.Now().Before(c.pauseLapses))
}

type WorkflowSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env   *testsuite.TestWorkflowEnvironment
	chain *chainModel
}

func TestWorkflows(t *testing.T) { suite.Run(t, new(WorkflowSuite)) }

func (s *WorkflowSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.RegisterWorkflow(UpgradeProposalWorkflow)
	s.env.RegisterWorkflow(MigrationWorkflow)
	s.chain = &chainModel{env: s.env}
	var a *activities.Activities
	s.env.RegisterActivity(a)
}

// registerChain installs the chain model. testify matches expectations in the order they were
// added, so a test's own expectations (a failure injected once) go in before this.
func (s *WorkflowSuite) registerChain() {
	c := s.chain
	var a *activities.Activities

	s.env.OnActivity(a.VerifyBuffer, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.VerifyBufferInput) (activities.VerifyBufferResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.verified++
			return activities.VerifyBufferResult{ElfLen: 1}, nil
		})
	s.env.OnActivity(a.SubmitProposal, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.status == "" {
				c.status = "active"
				c.expiresAt = c.env.Now().Add(lifetime)
			}
			return activities.SubmitResult{Signature: "sig-propose", Proposal: c.snapshot()}, nil
		})
	s.env.OnActivity(a.SubmitApproval, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.status != "active" {
				return activities.SubmitResult{}, temporal.NewNonRetryableApplicationError(
					"ProposalNotActive", activities.ErrTypeProgram, nil)
			}
			for _, m := range c.approvals {
				if m == in.Member {
					return activities.SubmitResult{}, temporal.NewNonRetryableApplicationError(
						"AlreadyApproved", activities.ErrTypeProgram, nil)
				}
			}
			c.approvals = append(c.approvals, in.Member)
			if len(c.approvals) >= threshold {
				c.status = "approved"
				c.eta = c.env.Now().Add(timelock)
				grace := c.grace
				if grace == 0 {
					grace = 14 * 24 * time.Hour
				}
				c.executeBy = c.eta.Add(grace)
			}
			return activities.SubmitResult{Signature: "sig-approve-" + in.Member, Proposal: c.snapshot()}, nil
		})
	s.env.OnActivity(a.GetProposalState, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref activities.ProposalRef) (activities.ChainProposal, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.reads++
			return c.snapshot(), nil
		})
	execute := func(ctx context.Context, ref activities.ProposalRef) (activities.ExecuteResult, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case c.isPaused():
			return activities.ExecuteResult{}, temporal.NewNonRetryableApplicationError(
				"SystemPaused", activities.ErrTypePaused, nil)
		case c.status == "executed":
			return activities.ExecuteResult{Signature: "sig-execute"}, nil
		case c.stale:
			return activities.ExecuteResult{}, temporal.NewNonRetryableApplicationError(
				"ProposalStale", activities.ErrTypeProgram, nil)
		case c.status == "approved" && !c.executeBy.IsZero() && c.env.Now().After(c.executeBy):
			return activities.ExecuteResult{}, temporal.NewNonRetryableApplicationError(
				"ApprovalExpired", activities.ErrTypeProgram, nil)
		case c.status != "approved" || c.env.Now().Before(c.eta):
			return activities.ExecuteResult{}, temporal.NewNonRetryableApplicationError(
				"TimelockNotPassed", activities.ErrTypeProgram, nil)
		}
		c.status = "executed"
		c.executed++
		c.executedAt = c.env.Now()
		return activities.ExecuteResult{Signature: "sig-execute"}, nil
	}
	s.env.OnActivity(a.ExecuteUpgrade, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref activities.ProposalRef) (activities.ExecuteResult, error) {
			if s.chain.kind == "config" {
				return activities.ExecuteResult{}, temporal.NewNonRetryableApplicationError(
					"NotAnUpgradeProposal", activities.ErrTypeProgram, nil)
			}
			return execute(ctx, ref)
		})
	s.env.OnActivity(a.ExecuteConfig, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref activities.ProposalRef) (activities.ExecuteResult, error) {
			if s.chain.kind != "config" {
				return activities.ExecuteResult{}, temporal.NewNonRetryableApplicationError(
					"NotAConfigProposal", activities.ErrTypeProgram, nil)
			}
			return execute(ctx, ref)
		})
	s.env.OnActivity(a.CancelOnChain, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.CancelInput) (activities.CancelResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.rollbacks = append(c.rollbacks, in)
			if c.status == "executed" || c.status == "cancelled" {
				return activities.CancelResult{AlreadyFinished: c.status}, nil
			}
			c.status = "cancelled"
			c.cancelled++
			return activities.CancelResult{Signature: "sig-cancel"}, nil
		})
	s.env.OnActivity(a.MarkExpired, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref activities.ProposalRef) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.expired++
			return nil
		})
	s.env.OnActivity(a.MarkApprovalExpired, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, ref activities.ProposalRef) error {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.expired++
			return nil
		})
}

func (s *WorkflowSuite) input(migration bool) ProposalInput {
	in := ProposalInput{
		Proposal: "P1", Multisig: "M1", TargetProgram: "T1", Buffer: "B1",
		BufferHash: "00", Proposer: "m0", ProposeTx: []byte{1},
	}
	if migration {
		in.Migration = &activities.MigrationPlan{TargetVersion: 2, FromVersion: 1, DataSize: 64}
	}
	return in
}

// approve sends the approve update at a virtual time and records the outcome.
func (s *WorkflowSuite) approve(after time.Duration, member string, results map[string]error) {
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(UpdateApprove, "u-"+member+after.String(), &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { results[member+"@"+after.String()] = err },
			OnComplete: func(_ interface{}, err error) { results[member+"@"+after.String()] = err },
		}, ApproveRequest{Member: member, Tx: []byte{2}})
	}, after)
}

func (s *WorkflowSuite) state() ProposalState {
	var st ProposalState
	s.Require().NoError(s.env.GetWorkflowResult(&st))
	return st
}

func (s *WorkflowSuite) TestHappyPathWaitsTheTimelockAndExecutesOnce() {
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	var beforeEta ProposalState
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&beforeEta))
	}, 3*time.Hour+47*time.Hour)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Require().True(s.env.IsWorkflowCompleted())
	st := s.state()
	s.Equal(StepDone, st.Step)
	s.Equal("executed", st.Status)
	s.Equal("sig-execute", st.ExecuteSignature)
	s.Equal(1, s.chain.executed)
	for k, err := range results {
		s.NoError(err, k)
	}
	// Three hours of approvals plus 47 hours: still inside the timelock.
	s.Equal(StepTimelock, beforeEta.Step)
	s.Equal(3, len(beforeEta.Approvals))
}

func (s *WorkflowSuite) TestDuplicateApprovalIsRejectedByTheValidator() {
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m1", results)
	s.approve(3*time.Hour, "m2", results)
	s.approve(4*time.Hour, "m3", results)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Require().NoError(results["m1@1h0m0s"])
	s.Require().Error(results["m1@2h0m0s"])
	s.Contains(results["m1@2h0m0s"].Error(), "already approved")
	s.Equal("executed", s.state().Status)
}

func (s *WorkflowSuite) TestApprovalRefusedOnChainReachesTheCaller() {
	results := map[string]error{}
	// The API checks membership before the update; if a non-member's transaction still got
	// here, the program's refusal must come back to the caller, not kill the workflow.
	s.env.OnActivity((&activities.Activities{}).SubmitApproval, mock.Anything, mock.MatchedBy(
		func(in activities.SubmitInput) bool { return in.Member == "stranger" })).Return(
		activities.SubmitResult{}, temporal.NewNonRetryableApplicationError("NotAMember", activities.ErrTypeProgram, nil)).Once()
	s.approve(time.Hour, "stranger", results)
	s.approve(2*time.Hour, "m1", results)
	s.approve(3*time.Hour, "m2", results)
	s.approve(4*time.Hour, "m3", results)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Require().Error(results["stranger@1h0m0s"])
	s.Contains(results["stranger@1h0m0s"].Error(), "NotAMember")
	s.Equal("executed", s.state().Status)
}

func (s *WorkflowSuite) TestProposalExpiresWithoutApprovals() {
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	st := s.state()
	s.Equal(StepExpired, st.Step)
	s.Equal("expired", st.Status)
	s.Equal(1, s.chain.expired)
	s.Equal(0, s.chain.executed)
}

func (s *WorkflowSuite) TestCancelBeforeExecutionRollsBackOnChain() {
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 10*time.Hour)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Require().True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	s.True(temporal.IsCanceledError(errors.Unwrap(err)) || temporal.IsCanceledError(err), "%v", err)
	s.Equal(0, s.chain.executed)
	s.Equal(1, s.chain.cancelled)
	s.Require().Len(s.chain.rollbacks, 1)
	s.Equal(StepTimelock, s.chain.rollbacks[0].Stage)
}

func (s *WorkflowSuite) TestPauseDuringTimelockWaitsThenExecutesAfterResume() {
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	s.env.RegisterDelayedCallback(func() { s.chain.mu.Lock(); s.chain.paused = true; s.chain.mu.Unlock() }, 10*time.Hour)
	var during ProposalState
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&during))
	}, 60*time.Hour)
	s.env.RegisterDelayedCallback(func() {
		s.chain.mu.Lock()
		s.chain.paused = false
		s.chain.mu.Unlock()
		s.env.SignalWorkflow(SignalResumed, nil)
	}, 100*time.Hour)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Equal(StepPaused, during.Step, "paused past eta: the workflow waits instead of failing")
	s.Equal(StepDone, s.state().Step)
	s.Equal(1, s.chain.executed)
}

func (s *WorkflowSuite) TestTransientExecuteFailuresAreRetried() {
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	s.env.OnActivity((&activities.Activities{}).ExecuteUpgrade, mock.Anything, mock.Anything).
		Return(activities.ExecuteResult{}, errors.New("rpc: connection reset")).Twice()
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Equal(StepDone, s.state().Step)
	s.Equal(1, s.chain.executed)
}

func (s *WorkflowSuite) TestExecuteSignalShortCutsTheTimer() {
	// On a test chain time travel moves the chain's clock; the signal makes the workflow look.
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Equal(StepDone, s.state().Step)
}

// migrationModel is the account_migrations table and the governed program, in memory: chunk
// activities migrate only pending accounts, like the real ones.
type migrationModel struct {
	mu        sync.Mutex
	accounts  []string
	migrated  map[string]int // times each account was migrated on chain
	failing   map[string]bool
	failOnce  map[string]bool // chunk end -> fail the first attempt after doing half the work
	finished  []activities.FinishJobInput
	chunkRuns int
	pauseOnce map[string]bool // chunk end -> the multisig pauses halfway through its first attempt
	sent      int             // transactions sent by every attempt
}

func newMigrationModel(n int) *migrationModel {
	m := &migrationModel{migrated: map[string]int{}, failing: map[string]bool{}, failOnce: map[string]bool{}, pauseOnce: map[string]bool{}}
	for i := 0; i < n; i++ {
		m.accounts = append(m.accounts, fmt.Sprintf("acc%06d", i))
	}
	sort.Strings(m.accounts)
	return m
}

func (s *WorkflowSuite) registerMigration(m *migrationModel) {
	var a *activities.Activities
	s.env.OnActivity(a.ListAffectedAccounts, mock.Anything, mock.Anything).Return(len(m.accounts), nil)
	s.env.OnActivity(a.ChunkBounds, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.ChunkBoundsInput) ([]string, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			var pending []string
			for _, acc := range m.accounts {
				if acc > in.After && m.migrated[acc] == 0 && !m.failing[acc] {
					pending = append(pending, acc)
				}
			}
			var bounds []string
			for i := in.Size - 1; len(bounds) < in.Chunks; i += in.Size {
				if i >= len(pending) {
					if len(pending) > 0 && (len(bounds) == 0 || bounds[len(bounds)-1] != pending[len(pending)-1]) {
						bounds = append(bounds, pending[len(pending)-1])
					}
					break
				}
				bounds = append(bounds, pending[i])
			}
			return bounds, nil
		})
	s.env.OnActivity(a.MigrateChunk, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.MigrateChunkInput) (activities.ChunkResult, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.chunkRuns++
			var res activities.ChunkResult
			var todo []string
			for _, acc := range m.accounts {
				if acc > in.After && acc <= in.UpTo && m.migrated[acc] == 0 && !m.failing[acc] {
					todo = append(todo, acc)
				}
			}
			fail := m.failOnce[in.UpTo]
			pause := m.pauseOnce[in.UpTo]
			for i, acc := range todo {
				if fail && i == len(todo)/2 {
					delete(m.failOnce, in.UpTo)
					return activities.ChunkResult{}, errors.New("rpc: timeout mid-chunk")
				}
				if pause && i == len(todo)/2 {
					// The multisig was paused mid-chunk: half the range migrated, in i/perTx
					// transactions, which the error's details carry like the real activity's.
					delete(m.pauseOnce, in.UpTo)
					sent := (i + in.AccountsPerTx - 1) / in.AccountsPerTx
					m.sent += sent
					return activities.ChunkResult{}, temporal.NewNonRetryableApplicationError("system is paused",
						activities.ErrTypePaused, nil, activities.ChunkResult{Transactions: sent})
				}
				if acc[len(acc)-2:] == "13" && !m.failing[acc] && m.migrated[acc] == 0 {
					// An account the program can never migrate: recorded as failed, not retried.
					m.failing[acc] = true
					res.Failed++
					continue
				}
				m.migrated[acc]++
				res.Migrated++
			}
			res.Transactions = (len(todo) + in.AccountsPerTx - 1) / in.AccountsPerTx
			m.sent += res.Transactions
			// Like the real activity, report the range's final counts (an earlier failed
			// attempt's work included), so the workflow's totals are exact.
			res.Migrated, res.Failed = 0, 0
			for _, acc := range m.accounts {
				if acc > in.After && acc <= in.UpTo {
					if m.migrated[acc] > 0 {
						res.Migrated++
					} else if m.failing[acc] {
						res.Failed++
					}
				}
			}
			return res, nil
		})
	s.env.OnActivity(a.FinishJob, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.FinishJobInput) error {
			m.mu.Lock()
			defer m.mu.Unlock()
			m.finished = append(m.finished, in)
			return nil
		})
	s.env.OnActivity(a.CountJob, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, job string) (activities.JobCounts, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			var c activities.JobCounts
			for _, acc := range m.accounts {
				if m.migrated[acc] > 0 {
					c.Migrated++
				} else if m.failing[acc] {
					c.Failed++
				}
			}
			return c, nil
		})
}

func (s *WorkflowSuite) TestMigrationOfTenThousandAccountsWithFailuresMigratesEachOnce() {
	m := newMigrationModel(10_000)
	// Every 7th chunk boundary fails once halfway through; the retry must not migrate twice.
	for i := 511; i < len(m.accounts); i += 512 * 7 {
		m.failOnce[m.accounts[i]] = true
	}
	s.registerMigration(m)
	s.env.ExecuteWorkflow(MigrationWorkflow, MigrationInput{
		JobID: "migration-P1", Proposal: "P1", Multisig: "M1", TargetProgram: "T1",
		Plan: activities.MigrationPlan{TargetVersion: 2},
	})
	s.Require().True(s.env.IsWorkflowCompleted())
	var st MigrationState
	s.Require().NoError(s.env.GetWorkflowResult(&st))

	unmigratable := 0
	for _, acc := range m.accounts {
		if acc[len(acc)-2:] == "13" {
			unmigratable++
			s.Equal(0, m.migrated[acc], acc)
			continue
		}
		s.Require().Equal(1, m.migrated[acc], "account %s migrated %d times", acc, m.migrated[acc])
	}
	s.Equal(10_000-unmigratable, st.Migrated)
	s.Equal(unmigratable, st.Failed)
	s.Equal(0, st.Remaining)
	s.Equal("failed", st.Status, "a job with unmigratable accounts does not end as completed")
	s.Require().Len(m.finished, 1)
	s.Equal("failed", m.finished[0].Status)
}

func (s *WorkflowSuite) TestMigrationContinuesAsNewBeforeHistoryGrows() {
	m := newMigrationModel(3000)
	s.registerMigration(m)
	s.env.ExecuteWorkflow(MigrationWorkflow, MigrationInput{
		JobID: "migration-P1", Proposal: "P1", TargetProgram: "T1", ChunkSize: 2, Concurrency: 1,
	})
	s.Require().True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	s.Require().True(errors.As(err, &can), "expected continue-as-new after %d rounds, got %v", roundsPerRun, err)
	// Exactly roundsPerRun chunks of 2 ran before handing over, each account once.
	s.Equal(roundsPerRun, m.chunkRuns)
	done := 0
	for _, n := range m.migrated {
		s.Equal(1, n)
		done += n
	}
	s.Equal(2*roundsPerRun, done+len(m.failing))
}

func (s *WorkflowSuite) TestExecutedUpgradeStartsTheMigrationChild() {
	m := newMigrationModel(700)
	s.registerMigration(m)
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(true))
	st := s.state()
	s.Equal(StepDone, st.Step)
	s.Equal(MigrationWorkflowID("P1"), st.MigrationWorkflowID)
	s.Len(m.migrated, 700-7, "every account but the seven unmigratable ones")
}

func TestChunkBoundsModelCoversEveryAccount(t *testing.T) {
	// Guard for the model itself: walking bounds visits every pending account once.
	m := newMigrationModel(1000)
	seen := 0
	after := ""
	for {
		var pending []string
		for _, acc := range m.accounts {
			if acc > after {
				pending = append(pending, acc)
			}
		}
		if len(pending) == 0 {
			break
		}
		n := min(7, len(pending))
		seen += n
		after = pending[n-1]
	}
	require.Equal(t, 1000, seen)
}

func (s *WorkflowSuite) TestCancelAfterExecutionStopsTheMigrationWithoutCancellingOnChain() {
	m := newMigrationModel(500)
	var a *activities.Activities
	// The system is paused right after the upgrade: chunks come back paused, the migration
	// waits, and the emergency stop lands while it waits.
	s.env.OnActivity(a.MigrateChunk, mock.Anything, mock.Anything).Return(activities.ChunkResult{},
		temporal.NewNonRetryableApplicationError("system is paused", activities.ErrTypePaused, nil))
	s.registerMigration(m)
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 51*time.Hour+10*time.Minute)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(true))

	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().Error(s.env.GetWorkflowError())
	s.Equal(1, s.chain.executed, "the upgrade executed once")
	s.Equal(0, s.chain.cancelled, "an executed proposal is not cancelled on chain")
	s.Require().Len(s.chain.rollbacks, 1)
	s.Equal(StepMigrating, s.chain.rollbacks[0].Stage)
	s.Require().Len(m.finished, 1, "the migration records where it stopped")
	s.Equal("cancelled", m.finished[0].Status)
	s.Empty(m.migrated, "no batch ran after the stop")
}

func (s *WorkflowSuite) TestSearchAttributesAreUpsertedOnlyWhenTheyChange() {
	var statuses []string
	s.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		st, _ := args.Get(0).(temporal.SearchAttributes).GetKeyword(SAStatus)
		statuses = append(statuses, st)
	}).Return(nil)
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Equal(StepDone, s.state().Step)
	// pending, active, approved (with eta), executed: one upsert per change, none for the many
	// reads and steps in between.
	s.Equal([]string{"pending", "active", "approved", "executed"}, statuses)
}

// The worker refuses to pay a ProgramData extension above its rent ceiling, or to spend on a
// multisig taken off the served list: the workflow holds (its step says why), does not fail,
// and executes once the members extended the program or the operator served it again.
func (s *WorkflowSuite) TestExecutionHeldByTheRentCeilingOrTheServedListWaitsThenExecutes() {
	var a *activities.Activities
	s.env.OnActivity(a.ExecuteUpgrade, mock.Anything, mock.Anything).Return(activities.ExecuteResult{},
		temporal.NewNonRetryableApplicationError("ProgramData of T1 must grow by 10240 bytes", activities.ErrTypeExtendRentCeiling, nil)).Once()
	s.env.OnActivity(a.ExecuteUpgrade, mock.Anything, mock.Anything).Return(activities.ExecuteResult{},
		temporal.NewNonRetryableApplicationError("multisig M1 is not served", activities.ErrTypeNotServed, nil)).Once()
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	var held []ProposalState
	for _, at := range []time.Duration{51*time.Hour + 2*time.Minute, 51*time.Hour + 7*time.Minute} {
		s.env.RegisterDelayedCallback(func() {
			v, err := s.env.QueryWorkflow(QueryStatus)
			s.Require().NoError(err)
			var st ProposalState
			s.Require().NoError(v.Get(&st))
			held = append(held, st)
		}, at)
	}
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	st := s.state()
	s.Equal(StepDone, st.Step)
	s.Equal(1, s.chain.executed)
	s.Empty(st.LastError, "the hold's reason is cleared once it executes")
	s.Require().Len(held, 2)
	s.Equal(StepExtendNeeded, held[0].Step)
	s.Contains(held[0].LastError, "must grow by 10240 bytes")
	s.Equal(StepNotServed, held[1].Step)
	s.Contains(held[1].LastError, "not served")
}

// A member who approves after the threshold is told, in words, why the proposal takes no
// more approvals (it read "proposal is timelock, not collecting approvals").
func (s *WorkflowSuite) TestLateApprovalIsToldTheProposalIsInItsTimelock() {
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3", "m4"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Require().Error(results["m4@4h0m0s"])
	s.Equal("the proposal is approved and waiting out its timelock: it takes no more approvals", results["m4@4h0m0s"].Error())
	s.Equal("executed", s.state().Status)
}

// A chain answer without the proposal's lifetime end (state.ExpiresAt unset) must not panic the
// workflow task: it keeps collecting approvals and executes.
func (s *WorkflowSuite) TestAProposalWithoutAKnownExpiryDoesNotPanicTheWorkflow() {
	var a *activities.Activities
	c := s.chain
	s.env.OnActivity(a.SubmitProposal, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.status = "active" // expiresAt stays zero: no lifetime end in the answer
			return activities.SubmitResult{Signature: "sig-propose", Proposal: c.snapshot()}, nil
		}).Once()
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	s.Equal(StepDone, s.state().Step)
	s.Equal(1, s.chain.executed)
}

// A pause in the middle of a chunk while the chunks after it complete: while held, progress
// shows the work really done (it showed less), the final totals count every account once (the
// chunks beyond the held one were counted twice), every attempt's transactions are counted,
// the rate leaves the pause out, and a resume signal ends the wait at once instead of after
// five minutes.
func (s *WorkflowSuite) TestAPauseMidMigrationKeepsProgressExactAndResumesOnSignal() {
	const accounts = 10_000
	m := newMigrationModel(accounts)
	// The first round's first chunk (1024 accounts) pauses halfway; its three siblings finish.
	m.pauseOnce[m.accounts[DefaultChunkSize-1]] = true
	s.registerMigration(m)
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.approve(2*time.Hour, "m2", results)
	s.approve(3*time.Hour, "m3", results)
	var held, afterSignal MigrationState
	var parentHeld, parentAfter ProposalState
	queryParent := func(into *ProposalState) func() {
		return func() {
			v, err := s.env.QueryWorkflow(QueryStatus)
			s.Require().NoError(err)
			s.Require().NoError(v.Get(into))
		}
	}
	s.env.RegisterDelayedCallback(queryParent(&parentHeld), 51*time.Hour+time.Minute+time.Second)
	s.env.RegisterDelayedCallback(queryParent(&parentAfter), 51*time.Hour+3*time.Minute+time.Second)
	query := func(into *MigrationState) func() {
		return func() {
			v, err := s.env.QueryWorkflowByID(MigrationWorkflowID("P1"), QueryProgress)
			s.Require().NoError(err)
			s.Require().NoError(v.Get(into))
		}
	}
	// The upgrade executes at 51 h (3 h of approvals + 48 h); the first round runs at once.
	s.env.RegisterDelayedCallback(query(&held), 51*time.Hour+time.Minute)
	s.env.RegisterDelayedCallback(func() {
		s.Require().NoError(s.env.SignalWorkflowByID(MigrationWorkflowID("P1"), SignalResumed, nil))
	}, 51*time.Hour+2*time.Minute)
	s.env.RegisterDelayedCallback(query(&afterSignal), 51*time.Hour+3*time.Minute)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(true))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Equal("paused", held.Status)
	s.Equal(DefaultChunkSize/2+3*DefaultChunkSize, held.Migrated+held.Failed, "held, it shows every account done so far")
	s.NotEqual("paused", afterSignal.Status, "the resume signal ended the wait (it slept five minutes)")
	s.Equal(StepMigrating, parentHeld.Step)
	s.True(parentHeld.Paused, "the proposal's status says paused while its migration is held (it said false)")
	s.False(parentAfter.Paused, "and running again after the resume")

	s.Require().Len(m.finished, 1)
	s.Equal("failed", m.finished[0].Status, "the model's 1 % of accounts the program refuses")
	var st MigrationState
	v, err := s.env.QueryWorkflowByID(MigrationWorkflowID("P1"), QueryProgress)
	s.Require().NoError(err)
	s.Require().NoError(v.Get(&st))
	s.Equal(accounts, st.Migrated+st.Failed, "every account counted once")
	s.Equal(accounts/100, st.Failed)
	s.Equal(m.sent, st.Transactions, "every attempt's transactions")
	s.GreaterOrEqual(st.PausedFor, time.Minute)
	for acc, n := range m.migrated {
		s.Equal(1, n, acc)
	}
}

// An approved proposal held (here: the multisig paused) past eta + grace expires instead of
// executing: the program would refuse it (ApprovalExpired), and an ancient approval must not
// become executable again.
func (s *WorkflowSuite) TestAnApprovalHeldPastItsGraceExpires() {
	s.chain.grace = time.Hour
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	// Paused during the timelock, never resumed.
	s.env.RegisterDelayedCallback(func() {
		s.chain.mu.Lock()
		s.chain.paused = true
		s.chain.mu.Unlock()
	}, 10*time.Hour)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	st := s.state()
	s.Equal(StepExpired, st.Step)
	s.Equal("expired", st.Status)
	s.Equal(0, s.chain.executed)
	s.Equal(1, s.chain.expired)
}

// An approval still being submitted when the proposal ends (here: cancelled on chain meanwhile)
// gets its real answer: the workflow waits for its update handlers before it completes (it
// returned at once, and the caller got "the workflow completed before the update completed").
func (s *WorkflowSuite) TestTheWorkflowWaitsForAnApprovalInFlightBeforeItEnds() {
	var a *activities.Activities
	c := s.chain
	s.env.OnActivity(a.SubmitApproval, mock.Anything, mock.Anything).After(10 * time.Minute).Return(
		func(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
			c.mu.Lock()
			defer c.mu.Unlock()
			return activities.SubmitResult{}, temporal.NewNonRetryableApplicationError(
				"ProposalNotActive: the proposal was cancelled", activities.ErrTypeProgram, nil)
		}).Once()
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.env.RegisterDelayedCallback(func() {
		c.mu.Lock()
		c.status = "cancelled"
		c.mu.Unlock()
		s.env.SignalWorkflow(SignalApprovalObserved, nil)
	}, time.Hour+time.Minute)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	s.Equal(StepCancelled, s.state().Step)
	err, answered := results["m1@1h0m0s"]
	s.Require().True(answered, "the approval got an answer")
	s.Require().Error(err)
	s.Contains(err.Error(), "ProposalNotActive", "the chain's answer, not a workflow that went away")
}

func (s *WorkflowSuite) configInput() ProposalInput {
	s.chain.kind = "config"
	return ProposalInput{
		Proposal: "P1", Multisig: "M1", Proposer: "m0", ProposeTx: []byte{1}, Kind: "config",
		Actions: []governor.ConfigActionJSON{{Kind: "remove_member", Member: "m4", Summary: "remove member m4"}},
	}
}

func (s *WorkflowSuite) TestConfigProposalTakesTheSameStepsWithoutBufferOrMigration() {
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.configInput())

	s.Require().True(s.env.IsWorkflowCompleted())
	st := s.state()
	s.Equal(StepDone, st.Step)
	s.Equal("executed", st.Status)
	s.Equal("sig-execute", st.ExecuteSignature)
	s.Equal(1, s.chain.executed, "executed once, through execute_config")
	s.Zero(s.chain.verified, "a config proposal has no buffer to verify")
	s.Empty(st.MigrationWorkflowID)
	for k, err := range results {
		s.NoError(err, k)
	}
}

// A config change of the members executed elsewhere makes this proposal stale: while it
// collects approvals, the next look at the chain ends it as stale and later approvals are
// refused with the reason.
func (s *WorkflowSuite) TestStaleProposalStopsCollectingApprovals() {
	results := map[string]error{}
	s.approve(time.Hour, "m1", results)
	s.env.RegisterDelayedCallback(func() {
		s.chain.mu.Lock()
		s.chain.stale = true
		s.chain.mu.Unlock()
		s.env.SignalWorkflow(SignalApprovalObserved, nil)
	}, 2*time.Hour)
	s.approve(3*time.Hour, "m2", results)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Require().True(s.env.IsWorkflowCompleted())
	st := s.state()
	s.Equal(StepStale, st.Step)
	s.True(st.Stale)
	s.Equal("active", st.Status)
	s.Zero(s.chain.executed)
	s.NoError(results["m1@1h0m0s"])
}

// Approved before the config change, stale at the end of its timelock: it never executes.
func (s *WorkflowSuite) TestStaleApprovedProposalIsNotExecuted() {
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	s.env.RegisterDelayedCallback(func() {
		s.chain.mu.Lock()
		defer s.chain.mu.Unlock()
		s.chain.stale = true
	}, 10*time.Hour)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Require().True(s.env.IsWorkflowCompleted())
	st := s.state()
	s.Equal(StepStale, st.Step)
	s.Equal("approved", st.Status)
	s.Zero(s.chain.executed)
}

// A pause of 30 days held by the members (it does not lapse) costs the workflow a few looks at
// the chain, not one every 5 minutes (8,640, about 95,000 history events: past Temporal's
// limit); the resume signal executes at once.
func (s *WorkflowSuite) TestAMonthLongPauseKeepsTheHistorySmallAndResumesOnSignal() {
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	s.env.RegisterDelayedCallback(func() { s.chain.mu.Lock(); s.chain.paused = true; s.chain.mu.Unlock() }, 10*time.Hour)
	var readsBefore int
	s.env.RegisterDelayedCallback(func() {
		s.chain.mu.Lock()
		defer s.chain.mu.Unlock()
		readsBefore = s.chain.reads
	}, 11*time.Hour)
	resumeAt := 30 * 24 * time.Hour
	s.chain.grace = 60 * 24 * time.Hour // the approval outlives the pause
	var resumedAt time.Time
	var readsDuring int
	s.env.RegisterDelayedCallback(func() {
		s.chain.mu.Lock()
		s.chain.paused = false
		readsDuring = s.chain.reads - readsBefore
		resumedAt = s.env.Now()
		s.chain.mu.Unlock()
		s.env.SignalWorkflow(SignalResumed, nil)
	}, resumeAt)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Equal(StepDone, s.state().Step)
	s.Equal(1, s.chain.executed)
	s.LessOrEqual(readsDuring, 130, "looks at the chain during 30 days of pause")
	s.Less(s.chain.executedAt.Sub(resumedAt), 10*time.Second, "executed right after the resume signal")
}

// A pause that lapses on its own (fewer than threshold members held it) wakes the workflow at
// the lapse, without a signal.
func (s *WorkflowSuite) TestAPauseThatLapsesWakesTheWorkflowAtTheLapse() {
	results := map[string]error{}
	for i, m := range []string{"m1", "m2", "m3"} {
		s.approve(time.Duration(i+1)*time.Hour, m, results)
	}
	var lapses time.Time
	s.env.RegisterDelayedCallback(func() {
		s.chain.mu.Lock()
		defer s.chain.mu.Unlock()
		s.chain.paused = true
		lapses = s.env.Now().Add(72 * time.Hour)
		s.chain.pauseLapses = lapses
	}, 10*time.Hour)
	s.registerChain()
	s.env.ExecuteWorkflow(UpgradeProposalWorkflow, s.input(false))

	s.Equal(StepDone, s.state().Step)
	s.Equal(1, s.chain.executed)
	s.False(s.chain.executedAt.Before(lapses), "not executed while paused")
	s.Less(s.chain.executedAt.Sub(lapses), 10*time.Second, "executed as the pause lapsed")
}
