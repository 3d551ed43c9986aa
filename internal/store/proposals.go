package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ProposalStatus mirrors the on-chain proposal status, plus expired.
type ProposalStatus string

// Proposal statuses; active and approved are the only ones that change.
const (
	ProposalActive    ProposalStatus = "active"
	ProposalApproved  ProposalStatus = "approved"
	ProposalExecuted  ProposalStatus = "executed"
	ProposalCancelled ProposalStatus = "cancelled"
	ProposalExpired   ProposalStatus = "expired"
)

// Proposal is the index row of one on-chain upgrade proposal.
type Proposal struct {
	Address       string // the Proposal PDA, base58
	Multisig      string
	Index         uint64
	TargetProgram string
	Buffer        string
	BufferHash    string // lower-case hex SHA-256 (solana-verify's convention)
	Proposer      string
	Description   string
	Status        ProposalStatus // empty means active
	Approvals     int
	Threshold     int
	ETA           *time.Time // end of the timelock; set once approved
	// MigrationTargetVersion is the account layout version a migration moves to; nil when the
	// proposal declares no migration.
	MigrationTargetVersion *int
	WorkflowID             string
	ProposeSignature       string
	ExecuteSignature       string
	CreatedAt              time.Time // zero means now when inserted
	ApprovedAt             *time.Time
	ExecutedAt             *time.Time
	ClosedAt               *time.Time // when cancelled or expired
	UpdatedAt              time.Time
	// Kind is KindUpgrade (empty means upgrade) or KindConfig.
	Kind string
	// ConfigActions are a config proposal's actions as JSON (an array); nil for an upgrade.
	ConfigActions json.RawMessage
}

// Proposal kinds.
const (
	KindUpgrade = "upgrade"
	KindConfig  = "config"
)

const proposalColumns = `address, multisig, proposal_index, target_program, buffer, buffer_hash,
	proposer, description, status, approvals, threshold, eta, migration_target_version,
	coalesce(workflow_id, ''), coalesce(propose_signature, ''), coalesce(execute_signature, ''),
	created_at, approved_at, executed_at, closed_at, updated_at, kind, config_actions`

func scanProposal(row pgx.Row) (Proposal, error) {
	var p Proposal
	var index int64
	err := row.Scan(&p.Address, &p.Multisig, &index, &p.TargetProgram, &p.Buffer, &p.BufferHash,
		&p.Proposer, &p.Description, &p.Status, &p.Approvals, &p.Threshold, &p.ETA,
		&p.MigrationTargetVersion, &p.WorkflowID, &p.ProposeSignature, &p.ExecuteSignature,
		&p.CreatedAt, &p.ApprovedAt, &p.ExecutedAt, &p.ClosedAt, &p.UpdatedAt, &p.Kind, &p.ConfigActions)
	p.Index = uint64(index)
	return p, err
}

// statusRank orders statuses the way they can move: a snapshot never moves a proposal back.
const statusRank = `CASE %s WHEN 'active' THEN 0 WHEN 'approved' THEN 1 ELSE 2 END`

