package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Actions of the served list and the worker's keys.
const (
	ActionMultisigServed   = "multisig.served"
	ActionMultisigUnserved = "multisig.unserved"
	ActionWorkerKey        = "worker.key_registered"
)

// ServedMultisig is a multisig this deployment serves: the API accepts its proposals and the
// worker pays for its transactions. Every other multisig is refused.
type ServedMultisig struct {
	Address  string
	Label    string
	ServedAt time.Time
	ServedBy string
}

// ServeMultisig adds a multisig to the served list and appends multisig.served. Serving one
// that is already served changes nothing and reports false.
func (s *Store) ServeMultisig(ctx context.Context, m ServedMultisig, o Origin) (ServedMultisig, bool, error) {
	var created bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO served_multisigs (address, label, served_by) VALUES ($1, $2, $3)
			ON CONFLICT (address) DO NOTHING
			RETURNING served_at`, m.Address, m.Label, o.Actor).Scan(&m.ServedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return tx.QueryRow(ctx, `SELECT label, served_at, served_by FROM served_multisigs WHERE address = $1`,
				m.Address).Scan(&m.Label, &m.ServedAt, &m.ServedBy)
		}
		if err != nil {
			return err
		}
		created, m.ServedBy = true, o.Actor
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionMultisigServed,
			Details: map[string]any{"multisig": m.Address, "label": m.Label},
		})
		return err
	})
	if err != nil {
		return ServedMultisig{}, false, fmt.Errorf("serve multisig %s: %w", m.Address, classify(err))
	}
	return m, created, nil
}

// UnserveMultisig removes a multisig from the served list and appends multisig.unserved:
// ErrNotFound when it was not served. Running workflows of that multisig stop paying at their
// next step (the worker checks the list before it spends).
func (s *Store) UnserveMultisig(ctx context.Context, address string, o Origin) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var label string
		if err := tx.QueryRow(ctx, `DELETE FROM served_multisigs WHERE address = $1 RETURNING label`,
			address).Scan(&label); err != nil {
			return err
		}
		_, err := appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionMultisigUnserved,
			Details: map[string]any{"multisig": address, "label": label},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("unserve multisig %s: %w", address, classify(err))
	}
	return nil
}

// IsServed reports whether the deployment serves multisig.
func (s *Store) IsServed(ctx context.Context, multisig string) (bool, error) {
	var served bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM served_multisigs WHERE address = $1)`,
		multisig).Scan(&served)
	if err != nil {
		return false, fmt.Errorf("is multisig %s served: %w", multisig, classify(err))
	}
	return served, nil
}

// ListServed returns the served multisigs, oldest first.
func (s *Store) ListServed(ctx context.Context) ([]ServedMultisig, error) {
	rows, err := s.pool.Query(ctx, `SELECT address, label, served_at, served_by FROM served_multisigs ORDER BY served_at, address`)
	if err != nil {
		return nil, fmt.Errorf("list served multisigs: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ServedMultisig, error) {
		var m ServedMultisig
		err := row.Scan(&m.Address, &m.Label, &m.ServedAt, &m.ServedBy)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("list served multisigs: %w", classify(err))
	}
	return out, nil
}

// KeyRole is what a worker key is for.
type KeyRole string

// The worker's keys: the fee payer pays for everything the worker sends on the served
// multisigs' behalf; the guardian signs (and pays) only its own emergency cancels.
const (
	KeyFeePayer KeyRole = "fee_payer"
	KeyGuardian KeyRole = "guardian"
)

// WorkerKey is a public key a worker holds.
type WorkerKey struct {
	Address    string
	Role       KeyRole
	LastSeenAt time.Time
}

// workerKeyFreshness is how long a key stays reported after its worker last said it holds it.
const workerKeyFreshness = 24 * time.Hour

// RegisterWorkerKey records that a running worker holds the key; the first registration of an
// address appends worker.key_registered.
func (s *Store) RegisterWorkerKey(ctx context.Context, address string, role KeyRole, o Origin) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var inserted bool
		if err := tx.QueryRow(ctx, `
			INSERT INTO worker_keys (address, role) VALUES ($1, $2)
			ON CONFLICT (address) DO UPDATE SET role = EXCLUDED.role, last_seen_at = now()
			RETURNING (xmax = 0)`, address, string(role)).Scan(&inserted); err != nil {
			return err
		}
		if !inserted {
			return nil
		}
		_, err := appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionWorkerKey,
			Details: map[string]any{"address": address, "role": role},
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("register worker key %s: %w", address, classify(err))
	}
	return nil
}

// WorkerKeys returns the keys running workers reported within the last day, by role then address.
func (s *Store) WorkerKeys(ctx context.Context) ([]WorkerKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT address, role, last_seen_at FROM worker_keys
		WHERE last_seen_at > now() - make_interval(secs => $1) ORDER BY role, address`, workerKeyFreshness.Seconds())
	if err != nil {
		return nil, fmt.Errorf("list worker keys: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (WorkerKey, error) {
		var k WorkerKey
		err := row.Scan(&k.Address, &k.Role, &k.LastSeenAt)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("list worker keys: %w", classify(err))
	}
	return out, nil
}
