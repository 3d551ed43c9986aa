package store_test

import (
	"context"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func newJob(t *testing.T, s *store.Store, accounts int) (store.MigrationJob, []string) {
	t.Helper()
	ctx := ctxT(t)
	p := newProposal(t, s)
	j := store.MigrationJob{ID: "migration-" + p.Address, Proposal: p.Address, TargetProgram: p.TargetProgram}
	created, err := s.CreateMigrationJob(ctx, j, worker)
	require.NoError(t, err)
	require.True(t, created)
	accs := make([]string, accounts)
	for i := range accs {
		accs[i] = pubkey()
	}
	sort.Strings(accs)
	if accounts > 0 {
		added, err := s.UpsertAccountMigrations(ctx, j.ID, accs, worker)
		require.NoError(t, err)
		require.Equal(t, accounts, added)
	}
	got, err := s.GetMigrationJob(ctx, j.ID)
	require.NoError(t, err)
	return got, accs
}

// requireCountersMatchRows checks the trigger-kept counters against a recount of the rows.
func requireCountersMatchRows(t *testing.T, s *store.Store, jobID string) store.Progress {
	t.Helper()
	ctx := ctxT(t)
	p, err := s.JobProgress(ctx, jobID)
	require.NoError(t, err)
	j, err := s.GetMigrationJob(ctx, jobID)
	require.NoError(t, err)
	assert.Equal(t, p.Total, j.Total, "total")
	assert.Equal(t, p.Migrated, j.Migrated, "migrated")
	assert.Equal(t, p.Failed, j.Failed, "failed")
	assert.Equal(t, p.Skipped, j.Skipped, "skipped")
	assert.Equal(t, p.Total, p.Pending+p.Migrated+p.Failed+p.Skipped)
	return p
}

func TestCreateMigrationJobIsIdempotent(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, _ := newJob(t, s, 0)
	assert.Equal(t, store.JobPending, j.Status)

	created, err := s.CreateMigrationJob(ctx, store.MigrationJob{ID: j.ID, Proposal: j.Proposal, TargetProgram: j.TargetProgram}, worker)
	require.NoError(t, err)
	assert.False(t, created)

	other := newProposal(t, s)
	_, err = s.CreateMigrationJob(ctx, store.MigrationJob{ID: j.ID, Proposal: other.Address, TargetProgram: other.TargetProgram}, worker)
	require.ErrorIs(t, err, store.ErrConflict, "one ID, one proposal")

	_, err = s.CreateMigrationJob(ctx, store.MigrationJob{ID: "orphan", Proposal: pubkey(), TargetProgram: pubkey()}, worker)
	require.ErrorIs(t, err, store.ErrNotFound, "the proposal must exist")

	_, err = s.GetMigrationJob(ctx, "orphan")
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, []string{store.ActionMigrationCreated},
		auditActions(t, s, store.AuditFilter{Action: store.ActionMigrationCreated}))
}

func TestUpsertAccountMigrationsRecordsManyAccountsOnce(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, accs := newJob(t, s, 25_000) // more than one chunk
	assert.Equal(t, 25_000, j.Total)

	more := append([]string{pubkey(), pubkey(), accs[0]}, accs[100:200]...)
	added, err := s.UpsertAccountMigrations(ctx, j.ID, more, worker)
	require.NoError(t, err)
	assert.Equal(t, 2, added, "known accounts keep their rows")

	added, err = s.UpsertAccountMigrations(ctx, j.ID, more, worker)
	require.NoError(t, err)
	assert.Zero(t, added)

	p := requireCountersMatchRows(t, s, j.ID)
	assert.Equal(t, 25_002, p.Total)
	assert.Equal(t, 25_002, p.Pending)
	assert.Len(t, auditActions(t, s, store.AuditFilter{Action: store.ActionAccountsRecorded}), 2, "a no-op writes no audit row")

	_, err = s.UpsertAccountMigrations(ctx, "no-such-job", []string{pubkey()}, worker)
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.UpsertAccountMigrations(ctx, j.ID, []string{pubkey(), "not-a-key"}, worker)
	require.ErrorIs(t, err, store.ErrInvalid)
	requireCountersMatchRows(t, s, j.ID)
}

