package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"go.temporal.io/sdk/client"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/counters"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/govflow"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/pipeline"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/report"
	"github.com/upgrade-governor/upgrade-governor/bench/internal/temporalclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/devstack"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/indexer"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

type bench struct {
	cfg      Config
	st       *devstack.Stack
	flow     *govflow.Flow
	store    *store.Store
	temporal client.Client
	// Filled in by the migration benchmark, used by the cost one.
	oursProposal solana.PublicKey
}

func newBench(ctx context.Context, cfg Config, st *devstack.Stack) (*bench, error) {
	b := &bench{cfg: cfg, st: st}
	var err error
	if b.flow, err = govflow.New(ctx, st, cfg.ELFDir); err != nil {
		return nil, err
	}
	if b.store, err = store.New(ctx, st.DatabaseURL); err != nil {
		return nil, err
	}
	if b.temporal, err = temporalclient.Dial(st.TemporalAddress); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *bench) close() {
	b.temporal.Close()
	b.store.Close()
}

// Migration is the migration benchmark's figures.
type Migration struct {
	Create         CreateFigures `json:"create"`
	Raw            RateFigures   `json:"raw"`
	Naive          RateFigures   `json:"naive"`
	Ours           OursFigures   `json:"ours"`
	RawChecked     string        `json:"raw_checked"`
	RawExactlyOnce bool          `json:"raw_exactly_once"`
	// IndexerCatchUp is how long the worker's indexer took to read the raw and naive runs'
	// transactions before ours started (so it does not compete with ours).
	IndexerCatchUpSeconds float64 `json:"indexer_catch_up_seconds"`
	IndexerTransactions   int     `json:"indexer_transactions"`
}

// CreateFigures is how the counter accounts were made.
type CreateFigures struct {
	Accounts     int     `json:"accounts"`
	PerTx        int     `json:"per_tx"`
	Transactions int     `json:"transactions"`
	Seconds      float64 `json:"seconds"`
	PerSecond    float64 `json:"accounts_per_second"`
}

// RateFigures is a migration by a sender of our own.
type RateFigures struct {
	Accounts      int     `json:"accounts"`
	AccountsPerTx int     `json:"accounts_per_tx"`
	Transactions  int     `json:"transactions"`
	Window        int     `json:"window"` // most transactions in flight at once
	Seconds       float64 `json:"seconds"`
	PerSecond     float64 `json:"accounts_per_second"`
}

// OursFigures is the migration by the MigrationWorkflow.
type OursFigures struct {
	Accounts int `json:"accounts"`
	// EndToEnd runs from the upgrade confirmed on chain to the job completed: child workflow
	// start, listing, recording the rows, migrating, finishing.
	EndToEndSeconds   float64 `json:"end_to_end_seconds"`
	EndToEndPerSecond float64 `json:"end_to_end_accounts_per_second"`
	ListingSeconds    float64 `json:"listing_seconds"`
	// Migrate runs from the job's start (rows recorded) to its end.
	MigrateSeconds     float64 `json:"migrate_seconds"`
	MigratePerSecond   float64 `json:"migrate_accounts_per_second"`
	RatioRaw           float64 `json:"ratio_ours_raw"`
	RatioNaive         float64 `json:"ratio_ours_naive"`
	Transactions       int     `json:"transactions"`
	WorkflowTxs        int     `json:"workflow_transactions"`
	CUPerAccount       float64 `json:"cu_per_account"`
	CUPerAccountMin    float64 `json:"cu_per_account_min_tx"`
	CUPerAccountMax    float64 `json:"cu_per_account_max_tx"`
	WorkerPeakRSS      int64   `json:"worker_peak_rss_bytes"`
	WorkerRSSListing   int64   `json:"worker_rss_listing_bytes"`
	WorkerRSSMigrating int64   `json:"worker_rss_migrating_bytes"`
	WorkerRSSBefore    int64   `json:"worker_rss_before_bytes"`
	Runs               int     `json:"workflow_runs"`
	ExactlyOnce        bool    `json:"exactly_once"`
	Chain              string  `json:"chain"`
	Rows               string  `json:"rows"`
	Tuning             string  `json:"tuning"`
	MemoryBound        string  `json:"memory_bound_1m"`
}

