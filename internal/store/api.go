package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SignatureActions returns the actions the audit trail holds for a transaction signature,
// oldest first; none means the trail has never seen it. The API uses it to refuse replays.
func (s *Store) SignatureActions(ctx context.Context, signature string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT action FROM audit_log WHERE signature = $1 ORDER BY id`, signature)
	if err != nil {
		return nil, fmt.Errorf("audit actions of %s: %w", signature, classify(err))
	}
	actions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("audit actions of %s: %w", signature, classify(err))
	}
	return actions, nil
}
