package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// MultisigConfig is one configuration a multisig had, from the transaction that set it (its
// creation or an executed config proposal) until the next one: who was a member when.
type MultisigConfig struct {
	Multisig  string
	Signature string
	Slot      uint64
	// Proposal is the config proposal that set it; empty for the creation.
	Proposal                string
	EffectiveAt             time.Time
	Members                 []string
	Threshold               int
	TimelockSeconds         int64
	ProposalLifetimeSeconds int64
	// GraceSeconds is nil for the creation (its event does not carry it).
	GraceSeconds       *int64
	Guardian           string
	StaleProposalIndex uint64
}

// RecordMultisigConfig stores a configuration; recording the same transaction again changes
// nothing (the indexer may apply an event twice).
func (s *Store) RecordMultisigConfig(ctx context.Context, c MultisigConfig) (created bool, err error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO multisig_configs (multisig, signature, slot, proposal, effective_at, members,
			threshold, timelock_seconds, proposal_lifetime_seconds, grace_seconds, guardian,
			stale_proposal_index)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (multisig, signature) DO NOTHING`,
		c.Multisig, c.Signature, int64(c.Slot), nullString(c.Proposal), c.EffectiveAt, c.Members,
		c.Threshold, c.TimelockSeconds, c.ProposalLifetimeSeconds, c.GraceSeconds, c.Guardian,
		int64(c.StaleProposalIndex))
	if err != nil {
		return false, fmt.Errorf("record configuration of multisig %s (%s): %w", c.Multisig, c.Signature, classify(err))
	}
	return tag.RowsAffected() == 1, nil
}

// ListMultisigConfigs returns a multisig's configurations, newest first (at most limit; 0
// means 100).
func (s *Store) ListMultisigConfigs(ctx context.Context, multisig string, limit int) ([]MultisigConfig, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `
		SELECT multisig, signature, slot, coalesce(proposal, ''), effective_at, members, threshold,
			timelock_seconds, proposal_lifetime_seconds, grace_seconds, guardian, stale_proposal_index
		FROM multisig_configs WHERE multisig = $1 ORDER BY slot DESC, recorded_at DESC LIMIT $2`,
		multisig, limit)
	if err != nil {
		return nil, fmt.Errorf("list configurations of multisig %s: %w", multisig, classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (MultisigConfig, error) {
		var c MultisigConfig
		var slot, stale int64
		err := row.Scan(&c.Multisig, &c.Signature, &slot, &c.Proposal, &c.EffectiveAt, &c.Members,
			&c.Threshold, &c.TimelockSeconds, &c.ProposalLifetimeSeconds, &c.GraceSeconds, &c.Guardian, &stale)
		c.Slot, c.StaleProposalIndex = uint64(slot), uint64(stale)
		c.EffectiveAt = c.EffectiveAt.UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("list configurations of multisig %s: %w", multisig, classify(err))
	}
	return out, nil
}
