// Package workflows holds the durable processes of an upgrade: one UpgradeProposalWorkflow per
// proposal (verify, propose, approvals, timelock, execute) and a MigrationWorkflow for the
// accounts an upgrade changes. Cancelling either is the emergency stop.
package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	enums "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Names shared with the API server and operators (temporal CLI, Web UI).
const (
	TaskQueue = "upgrade-governor"

	// UpdateApprove submits a member-signed approve transaction and answers with the result.
	UpdateApprove = "approve"
	// SignalApprovalObserved tells the workflow the chain changed outside of it (the indexer saw
	// an approval or a cancel sent straight to RPC): it re-reads the proposal.
	SignalApprovalObserved = "chain-changed"
	// SignalExecute asks the workflow to check the chain's clock now instead of waiting for its
	// timer (after a time travel on a test chain, or when an operator wants it executed now).
	SignalExecute = "execute-now"
	// SignalResumed tells a workflow waiting on a pause to look again.
	SignalResumed = "system-resumed"
	// SignalMigrationHeld (a bool) tells the proposal workflow that its migration is held by a
	// pause (true) or runs again (false).
	SignalMigrationHeld = "migration-held"
	// QueryStatus returns ProposalState.
	QueryStatus = "status"
)

// Steps of a proposal, as the status query and the Web UI's details show them.
const (
	StepVerifying  = "verifying-buffer"
	StepProposing  = "proposing"
	StepApprovals  = "collecting-approvals"
	StepTimelock   = "timelock"
	StepPaused     = "paused"
	StepExecuting  = "executing"
	StepMigrating  = "migrating"
	StepDone       = "done"
	StepCancelled  = "cancelled"
	StepExpired    = "expired"
	StepRolledBack = "rolled-back"
	// StepStale: a config change of the members or threshold executed after the proposal was
	// created; the program refuses its approval and execution. Members propose it again.
	StepStale = "stale"
	// StepExtendNeeded: ProgramData must grow by more rent than the worker pays; the members
	// extend it (`solana program extend`), then ask for execution.
	StepExtendNeeded = "extend-needed"
	// StepNotServed: the operator took the multisig off the served list; the worker spends
	// nothing until it is served again.
	StepNotServed = "not-served"
)

// notCollecting says, in words a member reads, why a proposal at step takes no approval.
func notCollecting(step string) error {
	why := map[string]string{
		StepTimelock:     "is approved and waiting out its timelock",
		StepPaused:       "is approved, and its multisig is paused",
		StepExtendNeeded: "is approved and waiting for its ProgramData to be extended",
		StepNotServed:    "is approved, and its multisig is no longer served here",
		StepExecuting:    "is being executed",
		StepMigrating:    "is executed (its accounts are migrating)",
		StepDone:         "is executed",
		StepCancelled:    "is cancelled",
		StepRolledBack:   "was stopped and cancelled",
		StepExpired:      "expired (unapproved past its lifetime, or approved and not executed within its grace)",
		StepStale:        "is stale: a config change of the members or threshold executed after it was created (propose it again)",
	}[step]
	if why == "" {
		why = "is at step " + step
	}
	return fmt.Errorf("the proposal %s: it takes no more approvals", why)
}

// ProposalWorkflowID is derived from the proposal, so a retried create starts nothing twice.
func ProposalWorkflowID(proposal string) string { return "proposal-" + proposal }

// MigrationWorkflowID names the migration of an executed proposal.
func MigrationWorkflowID(proposal string) string { return "migration-" + proposal }

// ProposalInput starts an UpgradeProposalWorkflow.
type ProposalInput struct {
	Proposal      string
	Multisig      string
	TargetProgram string
	Buffer        string
	BufferHash    string
	Proposer      string
	Description   string
	// ProposeTx is the member-signed propose transaction; empty when it is already on chain.
	ProposeTx []byte
	// Migration, when set, starts a MigrationWorkflow after execution.
	Migration *activities.MigrationPlan
	// Kind is "config" for a proposal that changes the multisig (Actions); empty or "upgrade"
	// for an upgrade (TargetProgram, Buffer, BufferHash). The steps are the same, without the
	// buffer checks and the migration.
	Kind    string
	Actions []governor.ConfigActionJSON
}

