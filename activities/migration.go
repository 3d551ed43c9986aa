package activities

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// accountsPerInsert bounds one UpsertAccountMigrations call.
const accountsPerInsert = 5000

// ListAffectedAccounts records every account still at the old layout as pending and returns
// the job's account count. Listing twice adds nothing: rows are keyed by (job, account).
func (a *Activities) ListAffectedAccounts(ctx context.Context, in ListAccountsInput) (int, error) {
	program, err := pubkey("target program", in.TargetProgram)
	if err != nil {
		return 0, err
	}
	if _, err := a.Store.CreateMigrationJob(ctx, store.MigrationJob{
		ID: in.JobID, Proposal: in.Proposal, TargetProgram: in.TargetProgram,
	}, worker); err != nil {
		return 0, fmt.Errorf("create migration job %s: %w", in.JobID, err)
	}
	filters := []chain.Memcmp{{Offset: uint64(in.Plan.VersionOffset), Bytes: []byte{in.Plan.FromVersion}}}
	// The node's answer is decoded as it arrives and recorded a batch at a time: the worker
	// holds one batch of keys, however many accounts the program owns.
	keys, recorded := make([]string, 0, accountsPerInsert), 0
	listed, err := a.Chain.StreamProgramAccountKeys(ctx, program, in.Plan.DataSize, filters, accountsPerInsert,
		func(batch []solana.PublicKey) error {
			keys = keys[:0]
			for _, k := range batch {
				keys = append(keys, k.String())
			}
			if _, err := a.Store.UpsertAccountMigrations(ctx, in.JobID, keys, worker); err != nil {
				return fmt.Errorf("record accounts of job %s: %w", in.JobID, err)
			}
			recorded += len(keys)
			activity.RecordHeartbeat(ctx, recorded)
			return nil
		})
	if err != nil {
		return 0, fmt.Errorf("list accounts of %s: %w", program, err)
	}
	activity.GetLogger(ctx).Info("listed accounts to migrate", "job", in.JobID, "accounts", listed)
	if _, err := a.Store.UpdateJob(ctx, in.JobID, store.JobUpdate{Status: store.JobRunning}, worker); err != nil &&
		!errors.Is(err, store.ErrInvalidTransition) {
		return 0, fmt.Errorf("start job %s: %w", in.JobID, err)
	}
	p, err := a.Store.JobProgress(ctx, in.JobID)
	if err != nil {
		return 0, fmt.Errorf("count accounts of job %s: %w", in.JobID, err)
	}
	return p.Total, nil
}

// ChunkBounds returns the last account of each of up to Chunks ranges of Size pending
// accounts after After, in address order.
func (a *Activities) ChunkBounds(ctx context.Context, in ChunkBoundsInput) ([]string, error) {
	rows, err := a.Store.ListAccountMigrations(ctx, in.JobID, store.AccountFilter{
		Status: store.AccountPending, After: in.After, Limit: in.Chunks * in.Size,
	})
	if err != nil {
		return nil, fmt.Errorf("plan chunks of job %s: %w", in.JobID, err)
	}
	var bounds []string
	for i := in.Size - 1; i < len(rows); i += in.Size {
		bounds = append(bounds, rows[i].Account)
	}
	if n := len(rows); n > 0 && (len(bounds) == 0 || bounds[len(bounds)-1] != rows[n-1].Account) {
		bounds = append(bounds, rows[n-1].Account)
	}
	return bounds, nil
}

