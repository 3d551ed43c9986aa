package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Actions the store writes itself. Other components append their own (pause, resume, ...)
// with AppendAudit; an action is "noun.verb" in lower case. Status changes are written as
// "proposal.<new status>" (proposal.approved, proposal.executed, ...) and "migration.<verb>"
// (migration.started, resumed, completed, failed, cancelled).
const (
	ActionProposalCreated  = "proposal.created"
	ActionApprovalRecorded = "approval.recorded"
	ActionMigrationCreated = "migration.created"
	ActionAccountsRecorded = "migration.accounts_recorded"
	ActionAccountsMigrated = "migration.accounts_migrated"
	ActionAccountsSkipped  = "migration.accounts_skipped"
	ActionAccountFailed    = "migration.account_failed"
	ActionRollbackRecorded = "rollback.recorded"
	ActionTokenCreated     = "token.created"
	ActionTokenRevoked     = "token.revoked"

	actionProposalStatusPrefix  = "proposal."
	actionMigrationStatusPrefix = "migration."
)

const (
	defaultAuditLimit = 100
	maxAuditLimit     = 1000
	// A batch's audit row names at most this many of its accounts.
	auditDetailsAccountsMaxShown = 50
)

// AuditEntry is one row of the append-only audit trail.
type AuditEntry struct {
	ID int64
	// At is when it happened: given, it is the chain's clock (block time, or the program's
	// clock as the worker read it); zero means now, by the database's clock. AtClock says which.
	At time.Time
	// AtClock is "chain" when At was given and "server" when it was now (set by the store).
	AtClock string
	// RecordedAt is when the row was written (set by the store); rows are ordered by it.
	RecordedAt time.Time
	Actor      string
	Action     string
	Proposal   string // optional
	Signature  string // optional; (Signature, Action) is unique, so re-recording an event is a no-op
	Slot       uint64 // optional; 0 means unknown
	Source     Source
	Details    map[string]any
}

// AppendAudit adds e to the trail. It reports false, and changes nothing, when an entry with
// the same signature and action is already there.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) (bool, error) {
	var added bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		added, err = appendAudit(ctx, tx, e)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("append audit %s by %s: %w", e.Action, e.Actor, classify(err))
	}
	return added, nil
}

func appendAudit(ctx context.Context, q querier, e AuditEntry) (bool, error) {
	details := e.Details
	if details == nil {
		details = map[string]any{}
	}
	var id int64
	err := q.QueryRow(ctx, `
		INSERT INTO audit_log (at, actor, action, proposal, signature, slot, source, details, at_clock)
		VALUES (coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8, CASE WHEN $1::timestamptz IS NULL THEN 'server' ELSE 'chain' END)
		ON CONFLICT (signature, action) WHERE signature IS NOT NULL DO NOTHING
		RETURNING id`,
		nullTime(e.At), e.Actor, e.Action, nullString(e.Proposal), nullString(e.Signature),
		nullSlot(e.Slot), string(e.Source), details).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	// A notified action queues its row for the notifier in the same transaction (an outbox):
	// the notifier never misses a row that commits after a newer one.
	if NotifiedActions[e.Action] {
		if _, err := q.Exec(ctx, `INSERT INTO notification_outbox (audit_id) VALUES ($1)`, id); err != nil {
			return false, err
		}
	}
	return true, nil
}

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	Proposal string
	Actor    string
	Action   string
	Since    time.Time // entries at or after
	// Before is the keyset cursor: only entries with a smaller ID (AuditPage.Next of the
	// previous page).
	Before int64
	Limit  int // default 100, at most 1000
}

// AuditPage is one page of entries, newest first.
type AuditPage struct {
	Entries []AuditEntry
	// Next is the Before of the following page; 0 when this page is the last.
	Next int64
}

// ListAudit returns the entries matching f, newest first.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) (AuditPage, error) {
	limit := clampLimit(f.Limit, defaultAuditLimit, maxAuditLimit)
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if f.Proposal != "" {
		add("proposal = $?", f.Proposal)
	}
	if f.Actor != "" {
		add("actor = $?", f.Actor)
	}
	if f.Action != "" {
		add("action = $?", f.Action)
	}
	if !f.Since.IsZero() {
		add("at >= $?", f.Since)
	}
	if f.Before > 0 {
		add("id < $?", f.Before)
	}
	sql := `SELECT id, at, actor, action, coalesce(proposal, ''), coalesce(signature, ''),
		coalesce(slot, 0), source, details, at_clock, recorded_at FROM audit_log`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	// One row more than asked tells whether another page exists.
	args = append(args, limit+1)
	sql += " ORDER BY id DESC LIMIT $" + strconv.Itoa(len(args))

	rows, err := s.pool.Query(ctx, sql, args...)
	if err != nil {
		return AuditPage{}, fmt.Errorf("list audit: %w", classify(err))
	}
	defer rows.Close()
	var page AuditPage
	for rows.Next() {
		var e AuditEntry
		var slot int64
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Proposal, &e.Signature, &slot,
			&e.Source, &e.Details, &e.AtClock, &e.RecordedAt); err != nil {
			return AuditPage{}, fmt.Errorf("list audit: %w", err)
		}
		e.Slot = uint64(slot)
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return AuditPage{}, fmt.Errorf("list audit: %w", classify(err))
	}
	if len(page.Entries) > limit {
		page.Entries = page.Entries[:limit]
		page.Next = page.Entries[limit-1].ID
	}
	return page, nil
}

// shownAccounts keeps audit details small when a batch names many accounts.
func shownAccounts(accounts []string) []string {
	if len(accounts) > auditDetailsAccountsMaxShown {
		return accounts[:auditDetailsAccountsMaxShown]
	}
	return accounts
}
