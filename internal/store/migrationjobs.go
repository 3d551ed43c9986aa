package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// JobStatus is where a migration job stands.
type JobStatus string

// Migration job statuses. A failed or cancelled job can run again; a completed one cannot.
const (
	JobPending   JobStatus = "pending"
	JobRunning   JobStatus = "running"
	JobCompleted JobStatus = "completed"
	JobFailed    JobStatus = "failed"
	JobCancelled JobStatus = "cancelled"
)

// AccountStatus is where one account of a migration job stands.
type AccountStatus string

// Account statuses; migrated and skipped are final.
const (
	AccountPending  AccountStatus = "pending"
	AccountMigrated AccountStatus = "migrated"
	AccountFailed   AccountStatus = "failed"
	AccountSkipped  AccountStatus = "skipped"
)

// MigrationJob walks every affected account of a governed program after an upgrade.
type MigrationJob struct {
	ID            string // the MigrationWorkflow ID, or a UUID
	Proposal      string
	TargetProgram string
	Status        JobStatus
	// Counters, kept equal to the account rows by the database.
	Total, Migrated, Failed, Skipped int
	// StoppedAt is where the last run stopped: a resumed run continues after it.
	StoppedAt  string
	LastError  string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time
}

const jobColumns = `id, proposal, target_program, status, total_accounts, migrated_accounts,
	failed_accounts, skipped_accounts, coalesce(stopped_at, ''), coalesce(last_error, ''),
	created_at, started_at, finished_at, updated_at`

func scanJob(row pgx.Row) (MigrationJob, error) {
	var j MigrationJob
	err := row.Scan(&j.ID, &j.Proposal, &j.TargetProgram, &j.Status, &j.Total, &j.Migrated,
		&j.Failed, &j.Skipped, &j.StoppedAt, &j.LastError, &j.CreatedAt, &j.StartedAt,
		&j.FinishedAt, &j.UpdatedAt)
	return j, err
}

// CreateMigrationJob stores a pending job once. Creating it again with the same proposal and
// program reports false; with a different one it is ErrConflict.
func (s *Store) CreateMigrationJob(ctx context.Context, j MigrationJob, o Origin) (bool, error) {
	created := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO migration_jobs (id, proposal, target_program) VALUES ($1, $2, $3)
			ON CONFLICT (id) DO NOTHING`, j.ID, j.Proposal, j.TargetProgram)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			var proposal, program string
			if err := tx.QueryRow(ctx, `SELECT proposal, target_program FROM migration_jobs WHERE id = $1`,
				j.ID).Scan(&proposal, &program); err != nil {
				return err
			}
			if proposal != j.Proposal || program != j.TargetProgram {
				return fmt.Errorf("%w: job exists for proposal %s, program %s", ErrConflict, proposal, program)
			}
			return nil
		}
		created = true
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionMigrationCreated, Proposal: j.Proposal,
			Details: map[string]any{"job": j.ID, "program": j.TargetProgram},
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("create migration job %s: %w", j.ID, classify(err))
	}
	return created, nil
}

// GetMigrationJob returns the job with id, or ErrNotFound.
func (s *Store) GetMigrationJob(ctx context.Context, id string) (MigrationJob, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM migration_jobs WHERE id = $1`, id))
	if err != nil {
		return MigrationJob{}, fmt.Errorf("get migration job %s: %w", id, classify(err))
	}
	return j, nil
}

// accountChunk bounds the array sent in one statement.
const accountChunk = 10000

// UpsertAccountMigrations records accounts of a job as pending; accounts already recorded keep
// their state. It returns how many were new and appends migration.accounts_recorded if any were.
func (s *Store) UpsertAccountMigrations(ctx context.Context, jobID string, accounts []string, o Origin) (int, error) {
	added := 0
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		proposal, err := jobProposal(ctx, tx, jobID)
		if err != nil {
			return err
		}
		for chunk := range slices.Chunk(accounts, accountChunk) {
			tag, err := tx.Exec(ctx, `
				INSERT INTO account_migrations (job_id, account)
				SELECT $1, a FROM unnest($2::text[]) AS a
				ON CONFLICT (job_id, account) DO NOTHING`, jobID, chunk)
			if err != nil {
				return err
			}
			added += int(tag.RowsAffected())
		}
		if added == 0 {
			return nil
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionAccountsRecorded, Proposal: proposal,
			Details: map[string]any{"job": jobID, "added": added},
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("record %d accounts of migration job %s: %w", len(accounts), jobID, classify(err))
	}
	return added, nil
}

