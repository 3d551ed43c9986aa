package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/upgrade-governor/upgrade-governor/activities"
)

// QueryProgress returns MigrationState.
const QueryProgress = "progress"

// Migration tuning. Chunks run in parallel; each chunk pipelines its own transactions. A
// transaction takes a slot or two to confirm, so the rate is about the transactions in flight
// (Concurrency x InFlight) per confirmation time: 256 in flight keep a node busy that runs a
// few hundred migrate transactions a second (`make bench`: 32 in flight reached a fifth of the
// node's rate).
const (
	DefaultChunkSize     = 1024
	DefaultConcurrency   = 4
	DefaultAccountsPerTx = 8
	DefaultInFlight      = 64
	// roundsPerRun bounds one run's history (about 8 events per chunk) before continue-as-new.
	roundsPerRun = 100
)

// changeHeldTellsParent names the change that signals the proposal workflow when the migration
// is held and when it runs again.
const changeHeldTellsParent = "held-migration-tells-parent"

// changeHeldMigrationCounts names the change that reads the job's counts from the store while
// a migration is held (histories recorded before it schedule no such activity).
const changeHeldMigrationCounts = "held-migration-counts"

// MigrationInput starts (or, after continue-as-new, resumes) a MigrationWorkflow.
type MigrationInput struct {
	JobID         string
	Proposal      string
	Multisig      string
	TargetProgram string
	Plan          activities.MigrationPlan

	ChunkSize     int
	Concurrency   int
	AccountsPerTx int
	InFlight      int

	// Carried across continue-as-new.
	Listed       bool
	Cursor       string
	Total        int
	Migrated     int
	Failed       int
	Transactions int
	ComputeUnits uint64
	StartedAt    time.Time
	Runs         int
	// PausedFor is the time spent held (paused, or not served), left out of the rate.
	PausedFor time.Duration
}

// MigrationState is the progress the query returns.
type MigrationState struct {
	JobID        string
	Status       string // listing, running, paused, completed, failed, cancelled
	Total        int
	Migrated     int
	Failed       int
	Remaining    int
	Transactions int
	ComputeUnits uint64
	Cursor       string
	RatePerSec   float64
	StartedAt    time.Time
	Runs         int
	LastError    string
	// PausedFor is the time spent held (paused, or not served), left out of RatePerSec.
	PausedFor time.Duration
}

var (
	// Chunks send many transactions; a heartbeat every few seconds tells Temporal the worker
	// is alive, so a killed worker's chunk is retried on another within 30 s.
	chunkOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{activities.ErrTypePaused, activities.ErrTypeNotServed},
		},
	}
	// Listing a large program's accounts reads them all once.
	listOpts = workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		},
	}
)