// UpsertProposal stores what the chain (or the workflow that proposed it) says about a proposal.
// Replaying an older snapshot is harmless: the status only moves forward, approvals only grow,
// timestamps and signatures once set stay. It reports whether the row was new, and appends
// proposal.created for a new row and proposal.<status> when the status moved.
func (s *Store) UpsertProposal(ctx context.Context, p Proposal, o Origin) (created bool, err error) {
	if p.Status == "" {
		p.Status = ProposalActive
	}
	if p.Kind == "" {
		p.Kind = KindUpgrade
	}
	now := time.Now()
	// The schema wants a timestamp beside each status; fill what a snapshot left out.
	if (p.Status == ProposalApproved || p.Status == ProposalExecuted) && p.ApprovedAt == nil {
		p.ApprovedAt = &now
	}
	if p.Status == ProposalExecuted && p.ExecutedAt == nil {
		p.ExecutedAt = &now
	}
	if (p.Status == ProposalCancelled || p.Status == ProposalExpired) && p.ClosedAt == nil {
		p.ClosedAt = &now
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var prev ProposalStatus
		err := tx.QueryRow(ctx, `SELECT status FROM upgrade_proposals WHERE address = $1 FOR UPDATE`,
			p.Address).Scan(&prev)
		if errors.Is(err, pgx.ErrNoRows) {
			tag, err := tx.Exec(ctx, `
				INSERT INTO upgrade_proposals (address, multisig, proposal_index, target_program, buffer,
					buffer_hash, proposer, description, status, approvals, threshold, eta,
					migration_target_version, workflow_id, propose_signature, execute_signature,
					created_at, approved_at, executed_at, closed_at, kind, config_actions)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
					coalesce($17, now()), $18, $19, $20, $21, $22)
				ON CONFLICT (address) DO NOTHING`,
				p.Address, p.Multisig, int64(p.Index), p.TargetProgram, p.Buffer, p.BufferHash,
				p.Proposer, p.Description, string(p.Status), p.Approvals, p.Threshold, p.ETA,
				p.MigrationTargetVersion, nullString(p.WorkflowID), nullString(p.ProposeSignature),
				nullString(p.ExecuteSignature), nullTime(p.CreatedAt), p.ApprovedAt, p.ExecutedAt,
				p.ClosedAt, p.Kind, nullJSON(p.ConfigActions))
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				created = true
				_, err = appendAudit(ctx, tx, AuditEntry{
					Actor: o.Actor, Source: o.Source, Action: ActionProposalCreated,
					Proposal: p.Address, Signature: p.ProposeSignature,
					Details: map[string]any{
						"multisig": p.Multisig, "index": p.Index, "program": p.TargetProgram,
						"buffer": p.Buffer, "buffer_hash": p.BufferHash, "proposer": p.Proposer,
						"status": p.Status, "threshold": p.Threshold, "kind": p.Kind,
						"config_actions": nullJSON(p.ConfigActions),
					},
				})
				return err
			}
			// Another writer inserted it between our read and our insert: update theirs.
			err = tx.QueryRow(ctx, `SELECT status FROM upgrade_proposals WHERE address = $1 FOR UPDATE`,
				p.Address).Scan(&prev)
		}
		if err != nil {
			return err
		}
		var next ProposalStatus
		err = tx.QueryRow(ctx, `
			UPDATE upgrade_proposals SET
				multisig = $2, proposal_index = $3, target_program = $4, buffer = $5,
				buffer_hash = $6, proposer = $7,
				description = CASE WHEN $8::text <> '' THEN $8::text ELSE description END,
				status = CASE WHEN `+fmt.Sprintf(statusRank, "$9::text")+` >= `+fmt.Sprintf(statusRank, "status")+`
					THEN $9::text ELSE status END,
				approvals = greatest(approvals, $10),
				eta = coalesce(eta, $11),
				migration_target_version = coalesce(migration_target_version, $12),
				workflow_id = coalesce(workflow_id, $13),
				propose_signature = coalesce(propose_signature, $14),
				execute_signature = coalesce(execute_signature, $15),
				approved_at = coalesce(approved_at, $16),
				executed_at = coalesce(executed_at, $17),
				closed_at = coalesce(closed_at, $18)
			WHERE address = $1
			RETURNING status`,
			p.Address, p.Multisig, int64(p.Index), p.TargetProgram, p.Buffer, p.BufferHash,
			p.Proposer, p.Description, string(p.Status), p.Approvals, p.ETA,
			p.MigrationTargetVersion, nullString(p.WorkflowID), nullString(p.ProposeSignature),
			nullString(p.ExecuteSignature), p.ApprovedAt, p.ExecutedAt, p.ClosedAt).Scan(&next)
		if err != nil {
			return err
		}
		if next == prev {
			return nil
		}
		sig := ""
		if next == ProposalExecuted {
			sig = p.ExecuteSignature
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: actionProposalStatusPrefix + string(next),
			Proposal: p.Address, Signature: sig,
			Details: map[string]any{"from": prev, "to": next},
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("upsert proposal %s: %w", p.Address, classify(err))
	}
	return created, nil
}

// GetProposal returns the proposal at address, or ErrNotFound.
func (s *Store) GetProposal(ctx context.Context, address string) (Proposal, error) {
	p, err := scanProposal(s.pool.QueryRow(ctx,
		`SELECT `+proposalColumns+` FROM upgrade_proposals WHERE address = $1`, address))
	if err != nil {
		return Proposal{}, fmt.Errorf("get proposal %s: %w", address, classify(err))
	}
	return p, nil
}

// ProposalFilter selects proposals; zero fields do not filter.
type ProposalFilter struct {
	Status        ProposalStatus
	TargetProgram string
	Multisig      string
	Limit         int // default 50, at most 500
	Offset        int
}

// ProposalPage is one page of proposals, newest first, and how many match in all.
type ProposalPage struct {
	Proposals []Proposal
	Total     int
}

// ListProposals returns the proposals matching f, newest first.
func (s *Store) ListProposals(ctx context.Context, f ProposalFilter) (ProposalPage, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Status != "" {
		add("status = $?", string(f.Status))
	}
	if f.TargetProgram != "" {
		add("target_program = $?", f.TargetProgram)
	}
	if f.Multisig != "" {
		add("multisig = $?", f.Multisig)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	limit := clampLimit(f.Limit, 50, 500)
	offset := max(f.Offset, 0)

	var page ProposalPage
	// One snapshot for the page and its count, so they agree.
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM upgrade_proposals`+cond, args...).Scan(&page.Total); err != nil {
				return err
			}
			n := len(args)
			rows, err := tx.Query(ctx, `SELECT `+proposalColumns+` FROM upgrade_proposals`+cond+
				` ORDER BY created_at DESC, address LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2),
				append(args, limit, offset)...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				p, err := scanProposal(rows)
				if err != nil {
					return err
				}
				page.Proposals = append(page.Proposals, p)
			}
			return rows.Err()
		})
	if err != nil {
		return ProposalPage{}, fmt.Errorf("list proposals: %w", classify(err))
	}
	return page, nil
}