func (b *bench) migration(ctx context.Context) (*Migration, error) {
	f, cfg := b.flow, b.cfg
	m := &Migration{}
	ours, err := f.Deploy(ctx)
	if err != nil {
		return m, err
	}
	control, err := f.Deploy(ctx)
	if err != nil {
		return m, err
	}
	oursSet, err := counters.NewSet(ours, f.Payer.PublicKey(), 0, cfg.Accounts)
	if err != nil {
		return m, err
	}
	controlSet, err := counters.NewSet(control, f.Payer.PublicKey(), 0, cfg.RawAccounts+cfg.NaiveAccounts)
	if err != nil {
		return m, err
	}
	rawSet, naiveSet := controlSet.Slice(0, cfg.RawAccounts), controlSet.Slice(cfg.RawAccounts, len(controlSet.Keys))
	rent, err := f.Chain.MinimumBalanceForRentExemption(ctx, counters.StateLen)
	if err != nil {
		return m, err
	}
	if err := f.Fund(ctx, f.Payer.PublicKey(), uint64(len(oursSet.Keys)+len(controlSet.Keys))*rent*11/10); err != nil {
		return m, err
	}

	logf("creating %d counter accounts under v1 (ours), then %d (control)", len(oursSet.Keys), len(controlSet.Keys))
	cr, err := oursSet.Create(ctx, f.Chain, f.Payer, progress("created", len(oursSet.Keys)))
	if err != nil {
		return m, err
	}
	m.Create = CreateFigures{Accounts: cr.Accounts, PerTx: cr.PerTx, Transactions: cr.Transactions,
		Seconds: cr.Elapsed.Seconds(), PerSecond: cr.Rate()}
	if _, err := controlSet.Create(ctx, f.Chain, f.Payer, progress("created", len(controlSet.Keys))); err != nil {
		return m, err
	}

	logf("proposing v2 with migration: ours through the API, the control group straight on chain")
	oursProposal, err := f.Propose(ctx, govflow.Upgrade{Program: ours, ELF: f.V2, Migrate: true, Description: "benchmark: migrate counters"})
	if err != nil {
		return m, err
	}
	b.oursProposal = oursProposal
	etaOurs, err := f.Approve(ctx, oursProposal)
	if err != nil {
		return m, err
	}
	controlProposal, err := f.ProposeOnChain(ctx, govflow.Upgrade{Program: control, ELF: f.V2, Migrate: true})
	if err != nil {
		return m, err
	}
	etaControl, err := f.ApproveOnChain(ctx, controlProposal)
	if err != nil {
		return m, err
	}
	if err := f.PassTimelock(ctx, later(etaOurs, etaControl)); err != nil {
		return m, err
	}
	if err := f.ExecuteOnChain(ctx, controlProposal, control, len(f.V2)); err != nil {
		return m, err
	}
	if err := f.WaitDeployed(ctx, control, f.V2, time.Minute); err != nil {
		return m, err
	}
	time.Sleep(time.Second) // an upgraded program runs from the next slot on

	// (a) raw: the same migrate_account transactions, pipelined, nothing else.
	logf("raw engine: %d accounts, %d per transaction, window %d", len(rawSet.Keys), workflows.DefaultAccountsPerTx, cfg.RawWindow)
	snd := &pipeline.Sender{Chain: f.Chain, Payer: f.Payer, Window: cfg.RawWindow,
		Progress: txProgress("raw", len(rawSet.Keys), workflows.DefaultAccountsPerTx)}
	rr, err := snd.Run(ctx, rawSet.MigrateBatches(f.Multisig, controlProposal, f.Payer.PublicKey(), workflows.DefaultAccountsPerTx))
	if err != nil {
		return m, err
	}
	if rr.Failed > 0 {
		return m, fmt.Errorf("raw: %d transactions failed, first: %w", rr.Failed, rr.FirstError)
	}
	m.Raw = RateFigures{Accounts: len(rawSet.Keys), AccountsPerTx: workflows.DefaultAccountsPerTx, Transactions: rr.Transactions,
		Window: rr.MaxWindow, Seconds: rr.Elapsed.Seconds(), PerSecond: float64(len(rawSet.Keys)) / rr.Elapsed.Seconds()}

	// (c) naive: one account per transaction, each sent and confirmed before the next.
	logf("naive: %d accounts, one per transaction, send-and-confirm", len(naiveSet.Keys))
	t0 := time.Now()
	for i, k := range naiveSet.Keys {
		ix := governor.NewMigrateAccountInstruction(f.Multisig, controlProposal, control, f.Payer.PublicKey(), []solana.PublicKey{k})
		if _, err := f.Chain.Send(ctx, []solana.Instruction{ix}, f.Payer); err != nil {
			return m, fmt.Errorf("naive: account %d: %w", i, err)
		}
		if (i+1)%100 == 0 {
			logf("  naive %d/%d", i+1, len(naiveSet.Keys))
		}
	}
	naive := time.Since(t0)
	m.Naive = RateFigures{Accounts: len(naiveSet.Keys), AccountsPerTx: 1, Transactions: len(naiveSet.Keys), Window: 1,
		Seconds: naive.Seconds(), PerSecond: float64(len(naiveSet.Keys)) / naive.Seconds()}

	controlTally, err := counters.Audit(ctx, f.Chain, controlSet, controlProposal)
	if err != nil {
		return m, fmt.Errorf("audit the control group: %w", err)
	}
	m.RawChecked, m.RawExactlyOnce = controlTally.String(), controlTally.ExactlyOnce()
	if !controlTally.ExactlyOnce() {
		return m, fmt.Errorf("control group not migrated exactly once: %s", controlTally)
	}

	// The indexer reads every governor transaction; let it finish the control group's first.
	logf("waiting for the indexer to read the control group's transactions")
	t0 = time.Now()
	n, err := waitIndexer(ctx, f.Chain, b.store, 20*time.Minute)
	if err != nil {
		return m, err
	}
	m.IndexerCatchUpSeconds, m.IndexerTransactions = time.Since(t0).Seconds(), n

	// (b) ours: the worker executes, the proposal workflow starts the MigrationWorkflow.
	o, err := b.ours(ctx, ours, oursProposal, oursSet)
	m.Ours = o
	if m.Raw.PerSecond > 0 {
		m.Ours.RatioRaw = o.EndToEndPerSecond / m.Raw.PerSecond
	}
	if m.Naive.PerSecond > 0 {
		m.Ours.RatioNaive = o.EndToEndPerSecond / m.Naive.PerSecond
	}
	return m, err
}