// MigrationWorkflow migrates every affected account of a governed program through the
// governor's migrate_account instruction: listed once into account_migrations, then walked in
// address order in parallel chunks. Re-running an account is a no-op on chain, and the rows
// make every account migrate exactly once in the audit trail.
func MigrationWorkflow(ctx workflow.Context, in MigrationInput) (MigrationState, error) {
	var a *activities.Activities
	defaults(&in)
	if in.StartedAt.IsZero() {
		in.StartedAt = workflow.Now(ctx)
	}
	st := MigrationState{
		JobID: in.JobID, Status: "running", Total: in.Total, Migrated: in.Migrated,
		Failed: in.Failed, Transactions: in.Transactions, ComputeUnits: in.ComputeUnits,
		Cursor: in.Cursor, StartedAt: in.StartedAt, Runs: in.Runs + 1, PausedFor: in.PausedFor,
	}
	// counted are the accounts up to the cursor, summed from the chunks the cursor moved past:
	// a chunk that ran beyond a held one is counted again when its range runs again, so its
	// counts are not added. While held, st shows the store's counts (the work really done).
	counted := struct{ migrated, failed int }{st.Migrated, st.Failed}
	progress := func() MigrationState {
		st.Remaining = max(st.Total-st.Migrated-st.Failed, 0)
		if secs := (workflow.Now(ctx).Sub(st.StartedAt) - st.PausedFor).Seconds(); secs > 0 {
			st.RatePerSec = float64(st.Migrated) / secs
		}
		return st
	}
	resumed := workflow.GetSignalChannel(ctx, SignalResumed)
	// The proposal workflow waiting on this migration learns when it is held, so its status
	// query says paused (it said Paused:false while the migration waited out a pause).
	parentKnowsHeld := false
	tellParent := func(held bool) {
		parent := workflow.GetInfo(ctx).ParentWorkflowExecution
		if parent == nil || workflow.GetVersion(ctx, changeHeldTellsParent, workflow.DefaultVersion, 1) != 1 {
			return
		}
		if err := workflow.SignalExternalWorkflow(ctx, parent.ID, "", SignalMigrationHeld, held).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("tell the proposal workflow the migration is held", "held", held, "error", err)
			return
		}
		parentKnowsHeld = held
	}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (MigrationState, error) {
		return progress(), nil
	}); err != nil {
		return st, fmt.Errorf("register progress query: %w", err)
	}
	details := func() {
		p := progress()
		workflow.SetCurrentDetails(ctx, fmt.Sprintf(
			"**Migration:** %s  \n**Migrated:** %d/%d  \n**Failed:** %d  \n**Rate:** %.0f accounts/s",
			p.Status, p.Migrated, p.Total, p.Failed, p.RatePerSec))
	}

	err := func() error {
		if !in.Listed {
			st.Status = "listing"
			details()
			var total int
			if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, listOpts),
				a.ListAffectedAccounts, activities.ListAccountsInput{
					JobID: in.JobID, Proposal: in.Proposal, TargetProgram: in.TargetProgram, Plan: in.Plan,
				}).Get(ctx, &total); err != nil {
				return fmt.Errorf("list affected accounts: %w", err)
			}
			in.Listed, st.Total = true, total
			st.Status = "running"
		}
		details()
		readCtx := workflow.WithActivityOptions(ctx, readOpts)
		chunkCtx := workflow.WithActivityOptions(ctx, chunkOpts)
		for round := 0; ; round++ {
			if round >= roundsPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				next := in
				next.Cursor, next.Total, next.Migrated, next.Failed = st.Cursor, st.Total, counted.migrated, counted.failed
				next.Transactions, next.ComputeUnits, next.Runs = st.Transactions, st.ComputeUnits, st.Runs
				next.PausedFor = st.PausedFor
				return workflow.NewContinueAsNewError(ctx, MigrationWorkflow, next)
			}
			var bounds []string
			if err := workflow.ExecuteActivity(readCtx, a.ChunkBounds, activities.ChunkBoundsInput{
				JobID: in.JobID, After: st.Cursor, Chunks: in.Concurrency, Size: in.ChunkSize,
			}).Get(ctx, &bounds); err != nil {
				return fmt.Errorf("plan chunks after %q: %w", st.Cursor, err)
			}
			if len(bounds) == 0 {
				return nil
			}
			futures := make([]workflow.Future, len(bounds))
			after := st.Cursor
			for i, upTo := range bounds {
				futures[i] = workflow.ExecuteActivity(chunkCtx, a.MigrateChunk, activities.MigrateChunkInput{
					ProposalRef: activities.ProposalRef{Proposal: in.Proposal, Multisig: in.Multisig},
					JobID:       in.JobID, TargetProgram: in.TargetProgram,
					After: after, UpTo: upTo,
					AccountsPerTx: in.AccountsPerTx, InFlight: in.InFlight,
				})
				after = upTo
			}
			var paused bool
			var firstErr error
			for i, f := range futures {
				var res activities.ChunkResult
				err := f.Get(ctx, &res)
				var appErr *temporal.ApplicationError
				switch {
				case err == nil:
				case errors.As(err, &appErr) && appErr.Type() == activities.ErrTypePaused:
					paused = true
					// What the held attempt sent before the pause (its result is dropped).
					var sent activities.ChunkResult
					if appErr.HasDetails() && appErr.Details(&sent) == nil {
						st.Transactions += sent.Transactions
						st.ComputeUnits += sent.ComputeUnits
					}
				case errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotServed:
					// Held like a pause: the operator may serve the multisig again.
					paused = true
					st.LastError = appErr.Message()
				default:
					if firstErr == nil {
						firstErr = fmt.Errorf("chunk up to %s: %w", bounds[i], err)
					}
				}
				st.Transactions += res.Transactions
				st.ComputeUnits += res.ComputeUnits
				// The cursor only moves past chunks that finished, so a stop resumes correctly;
				// the accounts up to it are counted once.
				if err == nil && firstErr == nil && !paused {
					st.Cursor = bounds[i]
					counted.migrated += res.Migrated
					counted.failed += res.Failed
				}
			}
			st.Migrated, st.Failed = max(st.Migrated, counted.migrated), max(st.Failed, counted.failed)
			details()
			if firstErr != nil {
				return firstErr
			}
			if !paused && parentKnowsHeld {
				tellParent(false)
			}
			if paused {
				st.Status = "paused"
				if !parentKnowsHeld {
					tellParent(true)
				}
				if workflow.GetVersion(ctx, changeHeldMigrationCounts, workflow.DefaultVersion, 1) == 1 {
					// Show the work really done while held, not only what the cursor passed.
					var jc activities.JobCounts
					if err := workflow.ExecuteActivity(readCtx, a.CountJob, in.JobID).Get(ctx, &jc); err != nil {
						return fmt.Errorf("count held job: %w", err)
					}
					st.Migrated, st.Failed = max(st.Migrated, jc.Migrated), max(st.Failed, jc.Failed)
				}
				details()
				// A resume signal (the API sends one) ends the wait at once.
				heldSince := workflow.Now(ctx)
				if _, err := workflow.AwaitWithTimeout(ctx, pausePoll, func() bool {
					return resumed.ReceiveAsync(nil)
				}); err != nil {
					return err
				}
				st.PausedFor += workflow.Now(ctx).Sub(heldSince)
				st.Status = "running"
			}
		}
	}()

	var a2 *activities.Activities
	finish := func(fctx workflow.Context, status, msg string) error {
		return workflow.ExecuteActivity(workflow.WithActivityOptions(fctx, cancelOpts), a2.FinishJob,
			activities.FinishJobInput{
				JobID: in.JobID, Status: status, StoppedAt: st.Cursor, Error: msg,
				Proposal: in.Proposal, Workflow: workflow.GetInfo(ctx).WorkflowExecution.ID,
			}).Get(fctx, nil)
	}
	switch {
	case err == nil:
		st.Status = "completed"
		if st.Failed > 0 {
			st.Status = "failed"
		}
		details()
		msg := ""
		if st.Failed > 0 {
			msg = fmt.Sprintf("%d accounts could not be migrated", st.Failed)
		}
		if ferr := finish(ctx, st.Status, msg); ferr != nil {
			return progress(), fmt.Errorf("finish job: %w", ferr)
		}
		return progress(), nil
	case isContinueAsNew(err):
		return progress(), err
	case temporal.IsCanceledError(err) || ctx.Err() != nil:
		// Emergency stop: no new chunks; record where we stopped, outside the cancellation.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		st.Status = "cancelled"
		if ferr := finish(dctx, "cancelled", "cancelled at account "+st.Cursor); ferr != nil {
			return progress(), fmt.Errorf("record cancelled migration: %w", ferr)
		}
		return progress(), temporal.NewCanceledError(st.Cursor)
	default:
		st.Status = "failed"
		st.LastError = err.Error()
		details()
		if ferr := finish(ctx, "failed", err.Error()); ferr != nil {
			return progress(), fmt.Errorf("finish failed job: %w (after %w)", ferr, err)
		}
		return progress(), err
	}
}

func isContinueAsNew(err error) bool {
	var can *workflow.ContinueAsNewError
	return errors.As(err, &can)
}

func defaults(in *MigrationInput) {
	if in.ChunkSize <= 0 {
		in.ChunkSize = DefaultChunkSize
	}
	if in.Concurrency <= 0 {
		in.Concurrency = DefaultConcurrency
	}
	if in.AccountsPerTx <= 0 {
		in.AccountsPerTx = DefaultAccountsPerTx
	}
	if in.InFlight <= 0 {
		in.InFlight = DefaultInFlight
	}
}