// IsConfig reports whether the input is a config proposal's.
func (in ProposalInput) IsConfig() bool { return in.Kind == store.KindConfig }

// ApproveRequest is the update's argument: a member-signed approve transaction that the API
// has already decoded and checked.
type ApproveRequest struct {
	Member string
	Tx     []byte
}

// ApproveResult answers an approve update.
type ApproveResult struct {
	Signature string
	Approvals int
	Threshold int
	Status    string
	Eta       *time.Time
}

// ProposalState is the live status returned by QueryStatus.
type ProposalState struct {
	Step      string
	Status    string
	Approvals []string
	Threshold int
	Eta       *time.Time
	ExpiresAt *time.Time
	// ExecuteBy is the last moment the approved proposal may execute (eta + grace).
	ExecuteBy           *time.Time
	Paused              bool
	ProposeSignature    string
	ExecuteSignature    string
	CancelSignature     string
	MigrationWorkflowID string
	LastError           string
	// Stale: a config change of the members or threshold made this proposal stale.
	Stale bool
}

// Search attributes the workflow keeps current, so operators can filter in the Web UI
// (registered on the dev server by internal/temporaltest's flags, and in docker-compose.yml).
var (
	SAProgram  = temporal.NewSearchAttributeKeyKeyword("UpgradeProgram")
	SAMultisig = temporal.NewSearchAttributeKeyKeyword("UpgradeMultisig")
	SAStatus   = temporal.NewSearchAttributeKeyKeyword("ProposalStatus")
	SAEta      = temporal.NewSearchAttributeKeyTime("UpgradeEta")
)

// Activity options, each with its reason.
var (
	// Chain reads are quick; a node that does not answer in 30 s is retried.
	readOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		},
	}
	// Sending waits for confirmation (tens of seconds on a busy cluster); retries are safe
	// because each activity checks the chain before it sends. Rule violations are final.
	sendOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		// The activities heartbeat while they wait: a killed worker is noticed in 20 s.
		HeartbeatTimeout: 20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 2 * time.Minute,
			NonRetryableErrorTypes: []string{
				activities.ErrTypeProgram, activities.ErrTypeBufferMismatch,
				activities.ErrTypeInvalidTransaction, activities.ErrTypePaused,
				activities.ErrTypeNotServed, activities.ErrTypeExtendRentCeiling,
			},
		},
	}
	// The emergency stop must get through: it retries for as long as it takes.
	cancelOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		HeartbeatTimeout:    20 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{activities.ErrTypeProgram},
		},
	}
)

// changeOnlyChangedAttributes names the workflow change that stopped upserting unchanged
// search attributes (workflow.GetVersion keeps older histories replaying).
const changeOnlyChangedAttributes = "upsert-only-changed-search-attributes"

// changeWaitForHandlers names the change that waits for in-flight update handlers before the
// workflow completes.
const changeWaitForHandlers = "wait-for-update-handlers"

// changeMigrationSearchAttributes names the change that starts the migration child with the
// program's and multisig's search attributes.
const changeMigrationSearchAttributes = "migration-child-search-attributes"

// changeChildCancels names the change that cancels the migration child (instead of the
// server's default, terminate) when the proposal workflow closes, and waits for it.
const changeChildCancels = "migration-child-request-cancel"

// pausePoll is how often a paused workflow looked at the chain when no resume signal came
// (histories before changeLongPausePoll; a pause of weeks then filled the history).
const pausePoll = 5 * time.Minute

// pauseLongPoll is how long a paused workflow waits for a resume signal (the API's resume and
// the indexer's, for a resume sent straight to RPC) before it looks at the chain anyway; it
// also wakes when the pause lapses on its own. A 30-day pause costs about 120 looks.
const pauseLongPoll = 6 * time.Hour

// changeLongPausePoll names the change from polling a pause every 5 minutes to waiting for the
// resume signal, the pause's lapse, or pauseLongPoll.
const changeLongPausePoll = "long-pause-poll"