// MigrateChunk migrates the pending accounts of (After, UpTo]: AccountsPerTx accounts per
// migrate_account instruction, up to InFlight transactions at once. A transaction the program
// refuses is split until the account it cannot migrate is found and marked failed; the others
// go on. It reports the range's final counts, so a retried chunk counts earlier work too.
func (a *Activities) MigrateChunk(ctx context.Context, in MigrateChunkInput) (ChunkResult, error) {
	multisig, err := pubkey("multisig", in.Multisig)
	if err != nil {
		return ChunkResult{}, err
	}
	proposal, err := pubkey("proposal", in.Proposal)
	if err != nil {
		return ChunkResult{}, err
	}
	program, err := pubkey("target program", in.TargetProgram)
	if err != nil {
		return ChunkResult{}, err
	}
	if err := a.requireServed(ctx, in.Multisig); err != nil {
		return ChunkResult{}, err
	}
	pending, err := a.rangeAccounts(ctx, in.JobID, store.AccountPending, in.After, in.UpTo)
	if err != nil {
		return ChunkResult{}, err
	}
	perTx := max(in.AccountsPerTx, 1)
	var batches [][]string
	for start := 0; start < len(pending); start += perTx {
		batches = append(batches, pending[start:min(start+perTx, len(pending))])
	}

	var (
		mu       sync.Mutex
		firstErr error
		txs      int
		units    uint64
		done     int
	)
	rec := &migratedRecorder{a: a, job: in.JobID, flushAt: max(in.InFlight/2, 1)}
	stopFlusher := rec.flushEvery(ctx, recordEvery)
	sem := make(chan struct{}, max(in.InFlight, 1))
	var wg sync.WaitGroup
	for _, batch := range batches {
		if ctx.Err() != nil {
			break
		}
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(batch []string) {
			defer wg.Done()
			var landed []solana.Signature
			n, err := a.migrateBatch(ctx, in.JobID, multisig, proposal, program, batch, rec, &landed)
			<-sem // the next batch goes out while this one's compute units are read
			cu := a.computeUnits(ctx, landed)
			mu.Lock()
			defer mu.Unlock()
			txs += n
			units += cu
			done += len(batch)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			activity.RecordHeartbeat(ctx, done)
		}(batch)
	}
	wg.Wait()
	// What landed is recorded even when a batch failed or the activity was cancelled (an
	// emergency stop): its accounts are then not sent again.
	recCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	err = errors.Join(stopFlusher(), rec.flush(recCtx))
	cancel()
	if err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		var appErr *temporal.ApplicationError
		if errors.As(firstErr, &appErr) && appErr.Type() == ErrTypePaused {
			// The workflow reads what this attempt sent from the error's details: a failed
			// activity's result is dropped.
			return ChunkResult{}, temporal.NewNonRetryableApplicationError(appErr.Message(), ErrTypePaused, firstErr,
				ChunkResult{Transactions: txs, ComputeUnits: units})
		}
		return ChunkResult{Transactions: txs, ComputeUnits: units}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return ChunkResult{Transactions: txs, ComputeUnits: units}, fmt.Errorf("migrate chunk: %w", err)
	}
	res := ChunkResult{Transactions: txs, ComputeUnits: units}
	counts, err := a.rangeCounts(ctx, in.JobID, in.After, in.UpTo)
	if err != nil {
		return res, err
	}
	res.Migrated, res.Failed = counts[store.AccountMigrated]+counts[store.AccountSkipped], counts[store.AccountFailed]
	return res, nil
}

// JobCounts are a job's accounts migrated (or skipped) and failed, as account_migrations has
// them: what the migration shows while it is held (paused), when its chunks' own counts stop
// short of the work done.
type JobCounts struct {
	Migrated, Failed int
}

// CountJob reads the job's counts from the store.
func (a *Activities) CountJob(ctx context.Context, jobID string) (JobCounts, error) {
	p, err := a.Store.JobProgress(ctx, jobID)
	if err != nil {
		return JobCounts{}, fmt.Errorf("count job %s: %w", jobID, err)
	}
	return JobCounts{Migrated: p.Migrated + p.Skipped, Failed: p.Failed}, nil
}

// recordEvery is how often a chunk records what landed when fewer than flushAt transactions
// are waiting, so progress shows while a chunk runs.
const recordEvery = 250 * time.Millisecond

// migratedRecorder collects the landed migrate transactions of a chunk and records them in
// account_migrations a group at a time (store.MarkBatchesMigrated): with many transactions in
// flight, a commit each would queue on the job's counters row. A transaction that landed and
// was not recorded yet (the worker died) is sent again later and finds its accounts migrated:
// the program does nothing for them, and the rows then name that transaction.
type migratedRecorder struct {
	a       *Activities
	job     string
	flushAt int

	mu      sync.Mutex
	pending []store.MigratedBatch
}

// add queues a landed transaction and records the group once flushAt are waiting.
func (r *migratedRecorder) add(ctx context.Context, accounts []string, sig solana.Signature) error {
	r.mu.Lock()
	r.pending = append(r.pending, store.MigratedBatch{Accounts: accounts, Signature: sig.String()})
	full := len(r.pending) >= r.flushAt
	r.mu.Unlock()
	if full {
		return r.flush(ctx)
	}
	return nil
}

// flush records every queued transaction.
func (r *migratedRecorder) flush(ctx context.Context) error {
	r.mu.Lock()
	batches := r.pending
	r.pending = nil
	r.mu.Unlock()
	if len(batches) == 0 {
		return nil
	}
	if _, err := r.a.Store.MarkBatchesMigrated(ctx, r.job, batches, worker); err != nil {
		// Put them back: a later flush, or the chunk's end, tries again.
		r.mu.Lock()
		r.pending = append(batches, r.pending...)
		r.mu.Unlock()
		return fmt.Errorf("record migrated accounts: %w", err)
	}
	return nil
}

// flushEvery records what is queued every d until the returned stop is called; stop returns
// the last error a timed flush met.
func (r *migratedRecorder) flushEvery(ctx context.Context, d time.Duration) (stop func() error) {
	done, finished := make(chan struct{}), make(chan error, 1)
	go func() {
		var last error
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				finished <- last
				return
			case <-t.C:
				last = r.flush(ctx)
			}
		}
	}()
	return func() error {
		close(done)
		return <-finished
	}
}