func jobProposal(ctx context.Context, q querier, jobID string) (string, error) {
	var proposal string
	err := q.QueryRow(ctx, `SELECT proposal FROM migration_jobs WHERE id = $1`, jobID).Scan(&proposal)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("%w: migration job %s", ErrNotFound, jobID)
	}
	return proposal, err
}

// requireAccounts fails with ErrNotFound when some accounts are not part of the job. Each
// account is looked up by the primary key: the cost is the accounts asked about, not the job's
// size (an EXCEPT over the job's rows read all of them for every migrate transaction, which
// made recording a 100,000-account migration slow down as it went).
func requireAccounts(ctx context.Context, q querier, jobID string, accounts []string) error {
	rows, err := q.Query(ctx, `
		SELECT DISTINCT a FROM unnest($2::text[]) AS a
		WHERE NOT EXISTS (SELECT 1 FROM account_migrations m WHERE m.job_id = $1 AND m.account = a)
		ORDER BY 1 LIMIT 5`, jobID, accounts)
	if err != nil {
		return err
	}
	missing, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: accounts not in job %s: %s", ErrNotFound, jobID, strings.Join(missing, ", "))
	}
	return nil
}

// MarkAccountsMigrated records that the transaction signature migrated accounts. Accounts
// already migrated or skipped are left as they are (a retried batch is a no-op); an account that
// is not part of the job is ErrNotFound. It returns how many rows changed and appends
// migration.accounts_migrated (once per signature), all in one transaction.
func (s *Store) MarkAccountsMigrated(ctx context.Context, jobID string, accounts []string, signature string, o Origin) (int, error) {
	return s.MarkBatchesMigrated(ctx, jobID, []MigratedBatch{{Accounts: accounts, Signature: signature}}, o)
}

// MigratedBatch is the accounts one migrate transaction migrated.
type MigratedBatch struct {
	Accounts  []string
	Signature string
}