type proposalRun struct {
	in    ProposalInput
	state ProposalState
	ref   activities.ProposalRef
	poked bool // a signal asked to re-read the chain
	// chainNow is the chain's clock at the last read; timelock and expiry follow it.
	chainNow time.Time
	// published is what the last search attribute upsert set; onlyChangedAttributes (a
	// workflow version) skips upserts that would set the same values again.
	published             *publishedAttributes
	onlyChangedAttributes bool
	// longPause (a workflow version): a pause waits for its resume or lapse, not 5 minutes.
	longPause bool
	// pauseLapses is when the current pause lapses on its own (zero: held until resumed).
	pauseLapses time.Time
	logger      interface {
		Info(string, ...interface{})
		Warn(string, ...interface{})
	}
}

// UpgradeProposalWorkflow drives one proposal from buffer verification to execution and, when
// declared, the migration of the governed program's accounts.
func UpgradeProposalWorkflow(ctx workflow.Context, in ProposalInput) (ProposalState, error) {
	r := &proposalRun{
		in:     in,
		ref:    activities.ProposalRef{Proposal: in.Proposal, Multisig: in.Multisig},
		logger: workflow.GetLogger(ctx),
	}
	r.state.Step = StepVerifying
	r.onlyChangedAttributes = workflow.GetVersion(ctx, changeOnlyChangedAttributes, workflow.DefaultVersion, 1) == 1
	r.longPause = workflow.GetVersion(ctx, changeLongPausePoll, workflow.DefaultVersion, 1) == 1
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (ProposalState, error) {
		return r.state, nil
	}); err != nil {
		return r.state, fmt.Errorf("register status query: %w", err)
	}
	r.publish(ctx)

	err := r.run(ctx)
	if err == nil {
		// An approval still being submitted gets its real answer before the workflow ends
		// (histories recorded before this change ended at once).
		if workflow.GetVersion(ctx, changeWaitForHandlers, workflow.DefaultVersion, 1) == 1 {
			if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); werr != nil {
				return r.state, fmt.Errorf("wait for update handlers: %w", werr)
			}
		}
		return r.state, nil
	}
	if temporal.IsCanceledError(err) || errors.Is(ctx.Err(), workflow.ErrCanceled) {
		return r.rollback(ctx)
	}
	r.state.LastError = err.Error()
	r.publish(ctx)
	return r.state, err
}