// migrateBatch sends one migrate_account transaction for batch, splitting it on a program
// error to isolate the accounts that cannot migrate, and hands what landed to rec. It returns
// the transactions sent.
func (a *Activities) migrateBatch(ctx context.Context, job string, multisig, proposal, program solana.PublicKey, batch []string, rec *migratedRecorder, landed *[]solana.Signature) (int, error) {
	keys := make([]solana.PublicKey, len(batch))
	for i, k := range batch {
		keys[i] = solana.MustPublicKeyFromBase58(k)
	}
	ix := governor.NewMigrateAccountInstruction(multisig, proposal, program, a.FeePayer.PublicKey(), keys)
	sig, err := a.Chain.Send(ctx, []solana.Instruction{ix}, a.FeePayer)
	if err == nil {
		*landed = append(*landed, sig)
		return 1, rec.add(ctx, batch, sig)
	}
	var pe *chain.ProgramError
	if !errors.As(err, &pe) {
		return 1, fmt.Errorf("send migrate transaction: %w", err)
	}
	if pe.Name == "SystemPaused" {
		return 1, temporal.NewNonRetryableApplicationError("system is paused", ErrTypePaused, err)
	}
	if len(batch) == 1 {
		if ferr := a.Store.MarkAccountFailed(ctx, job, batch[0], err.Error(), worker); ferr != nil {
			return 1, fmt.Errorf("record failed account %s: %w", batch[0], ferr)
		}
		return 1, nil
	}
	half := len(batch) / 2
	n1, err1 := a.migrateBatch(ctx, job, multisig, proposal, program, batch[:half], rec, landed)
	n2, err2 := a.migrateBatch(ctx, job, multisig, proposal, program, batch[half:], rec, landed)
	return 1 + n1 + n2, errors.Join(err1, err2)
}

// computeUnits sums what the landed transactions consumed (meta.computeUnitsConsumed). A node
// that cannot answer costs the figure, not the migration: the miss is logged.
func (a *Activities) computeUnits(ctx context.Context, sigs []solana.Signature) uint64 {
	var total uint64
	for _, sig := range sigs {
		cu, err := a.Chain.ComputeUnits(ctx, sig)
		if err != nil {
			a.Log.Warn("read compute units of a migrate transaction", "signature", sig, "error", err)
			continue
		}
		total += cu
	}
	return total
}

func (a *Activities) rangeAccounts(ctx context.Context, job string, status store.AccountStatus, after, upTo string) ([]string, error) {
	var out []string
	for {
		rows, err := a.Store.ListAccountMigrations(ctx, job, store.AccountFilter{Status: status, After: after, Limit: 10000})
		if err != nil {
			return nil, fmt.Errorf("list accounts of job %s after %s: %w", job, after, err)
		}
		for _, r := range rows {
			if r.Account > upTo {
				return out, nil
			}
			out = append(out, r.Account)
		}
		if len(rows) < 10000 {
			return out, nil
		}
		after = rows[len(rows)-1].Account
	}
}

func (a *Activities) rangeCounts(ctx context.Context, job, after, upTo string) (map[store.AccountStatus]int, error) {
	counts := map[store.AccountStatus]int{}
	for {
		rows, err := a.Store.ListAccountMigrations(ctx, job, store.AccountFilter{After: after, Limit: 10000})
		if err != nil {
			return nil, fmt.Errorf("count accounts of job %s: %w", job, err)
		}
		for _, r := range rows {
			if r.Account > upTo {
				return counts, nil
			}
			counts[r.Status]++
		}
		if len(rows) < 10000 {
			return counts, nil
		}
		after = rows[len(rows)-1].Account
	}
}

// FinishJob records the end of a migration job; a cancelled one also gets a rollback row saying
// where it stopped.
func (a *Activities) FinishJob(ctx context.Context, in FinishJobInput) error {
	if _, err := a.Store.UpdateJob(ctx, in.JobID, store.JobUpdate{
		Status: store.JobStatus(in.Status), StoppedAt: in.StoppedAt, LastError: in.Error,
	}, worker); err != nil && !errors.Is(err, store.ErrInvalidTransition) {
		return fmt.Errorf("finish job %s as %s: %w", in.JobID, in.Status, err)
	}
	if in.Status == string(store.JobCancelled) {
		if _, err := a.Store.RecordRollback(ctx, store.RollbackEvent{
			Proposal: in.Proposal, Stage: store.StageMigration, WorkflowID: in.Workflow,
			MigrationJobID: in.JobID, Reason: "migration cancelled (emergency stop) after " + in.StoppedAt,
		}, worker); err != nil {
			return fmt.Errorf("record stopped migration %s: %w", in.JobID, err)
		}
	}
	return nil
}