func TestMigrationJobRunsToCompletion(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, accs := newJob(t, s, 30)

	j, err := s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobRunning}, worker)
	require.NoError(t, err)
	assert.Equal(t, store.JobRunning, j.Status)
	assert.NotNil(t, j.StartedAt)

	// A batch, then its retry.
	sig := signature()
	n, err := s.MarkAccountsMigrated(ctx, j.ID, accs[:10], sig, worker)
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	n, err = s.MarkAccountsMigrated(ctx, j.ID, accs[:10], sig, worker)
	require.NoError(t, err)
	assert.Zero(t, n, "a retried batch changes nothing")
	_, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{StoppedAt: accs[9]}, worker)
	require.NoError(t, err)

	// One account fails twice, then succeeds.
	require.NoError(t, s.MarkAccountFailed(ctx, j.ID, accs[10], "blockhash expired", worker))
	require.NoError(t, s.MarkAccountFailed(ctx, j.ID, accs[10], "blockhash expired", worker))
	p := requireCountersMatchRows(t, s, j.ID)
	assert.Equal(t, 1, p.Failed)
	failed, err := s.ListAccountMigrations(ctx, j.ID, store.AccountFilter{Status: store.AccountFailed})
	require.NoError(t, err)
	require.Len(t, failed, 1)
	assert.Equal(t, 2, failed[0].Attempts)
	assert.Equal(t, "blockhash expired", failed[0].LastError)

	// A migrated account cannot fail afterwards.
	err = s.MarkAccountFailed(ctx, j.ID, accs[0], "late error", worker)
	require.ErrorIs(t, err, store.ErrInvalidTransition)
	err = s.MarkAccountFailed(ctx, j.ID, pubkey(), "unknown", worker)
	require.ErrorIs(t, err, store.ErrNotFound)

	// Completing with work left is refused by the schema.
	_, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobCompleted}, worker)
	require.ErrorIs(t, err, store.ErrInvalid)

	n, err = s.MarkAccountsSkipped(ctx, j.ID, accs[25:], "already v2", worker)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	n, err = s.MarkAccountsMigrated(ctx, j.ID, accs[10:25], signature(), worker)
	require.NoError(t, err)
	assert.Equal(t, 15, n, "the failed account is migrated on retry")

	p = requireCountersMatchRows(t, s, j.ID)
	assert.True(t, p.Done())
	assert.Equal(t, store.Progress{JobID: j.ID, Status: store.JobRunning, StoppedAt: accs[9],
		Total: 30, Migrated: 25, Skipped: 5}, p)

	j, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobCompleted, StoppedAt: accs[29]}, worker)
	require.NoError(t, err)
	assert.Equal(t, store.JobCompleted, j.Status)
	assert.NotNil(t, j.FinishedAt)
	assert.Equal(t, 25, j.Migrated)

	_, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobRunning}, worker)
	require.ErrorIs(t, err, store.ErrInvalidTransition, "completed is final")
	_, err = s.UpdateJob(ctx, "no-such-job", store.JobUpdate{Status: store.JobRunning}, worker)
	require.ErrorIs(t, err, store.ErrNotFound)

	assert.Equal(t, []string{
		"migration.completed", store.ActionAccountsMigrated, store.ActionAccountsSkipped,
		store.ActionAccountFailed, store.ActionAccountFailed, store.ActionAccountsMigrated,
		"migration.started", store.ActionAccountsRecorded, store.ActionMigrationCreated,
		store.ActionProposalCreated,
	}, auditActions(t, s, store.AuditFilter{Proposal: j.Proposal}))
}

func TestFailedJobCanResumeButNotGoBackToPending(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, _ := newJob(t, s, 3)

	_, err := s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobFailed}, worker)
	require.ErrorIs(t, err, store.ErrInvalid, "a failed job says why")
	j, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobFailed, LastError: "rpc down"}, worker)
	require.NoError(t, err)
	assert.NotNil(t, j.FinishedAt)

	j, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobRunning}, worker)
	require.NoError(t, err)
	assert.Nil(t, j.FinishedAt, "running again")
	_, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobPending}, worker)
	require.ErrorIs(t, err, store.ErrInvalidTransition)

	j, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobCancelled}, worker)
	require.NoError(t, err)
	assert.Equal(t, store.JobCancelled, j.Status)
	assert.Equal(t, []string{"migration.cancelled", "migration.resumed", "migration.failed"},
		auditActions(t, s, store.AuditFilter{Proposal: j.Proposal})[:3])
}