// MarkBatchesMigrated is MarkAccountsMigrated for several transactions in one database
// transaction, with an audit row for each: a migration with hundreds of transactions in flight
// records them in a few commits instead of one commit each, every one of which would wait for
// the job's counters row the commit before it held.
func (s *Store) MarkBatchesMigrated(ctx context.Context, jobID string, batches []MigratedBatch, o Origin) (int, error) {
	var accounts, signatures []string
	for _, b := range batches {
		for _, a := range b.Accounts {
			accounts, signatures = append(accounts, a), append(signatures, b.Signature)
		}
	}
	n := 0
	err := s.jobTx(ctx, jobID, accounts, func(tx pgx.Tx, proposal string) error {
		rows, err := tx.Query(ctx, `
			UPDATE account_migrations m
			SET status = 'migrated', signature = u.signature, attempts = m.attempts + 1, last_error = NULL
			FROM unnest($2::text[], $3::text[]) AS u(account, signature)
			WHERE m.job_id = $1 AND m.account = u.account AND m.status IN ('pending', 'failed')
			RETURNING u.signature`, jobID, accounts, signatures)
		if err != nil {
			return err
		}
		changed := map[string]int{}
		for rows.Next() {
			var sig string
			if err := rows.Scan(&sig); err != nil {
				rows.Close()
				return err
			}
			changed[sig]++
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, b := range batches {
			c := changed[b.Signature]
			if c == 0 {
				continue
			}
			n += c
			if _, err := appendAudit(ctx, tx, AuditEntry{
				Actor: o.Actor, Source: o.Source, Action: ActionAccountsMigrated, Proposal: proposal, Signature: b.Signature,
				Details: map[string]any{"job": jobID, "count": c, "accounts": shownAccounts(b.Accounts)},
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("mark %d accounts of %d transactions migrated in job %s: %w", len(accounts), len(batches), jobID, classify(err))
	}
	return n, nil
}

// MarkAccountsSkipped records accounts that need no migration (already at the target layout).
func (s *Store) MarkAccountsSkipped(ctx context.Context, jobID string, accounts []string, reason string, o Origin) (int, error) {
	n := 0
	err := s.jobTx(ctx, jobID, accounts, func(tx pgx.Tx, proposal string) error {
		tag, err := tx.Exec(ctx, `
			UPDATE account_migrations SET status = 'skipped', signature = NULL, last_error = NULL
			WHERE job_id = $1 AND account = ANY($2::text[]) AND status IN ('pending', 'failed')`,
			jobID, accounts)
		if err != nil {
			return err
		}
		if n = int(tag.RowsAffected()); n == 0 {
			return nil
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionAccountsSkipped, Proposal: proposal,
			Details: map[string]any{"job": jobID, "count": n, "accounts": shownAccounts(accounts), "reason": reason},
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("mark %d accounts skipped in job %s: %w", len(accounts), jobID, classify(err))
	}
	return n, nil
}

// jobTx runs fn in a transaction once the job exists and holds every one of accounts, with the
// job's proposal.
func (s *Store) jobTx(ctx context.Context, jobID string, accounts []string, fn func(tx pgx.Tx, proposal string) error) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		proposal, err := jobProposal(ctx, tx, jobID)
		if err != nil {
			return err
		}
		if err := requireAccounts(ctx, tx, jobID, accounts); err != nil {
			return err
		}
		return fn(tx, proposal)
	})
}

// MarkAccountFailed records a failed attempt on one account; it can be retried later. Failing an
// account that is already migrated or skipped is ErrInvalidTransition.
func (s *Store) MarkAccountFailed(ctx context.Context, jobID, account, reason string, o Origin) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		proposal, err := jobProposal(ctx, tx, jobID)
		if err != nil {
			return err
		}
		var attempts int
		err = tx.QueryRow(ctx, `
			UPDATE account_migrations SET status = 'failed', attempts = attempts + 1, last_error = $3
			WHERE job_id = $1 AND account = $2
			RETURNING attempts`, jobID, account, reason).Scan(&attempts)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: account %s not in job %s", ErrNotFound, account, jobID)
		}
		if err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionAccountFailed, Proposal: proposal,
			Details: map[string]any{"job": jobID, "account": account, "error": reason, "attempts": attempts},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("mark account %s failed in job %s: %w", account, jobID, classify(err))
	}
	return nil
}

// AccountMigration is one account of a migration job.
type AccountMigration struct {
	JobID     string
	Account   string
	Status    AccountStatus
	Signature string
	Attempts  int
	LastError string
	UpdatedAt time.Time
}

// AccountFilter pages through a job's accounts in address order.
type AccountFilter struct {
	Status AccountStatus // empty: every status
	After  string        // keyset cursor: accounts after this one
	Limit  int           // default 100, at most 10000
}

// ListAccountMigrations returns a job's accounts in address order, for batching and resuming.
func (s *Store) ListAccountMigrations(ctx context.Context, jobID string, f AccountFilter) ([]AccountMigration, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT job_id, account, status, coalesce(signature, ''), attempts, coalesce(last_error, ''), updated_at
		FROM account_migrations
		WHERE job_id = $1 AND ($2::text IS NULL OR status = $2::text) AND account > $3::text
		ORDER BY account LIMIT $4`,
		jobID, nullString(string(f.Status)), f.After, clampLimit(f.Limit, 100, accountChunk))
	if err != nil {
		return nil, fmt.Errorf("list accounts of migration job %s: %w", jobID, classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AccountMigration, error) {
		var a AccountMigration
		err := row.Scan(&a.JobID, &a.Account, &a.Status, &a.Signature, &a.Attempts, &a.LastError, &a.UpdatedAt)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts of migration job %s: %w", jobID, classify(err))
	}
	return out, nil
}

// Progress counts a job's accounts by status, from the account rows themselves.
type Progress struct {
	JobID                                     string
	Status                                    JobStatus
	StoppedAt                                 string
	Total, Pending, Migrated, Failed, Skipped int
}

// Done reports whether every account is migrated or skipped.
func (p Progress) Done() bool { return p.Migrated+p.Skipped == p.Total }

// JobProgress returns the job's status and its accounts counted by status.
func (s *Store) JobProgress(ctx context.Context, jobID string) (Progress, error) {
	p := Progress{JobID: jobID}
	err := s.pool.QueryRow(ctx, `
		SELECT j.status, coalesce(j.stopped_at, ''), count(a.account),
			count(*) FILTER (WHERE a.status = 'pending'),
			count(*) FILTER (WHERE a.status = 'migrated'),
			count(*) FILTER (WHERE a.status = 'failed'),
			count(*) FILTER (WHERE a.status = 'skipped')
		FROM migration_jobs j LEFT JOIN account_migrations a ON a.job_id = j.id
		WHERE j.id = $1
		GROUP BY j.id`, jobID).Scan(&p.Status, &p.StoppedAt, &p.Total, &p.Pending, &p.Migrated, &p.Failed, &p.Skipped)
	if err != nil {
		return Progress{}, fmt.Errorf("progress of migration job %s: %w", jobID, classify(err))
	}
	return p, nil
}

// JobUpdate changes a job; empty fields stay as they are.
type JobUpdate struct {
	Status    JobStatus
	StoppedAt string
	LastError string
}

var jobStatusAction = map[JobStatus]string{
	JobCompleted: "completed",
	JobFailed:    "failed",
	JobCancelled: "cancelled",
}

// UpdateJob applies u and returns the job as stored. A status change appends migration.started
// (or resumed, completed, failed, cancelled) in the same transaction; completing a job with
// accounts still pending or failed, or any move the job cannot make, is refused.
func (s *Store) UpdateJob(ctx context.Context, jobID string, u JobUpdate, o Origin) (MigrationJob, error) {
	var j MigrationJob
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var from JobStatus
		var proposal string
		err := tx.QueryRow(ctx, `SELECT status, proposal FROM migration_jobs WHERE id = $1 FOR UPDATE`,
			jobID).Scan(&from, &proposal)
		if err != nil {
			return err
		}
		j, err = scanJob(tx.QueryRow(ctx, `
			UPDATE migration_jobs SET
				status = coalesce($2::text, status),
				stopped_at = coalesce($3, stopped_at),
				last_error = coalesce($4, last_error),
				started_at = CASE WHEN $2::text = 'running' THEN coalesce(started_at, now()) ELSE started_at END,
				finished_at = CASE
					WHEN $2::text IN ('completed', 'failed', 'cancelled') THEN coalesce(finished_at, now())
					WHEN $2::text = 'running' THEN NULL
					ELSE finished_at END
			WHERE id = $1
			RETURNING `+jobColumns,
			jobID, nullString(string(u.Status)), nullString(u.StoppedAt), nullString(u.LastError)))
		if err != nil {
			return err
		}
		if u.Status == "" || u.Status == from {
			return nil
		}
		verb := jobStatusAction[u.Status]
		if u.Status == JobRunning {
			verb = "started"
			if from != JobPending {
				verb = "resumed"
			}
		}
		details := map[string]any{"job": jobID, "from": from, "to": u.Status,
			"migrated": j.Migrated, "failed": j.Failed, "skipped": j.Skipped, "total": j.Total}
		if j.StoppedAt != "" {
			details["stopped_at"] = j.StoppedAt
		}
		if u.LastError != "" {
			details["error"] = u.LastError
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: actionMigrationStatusPrefix + verb,
			Proposal: proposal, Details: details,
		})
		return err
	})
	if err != nil {
		return MigrationJob{}, fmt.Errorf("update migration job %s: %w", jobID, classify(err))
	}
	return j, nil
}