func (b *bench) ours(ctx context.Context, program, proposal solana.PublicKey, set *counters.Set) (OursFigures, error) {
	f := b.flow
	o := OursFigures{
		Accounts: len(set.Keys),
		Tuning: fmt.Sprintf("workflow defaults: chunks of %d accounts, %d chunks at once, %d accounts/tx, %d tx in flight per chunk",
			workflows.DefaultChunkSize, workflows.DefaultConcurrency, workflows.DefaultAccountsPerTx, workflows.DefaultInFlight),
	}
	pid, err := b.st.PID("worker")
	if err != nil {
		return o, err
	}
	o.WorkerRSSBefore, _, _ = report.Memory(pid)
	sampler := report.Sample(pid, 200*time.Millisecond, "before")
	defer sampler.Stop()

	logf("ours: asking the worker to execute; it then migrates %d accounts", len(set.Keys))
	if err := f.RequestExecute(ctx, proposal); err != nil {
		return o, err
	}
	if err := f.WaitDeployed(ctx, program, f.V2, 2*time.Minute); err != nil {
		return o, err
	}
	upgraded := time.Now()
	sampler.SetPhase("listing")
	jobID := workflows.MigrationWorkflowID(proposal.String())
	bar := progress("migrated", len(set.Keys))
	// Allow for a slow machine: 100 accounts/s.
	limit := 10*time.Minute + time.Duration(len(set.Keys))*10*time.Millisecond
	job, err := govflow.WaitJob(ctx, b.store, jobID, limit, 5*time.Minute, func(j store.MigrationJob) {
		if j.Status == store.JobRunning {
			sampler.SetPhase("migrating")
		}
		bar(j.Migrated)
	})
	peaks := sampler.Stop()
	o.WorkerRSSListing, o.WorkerRSSMigrating = peaks["listing"], peaks["migrating"]
	if _, peak, merr := report.Memory(pid); merr == nil {
		o.WorkerPeakRSS = peak
	}
	if err != nil {
		return o, err
	}
	if job.FinishedAt != nil {
		o.EndToEndSeconds = job.FinishedAt.Sub(upgraded).Seconds()
		o.EndToEndPerSecond = float64(job.Migrated) / o.EndToEndSeconds
		if job.StartedAt != nil {
			o.ListingSeconds = job.StartedAt.Sub(job.CreatedAt).Seconds()
			o.MigrateSeconds = job.FinishedAt.Sub(*job.StartedAt).Seconds()
			o.MigratePerSecond = float64(job.Migrated) / o.MigrateSeconds
		}
	}
	var state workflows.MigrationState
	if v, err := b.temporal.QueryWorkflow(ctx, jobID, "", workflows.QueryProgress); err == nil && v.Get(&state) == nil {
		o.Runs, o.WorkflowTxs = state.Runs, state.Transactions
	}

	logf("ours: checking every account on chain and in account_migrations")
	tally, err := counters.Audit(ctx, f.Chain, set, proposal)
	if err != nil {
		return o, fmt.Errorf("audit: %w", err)
	}
	rows, err := counters.CheckRows(ctx, b.store, jobID, set, tally)
	if err != nil {
		return o, fmt.Errorf("check rows: %w", err)
	}
	o.Transactions, o.Chain, o.Rows = tally.MigrateTxs, tally.String(), rows.String()
	o.CUPerAccount, o.CUPerAccountMin, o.CUPerAccountMax = tally.CUPerAccount(), tally.MinCUPerAcc, tally.MaxCUPerAcc
	o.ExactlyOnce = tally.ExactlyOnce() && rows.ExactlyOnce(set)
	o.MemoryBound = memoryBound(o, len(set.Keys))
	if !o.ExactlyOnce {
		return o, fmt.Errorf("not exactly once: chain: %s; rows: %s", tally, rows)
	}
	return o, nil
}