func TestMarkBatchesMigratedRecordsEachTransaction(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, accs := newJob(t, s, 20)
	first, second, third := signature(), signature(), signature()
	_, err := s.MarkAccountsMigrated(ctx, j.ID, accs[:2], first, worker)
	require.NoError(t, err)

	// Three transactions in one call; the first one's accounts are already recorded (a retry).
	n, err := s.MarkBatchesMigrated(ctx, j.ID, []store.MigratedBatch{
		{Accounts: accs[:2], Signature: first},
		{Accounts: accs[2:10], Signature: second},
		{Accounts: accs[10:13], Signature: third},
	}, worker)
	require.NoError(t, err)
	assert.Equal(t, 11, n)
	p := requireCountersMatchRows(t, s, j.ID)
	assert.Equal(t, 13, p.Migrated)
	rows, err := s.ListAccountMigrations(ctx, j.ID, store.AccountFilter{Status: store.AccountMigrated})
	require.NoError(t, err)
	bySig := map[string]int{}
	for _, r := range rows {
		bySig[r.Signature]++
	}
	assert.Equal(t, map[string]int{first: 2, second: 8, third: 3}, bySig, "each account names the transaction that migrated it")

	page, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionAccountsMigrated})
	require.NoError(t, err)
	audited := map[string]float64{}
	for _, e := range page.Entries {
		audited[e.Signature] = e.Details["count"].(float64)
	}
	assert.Equal(t, map[string]float64{first: 2, second: 8, third: 3}, audited, "one audit row per transaction, none for the retry")

	// One account outside the job refuses the whole call: nothing is recorded.
	_, err = s.MarkBatchesMigrated(ctx, j.ID, []store.MigratedBatch{
		{Accounts: accs[13:15], Signature: signature()},
		{Accounts: []string{pubkey()}, Signature: signature()},
	}, worker)
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, 13, requireCountersMatchRows(t, s, j.ID).Migrated)
}

func TestMarkAccountsMigratedRejectsAccountsOutsideTheJob(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, accs := newJob(t, s, 5)
	stranger := pubkey()
	_, err := s.MarkAccountsMigrated(ctx, j.ID, []string{accs[0], stranger}, signature(), worker)
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Contains(t, err.Error(), stranger)
	p := requireCountersMatchRows(t, s, j.ID)
	assert.Zero(t, p.Migrated, "nothing of the batch was stored")

	err = s.ExecRaw(ctx, `UPDATE account_migrations SET status = 'migrated' WHERE job_id = $1 AND account = $2`, j.ID, accs[1])
	assert.Equal(t, "23514", pgCode(err), "a migrated account names its transaction: %v", err)
	err = s.ExecRaw(ctx, `UPDATE account_migrations SET status = 'done' WHERE job_id = $1`, j.ID)
	assert.Equal(t, "23514", pgCode(err), "status check: %v", err)
	err = s.ExecRaw(ctx, `INSERT INTO account_migrations (job_id, account) VALUES ($1, $2)`, j.ID, accs[2])
	assert.Equal(t, "23505", pgCode(err), "one row per (job, account): %v", err)
	err = s.ExecRaw(ctx, `INSERT INTO account_migrations (job_id, account) VALUES ('no-such-job', $1)`, pubkey())
	assert.Equal(t, "23503", pgCode(err), "job foreign key: %v", err)
}

func TestConcurrentBatchesKeepCountersExact(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, accs := newJob(t, s, 400)
	_, err := s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobRunning}, worker)
	require.NoError(t, err)

	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for b := 0; b < len(accs); b += 10 {
		batch := accs[b : b+10]
		wg.Go(func() {
			// Every batch is sent twice, as a retried activity would.
			for range 2 {
				if _, err := s.MarkAccountsMigrated(context.WithoutCancel(ctx), j.ID, batch, signature(), worker); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	p := requireCountersMatchRows(t, s, j.ID)
	assert.Equal(t, 400, p.Migrated)
	_, err = s.UpdateJob(ctx, j.ID, store.JobUpdate{Status: store.JobCompleted}, worker)
	require.NoError(t, err)
}

func TestListAccountMigrationsPagesByAddress(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	j, accs := newJob(t, s, 25)
	_, err := s.MarkAccountsMigrated(ctx, j.ID, []string{accs[3], accs[7]}, signature(), worker)
	require.NoError(t, err)

	var got []string
	after := ""
	for {
		page, err := s.ListAccountMigrations(ctx, j.ID, store.AccountFilter{Status: store.AccountPending, After: after, Limit: 10})
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, a := range page {
			assert.Equal(t, store.AccountPending, a.Status)
			got = append(got, a.Account)
		}
		after = page[len(page)-1].Account
	}
	want := append(append(append([]string{}, accs[:3]...), accs[4:7]...), accs[8:]...)
	assert.Equal(t, want, got)

	all, err := s.ListAccountMigrations(ctx, j.ID, store.AccountFilter{})
	require.NoError(t, err)
	assert.Len(t, all, 25)
	assert.Equal(t, store.AccountMigrated, all[3].Status)
	assert.NotEmpty(t, all[3].Signature)
	assert.Equal(t, 1, all[3].Attempts)
}
