package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RollbackStage is the workflow step that was running when the emergency stop came.
type RollbackStage string

// Rollback stages, in workflow order. Only a stop during migration comes after execution, so it
// has no on-chain cancel.
const (
	StageVerify    RollbackStage = "verify"
	StagePropose   RollbackStage = "propose"
	StageApprovals RollbackStage = "approvals"
	StageTimelock  RollbackStage = "timelock"
	StageReverify  RollbackStage = "reverify"
	StageExecute   RollbackStage = "execute"
	StageMigration RollbackStage = "migration"
)

// RollbackEvent records one emergency stop of an upgrade.
type RollbackEvent struct {
	ID       int64
	Proposal string
	Stage    RollbackStage
	Reason   string
	// Actor is set from the Origin passed to RecordRollback.
	Actor string
	// CancelSignature is the on-chain cancel transaction; empty when nothing was cancelled on
	// chain (always so in the migration stage).
	CancelSignature string
	WorkflowID      string
	MigrationJobID  string // the stopped job, in the migration stage
	CreatedAt       time.Time
}

// RecordRollback stores a rollback and appends rollback.recorded in one transaction. A retried
// compensation (same workflow and stage, or same cancel signature) reports false.
func (s *Store) RecordRollback(ctx context.Context, r RollbackEvent, o Origin) (bool, error) {
	created := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO rollback_events (proposal, stage, reason, actor, cancel_signature, workflow_id, migration_job_id)
			VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT DO NOTHING`,
			r.Proposal, string(r.Stage), r.Reason, o.Actor, nullString(r.CancelSignature),
			nullString(r.WorkflowID), nullString(r.MigrationJobID))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		created = true
		details := map[string]any{"stage": r.Stage, "reason": r.Reason}
		if r.WorkflowID != "" {
			details["workflow_id"] = r.WorkflowID
		}
		if r.MigrationJobID != "" {
			details["job"] = r.MigrationJobID
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionRollbackRecorded, Proposal: r.Proposal,
			Signature: r.CancelSignature, Details: details,
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record rollback of %s at %s: %w", r.Proposal, r.Stage, classify(err))
	}
	return created, nil
}

// ListRollbacks returns a proposal's rollbacks, oldest first.
func (s *Store) ListRollbacks(ctx context.Context, proposal string) ([]RollbackEvent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, proposal, stage, reason, actor, coalesce(cancel_signature, ''),
			coalesce(workflow_id, ''), coalesce(migration_job_id, ''), created_at
		FROM rollback_events WHERE proposal = $1 ORDER BY id`, proposal)
	if err != nil {
		return nil, fmt.Errorf("list rollbacks of %s: %w", proposal, classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (RollbackEvent, error) {
		var r RollbackEvent
		err := row.Scan(&r.ID, &r.Proposal, &r.Stage, &r.Reason, &r.Actor, &r.CancelSignature,
			&r.WorkflowID, &r.MigrationJobID, &r.CreatedAt)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("list rollbacks of %s: %w", proposal, classify(err))
	}
	return out, nil
}