// StatusChange describes how a proposal's status moved.
type StatusChange struct {
	// Signature of the transaction that moved it on chain (execute, cancel), if any.
	Signature string
	Slot      uint64
	// At is when it happened (chain time); zero means now.
	At time.Time
	// ETA is the end of the timelock; required when the proposal becomes approved.
	ETA time.Time
	// Approvals is the on-chain approval count, if known (the count never drops).
	Approvals int
	// Reason goes into the audit row (why it was cancelled, ...).
	Reason string
}

// SetProposalStatus moves the proposal to status `to` and appends proposal.<to>. Setting the
// status it already has changes nothing and reports false; a move the program would not make
// (executed to cancelled, ...) is ErrInvalidTransition.
func (s *Store) SetProposalStatus(ctx context.Context, address string, to ProposalStatus, ch StatusChange, o Origin) (bool, error) {
	changed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var from ProposalStatus
		err := tx.QueryRow(ctx, `SELECT status FROM upgrade_proposals WHERE address = $1 FOR UPDATE`,
			address).Scan(&from)
		if err != nil {
			return err
		}
		if from == to {
			return nil
		}
		_, err = tx.Exec(ctx, `
			UPDATE upgrade_proposals SET
				status = $2::text,
				approvals = greatest(approvals, $3),
				eta = coalesce($4, eta),
				approved_at = CASE WHEN $2::text IN ('approved', 'executed') THEN coalesce(approved_at, $5, now())
					ELSE approved_at END,
				executed_at = CASE WHEN $2::text = 'executed' THEN coalesce($5, now()) ELSE executed_at END,
				execute_signature = CASE WHEN $2::text = 'executed' THEN $6 ELSE execute_signature END,
				closed_at = CASE WHEN $2::text IN ('cancelled', 'expired') THEN coalesce($5, now()) ELSE closed_at END
			WHERE address = $1`,
			address, string(to), ch.Approvals, nullTime(ch.ETA), nullTime(ch.At), nullString(ch.Signature))
		if err != nil {
			return err
		}
		changed = true
		details := map[string]any{"from": from, "to": to}
		if ch.Reason != "" {
			details["reason"] = ch.Reason
		}
		if !ch.ETA.IsZero() {
			details["eta"] = ch.ETA.UTC().Format(time.RFC3339)
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			At: ch.At, Actor: o.Actor, Source: o.Source, Action: actionProposalStatusPrefix + string(to),
			Proposal: address, Signature: ch.Signature, Slot: ch.Slot, Details: details,
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("set proposal %s status %s: %w", address, to, classify(err))
	}
	return changed, nil
}

// Approval is one member's on-chain approval of a proposal.
type Approval struct {
	Proposal  string
	Member    string
	Signature string
	Slot      uint64
	// ApprovedAt is the chain time of the approval; zero means now.
	ApprovedAt time.Time
	// Approvals is the proposal's on-chain approval count after this one, if known.
	Approvals  int
	RecordedAt time.Time // set by the store
}

// RecordApproval stores a member's approval once: a replay reports false and changes nothing.
// A new approval raises the proposal's approval count (never lowers it) and appends
// approval.recorded with the member as actor, in one transaction.
func (s *Store) RecordApproval(ctx context.Context, a Approval, o Origin) (bool, error) {
	added := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			INSERT INTO approval_history (proposal, member, signature, slot, approved_at)
			VALUES ($1, $2, $3, $4, coalesce($5, now()))
			ON CONFLICT (proposal, member) DO NOTHING`,
			a.Proposal, a.Member, a.Signature, int64(a.Slot), nullTime(a.ApprovedAt))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		added = true
		var approvals int
		err = tx.QueryRow(ctx, `
			UPDATE upgrade_proposals SET approvals = greatest(approvals, $2,
				(SELECT count(*) FROM approval_history WHERE proposal = $1))
			WHERE address = $1
			RETURNING approvals`, a.Proposal, a.Approvals).Scan(&approvals)
		if err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			At: a.ApprovedAt, Actor: a.Member, Source: o.Source, Action: ActionApprovalRecorded,
			Proposal: a.Proposal, Signature: a.Signature, Slot: a.Slot,
			Details: map[string]any{"approvals": approvals, "recorded_by": o.Actor},
		})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record approval of %s by %s: %w", a.Proposal, a.Member, classify(err))
	}
	return added, nil
}

// ListApprovals returns a proposal's approvals in the order they were made.
func (s *Store) ListApprovals(ctx context.Context, proposal string) ([]Approval, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT proposal, member, signature, slot, approved_at, recorded_at
		FROM approval_history WHERE proposal = $1 ORDER BY slot, id`, proposal)
	if err != nil {
		return nil, fmt.Errorf("list approvals of %s: %w", proposal, classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Approval, error) {
		var a Approval
		var slot int64
		err := row.Scan(&a.Proposal, &a.Member, &a.Signature, &slot, &a.ApprovedAt, &a.RecordedAt)
		a.Slot = uint64(slot)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("list approvals of %s: %w", proposal, classify(err))
	}
	return out, nil
}