func (r *proposalRun) run(ctx workflow.Context) error {
	var a *activities.Activities
	sendCtx := workflow.WithActivityOptions(ctx, sendOpts)
	readCtx := workflow.WithActivityOptions(ctx, readOpts)

	// Approvals arrive as updates (from the API). The handler is registered before anything
	// else so an approval that races the propose transaction waits for it instead of failing.
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApprove,
		func(ctx workflow.Context, req ApproveRequest) (ApproveResult, error) {
			if err := workflow.Await(ctx, func() bool {
				return r.state.Step != StepVerifying && r.state.Step != StepProposing
			}); err != nil {
				return ApproveResult{}, err
			}
			if r.state.Step != StepApprovals {
				return ApproveResult{}, notCollecting(r.state.Step)
			}
			var res activities.SubmitResult
			err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, sendOpts),
				a.SubmitApproval, activities.SubmitInput{
					ProposalRef: r.ref, Tx: req.Tx, Member: req.Member,
				}).Get(ctx, &res)
			if err != nil {
				return ApproveResult{}, fmt.Errorf("submit approval of %s: %w", req.Member, err)
			}
			r.absorb(res.Proposal)
			r.publish(ctx)
			return ApproveResult{
				Signature: res.Signature, Approvals: len(r.state.Approvals),
				Threshold: r.state.Threshold, Status: r.state.Status, Eta: r.state.Eta,
			}, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(req ApproveRequest) error {
			if len(req.Tx) == 0 || req.Member == "" {
				return errors.New("approve needs the member and the signed transaction")
			}
			switch r.state.Step {
			case StepVerifying, StepProposing, StepApprovals:
			default:
				return notCollecting(r.state.Step)
			}
			for _, m := range r.state.Approvals {
				if m == req.Member {
					return fmt.Errorf("member %s has already approved", req.Member)
				}
			}
			return nil
		}},
	); err != nil {
		return fmt.Errorf("register approve update: %w", err)
	}

	// 1. The buffer holds the bytes members are asked to approve, and only the PDA can change it.
	verify := activities.VerifyBufferInput{
		Multisig: r.in.Multisig, TargetProgram: r.in.TargetProgram,
		Buffer: r.in.Buffer, BufferHash: r.in.BufferHash,
	}
	var vb activities.VerifyBufferResult
	if !r.in.IsConfig() {
		if err := workflow.ExecuteActivity(sendCtx, a.VerifyBuffer, verify).Get(ctx, &vb); err != nil {
			return fmt.Errorf("verify buffer: %w", err)
		}
	}

	// 2. Propose on chain (or find the proposal already there).
	r.setStep(ctx, StepProposing)
	var sub activities.SubmitResult
	if err := workflow.ExecuteActivity(sendCtx, a.SubmitProposal, activities.SubmitInput{
		ProposalRef: r.ref, Tx: r.in.ProposeTx, Member: r.in.Proposer,
		Description: r.in.Description, MigrationTargetVersion: migrationVersion(r.in.Migration),
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID,
	}).Get(ctx, &sub); err != nil {
		return fmt.Errorf("submit proposal: %w", err)
	}
	r.state.ProposeSignature = sub.Signature
	r.absorb(sub.Proposal)

	// 3. Approvals arrive as updates (from the API) or as chain-changed signals (indexer).
	r.setStep(ctx, StepApprovals)
	r.listen(ctx)
	for r.state.Status == "active" {
		// Wait for an update handler or a signal to change something, or for the expiry.
		r.poked = false
		n, status := len(r.state.Approvals), r.state.Status
		// Without a known lifetime end (a chain answer without one) look again after a while.
		wait := pausePoll
		if r.state.ExpiresAt != nil {
			wait = max(r.state.ExpiresAt.Sub(workflow.Now(ctx)), time.Second)
		}
		fired, err := workflow.AwaitWithTimeout(ctx, wait,
			func() bool { return r.poked || len(r.state.Approvals) != n || r.state.Status != status })
		if err != nil {
			return err
		}
		if !fired || r.poked {
			if err := r.refresh(readCtx); err != nil {
				return err
			}
		}
		if r.isStale() {
			r.setStep(ctx, StepStale)
			return nil
		}
		if r.state.Status == "active" && r.state.ExpiresAt != nil && lifecycle.ExpiredAt(*r.state.ExpiresAt, r.chainNow) {
			return r.expire(ctx)
		}
	}
	if r.state.Status == "cancelled" {
		r.setStep(ctx, StepCancelled)
		return nil
	}
	if r.state.Status == "executed" {
		return r.afterExecution(ctx)
	}

	// 4. Timelock: a durable timer to eta, re-checked against the chain's clock.
	r.setStep(ctx, StepTimelock)
	for {
		if err := r.refresh(readCtx); err != nil {
			return err
		}
		switch r.state.Status {
		case "cancelled":
			r.setStep(ctx, StepCancelled)
			return nil
		case "executed":
			return r.afterExecution(ctx)
		}
		if r.approvalExpired() {
			return r.expireApproval(ctx)
		}
		if r.isStale() {
			r.setStep(ctx, StepStale)
			return nil
		}
		if r.state.Paused {
			r.setStep(ctx, StepPaused)
			if err := r.sleep(ctx, r.pauseWait()); err != nil {
				return err
			}
			continue
		}
		if r.state.Eta == nil {
			// Approved without a known eta (should not happen): read the chain again later.
			if err := r.sleep(ctx, pausePoll); err != nil {
				return err
			}
			continue
		}
		wait := r.state.Eta.Sub(r.chainNow)
		if wait <= 0 {
			break
		}
		r.setStep(ctx, StepTimelock)
		// The chain's clock and ours agree on a real cluster; a signal short-cuts the wait
		// when they do not (time travel on a test chain) or when an operator asks.
		if err := r.sleep(ctx, wait); err != nil {
			return err
		}
	}

	// 5. Re-verify and execute.
	r.setStep(ctx, StepExecuting)
	if r.in.IsConfig() {
		return r.executeConfig(ctx)
	}
	if err := workflow.ExecuteActivity(sendCtx, a.VerifyBuffer, verify).Get(ctx, &vb); err != nil {
		// An executed proposal has no buffer left to check.
		if rerr := r.refresh(readCtx); rerr == nil && r.state.Status == "executed" {
			return r.afterExecution(ctx)
		}
		return fmt.Errorf("re-verify buffer before execution: %w", err)
	}
	if err := r.execute(ctx, a.ExecuteUpgrade, "execute upgrade"); err != nil {
		return err
	}
	if r.state.Status == "expired" {
		return nil
	}
	if err := r.refresh(readCtx); err != nil {
		return err
	}
	return r.afterExecution(ctx)
}