// memoryBound says what limits the worker's memory for a million accounts, from the code and
// this run's RSS.
func memoryBound(o OursFigures, n int) string {
	perAccount := float64(o.WorkerRSSListing-o.WorkerRSSBefore) / float64(max(n, 1))
	return fmt.Sprintf("nothing the worker holds grows with the job: ListAffectedAccounts decodes the getProgramAccounts "+
		"answer (keys only, a 0-byte dataSlice) as it arrives and records it 5,000 keys at a time; ChunkBounds reads "+
		"%d x %d rows at a time, MigrateChunk pages its range 10,000 rows at a time (keyset pagination on account) "+
		"with at most %d transactions in flight, and the workflow continues-as-new every 100 rounds. This run: "+
		"listing peak %s (%.0f bytes/account above the start), migrating peak %s.",
		workflows.DefaultConcurrency, workflows.DefaultChunkSize, workflows.DefaultInFlight,
		report.MiB(o.WorkerRSSListing), perAccount, report.MiB(o.WorkerRSSMigrating))
}

// waitIndexer waits until the indexer's cursor reaches the governor's newest transaction and
// returns how many governor transactions were between the cursor and it at the start.
func waitIndexer(ctx context.Context, c *chain.Client, st *store.Store, limit time.Duration) (int, error) {
	newest, err := counters.Signatures(ctx, c, governor.ProgramID)
	if err != nil {
		return 0, err
	}
	if len(newest) == 0 {
		return 0, nil
	}
	target := newest[0].String()
	backlog := -1
	deadline := time.Now().Add(limit)
	for {
		cur, err := st.GetCursor(ctx, governor.ProgramID.String(), indexer.Stream)
		if err == nil && backlog < 0 {
			for i, s := range newest {
				if s.String() == cur.LastSignature {
					backlog = i
					break
				}
			}
			if backlog < 0 {
				backlog = len(newest)
			}
		}
		if err == nil && cur.LastSignature == target {
			return max(backlog, 0), nil
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return 0, err
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("indexer has not reached %s after %s", target, limit)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// progress returns a callback that logs done/total at every tenth.
func progress(what string, total int) func(done int) {
	step := max(total/10, 1)
	next := step
	return func(done int) {
		if done < next || next > total {
			return
		}
		logf("  %s %d/%d", what, min(done, total), total)
		for next <= done {
			next += step
		}
	}
}

func txProgress(what string, total, perTx int) func(int) {
	p := progress(what, total)
	return func(txs int) { p(min(txs*perTx, total)) }
}