// execute sends the execute activity until it lands. A pause, a rent ceiling or an unserved
// multisig holds it (it waits like a pause and tries again); an approval that expires meanwhile
// ends the run as expired (state Status "expired").
func (r *proposalRun) execute(ctx workflow.Context, activity any, what string) error {
	sendCtx := workflow.WithActivityOptions(ctx, sendOpts)
	readCtx := workflow.WithActivityOptions(ctx, readOpts)
	for {
		var ex activities.ExecuteResult
		err := workflow.ExecuteActivity(sendCtx, activity, r.ref).Get(ctx, &ex)
		if err == nil {
			r.state.ExecuteSignature = ex.Signature
			return nil
		}
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			// Held, not failed: wait like a pause (a signal such as execute-now wakes it), then
			// try again.
			held := map[string]string{
				activities.ErrTypePaused:            StepPaused, // paused between the check and the send
				activities.ErrTypeExtendRentCeiling: StepExtendNeeded,
				activities.ErrTypeNotServed:         StepNotServed,
			}[appErr.Type()]
			if held != "" {
				if held != StepPaused {
					r.state.LastError = appErr.Message()
				}
				r.setStep(ctx, held)
				wait := pausePoll
				if held == StepPaused {
					wait = r.pauseWait()
				}
				if err := r.sleep(ctx, wait); err != nil {
					return err
				}
				r.state.LastError = ""
				// Held past eta + grace, the approval has expired: the program refuses it.
				if err := r.refresh(readCtx); err != nil {
					return err
				}
				if r.approvalExpired() {
					return r.expireApproval(ctx)
				}
				r.setStep(ctx, StepExecuting)
				continue
			}
		}
		return fmt.Errorf("%s: %w", what, err)
	}
}

// executeConfig executes a config proposal: the program applies its actions at once; there is
// nothing to migrate.
func (r *proposalRun) executeConfig(ctx workflow.Context) error {
	var a *activities.Activities
	if err := r.execute(ctx, a.ExecuteConfig, "execute config"); err != nil {
		return err
	}
	if r.state.Status == "expired" {
		return nil
	}
	if err := r.refresh(workflow.WithActivityOptions(ctx, readOpts)); err != nil {
		return err
	}
	r.setStep(ctx, StepDone)
	return nil
}

// pauseWait is how long a paused workflow waits before it looks at the chain again: until
// the pause lapses (plus a second), at most pauseLongPoll; a resume signal ends it sooner.
func (r *proposalRun) pauseWait() time.Duration {
	if !r.longPause {
		return pausePoll
	}
	wait := pauseLongPoll
	if !r.pauseLapses.IsZero() {
		wait = min(wait, max(r.pauseLapses.Sub(r.chainNow)+time.Second, time.Second))
	}
	return wait
}

// isStale says the proposal can no longer be approved or executed: a config change of the
// members or threshold executed after it was created. An executed or cancelled proposal is
// over anyway.
func (r *proposalRun) isStale() bool {
	return r.state.Stale && (r.state.Status == "active" || r.state.Status == "approved")
}

// afterExecution starts the migration, when one is declared, and waits for it.
func (r *proposalRun) afterExecution(ctx workflow.Context) error {
	if r.in.Migration == nil {
		r.setStep(ctx, StepDone)
		return nil
	}
	r.setStep(ctx, StepMigrating)
	id := MigrationWorkflowID(r.in.Proposal)
	r.state.MigrationWorkflowID = id
	opts := workflow.ChildWorkflowOptions{
		WorkflowID:    id,
		StaticSummary: fmt.Sprintf("Migrate accounts of %s after %s", r.in.TargetProgram, r.in.Proposal),
	}
	// Cancelling the proposal workflow during a migration stops the migration too: the child
	// is asked to cancel (not terminated), and the parent waits until it has recorded where it
	// stopped before closing. Histories recorded before this change left the policy to the
	// server (terminate), which could cut the child off before its record.
	if workflow.GetVersion(ctx, changeChildCancels, workflow.DefaultVersion, 1) == 1 {
		opts.ParentClosePolicy = enums.PARENT_CLOSE_POLICY_REQUEST_CANCEL
		opts.WaitForCancellation = true
	}
	// Operators find a migration by program and multisig like its proposal (the README's list
	// query); histories recorded before this change start their child without them.
	if workflow.GetVersion(ctx, changeMigrationSearchAttributes, workflow.DefaultVersion, 1) == 1 {
		opts.TypedSearchAttributes = temporal.NewSearchAttributes(
			SAProgram.ValueSet(r.in.TargetProgram), SAMultisig.ValueSet(r.in.Multisig))
	}
	cctx := workflow.WithChildOptions(ctx, opts)
	held := workflow.GetSignalChannel(ctx, SignalMigrationHeld)
	workflow.Go(ctx, func(gctx workflow.Context) {
		var v bool
		for held.Receive(gctx, &v) {
			r.state.Paused = v
		}
	})
	var res MigrationState
	err := workflow.ExecuteChildWorkflow(cctx, MigrationWorkflow, MigrationInput{
		JobID: id, Proposal: r.in.Proposal, Multisig: r.in.Multisig,
		TargetProgram: r.in.TargetProgram, Plan: *r.in.Migration,
	}).Get(ctx, &res)
	if err != nil {
		return fmt.Errorf("migration %s: %w", id, err)
	}
	r.setStep(ctx, StepDone)
	return nil
}

// expire records an Active proposal whose lifetime ran out before it reached the threshold.
func (r *proposalRun) expire(ctx workflow.Context) error {
	var a *activities.Activities
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, sendOpts),
		a.MarkExpired, r.ref).Get(ctx, nil); err != nil {
		return fmt.Errorf("mark expired: %w", err)
	}
	r.state.Status = "expired"
	r.setStep(ctx, StepExpired)
	return nil
}

// approvalExpired says the approved proposal was not executed by eta + grace (the program's
// rule, internal/lifecycle).
func (r *proposalRun) approvalExpired() bool {
	return r.state.Status == "approved" && r.state.ExecuteBy != nil &&
		lifecycle.ApprovalExpired(r.state.ExecuteBy.Unix(), r.chainNow.Unix())
}

// expireApproval records an approval that expired unexecuted.
func (r *proposalRun) expireApproval(ctx workflow.Context) error {
	var a *activities.Activities
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, sendOpts),
		a.MarkApprovalExpired, r.ref).Get(ctx, nil); err != nil {
		return fmt.Errorf("mark approval expired: %w", err)
	}
	r.state.Status = "expired"
	r.setStep(ctx, StepExpired)
	return nil
}

// rollback is the emergency stop: the workflow was cancelled. Before execution the guardian
// cancels the proposal on chain; after it, the migration child has stopped on its own. Either
// way a rollback_events row records where it stopped. It runs in a disconnected context so the
// cancellation that brought us here does not cancel the compensation too.
func (r *proposalRun) rollback(ctx workflow.Context) (ProposalState, error) {
	var a *activities.Activities
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, cancelOpts)
	stage := r.state.Step
	var res activities.CancelResult
	err := workflow.ExecuteActivity(dctx, a.CancelOnChain, activities.CancelInput{
		ProposalRef: r.ref, Reason: "workflow cancelled (emergency stop)", Actor: "guardian",
		WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID, Stage: stage,
	}).Get(dctx, &res)
	if err != nil {
		r.state.LastError = err.Error()
		r.publish(dctx)
		return r.state, fmt.Errorf("emergency stop at %s: %w", stage, err)
	}
	r.state.CancelSignature = res.Signature
	if res.Refused != "" {
		r.state.LastError = "not cancelled on chain: " + res.Refused
	} else if res.AlreadyFinished == "" || res.AlreadyFinished == "cancelled" {
		r.state.Status = "cancelled"
	}
	r.setStep(dctx, StepRolledBack)
	return r.state, temporal.NewCanceledError(stage)
}

// listen turns the signals into a flag the waits below look at: any of them means "look at the
// chain again now".
func (r *proposalRun) listen(ctx workflow.Context) {
	for _, name := range []string{SignalApprovalObserved, SignalExecute, SignalResumed} {
		ch := workflow.GetSignalChannel(ctx, name)
		workflow.Go(ctx, func(gctx workflow.Context) {
			for ch.Receive(gctx, nil) {
				r.poked = true
			}
		})
	}
}

// sleep waits up to d, or until a signal asks to look at the chain again.
func (r *proposalRun) sleep(ctx workflow.Context, d time.Duration) error {
	r.poked = false
	if _, err := workflow.AwaitWithTimeout(ctx, max(d, time.Second), func() bool { return r.poked }); err != nil {
		return err
	}
	return nil
}

func (r *proposalRun) refresh(ctx workflow.Context) error {
	var a *activities.Activities
	var cp activities.ChainProposal
	if err := workflow.ExecuteActivity(ctx, a.GetProposalState, r.ref).Get(ctx, &cp); err != nil {
		return fmt.Errorf("read proposal %s: %w", r.in.Proposal, err)
	}
	r.absorb(cp)
	r.publish(ctx)
	return nil
}

func (r *proposalRun) absorb(cp activities.ChainProposal) {
	if !cp.Exists {
		return
	}
	r.state.Status = cp.Status
	r.state.Approvals = cp.Approvals
	r.state.Threshold = cp.Threshold
	r.state.Paused = cp.Paused
	r.pauseLapses = cp.PauseLapsesAt
	r.state.Stale = cp.Stale
	if !cp.Eta.IsZero() {
		eta := cp.Eta
		r.state.Eta = &eta
	}
	if !cp.ExpiresAt.IsZero() {
		exp := cp.ExpiresAt
		r.state.ExpiresAt = &exp
	}
	if !cp.ExecuteBy.IsZero() {
		by := cp.ExecuteBy
		r.state.ExecuteBy = &by
	}
	r.chainNow = cp.ChainTime
}

func (r *proposalRun) setStep(ctx workflow.Context, step string) {
	r.state.Step = step
	r.publish(ctx)
}

// publish keeps the Web UI current: search attributes to filter on, details to read.
func (r *proposalRun) publish(ctx workflow.Context) {
	status := r.state.Status
	if status == "" {
		status = "pending"
	}
	updates := []temporal.SearchAttributeUpdate{
		SAProgram.ValueSet(r.in.TargetProgram),
		SAMultisig.ValueSet(r.in.Multisig),
		SAStatus.ValueSet(status),
	}
	if r.state.Eta != nil {
		updates = append(updates, SAEta.ValueSet(*r.state.Eta))
	}
	// Each upsert is a command and a history event; since version 1 only a change is upserted
	// (histories recorded before keep their upserts on replay).
	published := publishedAttributes{status: status}
	if r.state.Eta != nil {
		published.eta = *r.state.Eta
	}
	if !r.onlyChangedAttributes || r.published == nil || *r.published != published {
		if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
			r.logger.Warn("upsert search attributes", "error", err)
		}
		r.published = &published
	}
	details := fmt.Sprintf("**Step:** %s  \n**Status:** %s  \n**Approvals:** %d/%d",
		r.state.Step, status, len(r.state.Approvals), r.state.Threshold)
	if r.state.Eta != nil {
		details += fmt.Sprintf("  \n**ETA:** %s", r.state.Eta.UTC().Format(time.RFC3339))
	}
	if r.in.IsConfig() {
		changes := make([]string, 0, len(r.in.Actions))
		for _, a := range r.in.Actions {
			changes = append(changes, a.Summary)
		}
		details += "  \n**Changes:** " + strings.Join(changes, "; ")
	}
	if r.state.Stale {
		details += "  \n**Stale:** a config change of the members or threshold executed after it was created"
	}
	if r.state.LastError != "" {
		details += "  \n**Last error:** " + r.state.LastError
	}
	workflow.SetCurrentDetails(ctx, details)
}

// publishedAttributes are the search attribute values that change during a proposal's life.
type publishedAttributes struct {
	status string
	eta    time.Time
}

func migrationVersion(p *activities.MigrationPlan) *int {
	if p == nil {
		return nil
	}
	v := int(p.TargetVersion)
	return &v
}
